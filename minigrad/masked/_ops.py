"""Masked reductions and normalizations, as ``torch.masked``: ``sum``, ``amax``, ``softmax``, ...

Each takes ``mask=`` (a bool tensor broadcastable to the input; ``None`` keeps every element),
puts the operation's identity where the mask is False (0 for sums, 1 for products, -inf for
maxima and log-sum-exp, ...) and runs the ordinary operation, so that masked-out elements do
not count, fully masked slices give the identity (or NaN where there is none: mean, var,
softmax) and gradients flow only to the elements kept. A :class:`MaskedTensor` input brings
its own mask (combined with ``mask=``); the results are plain tensors, as PyTorch's.

The arguments every function shares, as PyTorch's: ``input`` (a tensor or MaskedTensor),
``dim`` (an int, a tuple of ints, or None for every dim, where the function reduces),
``keepdim`` (keep reduced dims with size 1), ``dtype`` (the dtype to compute and return in),
``mask`` (bool, broadcastable to ``input``).
"""

from __future__ import annotations

import functools
import math

import numpy as np  # (errstate only: NumPy's warnings on empty slices)

from .. import dtypes
from ..linalg import vector_norm
from ..nn import functional as F

__all__ = [
    "amax", "amin", "argmax", "argmin", "cumprod", "cumsum", "log_softmax", "logaddexp",
    "logsumexp", "mean", "median", "norm", "normalize", "prod", "softmax", "softmin", "std",
    "sum", "var",
]  # fmt: skip


def _mg():
    """The top-level package (imported late: it imports this module's package lazily)."""
    import minigrad

    return minigrad


def _canonical_dim(dim, ndim: int, op: str) -> tuple:
    """``dim`` as a sorted tuple of non-negative dims; ``None`` and ``()`` mean every dim."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    bound = max(ndim, 1)
    seen = []
    for d in dims:
        if not -bound <= d < bound:
            raise IndexError(
                f"masked.{op}: Dimension out of range (expected to be in range of "
                f"[{-bound}, {bound - 1}], but got {d})"
            )
        d = d % bound
        if d in seen:
            raise RuntimeError(f"masked.{op}: dim={d} appears multiple times in the list of dims")
        seen.append(d)
    if ndim == 0:
        return ()
    return tuple(sorted(seen)) if seen else tuple(range(ndim))


def _input_mask(input, mask, op: str):
    """The data and the bool mask broadcast to its shape (a MaskedTensor brings its own)."""
    from .maskedtensor.core import MaskedTensor

    if isinstance(input, MaskedTensor):
        data, own = input.get_data(), input.get_mask()
        mask = own if mask is None else own & _broadcast_mask(mask, data, op)
        return data, mask
    if mask is None:
        return input, _mg().ones(input.shape, dtype=dtypes.bool, device=input.device)
    return input, _broadcast_mask(mask, input, op)


def _broadcast_mask(mask, input, op: str):
    mg = _mg()
    if not isinstance(mask, mg.Tensor):
        mask = mg.tensor(mask, device=input.device)
    if mask.dtype != dtypes.bool:
        mask = mask.bool()
    if tuple(mask.shape) == tuple(input.shape):
        return mask
    try:
        return mask.expand(input.shape)
    except Exception:
        raise RuntimeError(
            f"masked.{op}: a mask of shape {tuple(mask.shape)} cannot be broadcast to the "
            f"input's shape {tuple(input.shape)}"
        ) from None


def _extreme(d, largest: bool):
    """The largest (or smallest) value of dtype ``d``: the identity of min (or max)."""
    if d.is_floating_point:
        return math.inf if largest else -math.inf
    if d == dtypes.bool:
        return largest
    info = _mg().iinfo(d)
    return info.max if largest else info.min


def _fill(data, mask, value):
    """``data`` where ``mask`` holds, else ``value``; keeps ``data``'s dtype."""
    return _mg().where(mask, data, value)


def _reduced_any(mask, dims: tuple, keepdim: bool):
    """Which outputs of a reduction over ``dims`` saw at least one kept element."""
    out = mask
    for d in sorted(dims, reverse=True):
        out = out.any(d, keepdim=keepdim)
    return out


def _cast(result, dtype):
    return result if dtype is None else result.to(dtypes.to_dtype(dtype))


def _floating(d) -> bool:
    return d.is_floating_point or d.is_complex


def sum(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """Sum of the kept elements over ``dim`` (every dim by default); 0 where none is kept.

    Example:
        >>> x = minigrad.tensor([[1.0, 2.0], [3.0, 4.0]])
        >>> minigrad.masked.sum(x, 1, mask=minigrad.tensor([[True, False], [False, False]]))
        tensor([1., 0.])
    """
    data, mask = _input_mask(input, mask, "sum")
    dims = _canonical_dim(dim, data.ndim, "sum")
    return _mg().sum(_fill(data, mask, 0), dims or None, bool(keepdim), dtype=dtype)


def prod(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """Product of the kept elements over ``dim``; 1 where none is kept."""
    data, mask = _input_mask(input, mask, "prod")
    dims = _canonical_dim(dim, data.ndim, "prod")
    result = _fill(data, mask, 1)
    if not dims:
        return _mg().prod(result, dtype=dtype)
    for i, d in enumerate(sorted(dims, reverse=True)):
        result = _mg().prod(result, d, bool(keepdim), dtype=dtype if i == 0 else None)
    return result


def _extremum(name: str, fill_largest: bool):
    def reduce(input, dim=None, *, keepdim=False, dtype=None, mask=None):
        data, mask = _input_mask(input, mask, name)
        dims = _canonical_dim(dim, data.ndim, name)
        filled = _fill(data, mask, _extreme(data.dtype, fill_largest))
        return _cast(getattr(_mg(), name)(filled, dims, bool(keepdim)), dtype)

    which, inf = ("largest", "inf") if fill_largest else ("smallest", "-inf")
    reduce.__name__ = reduce.__qualname__ = name
    reduce.__doc__ = (
        f"{'Minimum' if fill_largest else 'Maximum'} of the kept elements over ``dim``; where "
        f"none is kept, the {which} value of the dtype ({inf} for floats), as PyTorch."
    )
    return reduce


amax = _extremum("amax", fill_largest=False)
amin = _extremum("amin", fill_largest=True)


def _arg_extremum(name: str, fill_largest: bool):
    def reduce(input, dim=None, *, keepdim=False, dtype=None, mask=None):
        data, mask = _input_mask(input, mask, name)
        if dim is not None:
            (dim,) = _canonical_dim(dim, data.ndim, name) or (None,)
        filled = _fill(data, mask, _extreme(data.dtype, fill_largest))
        index = getattr(_mg(), name)(filled, dim, bool(keepdim))
        return index.to(data.dtype if dtype is None else dtypes.to_dtype(dtype))

    reduce.__name__ = reduce.__qualname__ = name
    reduce.__doc__ = (
        f"Index of the {'smallest' if fill_largest else 'largest'} kept element over ``dim`` (0 "
        "where none is kept). As PyTorch's, the indices come in the input's dtype unless "
        "``dtype`` says otherwise."
    )
    return reduce


argmax = _arg_extremum("argmax", fill_largest=False)
argmin = _arg_extremum("argmin", fill_largest=True)


def _count(mask, dims, keepdim: bool):
    """How many elements are kept in each reduced slice (int64)."""
    return _mg().sum(mask, dims or None, keepdim, dtype=dtypes.int64)


def mean(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """Mean of the kept elements over ``dim``; NaN where none is kept. An integer input needs
    a floating ``dtype`` (ValueError otherwise, as PyTorch)."""
    data, mask = _input_mask(input, mask, "mean")
    if dtype is None and not _floating(data.dtype):
        raise ValueError(
            "masked.mean(): Could not infer output dtype. Input dtype must be either a floating "
            f"point or complex dtype. Got: {data.dtype}"
        )
    dims = _canonical_dim(dim, data.ndim, "mean")
    total = _mg().sum(_fill(data, mask, 0), dims or None, bool(keepdim), dtype=dtype)
    return total / _count(mask, dims, bool(keepdim))


def median(input, dim=-1, *, keepdim=False, dtype=None, mask=None):
    """Median (the lower of the two middle values) of the kept elements along ``dim``; NaN
    where none is kept, which an integer input cannot hold (ValueError, as PyTorch)."""
    data, mask = _input_mask(input, mask, "median")
    out_dtype = data.dtype if dtype is None else dtypes.to_dtype(dtype)
    (dim,) = _canonical_dim(dim, data.ndim, "median") or (None,)
    values = data if _floating(out_dtype) else data.to(dtypes.float32)
    filled = _fill(values.to(out_dtype) if _floating(out_dtype) else values, mask, math.nan)
    result = _mg().nanmedian(filled, dim, bool(keepdim))
    result = result if dim is None else result.values
    if _floating(out_dtype):
        return result
    if bool(_mg().isnan(result).any()):
        raise ValueError(
            "masked median expects no fully masked out rows if dtype is not floating point"
        )
    return result.to(out_dtype)


def norm(input, ord=2.0, dim=None, *, keepdim=False, dtype=None, mask=None):
    """Vector ``ord``-norm of the kept elements over ``dim`` (masked elements count as 0,
    or as inf for ``ord=-inf``), as ``linalg.vector_norm``."""
    data, mask = _input_mask(input, mask, "norm")
    if not _floating(data.dtype):
        raise RuntimeError(
            f"masked.norm: expected a floating point or complex tensor as input, got {data.dtype}"
        )
    ord = 2.0 if ord is None else ord
    dims = _canonical_dim(dim, data.ndim, "norm")
    identity = math.inf if ord == -math.inf else 0
    return vector_norm(_fill(data, mask, identity), ord, dims or None, bool(keepdim), dtype=dtype)


def _correction(op: str, unbiased, correction):
    if unbiased is not None and correction is not None:
        raise ValueError(f"masked.{op}: give only one of unbiased and correction")
    if unbiased is not None:
        return 1 if unbiased else 0
    return 1 if correction is None else correction


def var(input, dim=None, unbiased=None, *, correction=None, keepdim=False, dtype=None, mask=None):
    """Variance of the kept elements over ``dim``: the sum of squared deviations divided by
    ``max(count - correction, 0)`` (``correction=1``, Bessel's, by default), so a slice with
    too few kept elements gives NaN or inf, as PyTorch. Integers are computed in float32."""
    data, mask = _input_mask(input, mask, "var")
    corr = _correction("var", unbiased, correction)
    compute = data.dtype if dtype is None else dtypes.to_dtype(dtype)
    if not _floating(compute):
        compute = dtypes.float32
    dims = _canonical_dim(dim, data.ndim, "var")
    mg = _mg()
    count = _count(mask, dims, True)
    centre = mg.sum(_fill(data, mask, 0), dims or None, True, dtype=compute) / count
    dev = _fill(data.to(compute) - centre, mask, 0)
    total = mg.sum(dev * dev.conj(), dims or None, bool(keepdim), dtype=compute)
    divisor = mg.clamp(_count(mask, dims, bool(keepdim)) - corr, min=0)
    return total / divisor


def std(input, dim=None, unbiased=None, *, correction=None, keepdim=False, dtype=None, mask=None):
    """Standard deviation of the kept elements over ``dim``: the square root of :func:`var`."""
    return _mg().sqrt(
        var(input, dim, unbiased, correction=correction, keepdim=keepdim, dtype=dtype, mask=mask)
    )


def logsumexp(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """``log(sum(exp(x)))`` of the kept elements over ``dim``; -inf where none is kept.
    The result keeps the input's dtype unless ``dtype`` is given, as PyTorch's."""
    data, mask = _input_mask(input, mask, "logsumexp")
    dims = _canonical_dim(dim, data.ndim, "logsumexp")
    filled = _fill(data, mask, _extreme(data.dtype, largest=False))
    result = _mg().logsumexp(filled, dims, bool(keepdim))
    return result.to(data.dtype if dtype is None else dtypes.to_dtype(dtype))


def _normalization(name: str, fill_largest: bool):
    def normalize_along(input, dim, *, dtype=None, mask=None):
        data, mask = _input_mask(input, mask, name)
        if dtype is None and not data.dtype.is_floating_point:
            raise NotImplementedError(
                f"masked.{name}: not implemented for {data.dtype} input (pass a floating dtype=)"
            )
        (dim,) = _canonical_dim(dim, data.ndim, name) or (0,)
        # the identity in the input's dtype (the most negative integer for an integer input),
        # then the conversion to dtype, as PyTorch
        filled = _fill(data, mask, _extreme(data.dtype, fill_largest))
        return getattr(F, name)(_cast(filled, dtype), dim)

    reduce_doc = {"softmax": "softmax", "log_softmax": "log-softmax", "softmin": "softmin"}
    normalize_along.__name__ = normalize_along.__qualname__ = name
    normalize_along.__doc__ = (
        f"The {reduce_doc[name]} of the kept elements along ``dim``: masked elements give "
        f"{'-inf' if name == 'log_softmax' else 0}, fully masked slices NaN, as PyTorch."
    )
    return normalize_along


softmax = _normalization("softmax", fill_largest=False)
log_softmax = _normalization("log_softmax", fill_largest=False)
softmin = _normalization("softmin", fill_largest=True)


def normalize(input, ord, dim, *, eps=1e-12, dtype=None, mask=None):
    """The kept elements divided by their ``ord``-norm along ``dim`` (at least ``eps``);
    masked elements give 0."""
    data, mask = _input_mask(input, mask, "normalize")
    (dim,) = _canonical_dim(dim, data.ndim, "normalize") or (0,)
    nrm = norm(data, ord, dim, keepdim=True, dtype=dtype, mask=mask)
    filled = _fill(data if dtype is None else data.to(dtypes.to_dtype(dtype)), mask, 0)
    return filled / _mg().clamp(nrm, min=eps)


def _cumulative(name: str, identity: int):
    def scan(input, dim, *, dtype=None, mask=None):
        data, mask = _input_mask(input, mask, name)
        if data.dtype == dtypes.bool and dtype is None:
            raise NotImplementedError(f"masked.{name}: not implemented for bool input")
        (dim,) = _canonical_dim(dim, data.ndim, name) or (0,)
        out_dtype = data.dtype if dtype is None else dtypes.to_dtype(dtype)
        result = getattr(_mg(), name)(_fill(data, mask, identity), dim, dtype=out_dtype)
        return result.to(out_dtype)

    scan.__name__ = scan.__qualname__ = name
    scan.__doc__ = (
        f"Cumulative {'sum' if identity == 0 else 'product'} along ``dim`` with masked elements "
        f"counted as {identity}; keeps the input's dtype unless ``dtype`` is given."
    )
    return scan


cumsum = _cumulative("cumsum", 0)
cumprod = _cumulative("cumprod", 1)


def logaddexp(input, other, *, dtype=None, input_mask=None, other_mask=None):
    """``log(exp(input) + exp(other))`` with each argument's masked elements counted as -inf."""
    a, a_mask = _input_mask(input, input_mask, "logaddexp")
    b, b_mask = _input_mask(other, other_mask, "logaddexp")
    if not (a.dtype.is_floating_point and b.dtype.is_floating_point):
        raise NotImplementedError(
            f"masked.logaddexp: not implemented for {a.dtype} and {b.dtype} (floating only)"
        )
    result = _mg().logaddexp(_fill(a, a_mask, -math.inf), _fill(b, b_mask, -math.inf))
    return _cast(result, dtype)


def _quiet(fn):
    """``fn`` without NumPy's RuntimeWarnings: a slice with no kept element gives NaN or -inf
    (0/0, log 0) silently, as PyTorch's does."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with np.errstate(divide="ignore", invalid="ignore"):
            return fn(*args, **kwargs)

    return wrapper


for _name in (
    "mean",
    "var",
    "std",
    "logsumexp",
    "normalize",
    "norm",
    "logaddexp",
    "softmax",
    "log_softmax",
    "softmin",
):
    globals()[_name] = _quiet(globals()[_name])
