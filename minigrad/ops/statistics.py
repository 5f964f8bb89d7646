"""Order statistics and NaN-aware reductions composed from sorting and reductions: median,
kthvalue, quantile (and their NaN-ignoring twins), nansum, nanmean, std_mean, var_mean,
aminmax, count_nonzero and histc.

The order statistics pick entries out of a sorted copy with ``gather``, so the gradient of a
median or a quantile flows to the entries it was taken from, as in PyTorch; a median of all
entries (no ``dim``) shares it evenly among the entries equal to it, as PyTorch does.
"""

from __future__ import annotations

import math

from .. import _std_select, backend, dtypes, return_types
from .._result_layout import row_major
from ..autograd import graph
from ..autograd.graph import names_node
from ._size import with_size
from .base import (
    accepts_axis,
    autocast_op,
    constant,
    method_on_batched,
    normalize_dim,
    on_input_device,
    refuse_dtype,
    shape_only,
)
from .complex import refuse_complex
from .elementwise import where
from .reduce import _in_variance_accumulator, amax, amin, evenly_distributed, mean, std, sum, var

MedianResult = return_types.median
KthvalueResult = return_types.kthvalue
AminmaxResult = return_types.aminmax

_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _pick(values, order, dim, position, keepdim, result_type):
    """The sorted ``values`` (and their original ``order``) at ``position`` along ``dim``: an
    int (the same place in every slice; works under vmap) or an int64 tensor of one place per
    slice (keepdim shape)."""
    if isinstance(position, int):
        picked, index = values.narrow(dim, position, 1), order.narrow(dim, position, 1)
    else:
        picked, index = values.gather(dim, position), order.gather(dim, position)
    if not keepdim:
        picked, index = picked.squeeze(dim), index.squeeze(dim)
    return result_type(picked, index)


def _slices(input, dim, name):
    """(input, dim) ready to sort: a 0-d input becomes 1-element, ``dim`` is normalized."""
    if input.ndim == 0:
        input = input.reshape(1)
    d = normalize_dim(dim, input.ndim, name)
    if input.shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    return input, d


def _median(input, dim, keepdim, ignore_nan: bool, name: str):
    if dim is None:
        flat = input.reshape(-1)
        if flat.numel() == 0:
            return input.new_full((), float("nan"))
        value = _median(flat.detach(), 0, False, ignore_nan, name).values
        if not input.dtype.is_floating_point:
            return value
        return evenly_distributed(flat, value)  # ties share the gradient, as PyTorch
    x, d = _slices(input, dim, name)
    keep = keepdim or input.ndim == 0
    n = x.shape[d]
    values, order = x.sort(d, stable=True)  # the method: vmap's batched tensors have theirs
    if not x.dtype.is_floating_point:
        result = _pick(values, order, d, (n - 1) // 2, keep, MedianResult)
    elif ignore_nan:  # the lower median of the numbers: a place per slice
        numbers = (~x.isnan()).sum(d, keepdim=True)
        position = ((numbers - 1) // 2).clamp(min=0).expand(*with_size(x.shape, d, 1))
        result = _pick(values, order, d, position, keep, MedianResult)
    else:  # a NaN anywhere makes the median NaN, indexed at the first NaN
        result = _pick(values, order, d, (n - 1) // 2, True, MedianResult)
        nans = x.isnan()
        has_nan = nans.any(d, keepdim=True)
        first_nan = nans.to(dtypes.int64).argmax(d, keepdim=True)
        result = MedianResult(
            where(has_nan, float("nan"), result.values), where(has_nan, first_nan, result.indices)
        )
        if not keep:
            result = MedianResult(result.values.squeeze(d), result.indices.squeeze(d))
    if input.ndim == 0:
        result = MedianResult(result.values.reshape(()), result.indices.reshape(()))
    result = MedianResult(*(_own_row_major(t) for t in result))
    return return_types.nanmedian(*result) if name == "nanmedian" else result


def _own_row_major(t):
    """``t``, picked from a sorted copy (maybe a view of it), as a fresh row-major tensor with
    PyTorch's strides, as its median kernel allocates its results."""
    want = row_major(t.device.xp, t._data)
    if t._base is None and want is t._data:
        return t
    if t._base is not None:
        t = t.clone()
        want = row_major(t.device.xp, t._data)
    t._data = want
    return t


@accepts_axis
@names_node(lambda input, dim=None, keepdim=False: f"MedianBackward{int(dim is not None)}")
def median(input, dim=None, keepdim=False):
    """The lower median (of an even count, the smaller middle value) of all entries, or
    ``(values, indices)`` along ``dim``; NaN where a slice holds NaN. Of all entries, its
    gradient is shared evenly by the entries equal to it (the NaNs when NaN), as PyTorch's."""
    if input.dtype is dtypes.bool:  # (after the dim's range check, as PyTorch)
        if dim is not None:
            normalize_dim(dim, input.ndim, "median")
        refuse_dtype(dtypes.bool, "median_cpu" if dim is None else "median_out", "median")
    return _median(input, dim, keepdim, False, "median")


@accepts_axis
@names_node(lambda input, dim=None, keepdim=False: f"NanmedianBackward{int(dim is not None)}")
def nanmedian(input, dim=None, keepdim=False):
    """:func:`median` of the non-NaN entries (NaN only where a slice is all NaN)."""
    if input.dtype is dtypes.bool:  # (after the dim's range check, as PyTorch)
        if dim is not None:
            normalize_dim(dim, input.ndim, "nanmedian")
        refuse_dtype(dtypes.bool, "median_cpu" if dim is None else "median_out", "nanmedian")
    return _median(input, dim, keepdim, True, "nanmedian")


@accepts_axis
@method_on_batched
@names_node("KthvalueBackward0")
def kthvalue(input, k, dim=-1, keepdim=False):
    """The ``k``-th smallest entry (1-based) along ``dim``, with its index: on the CPU, of equal
    values the one PyTorch's CPU quickselect returns (:mod:`minigrad._std_select`)."""
    refuse_dtype(input.dtype, "kthvalue_cpu", "kthvalue", bools_only=True)
    refuse_complex(input, "kthvalue")
    x, d = _slices(input, dim, "kthvalue")
    if not 1 <= k <= x.shape[d]:
        raise RuntimeError(
            f"kthvalue(): selected number k out of range for dimension {d} (k={k}, size "
            f"{x.shape[d]})"
        )
    if x.device.type == "cpu":
        found = backend.array_kernel(_std_select.kthvalue_indices, x._data, k, d)
        index = constant(found, x.device).unsqueeze(d)
        result = KthvalueResult(x.gather(d, index), index)
        if not (keepdim or input.ndim == 0):
            result = KthvalueResult(result.values.squeeze(d), result.indices.squeeze(d))
    else:  # on a GPU, ties in stable order
        values, order = x.sort(d, stable=True)
        result = _pick(values, order, d, k - 1, keepdim or input.ndim == 0, KthvalueResult)
    if input.ndim == 0:
        return KthvalueResult(result.values.reshape(()), result.indices.reshape(()))
    return result


@on_input_device
def _quantile(input, q, dim, keepdim, interpolation, ignore_nan, name):
    # (PyTorch names quantile() in these errors, nanquantile's too)
    scalar_q = not isinstance(q, graph.Tensor)
    if isinstance(q, (int, float)) and not 0 <= q <= 1:  # a Python q is checked first; NaN fails
        raise RuntimeError(f"quantile() q must be in the range [0, 1] but got {q}")
    if input.dtype not in (dtypes.float32, dtypes.float64):
        raise RuntimeError(
            f"quantile() input tensor must be either float or double dtype, got {input.dtype.name}"
        )
    if input.numel() == 0:  # (PyTorch refuses any empty input, whatever the dim)
        raise RuntimeError("quantile() input tensor must be non-empty")
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(
            f"quantile() interpolation must be one of linear, lower, higher, midpoint or nearest, "
            f"but got {interpolation}"
        )
    if not scalar_q and q.dtype != input.dtype:
        raise RuntimeError("quantile() q tensor must be same dtype as the input tensor")
    q = input.new_tensor(q) if scalar_q else q
    if q.ndim > 1:
        raise RuntimeError("quantile() q must be a scalar or 1D tensor")
    every_q = q._all_elements()  # the whole batch under vmap
    if not bool(((every_q >= 0) & (every_q <= 1)).all()):  # NaN is out of range too
        raise RuntimeError("quantile() q values must be in the range [0, 1]")
    x = input.reshape(-1) if dim is None else input
    x, d = _slices(x, 0 if dim is None else dim, name)
    values = x.sort(d, stable=True).values.movedim(d, -1)  # (..., n), NaN last
    n = values.shape[-1]
    nans = values.isnan().sum(-1, keepdim=True)
    if ignore_nan:  # ranks among each slice's numbers: (..., len(q))
        count = n - nans
        rank = q.reshape(-1) * (count - 1).clamp(min=0).to(input.dtype)
        nan_slice = nans == n
    else:  # the same ranks for every slice: (len(q),)
        rank = q.reshape(-1) * (n - 1)
        nan_slice = nans > 0
    result = _interpolate(values, rank, interpolation)
    result = where(nan_slice, float("nan"), result).movedim(-1, 0)  # (len(q), ...)
    if keepdim and input.ndim:  # (a 0-d input has no dim to keep)
        result = (
            result.unsqueeze(d + 1)
            if dim is not None
            else result.reshape((result.shape[0],) + (1,) * input.ndim)
        )
    return result[0] if scalar_q or q.ndim == 0 else result


def _interpolate(values, rank, interpolation):
    """Entries of the sorted ``values`` (..., n) at fractional ``rank``: (m,) for every slice
    alike, or (..., m) per slice."""
    if interpolation == "nearest":
        rank = rank.round()  # half to even, as PyTorch
    low = rank.floor().to(dtypes.int64)
    high = rank.ceil().to(dtypes.int64)
    if rank.ndim == 1:
        below, above = values.index_select(-1, low), values.index_select(-1, high)
    else:
        below, above = values.gather(-1, low), values.gather(-1, high)
    if interpolation in ("lower", "nearest"):
        return below
    if interpolation == "higher":
        return above
    if interpolation == "midpoint":
        return (below + above) / 2
    return below + (above - below) * (rank - low.to(rank.dtype))


@autocast_op("quantile")
@accepts_axis
@names_node("SqueezeBackward4")
def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """The ``q``-quantiles (a number or a 1-D tensor in [0, 1]) of all entries or along
    ``dim``; a 1-D ``q`` puts its dimension first. NaN where a slice holds NaN."""
    return _quantile(input, q, dim, keepdim, interpolation, False, "quantile")


@autocast_op("nanquantile")
@accepts_axis
@names_node("SqueezeBackward4")
def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """:func:`quantile` of the non-NaN entries."""
    return _quantile(input, q, dim, keepdim, interpolation, True, "nanquantile")


@accepts_axis
@names_node("NansumBackward0")
def nansum(input, dim=None, keepdim=False, *, dtype=None):
    """The sum with NaN counted as zero."""
    if input.dtype.is_complex:
        raise RuntimeError("nansum on CPU does not support complex inputs")
    if input.dtype.is_floating_point:
        input = where(input.isnan(), 0.0, input)
    return sum(input, dim, keepdim, dtype=dtype)


@accepts_axis
def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    """The mean of the non-NaN entries (NaN where a slice is all NaN)."""
    if not input.dtype.is_floating_point:
        raise RuntimeError(
            "nanmean(): expected input to have floating point or complex dtype but got "
            f"{dtypes.scalar_type_name(input.dtype)}"
        )
    kept = (~input.isnan()).sum(dim, keepdim).to(input.dtype)
    return nansum(input, dim, keepdim, dtype=dtype) / kept


@accepts_axis
@names_node("StdMeanBackward0")
def std_mean(input, dim=None, *, correction=1, keepdim=False, unbiased=None):
    """``(std, mean)`` over ``dim`` in one call; the mean accumulated as the std (in float64
    on the CPU, as PyTorch's one Welford pass, which can differ from :func:`mean` by an ulp)."""
    spread = std(input, dim, correction=correction, keepdim=keepdim, unbiased=unbiased)
    return spread, _in_variance_accumulator(lambda x: mean(x, dim, keepdim), input)


@accepts_axis
@names_node("VarMeanBackward0")
def var_mean(input, dim=None, *, correction=1, keepdim=False, unbiased=None):
    """``(var, mean)`` over ``dim`` in one call; the mean accumulated as the variance (see
    :func:`std_mean`)."""
    spread = var(input, dim, correction=correction, keepdim=keepdim, unbiased=unbiased)
    return spread, _in_variance_accumulator(lambda x: mean(x, dim, keepdim), input)


@accepts_axis
@names_node("AminmaxBackward0")
def aminmax(input, *, dim=None, keepdim=False):
    """``(min, max)`` over ``dim`` (all entries by default)."""
    dims = () if dim is None else dim
    return AminmaxResult(amin(input, dims, keepdim), amax(input, dims, keepdim))


@accepts_axis
def count_nonzero(input, dim=None):
    """The number of non-zero entries over ``dim`` (an int64 tensor)."""
    return (input != 0).sum(dim)


def check_bin_count(bins) -> None:
    """PyTorch's error for a bin count below one (histc, histogram): NumPy's would differ."""
    if int(bins) <= 0:
        raise RuntimeError(
            f"torch.histogram(): bins must be > 0, but got {int(bins)} for dimension 0"
        )


@shape_only
@on_input_device
def histc(input, bins=100, min=0, max=0):
    """A histogram of ``bins`` equal bins over [min, max] (the data's range when both are 0);
    entries outside are ignored. No gradient."""
    if not input.dtype.is_floating_point:
        refuse_dtype(input.dtype, "histogram_cpu", "histc")  # (integers: PyTorch's type)
        raise RuntimeError(f'"histogram_cpu" not implemented for {input.dtype}')
    xp, data = input.device.xp, input._data.reshape(-1)
    check_bin_count(bins)
    low, high = float(min), float(max)
    if low == high and data.size:
        low, high = float(data.min()), float(data.max())
    if low == high:
        low, high = low - 1, high + 1
    if low > high:
        raise RuntimeError(f"torch.histc: max must be larger than min (got min {min}, max {max})")
    if not (math.isfinite(low) and math.isfinite(high)):
        raise RuntimeError(f"torch.histc: range of [{low:g}, {high:g}] is not finite")
    # PyTorch's kernel: a bin from (x - low) * bins / (high - low) in the input's dtype,
    # truncated (the upper edge joins the last bin); float64 edges would bin some ties apart
    lo, hi = data.dtype.type(low), data.dtype.type(high)
    inside = data[(data >= lo) & (data <= hi)]
    pos = ((inside - lo) * data.dtype.type(bins) / (hi - lo)).astype(xp.int64)
    counts = xp.bincount(xp.minimum(pos, bins - 1), minlength=bins)
    return constant(counts.astype(input._data.dtype), input.device)
