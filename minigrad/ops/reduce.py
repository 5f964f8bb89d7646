"""Reductions over dimensions: sum, prod, max/min, logsumexp, norm, cumulative sums, and the
statistics composed from them (mean, var, std)."""

from __future__ import annotations

import builtins
import math

import numpy as np

from .. import dtypes, return_types
from .._result_layout import reduction_layout
from .._warnings import warn_user
from ..autograd import forward_ad, grad_mode, graph
from ..autograd.graph import named_as
from ._size import require_sizes
from .base import (
    Op,
    accepts_axis,
    check_bool_arg,
    constant,
    kept_shape,
    method_on_batched,
    normalize_dim,
    normalize_dims,
    on_input_device,
    shape_only,
)
from .complex import complex_not_implemented, holomorphic, refuse_complex
from .elementwise import maximum, minimum, where

INT64 = np.dtype("int64")


def accumulator(np_dtype):
    """The NumPy dtype a reduction of ``np_dtype`` accumulates in (float32 for float16)."""
    return dtypes.accumulate_dtype(dtypes.from_numpy(np_dtype)).numpy


def result_dtype(np_dtype, out=None):
    """A sum's or product's result dtype: ``out`` if asked for, int64 for integers and bools
    (as PyTorch), else the input's."""
    if out is not None:
        return out
    return INT64 if np_dtype.kind in "biu" else np_dtype


class Sum(Op):
    """y = Σ x over dims; dy/dx = 1 (the gradient is broadcast back over the summed dims)

    float16 accumulates in float32 (see :func:`minigrad.dtypes.accumulate_dtype`); the result
    has dtype ``out`` (a NumPy dtype) when given, else int64 for integers, else x's dtype.
    """

    supports_complex = True

    def __init__(self, dims: tuple, keepdim: bool, out=None):
        self.dims, self.keepdim, self.out = dims, keepdim, out

    def forward(self, x):
        out = result_dtype(x.dtype, self.out)
        y = x.sum(axis=self.dims, keepdims=self.keepdim, dtype=accumulator(out))
        return reduction_layout(self.xp, y.astype(out, copy=False), x)

    def backward(self, gy):
        return self.formula(_sum_vjp, gy, self.input_meta[0][0], self.dims, self.keepdim)

    def name(self) -> str:
        # PyTorch: SumBackward0 for sum() of all elements, SumBackward1 for sum(dim)
        whole = self.input_meta and len(self.dims) == len(self.input_meta[0][0])
        return "SumBackward0" if whole and not self.keepdim else "SumBackward1"


def _sum_vjp(ns, gy, shape, dims, keepdim):
    if not keepdim:
        gy = gy.reshape(kept_shape(shape, dims))
    return ns.broadcast_to(gy, shape)


def summed_to(x, shape: tuple):
    """``x`` (an array or a tensor) summed down to ``shape``, which it broadcasts from."""
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(shape) if s == 1 and x.shape[lead + i] != 1
    )
    return x.sum(axes).reshape(shape) if axes else x.reshape(shape)


class SumToSize(Op):
    """y = x summed down to a shape x broadcasts from; dy/dx = 1 (broadcast back)"""

    supports_complex = True

    def __init__(self, shape: tuple):
        self.shape = tuple(shape)

    def forward(self, x):
        lead = x.ndim - len(self.shape)
        if lead < 0 or builtins.any(s not in (1, n) for s, n in zip(self.shape, x.shape[lead:])):
            raise RuntimeError(f"size {list(self.shape)} is not expandable to size {list(x.shape)}")
        if x.dtype.kind in "biu":  # integers and bools sum in int64, as PyTorch's sum
            x = x.astype(self.xp.int64)
        return summed_to(x, self.shape)

    def name(self) -> str:
        # PyTorch sums with keepdim (SumBackward1), then views away the leading dims (View)
        return "ViewBackward0" if len(self.input_meta[0][0]) > len(self.shape) else "SumBackward1"

    def backward(self, gy):
        return self.formula(_broadcast_vjp, gy, self.input_meta[0][0])


def _broadcast_vjp(ns, gy, shape):
    return ns.broadcast_to(gy, shape)


@holomorphic
class Prod(Op):
    """y = Π x over one dim (or all); dy/dxᵢ = Π_{j≠i} xⱼ, exact also when some xⱼ are zero,
    in O(n) memory, and differentiable twice (see :meth:`others`)"""

    save_inputs = True
    save_output = True

    def __init__(self, dim, keepdim: bool, out=None):
        self.dim, self.keepdim, self.out = dim, keepdim, out

    def name(self) -> str:
        return "ProdBackward0" if self.dim is None else "ProdBackward1"  # prod() or prod(dim)

    def forward(self, x):
        out = result_dtype(x.dtype, self.out)
        y = x.prod(axis=self.dim, keepdims=self.keepdim, dtype=accumulator(out))
        return reduction_layout(self.xp, y.astype(out, copy=False), x)

    def backward(self, gy):
        x, y = self.saved
        if self.dim is None:
            flat = x.reshape(-1)
            return gy * self.others(flat, 0, y.reshape(1)).reshape(x.shape)
        if not self.keepdim:
            gy, y = gy.unsqueeze(self.dim), y.unsqueeze(self.dim)
        return gy * self.others(x, self.dim, y)

    @staticmethod
    def others(x, dim: int, y):
        """Π_{j≠i} xⱼ along ``dim`` for each i, with ``y`` = Π x (keepdim), in O(n) memory.

        Without zeros it is y / x. With zeros, split each entry into its zero part and its
        non-zero part u (u = 1 at the zeros): Π_{j≠i} xⱼ = Z_i · P / u_i, where P = Π u and
        Z_i, the product of the zeros other than x_i, is 1 (none), x_l (exactly one, at l) or 0
        (two or more). Z is written as a sum of the zero entries (value 0, derivative 1) so
        that the result has the right derivative too: second derivatives are exact.
        """
        zero = x._data == 0
        if not bool(zero.any()):
            return y / x
        is_zero = constant(zero, x.device)
        others_zero = constant(zero.sum(axis=dim, keepdims=True) - zero, x.device)
        u = where(is_zero, 1.0, x)
        p = Prod(dim, True)(u)
        zero_sum = where(is_zero, x, 0.0)
        z = where(
            others_zero == 0,
            1.0,
            where(others_zero == 1, zero_sum.sum(dim, keepdim=True) - zero_sum, 0.0),
        )
        return z * p / u


class Amax(Op):
    """y = max x over dims; dy/dx = 1/k on each of the k maximal entries (ties share evenly)"""

    save_inputs = True
    save_output = True
    reduce_name = "max"

    def __init__(self, dims: tuple, keepdim: bool):
        self.dims, self.keepdim = dims, keepdim

    def forward(self, x):
        if x.size == 0:  # reduced dims are non-empty (checked by the caller): an empty result
            shape = kept_shape(x.shape, self.dims)
            if not self.keepdim:
                shape = tuple(n for i, n in enumerate(x.shape) if i not in self.dims)
            return self.xp.zeros(shape, dtype=x.dtype)
        y = getattr(x, self.reduce_name)(axis=self.dims, keepdims=self.keepdim)
        return reduction_layout(self.xp, y, x)

    def backward(self, gy):
        x, y = self.saved
        if not self.keepdim:
            shape = kept_shape(x.shape, self.dims)
            gy, y = gy.reshape(shape), y.reshape(shape)
        mask = x == y
        return gy * mask / mask.sum(self.dims, keepdim=True)


class Amin(Amax):
    """y = min x over dims; dy/dx = 1/k on each of the k minimal entries"""

    reduce_name = "min"


class LogSumExp(Op):
    """y = log Σ exp(x) over dims (computed with the max subtracted); dy/dx = exp(x - y)"""

    backward_name = "LogsumexpBackward0"
    save_inputs = True
    save_output = True

    def __init__(self, dims: tuple, keepdim: bool):
        self.dims, self.keepdim = dims, keepdim

    def forward(self, x):
        xp, dtype = self.xp, x.dtype
        x = x.astype(accumulator(dtype), copy=False)
        m = (
            x.max(axis=self.dims, keepdims=True)
            if x.size
            else xp.zeros(kept_shape(x.shape, self.dims), x.dtype)
        )
        m = xp.where(xp.isfinite(m), m, 0)  # all -inf (or an inf): avoid inf - inf
        y = (xp.log(xp.exp(x - m).sum(axis=self.dims, keepdims=True)) + m).astype(dtype)
        if not self.keepdim:
            y = y.reshape([s for i, s in enumerate(y.shape) if i not in self.dims])
        return reduction_layout(xp, y, x)

    def backward(self, gy):
        x, y = self.saved
        if not self.keepdim:
            shape = kept_shape(x.shape, self.dims)
            gy, y = gy.reshape(shape), y.reshape(shape)
        return gy * (x - y).exp()


class Norm2(Op):
    """y = √(Σ x²) over dims; dy/dx = x / y (0 where y = 0, as PyTorch)"""

    backward_name = "LinalgVectorNormBackward0"
    save_inputs = True
    save_output = True

    def __init__(self, dims: tuple, keepdim: bool):
        self.dims, self.keepdim = dims, keepdim

    def forward(self, x):
        acc = accumulator(x.dtype)
        xa = x.astype(acc, copy=False)  # float16: squares overflow above 256
        y = self.xp.sqrt((xa * xa).sum(axis=self.dims, keepdims=self.keepdim)).astype(x.dtype)
        return reduction_layout(self.xp, y, x)

    def backward(self, gy):
        x, y = self.saved
        if not self.keepdim:
            shape = kept_shape(x.shape, self.dims)
            gy, y = gy.reshape(shape), y.reshape(shape)
        zero = y == 0
        return where(zero, 0.0, gy * x / where(zero, 1.0, y))


_CPU_SCAN = {"f": np.float64, "F": np.complex128}


class Cumsum(Op):
    """yᵢ = Σ_{j≤i} xⱼ along dim; dx = reverse cumulative sum of dy (float16 accumulates in
    float32, and on the CPU float32 in float64 as PyTorch's CPU scan does, each partial sum
    rounded once; integers give int64 unless ``out`` says otherwise)"""

    supports_complex = True

    def __init__(self, dim: int, out=None):
        self.dim, self.out = dim, out

    def forward(self, x):
        out = result_dtype(x.dtype, self.out)
        acc = accumulator(out)
        if isinstance(x, np.ndarray):  # PyTorch's CPU acc_type of float is double
            acc = _CPU_SCAN.get(np.dtype(acc).char, acc)
        return reduction_layout(
            self.xp, x.cumsum(axis=self.dim, dtype=acc).astype(out, copy=False), x
        )

    def backward(self, gy):
        return gy.flip(self.dim).cumsum(self.dim).flip(self.dim)


# -- functions ----------------------------------------------------------------------------------


def _cast_for(input, dtype):
    """``input`` in the ``dtype=`` asked of a reduction, and that dtype as NumPy's (or None)."""
    if dtype is None:
        return input, None
    dtype = dtypes.to_dtype(dtype)
    return input.to(dtype), dtype.numpy


def in_accumulator(compute, input):
    """``compute(input)`` run in the accumulation dtype (float32 for float16) and returned in
    ``input``'s dtype: the shared path of the composite reductions (mean, var, std, norm)."""
    acc = dtypes.accumulate_dtype(input.dtype)
    if acc is input.dtype:
        return compute(input)
    return compute(input.to(acc)).to(input.dtype)


@accepts_axis
def sum(input, dim=None, keepdim=False, *, dtype=None):
    """Sum over ``dim`` (int, tuple, or None for all). Integer and bool inputs sum to int64
    unless ``dtype`` is given; float16 accumulates in float32 and returns float16."""
    input, out = _cast_for(input, dtype)
    return Sum(normalize_dims(dim, input.ndim, "sum"), keepdim, out)(input)


def sum_to_size(input, *size):
    """Sum ``input`` down to ``size``, which it must broadcast from (Tensor.sum_to_size)."""
    require_sizes(size, "sum_to_size")
    shape = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else size
    if tuple(input.shape) == shape:
        return input
    return SumToSize(shape)(input)


@accepts_axis
def mean(input, dim=None, keepdim=False, *, dtype=None):
    """Arithmetic mean over ``dim``; needs a floating or complex input (as PyTorch); a
    quantized input is averaged on its integer grid and keeps its qparams (as PyTorch's)."""
    if input.is_quantized and dtype is None:
        from .. import _quantized

        return _quantized.on_dequantized(mean, input, dim, keepdim)
    if dtype is not None:
        input = input.to(dtype)
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise RuntimeError(
            f"mean(): could not infer output dtype. Input dtype must be either a floating point "
            f"or complex dtype. Got: {dtypes.scalar_type_name(input.dtype)}"
        )
    dims = normalize_dims(dim, input.ndim, "mean")
    count = math.prod(input.shape[d] for d in dims)
    # float16: sum in float32, divide, then round once to float16 (70,000 ones have mean 1)
    total = Sum(dims, keepdim, accumulator(input._data.dtype))(input)
    total = total / count if count else total * math.nan
    return named_as(total.to(input.dtype), "MeanBackward0" if dim is None else "MeanBackward1")


@accepts_axis
def prod(input, dim=None, keepdim=False, *, dtype=None):
    """Product of all entries, or along ``dim``; integers give int64 unless ``dtype`` is given."""
    input, out = _cast_for(input, dtype)
    if dim is not None:
        dim = normalize_dim(dim, input.ndim, "prod")
    return Prod(dim, keepdim, out)(input)


def _var(input, dim, correction, keepdim, name="var"):
    """The variance; of complex numbers, the mean squared magnitude of the deviations (real)."""
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise RuntimeError(
            f"std and var only support floating point and complex dtypes, got {input.dtype.name}"
        )
    dims = normalize_dims(dim, input.ndim, "var")
    count = math.prod(input.shape[d] for d in dims)
    if count - correction <= 0:  # (shapes only: no sync)
        warn_user(
            f"{name}(): degrees of freedom is <= 0. Correction should be strictly less than the "
            "reduction factor (input numel divided by output numel)."
        )
    centered = input - mean(input, dims, keepdim=True)
    squares = (centered * centered.conj()).real if input.dtype.is_complex else centered * centered
    return squares.sum(dims, keepdim=keepdim) / builtins.max(0, count - correction)


def _variance_args(dim, unbiased, correction, op="var"):
    """PyTorch's three spellings: ``var(dim, correction=c)``, the older positional
    ``var(dim, unbiased, keepdim)`` and ``var(unbiased)`` (a bool first: all elements)."""
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    if unbiased is not None:
        check_bool_arg(unbiased, op, "unbiased")  # (an int here is not a correction)
        return dim, int(unbiased)
    return dim, 1 if correction is None else correction


def _in_variance_accumulator(compute, input):
    """``compute(input)`` in the dtype PyTorch's variance kernels accumulate in: float64 on
    the CPU (its Welford and two-pass kernels), rounded to float32 and then, for
    float16/bfloat16 (which PyTorch computes as float32), to the input's dtype, so that the
    results match PyTorch's bit for bit; elsewhere float32 for float16/bfloat16."""
    if input.device.type != "cpu" or not input.dtype.is_floating_point:
        return in_accumulator(compute, input)
    if input.dtype is dtypes.float64:
        return compute(input)
    return compute(input.to(dtypes.float64)).to(dtypes.float32).to(input.dtype)


@accepts_axis
def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Variance over ``dim`` with Bessel's ``correction`` (1 = unbiased, as PyTorch's default).

    Computed in float64 on the CPU and in float32 for float16 elsewhere, then rounded once to
    the input's dtype, as PyTorch does.
    """
    dim, correction = _variance_args(dim, unbiased, correction)
    return named_as(
        _in_variance_accumulator(lambda x: _var(x, dim, correction, keepdim), input),
        "VarBackward0",
    )


@accepts_axis
def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Standard deviation: the square root of :func:`var` (accumulated as :func:`var`)."""
    dim, correction = _variance_args(dim, unbiased, correction, "std")
    std = _in_variance_accumulator(
        lambda x: _sqrt_zero_safe(_var(x, dim, correction, keepdim, "std")), input
    )
    return named_as(std, "StdBackward0")


def _pow_zero_safe(v, exponent: float):
    """v ** exponent (v >= 0) whose gradient is 0 where v = 0."""
    zero = v == 0
    return where(zero, 0.0, where(zero, 1.0, v) ** exponent)


def _sqrt_zero_safe(v):
    """sqrt(v) whose gradient is 0 where v = 0, as PyTorch's std backward (plain sqrt would
    give inf · 0 = NaN for a constant slice); the square root never sees that zero, so
    higher derivatives stay finite too."""
    zero = v == 0
    return where(zero, 0.0, where(zero, 1.0, v).sqrt())


@accepts_axis
def amax(input, dim=(), keepdim=False):
    """The largest values over ``dim`` (all dims by default). Along non-empty dims of an empty
    tensor the result is empty, as PyTorch; reducing an empty dim raises ``IndexError``."""
    dims = normalize_dims(dim, input.ndim, "amax")
    _check_empty_reduction(input, dims, dim, "amax")
    return Amax(dims, keepdim)(input)


@accepts_axis
def amin(input, dim=(), keepdim=False):
    """The smallest values over ``dim``; empty inputs as :func:`amax`."""
    dims = normalize_dims(dim, input.ndim, "amin")
    _check_empty_reduction(input, dims, dim, "amin")
    return Amin(dims, keepdim)(input)


def _check_empty_reduction(input, dims, dim, op, error=RuntimeError):
    """PyTorch's checks before a max/min-like reduction of an empty tensor: a dim must be
    given, and every reduced dim must be non-empty (the result is then empty)."""
    if input._data.size:
        return
    if dim is None or (isinstance(dim, (tuple, list)) and not dim):
        raise error(
            f"{op}(): Expected reduction dim to be specified for input.numel() == 0. Specify "
            f"the reduction dim with the 'dim' argument."
        )
    for d in dims:
        if input.shape[d] == 0:
            raise IndexError(f"{op}(): Expected reduction dim {d} to have non-zero size.")


def evenly_distributed(input, value):
    """``value`` (a 0-d tensor with no grad: one entry of ``input`` picked by a full reduction,
    such as max, min or median) as a function of ``input`` whose gradient is shared evenly by
    the k entries equal to it (the NaN entries when it is NaN): dy/dx = 1/k there, 0 elsewhere.
    PyTorch's ``evenly_distribute_backward`` for ``max()``, ``min()``, ``median()`` and
    ``nanmedian()``; the forward value stays exactly ``value`` (no sum of k equal entries)."""
    if not input.dtype.is_floating_point:
        return value
    if not forward_ad.active and not (input.requires_grad and grad_mode.is_grad_enabled()):
        return value
    nan = value.isnan()
    tied = (nan & input.isnan()) | (~nan & (input == value))  # (no bool where: ONNX has none)
    finite = tied & ~nan  # (no NaN in the max/min paths: their 0/0 would leak into dx)
    largest = amax(where(finite, input, -math.inf))  # v (ties: 1/k each), right for v < +inf
    smallest = amin(where(finite, input, math.inf))  # the same, right for v > -inf
    exact = where(value == -math.inf, smallest, largest)
    nans = where(tied, input, 0.0).sum() / tied.sum()  # NaN, its gradient 1/k on the NaNs
    return where(nan, nans, exact)


MaxResult = return_types.max
MinResult = return_types.min


@accepts_axis
@method_on_batched
def max(input, dim=None, keepdim=False, *, other=None):
    """The largest value (no ``dim``), ``(values, indices)`` along ``dim``, or, given a tensor
    ``other`` (also as the second positional argument), :func:`maximum` of the two.

    Without ``dim`` the gradient is shared evenly by tied maxima (by the NaNs when the result
    is NaN); with ``dim`` it goes to the entry whose index is returned (the first maximum), as
    PyTorch does.

    Example: ``torch.max(x, 1)`` gives ``(values, indices)``; ``torch.max(x, y)`` the
    elementwise maximum, as in PyTorch.
    """
    other = _binary_form(input, dim, keepdim, other, "max")
    if other is not None:
        return maximum(input, other)
    if dim is None:
        _check_empty_reduction(input, (), None, "max")
        return named_as(evenly_distributed(input, amax(input.detach())), "MaxBackward1")
    return _extreme_along(input, dim, keepdim, "argmax", MaxResult)


@accepts_axis
@method_on_batched
def min(input, dim=None, keepdim=False, *, other=None):
    """The smallest value (no ``dim``), ``(values, indices)`` along ``dim``, or, given a tensor
    ``other`` (also as the second positional argument), :func:`minimum` of the two."""
    other = _binary_form(input, dim, keepdim, other, "min")
    if other is not None:
        return minimum(input, other)
    if dim is None:
        _check_empty_reduction(input, (), None, "min")
        return named_as(evenly_distributed(input, amin(input.detach())), "MinBackward1")
    return _extreme_along(input, dim, keepdim, "argmin", MinResult)


def _binary_form(input, dim, keepdim, other, op):
    """The tensor of ``torch.max(input, other)`` / ``torch.min(input, other)``, or None for the
    reduction forms; PyTorch tells the forms apart by the second argument's type."""
    if other is None and isinstance(dim, graph.Tensor):
        other, dim = dim, None
    if other is None:
        return None
    if not isinstance(other, graph.Tensor):
        raise TypeError(f"{op}(): argument 'other' must be Tensor, not {type(other).__name__}")
    if dim is not None or keepdim:
        raise TypeError(
            f"{op}() received an invalid combination of arguments: the elementwise form "
            f"{op}(input, other) takes no dim or keepdim"
        )
    return other


def _extreme_along(input, dim, keepdim, arg, result_type):
    dim = normalize_dim(dim, input.ndim, arg[3:])
    _check_empty_reduction(input, (dim,), dim, arg[3:], IndexError)
    name = arg[3:].capitalize() + "Backward0"  # max(dim): MaxBackward0, min(dim): MinBackward0
    if input.ndim == 0:
        values = named_as(input.clone(), name)
        return result_type(values, input.new_zeros((), dtype=dtypes.int64))
    ranked = input.to(dtypes.uint8) if input.dtype is dtypes.bool else input  # (argmax: no bool)
    indices = _arg_reduce(ranked, dim, True, arg)
    values = input.gather(dim, indices)
    if not keepdim:
        values, indices = values.squeeze(dim), indices.squeeze(dim)
    return result_type(named_as(values, name), indices)


@accepts_axis
@method_on_batched
@shape_only
def argmax(input, dim=None, keepdim=False):
    """Index of the largest value (of the flattened tensor when ``dim`` is None)."""
    return _arg_reduce(input, dim, keepdim, "argmax")


@accepts_axis
@method_on_batched
@shape_only
def argmin(input, dim=None, keepdim=False):
    return _arg_reduce(input, dim, keepdim, "argmin")


@on_input_device
def _arg_reduce(input, dim, keepdim, name):
    data = input._data
    if data.dtype.kind == "b":
        raise RuntimeError(f"{name}(): does not support bool input")
    refuse_complex(input, name)
    if data.size == 0:
        axis = None if dim is None else normalize_dim(dim, input.ndim, name)
        _check_empty_reduction(input, (axis,), dim, name, IndexError)
        shape = list(data.shape)
        shape[axis] = 1
        if not keepdim:
            del shape[axis]
        return constant(input.device.xp.zeros(tuple(shape), dtype="int64"), input.device)
    if dim is None:
        out = getattr(data.reshape(-1), name)()
        out = out.reshape((1,) * input.ndim if keepdim else ())
    else:
        axis = normalize_dim(dim, input.ndim, name)
        out = (
            getattr(data, name)(axis=axis, keepdims=keepdim)
            if data.ndim
            else data.astype(bool) & False
        )
    return constant(out.astype("int64", copy=False), input.device)


@complex_not_implemented
@accepts_axis
def logsumexp(input, dim, keepdim=False):
    """log Σ exp(x) over ``dim``, computed stably; integers are computed in the default float."""
    if not input.dtype.is_floating_point:
        input = input.to(dtypes.get_default_dtype())
    return LogSumExp(normalize_dims(dim, input.ndim, "logsumexp"), keepdim)(input)


def norm_input(input, dtype=None):
    """``input`` as the vector norms compute on it: floating or complex (checked), in the
    ``dtype`` asked for, which must hold the input's without narrowing (PyTorch's checks)."""
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise RuntimeError(
            f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
            f"{dtypes.scalar_type_name(input.dtype)}"
        )
    if dtype is not None:
        dtype = dtypes.to_dtype(dtype)
        if dtypes.promote_types(input.dtype, dtype) != dtype:
            raise RuntimeError(
                f"linalg.vector_norm: the dtype of the input ({dtypes.scalar_type_name(input.dtype)}"
                f") should be convertible without narrowing to the specified dtype "
                f"({dtypes.scalar_type_name(dtype)})"
            )
        input = input.to(dtype)
    return input.abs() if input.dtype.is_complex else input


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """The vector p-norm over ``dim`` (all elements by default): p = 2/'fro', 1, inf, -inf, 0 or any float,
    computed in ``dtype`` if given. Complex tensors give the real norm of their magnitudes."""
    input = norm_input(input, dtype)
    dims = normalize_dims(dim, input.ndim, "norm")
    if isinstance(p, (int, float)) and p < 0 or p in (math.inf, -math.inf):
        _no_identity(input, p, dim, dims)
    if p in ("fro", 2, 2.0):
        return Norm2(dims, keepdim)(input)
    if p not in (math.inf, -math.inf, 0) and isinstance(p, (int, float)):
        out = in_accumulator(lambda x: _p_norm(x, p, dims, keepdim), input)
    else:
        out = _p_norm(input, p, dims, keepdim)
    return named_as(out, "LinalgVectorNormBackward0")


def _no_identity(input, p, dim, dims) -> None:
    """PyTorch's error for a max, min or negative-power norm over an empty dim (it has no
    identity to give), in its words (the missing space included)."""
    if dim is None and input.numel() == 0:
        raise RuntimeError(
            f"linalg.vector_norm cannot compute the {p} norm on an empty tensor because the "
            f"operation does not have an identity"
        )
    for d in dims if dim is not None else ():
        if input.shape[d] == 0:
            raise RuntimeError(
                f"linalg.vector_norm cannot compute the {p} norm on the dimension {d}because "
                f"this dimension is empty and the operation does not have an identity"
            )


def _p_norm(input, p, dims, keepdim):
    if p == math.inf:
        return input.abs().amax(dims, keepdim)
    if p == -math.inf:
        return input.abs().amin(dims, keepdim)
    if p == 0:
        return (input != 0).sum(dims, keepdim=keepdim).to(input.dtype)
    if p == 1:
        return input.abs().sum(dims, keepdim=keepdim)
    if isinstance(p, (int, float)) and p < 0:  # a zero entry makes the norm 0 (|0|^p = inf)
        return (input.abs() ** p).sum(dims, keepdim=keepdim) ** (1.0 / p)
    if isinstance(p, (int, float)):
        # (Σ|x|^p)^(1/p) with PyTorch's gradient 0 at zero entries and at a zero norm: the
        # powers never see a 0 (0^(p-1) or 0^(1/p - 1) would make inf · 0 = NaN)
        a = input.abs()
        zero = a == 0
        total = where(zero, 0.0, where(zero, 1.0, a) ** p).sum(dims, keepdim=keepdim)
        return _pow_zero_safe(total, 1.0 / p)
    raise NotImplementedError(f"norm: p={p!r} (matrix norms such as 'nuc') is not supported")


@accepts_axis
def cumsum(input, dim, *, dtype=None):
    """Cumulative sum along ``dim``; integers give int64 unless ``dtype`` is given."""
    input, out = _cast_for(input, dtype)
    d = normalize_dim(dim, input.ndim, "cumsum")
    if input.ndim == 0:  # NumPy would return shape (1,)
        return named_as(Cumsum(0, out)(input.reshape(1)).reshape(()), "CumsumBackward0")
    return Cumsum(d, out)(input)


@accepts_axis
@method_on_batched
@shape_only
@on_input_device
def all(input, dim=None, keepdim=False):
    """True where every entry is non-zero; bool, except uint8 input gives uint8 (as PyTorch)."""
    axis = None if dim is None else normalize_dims(dim, input.ndim, "all")
    return _logical_result(input._data.all(axis=axis, keepdims=keepdim), input)


@accepts_axis
@method_on_batched
@shape_only
@on_input_device
def any(input, dim=None, keepdim=False):
    """True where some entry is non-zero; bool, except uint8 input gives uint8 (as PyTorch)."""
    axis = None if dim is None else normalize_dims(dim, input.ndim, "any")
    return _logical_result(input._data.any(axis=axis, keepdims=keepdim), input)


def _logical_result(out, input):
    if input._data.dtype == "uint8":
        out = out.astype("uint8")
    return constant(out, input.device)
