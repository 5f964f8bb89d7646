"""Tensor methods that answer questions about a tensor (``is_signed``, ``get_device``, ...),
the complex-number methods (``conj``, ``H``, ``real``, ``angle``), and the CPU element callbacks ``apply_``/``map_``. :class:`~minigrad.tensor.Tensor` delegates here."""

from __future__ import annotations

import math
import weakref

import numpy as np  # apply_/map_ run on CPU tensors, whose arrays are NumPy's

from . import _legacy, dtypes, return_types
from ._warnings import warn_deprecated_linalg, warn_user_once
from .autograd import graph
from .autograd.graph import names_node, version_counter
from .ops.base import autocast_op, check_bool_arg, check_number_arg, refuse_dtype


def is_cpu(self) -> bool:
    """True for tensors on the CPU."""
    return self.device.type == "cpu"


def is_signed(self) -> bool:
    """True for float, complex and signed integer dtypes (False for bool and uint8)."""
    return self._data.dtype.kind in "ic" or dtypes.is_floating(self._data.dtype)


def is_nonzero(self) -> bool:
    """The truth of a one-element tensor (an error for zero or several elements)."""
    if self.numel() == 0:
        raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
    if self.numel() > 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return bool(self.item())


def is_same_size(self, other) -> bool:
    """True when both tensors have the same shape."""
    return tuple(self.shape) == tuple(other.shape)


def is_inference(self) -> bool:
    """True for a tensor made under ``inference_mode`` (or a view of one): it cannot be saved
    for backward or changed in place outside inference mode; ``clone()`` it first."""
    return self._version_counter is graph.INFERENCE


def get_grad_dtype(self):
    """The dtype backward casts this leaf's incoming gradients to (``grad_dtype``): its own
    dtype unless set; None allows any."""
    if not self.is_leaf:
        raise RuntimeError("grad_dtype can only be accessed on leaf tensors.")
    return graph.GRAD_DTYPES.get(id(self), self.dtype)


def set_grad_dtype(self, value) -> None:
    """``t.grad_dtype = dtype`` (or None), on leaf tensors only, as PyTorch 2.13."""
    if value is not None and not isinstance(value, dtypes.dtype):
        raise RuntimeError(
            f"grad_dtype must be a torch.dtype or None, but got {type(value).__name__}"
        )
    if not self.is_leaf:
        raise RuntimeError("grad_dtype can only be set on leaf tensors.")
    if id(self) not in graph.GRAD_DTYPES:
        weakref.finalize(self, graph.GRAD_DTYPES.pop, id(self), None)
    graph.GRAD_DTYPES[id(self)] = value


def check_grad_dtype(self, grad) -> None:
    """``t.grad = grad`` where ``grad_dtype`` was set: the dtype must be it (any with None)."""
    wanted = graph.GRAD_DTYPES[id(self)]
    if wanted is not None and grad.dtype is not wanted:
        raise RuntimeError(
            f"attempting to assign a gradient with dtype '{grad.dtype.name}' to a tensor with "
            f"grad_dtype '{wanted.name}'. The gradient must match the tensor's grad_dtype "
            "(defaults to the tensor's dtype); set grad_dtype to None to allow any dtype"
        )


def get_device(self) -> int:
    """The GPU index, or -1 on the CPU."""
    return -1 if self.device.type == "cpu" else self.device.index


def new(self, *args, **kwargs):
    """The legacy constructor with this tensor's dtype and device: ``t.new(2, 3)`` (zeros
    here, uninitialised in PyTorch), ``t.new([1, 2])`` (a copy of the data), ``t.new()``."""
    if kwargs:
        raise TypeError(f"new(): unexpected keyword arguments {sorted(kwargs)}")
    data = _legacy.legacy_array(args, self.dtype, self.device, "new")
    return graph.Tensor._make(data, self.device)


def output_nr(self) -> int:
    """Which output of its ``grad_fn`` this tensor is."""
    return self._output_nr


def false(self) -> bool:
    """False for every minigrad tensor (no MKL-DNN layout, not distributed, ...)."""
    return False


_IDENTITY = "This function is the identity in these cases."
_CONJ = "Consider using x.conj()."


def adjoint(self):
    """The conjugate transpose of the last two dims (the transpose for real tensors)."""
    if self.ndim == 0:
        return deprecated_identity(self, "adjoint()", _CONJ).conj()
    return self.mT.conj()


def mH(self):  # noqa: N802 - PyTorch's name
    """``Tensor.mH``: :func:`adjoint` as a property (PyTorch's own warning on 0-D tensors)."""
    if self.ndim == 0:
        return deprecated_identity(self, "Tensor.mH", _CONJ).conj()
    return self.mT.conj()


def deprecated_identity(t, name: str, hint: str = _IDENTITY):
    """``t`` itself for a matrix transpose of a 0-d tensor (``mT``, ``mH``, ``H``, ``adjoint``),
    with PyTorch's warning (once per process, as its ``TORCH_WARN_ONCE``)."""
    _warn_0d(name, hint)
    return t


def _warn_0d(name: str, hint: str = _IDENTITY):
    warn_user_once(name, f"{name} is deprecated on 0-D tensors. {hint}")


def T(self):  # noqa: N802 - PyTorch's name
    """All dims reversed; PyTorch deprecates it on tensors other than matrices and warns once."""
    if self.ndim == 0:
        _warn_0d("Tensor.T")  # (still a permute, as PyTorch's)
    elif self.ndim != 2:
        warn_user_once(
            "Tensor.T reversed",
            "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is "
            "deprecated and it will throw an error in a future release. Consider `x.mT` to "
            "transpose batches of matrices or `x.permute(*torch.arange(x.ndim - 1, -1, -1))` to "
            "reverse the dimensions of a tensor.",
        )
    return self.permute(tuple(reversed(range(self.ndim))))


def H(self):  # noqa: N802 - PyTorch's name
    """The conjugate transpose of a matrix (the transpose for real tensors)."""
    if self.ndim not in (0, 2):
        raise RuntimeError(
            f"tensor.H is only supported on matrices (2-D tensors). Got {self.ndim}-D tensor."
        )
    if self.ndim == 0:
        return deprecated_identity(self, "Tensor.H", _CONJ).conj()
    return self.transpose(0, 1).conj()  # (as PyTorch: Transpose)


def matrix_power(self, n):
    from . import linalg  # the public linear-algebra layer sits above the Tensor

    return linalg.matrix_power(self, n)


@autocast_op("stft")
def stft(self, *args, **kwargs):
    """:func:`minigrad.stft` of this signal."""
    from ._stft import stft as short_time_fourier

    return short_time_fourier(self, *args, **kwargs)


def istft(self, *args, **kwargs):
    """:func:`minigrad.istft` of this spectrogram."""
    from ._stft import istft as inverse

    return inverse(self, *args, **kwargs)


def matrix_exp(self):
    from . import linalg

    return linalg.matrix_exp(self)


@autocast_op("pinverse")
def pinverse(self, rcond=1e-15):
    """The pseudo-inverse, :func:`minigrad.linalg.pinv` with ``rtol=rcond`` (a number, as
    PyTorch's: a tensor of 1+ dims raises its TypeError)."""
    from . import linalg

    check_number_arg(rcond, "pinverse", "rcond", position=1)
    return linalg.pinv(self, rtol=rcond)


@autocast_op("qr")
def qr(self, some=True):
    """``(Q, R)``: :func:`minigrad.linalg.qr` (``some=False`` is mode ``'complete'``)."""
    from . import linalg

    warn_deprecated_linalg("qr")
    check_bool_arg(some, "qr", "some", 1)
    return return_types.qr(*linalg.qr(self, "reduced" if some else "complete"))


SvdResult = return_types.svd


@autocast_op("svd")
def svd(self, some=True, compute_uv=True):
    """``(U, S, V)`` with ``self = U diag(S) Vᵀ`` (``V``, not ``Vh``: the deprecated
    ``torch.svd`` convention); ``compute_uv=False`` gives zero ``U`` and ``V``, as PyTorch."""
    from . import linalg

    check_bool_arg(some, "svd", "some", 1)
    check_bool_arg(compute_uv, "svd", "compute_uv", 2)
    if not compute_uv:
        m, n = self.shape[-2:]
        batch = tuple(self.shape[:-2])
        zeros = self.new_zeros
        return SvdResult(zeros(batch + (m, m)), linalg.svdvals(self), zeros(batch + (n, n)))
    u, s, vh = linalg.svd(self, full_matrices=not some)
    return SvdResult(u, s, vh.mT)


@autocast_op("cholesky")
def cholesky(self, upper=False):
    """:func:`minigrad.linalg.cholesky` (``upper=True`` gives ``U`` with ``self = UᵀU``);
    deprecated in PyTorch, which warns as this does."""
    from . import linalg

    warn_deprecated_linalg("cholesky")
    return linalg.cholesky(self, upper=upper)


@names_node("AngleBackward0")
def angle(self):
    """The argument of each element, in (-π, π]. For real numbers: π for negatives, 0
    otherwise (NaN stays NaN), with gradient 0; integer inputs give the default float dtype."""
    from .ops.complex import complex_angle
    from .ops.elementwise import where

    if self.is_complex():
        return complex_angle(self)
    x = self if self.dtype.is_floating_point else self.to(dtypes.get_default_dtype())
    return where(x.isnan(), x, where(x < 0, math.pi, 0.0).to(x.dtype))


def dim_order(self, *, ambiguity_check=False):
    """The dims from outermost to innermost in memory (by stride; dims of size 1 or stride 0
    keep their place). ``ambiguity_check=True`` raises where several orders are legal (a dim
    of size 1, or equal strides); a list of memory formats raises only when the tensor is not
    laid out in exactly one of them."""
    from . import _memory_format as mf

    formats = ambiguity_check if isinstance(ambiguity_check, list) else []
    if not isinstance(ambiguity_check, (bool, list)) or not all(
        isinstance(f, mf.memory_format) for f in formats
    ):
        raise TypeError("The ambiguity_check argument must be a bool or a list of memory formats.")
    sizes, strides = tuple(self.shape), self.stride()
    several = 1 in sizes or any(a == b for a, b in zip(strides, strides[1:]))
    if ambiguity_check is not False and several:
        if sum(bool(self.is_contiguous(memory_format=f)) for f in formats) != 1:
            raise RuntimeError(
                "The tensor does not have unique dim order, or cannot map to exact one of the "
                "given memory formats."
            )
    order = list(range(self.ndim))
    for i in range(1, self.ndim):  # insertion sort: a dim moves out past smaller strides
        j = i
        while j and _stride_outside(order[j], order[j - 1], sizes, strides):
            order[j - 1], order[j] = order[j], order[j - 1]
            j -= 1
    if ambiguity_check is not False and (0 in strides or len(set(strides)) < len(strides)):
        raise RuntimeError("The tensor does not have unique dim order.")
    return tuple(order)


def _stride_outside(a: int, b: int, sizes, strides) -> bool:
    """Whether dim ``a`` lies outside dim ``b`` in memory (never for size-1 or stride-0 dims,
    whose place is free)."""
    if sizes[a] == 1 or sizes[b] == 1 or strides[a] == 0 or strides[b] == 0:
        return False
    return strides[a] > strides[b]


@autocast_op("cholesky_solve")
@names_node("CholeskySolveBackward0")
def cholesky_solve(self, input2, upper=False):
    """The solution ``X`` of ``A X = self`` for ``A = L Lᴴ`` given its Cholesky factor
    ``input2`` (``U`` with ``A = Uᴴ U`` when ``upper``; ᴴ is the transpose for real ones)."""
    from . import linalg

    refuse_dtype(
        dtypes.promote_types(self.dtype, input2.dtype),
        "cholesky_solve_cpu",
        "cholesky_solve",
        low_precision=True,
    )
    factor = _triangle_read(input2, upper)
    return linalg.solve(factor @ factor.mH, self)


@autocast_op("cholesky_inverse")
@names_node("CholeskyInverseBackward0")
def cholesky_inverse(self, upper=False):
    """The inverse of ``A = L Lᴴ`` from its Cholesky factor ``self`` (a complex factor must
    have a real diagonal, as every Cholesky factor has)."""
    from . import linalg

    refuse_dtype(self.dtype, "cholesky_inverse_out_cpu", "cholesky_inverse", low_precision=True)
    if self.ndim < 2:
        raise RuntimeError("cholesky_inverse: The input tensor A must have at least 2 dimensions.")
    if self.shape[-1] != self.shape[-2]:
        raise RuntimeError(
            "cholesky_inverse: A must be batches of square matrices, but they are "
            f"{self.shape[-2]} by {self.shape[-1]} matrices"
        )
    factor = _triangle_read(self, upper)
    if factor.is_complex() and bool((factor.imag.diagonal(dim1=-2, dim2=-1) != 0).any()):
        raise NotImplementedError(
            "cholesky_inverse: a complex factor whose diagonal is not real is not supported in "
            "minigrad (PyTorch's LAPACK potri reads only the real part of the diagonal)"
        )
    return linalg.inv(factor @ factor.mH)


def _triangle_read(factor, upper):
    """The lower Cholesky factor from ``factor``'s upper or lower triangle (the only part read,
    as LAPACK's potrs). Differs from PyTorch on purpose: the other triangle gets no gradient
    (PyTorch's derivative treats the whole matrix as the factor)."""
    return factor.triu().mH if upper else factor.tril()


TriangularSolveResult = return_types.triangular_solve


@autocast_op("triangular_solve")
@names_node("TriangularSolveBackward0")
def triangular_solve(self, A, upper=True, transpose=False, unitriangular=False):  # noqa: N803
    """``(X, A.clone())`` with ``op(A) X = self`` for triangular ``A`` (only its ``upper`` or
    lower triangle is read; ``unitriangular`` takes its diagonal as ones)."""
    from . import linalg

    warn_deprecated_linalg("triangular_solve")
    coefficient = A.mT if transpose else A
    solution = linalg.solve_triangular(
        coefficient, self, upper=upper != transpose, unitriangular=unitriangular
    )
    return TriangularSolveResult(solution, A.clone())


HistogramResult = return_types.histogram


def histogram(self, bins=100, *, range=None, weight=None, density=False):
    """``(hist, bin_edges)`` of the values (CPU float tensors, no gradient), ``bins`` a count
    (100 by default, as PyTorch's native signature) or a tensor of edges, as
    ``torch.histogram``."""
    if self.device.type != "cpu" or not self.dtype.is_floating_point:
        raise RuntimeError(
            f"torch.histogram: input tensor and bins tensors should have the same dtype and be "
            f"floating point CPU tensors, got {self.dtype} on {self.device}"
        )
    from .ops.statistics import check_bin_count

    data = self._data.reshape(-1)
    if isinstance(bins, graph.Tensor):
        if bins.ndim != 1:
            raise RuntimeError(
                "torch.histogramdd: bins tensor should have one dimension, but got "
                f"{bins.ndim} dimensions in the bins tensor for dimension 0"
            )
        edges = bins._data
    else:  # PyTorch's edges: its linspace in the input's dtype, which decides ties at the edges
        from ._range_factories import linspace_values

        check_bin_count(bins)
        if range is None and data.size:
            range = (float(data.min()), float(data.max()))
        if range is not None and range[0] > range[1]:
            raise RuntimeError(
                "torch.histogramdd: min should not exceed max, but got min "
                f"{range[0]:g} max {range[1]:g} for dimension 0"
            )
        if range is not None and not all(np.isfinite(range)):
            raise RuntimeError(
                f"torch.histogramdd: dimension 0's range [{range[0]:g}, {range[1]:g}] is not finite"
            )
        lo, hi = np.histogram_bin_edges(data[:0], bins=1, range=range)
        edges = linspace_values(lo, hi, int(bins) + 1, data.dtype)
    w = None if weight is None else weight._data.reshape(-1)
    hist, edges = np.histogram(data, bins=edges, range=range, weights=w, density=density)
    make = graph.Tensor._make
    return HistogramResult(
        make(hist.astype(self._data.dtype), self.device),
        make(edges.astype(self._data.dtype), self.device),
    )


def storage_offset(self) -> int:
    """Where this tensor's first element sits in its storage, in elements: its base's memory,
    or the flat storage that memory is a window of (``set_``, ``torch.load``)."""
    from ._strided import window_offset

    root = self if self._base is None else self._base
    start = window_offset(root)
    if root is self:
        return start
    return start + (self.data_ptr() - root.data_ptr()) // self._data.itemsize


def nonzero_static(self, *, size, fill_value=-1):
    """:meth:`nonzero` cut or padded with ``fill_value`` rows to exactly ``size`` rows."""
    found = self.nonzero()[:size]
    missing = size - found.shape[0]
    if missing <= 0:
        return found
    return _pad_rows(found, missing, fill_value)


def _pad_rows(found, missing, fill_value):
    from .ops.joining import cat

    return cat([found, found.new_full((missing, found.shape[1]), fill_value)])


def resize_(self, *sizes):
    """Give this tensor the shape ``sizes``, keeping its first values in row-major order (new
    places are zeros here, uninitialised in PyTorch; NaN under deterministic mode, as
    PyTorch's ``empty``). Refused for tensors that require grad,
    as PyTorch, and for views (their memory belongs to the base)."""
    from .ops._size import require_sizes

    require_sizes(sizes, "resize_")
    shape = tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else sizes
    if self.requires_grad:
        raise RuntimeError("cannot resize variables that require grad")
    if self._base is not None:
        raise NotImplementedError("resize_: resizing a view is not supported; clone() it first")
    flat = self.reshape(-1)
    out = self.new_empty(shape)  # on this tensor's device; zeros (NaN in deterministic mode)
    n = min(flat.numel(), out.numel())
    out.view(-1)[:n] = flat[:n]
    self._data = out._data
    version_counter(self).value += 1  # values saved for backward had the old shape
    return self


def resize_as_(self, other):
    """:meth:`resize_` to ``other``'s shape."""
    return resize_(self, other.shape)


def bernoulli(self, p=None, *, generator=None):
    from . import creation

    return creation.bernoulli(self, p, generator=generator)


def multinomial(self, num_samples, replacement=False, *, generator=None):
    from . import creation

    return creation.multinomial(self, num_samples, replacement, generator=generator)


def _elementwise_callback(self, op):
    if self.device.type != "cpu":
        raise TypeError(f"{op} is only implemented on CPU tensors")
    if self.requires_grad:
        raise RuntimeError(
            f"Can't call {op}() on Variable that requires grad. Use var.detach().{op}() instead."
        )


def apply_(self, callable):
    """Replace each element ``x`` by ``callable(x)`` (a Python function; CPU only, slow)."""
    _elementwise_callback(self, "apply_")
    values = [callable(x) for x in self._data.reshape(-1).tolist()]
    self._data[...] = np.asarray(values).astype(self._data.dtype).reshape(self._data.shape)
    version_counter(self).value += 1
    return self


def map_(self, tensor, callable):
    """Replace each element ``x`` by ``callable(x, y)`` with ``y`` from ``tensor`` broadcast to
    this tensor's shape (CPU only, slow)."""
    _elementwise_callback(self, "map_")
    other = tensor.expand(self.shape)._data.reshape(-1).tolist()
    values = [callable(x, y) for x, y in zip(self._data.reshape(-1).tolist(), other)]
    self._data[...] = np.asarray(values).astype(self._data.dtype).reshape(self._data.shape)
    version_counter(self).value += 1
    return self
