"""Writing into a tensor at indices: scatter (src or value, reduce=), scatter_reduce, index_add,
index_copy, index_fill and masked_scatter. Each is out-of-place; the Tensor's ``*_`` twins
write the result back in place."""

from __future__ import annotations

import math

import numpy as np

from .. import dtypes
from ..autograd import graph
from ..autograd.graph import names_node
from .base import (
    Op,
    autocast_op,
    coefficient,
    constant,
    normalize_dim,
    on_input_device,
    refuse_dtype,
)
from .elementwise import where
from .indexing import (
    SCATTER_DTYPE,
    Gather,
    IndexAdd,
    ScatterAdd,
    _leading_region,
    _pad_to,
    _scatter_key,
    index_dims,
    same_dtype,
)
from .joining import pad


class Scatter(Op):
    """y = base with src written at index along dim (torch.scatter);
    d/dbase = dy with the written places zeroed, d/dsrc = dy gathered at index"""

    supports_complex = True

    def __init__(self, dim: int, index):
        self.dim, self.index = dim, index

    def forward(self, base, src):
        out = base.copy()
        key = _scatter_key(self.xp, self.index, self.dim)
        out[key] = _leading_region(src, self.index.shape, self.dim, whole_dim=False)
        return out

    def backward(self, gy):
        need_base, need_src = self.needs_input_grad
        g_base = g_src = None
        if need_base:
            g_base = Scatter(self.dim, self.index)(gy, gy.new_zeros(self.index.shape))
        if need_src:
            g_src = _gather_to(gy, self.dim, self.index, self.input_meta[1][0])
        return g_base, g_src


def _gather_to(gy, dim, index, src_shape):
    g = Gather(dim, index)(gy)
    return pad(g, _pad_to(g.shape, src_shape)) if tuple(g.shape) != tuple(src_shape) else g


class ScatterExtreme(Op):
    """y = base with each index place set to the max (or min) of itself (if include_self) and
    the src values sent there; the gradient is shared evenly by the entries equal to y (as
    PyTorch's scatter_reduce amax/amin)"""

    backward_name = "ScatterReduceBackward0"
    save_inputs = True
    save_output = True

    def __init__(self, dim: int, index, largest: bool, include_self: bool, spelled=None):
        self.dim, self.index, self.largest, self.include_self = dim, index, largest, include_self
        self.spelled = spelled  # "max"/"min": PyTorch's forward takes them, its backward refuses

    def forward(self, base, src):
        xp = self.xp
        out = base.copy()
        key = _scatter_key(xp, self.index, self.dim)
        src = _leading_region(src, self.index.shape, self.dim, whole_dim=False)
        if not self.include_self:
            out[key] = _lowest(out.dtype, self.largest)
        getattr(xp, "maximum" if self.largest else "minimum").at(out, key, src)
        return out

    def backward(self, gy):
        if self.spelled is not None:
            raise RuntimeError(
                "Expected 'reduce' to be one of 'sum', 'prod', 'mean', 'amax', 'amin' but got "
                f"{self.spelled}."
            )
        base, src, y = self.saved
        need_base, need_src = self.needs_input_grad
        dim, index = self.dim, self.index
        region = src[tuple(slice(0, n) for n in index.shape)]
        src_hits = (region == Gather(dim, index)(y)).to(gy.dtype).detach()
        counts = ScatterAdd(dim, index)(gy.new_zeros(gy.shape), src_hits)
        if self.include_self:
            self_hits = (base == y).to(gy.dtype).detach()
        else:
            self_hits = _untouched(gy, dim, index)
        counts = counts + self_hits
        share = gy / where(counts == 0, 1.0, counts)
        g_base = share * self_hits if need_base else None
        g_src = None
        if need_src:
            g_src = _gather_to(share, dim, index, self.input_meta[1][0])
            g_src = g_src * pad(src_hits, _pad_to(src_hits.shape, g_src.shape))
        return g_base, g_src


class ScatterProd(Op):
    """y = base with each index place multiplied by the src values sent there (times itself
    if include_self); d/dsrcₖ = dy·y/srcₖ, d/dbase = dy·y/base (inputs without zeros)"""

    backward_name = "ScatterReduceBackward0"
    save_inputs = True
    save_output = True

    def __init__(self, dim: int, index, include_self: bool):
        self.dim, self.index, self.include_self = dim, index, include_self

    def forward(self, base, src):
        out = base.copy()
        key = _scatter_key(self.xp, self.index, self.dim)
        if not self.include_self:
            out[key] = 1
        src = _leading_region(src, self.index.shape, self.dim, whole_dim=False)
        self.xp.multiply.at(out, key, src)
        return out

    def backward(self, gy):
        base, src, y = self.saved
        if not bool((base._data != 0).all()) or not bool((src._data != 0).all()):
            raise NotImplementedError(
                "scatter_reduce(reduce='prod'): gradient when input or src holds zeros"
            )
        need_base, need_src = self.needs_input_grad
        g_base = g_src = None
        if need_base:
            g_base = (
                gy * y / base if self.include_self else gy * _untouched(gy, self.dim, self.index)
            )
        if need_src:
            g_src = _gather_to(gy * y, self.dim, self.index, self.input_meta[1][0]) / src
        return g_base, g_src


def _lowest(np_dtype, largest: bool):
    """The identity of max (or min) for ``np_dtype``: -inf/inf, or the integer limits."""
    if dtypes.is_floating(np_dtype):
        return -math.inf if largest else math.inf
    if np_dtype.kind == "b":
        return not largest
    info = np.iinfo(np_dtype)
    return info.min if largest else info.max


def _untouched(like, dim, index):
    """1.0 where scatter at ``index`` along ``dim`` writes nothing, else 0.0 (no grad)."""
    xp = like.device.xp
    hit = xp.zeros(like.shape, dtype=bool)
    hit[_scatter_key(xp, index, dim)] = True
    return constant((~hit).astype(like._data.dtype), like.device)


# -- functions --------------------------------------------------------------------------------


def _scatter_index(input, index, dim: int, op: str, src=None):
    """The index array of a scatter along ``dim``: int64 or int32, on input's device, in
    ``[0, size)``, no larger than ``input`` in the other dims nor than a tensor ``src`` in any
    (PyTorch's shape check, before it reads an index)."""
    if not isinstance(index, graph.Tensor) or index.dtype not in (dtypes.int64, dtypes.int32):
        kind = index.dtype if isinstance(index, graph.Tensor) else type(index).__name__
        raise RuntimeError(f"{op}(): Expected dtype int32/int64 for index, got {kind}")
    if index.device is not input.device:
        raise RuntimeError(
            f"{op}(): expected all tensors to be on the same device, but found at least two "
            f"devices, {input.device} (input) and {index.device} (index)"
        )
    _check_no_larger(input, index, dim, src if isinstance(src, graph.Tensor) else None, op)
    graph.refuse_inference_index(index, input, src)
    size = input.shape[dim] if input.ndim else 1
    _check_range(index._all_elements(), size, dim, RuntimeError, False)  # under vmap: all samples'
    return index._data


def _check_no_larger(input, index, dim: int, src, op: str) -> None:
    if index.ndim != input.ndim:
        return
    larger = any(i > n for k, (i, n) in enumerate(zip(index.shape, input.shape)) if k != dim)
    if src is not None and src.ndim == index.ndim:
        larger = larger or any(i > n for i, n in zip(index.shape, src.shape))
    if larger:
        also = f" and to be no larger size than src {list(src.shape)}" if src is not None else ""
        raise RuntimeError(
            f"{op}(): Expected index {list(index.shape)} to be no larger than self "
            f"{list(input.shape)} apart from dimension {dim}{also}"
        )


def _check_range(data, size: int, dim: int, error, negative: bool, words=None) -> None:
    """``data`` in ``[0, size)`` (``[-size, size)`` with ``negative``), else ``error`` as PyTorch
    (with ``words`` instead of naming the index, where given).
    (One reduction read on the host: on a GPU that is a synchronisation.)"""
    if hasattr(type(data), "all_elements"):  # a batched index under vmap: every sample's
        data = data.all_elements()
    if data.size == 0:
        return
    bad = (data >= size) | ((data < -size) if negative else (data < 0))
    if bool(bad.any()):
        value = int(data.reshape(-1)[bad.reshape(-1).argmax()])
        raise error(words or f"index {value} is out of bounds for dimension {dim} with size {size}")


def _as_src(input, index, src, op):
    if isinstance(src, graph.Tensor):
        if src.ndim != input.ndim and src.ndim != 0:
            raise RuntimeError(
                f"{op}(): index, self and src should have the same number of dimensions, got "
                f"{input.ndim} and {src.ndim}"
            )
        same_dtype(input, src, SCATTER_DTYPE)
        return src.expand(*index.shape) if src.ndim == 0 else src
    return constant(input.device.xp.full(index.shape, src, dtype=input._data.dtype), input.device)


def _scatter_node(input, dim, index, src=None, value=None, **kwargs) -> str:
    """PyTorch's overloads: ``scatter(dim, index, src)`` ScatterBackward0, of a number 1."""
    return f"ScatterBackward{int(not isinstance(value if src is None else src, graph.Tensor))}"


@on_input_device
@names_node(_scatter_node)
def scatter(input, dim, index, src=None, value=None, *, reduce=None):
    """``input`` with ``src`` (a tensor, or the scalar ``value``) written at ``index`` along
    ``dim``: ``out[i][index[i][j]] = src[i][j]`` for dim 1.

    ``reduce='add'`` or ``'multiply'`` combines with the values there instead of replacing them.

    Example:
        >>> x = minigrad.zeros(2, 3)
        >>> x.scatter(1, minigrad.tensor([[2], [0]]), 1.0)  # a one-hot per row
    """
    if src is None:
        src = value
    if src is None:
        raise TypeError("scatter(): expected either 'src' or 'value'")
    d = normalize_dim(dim, input.ndim, "scatter")
    if isinstance(index, graph.Tensor):
        index, src = index_dims(input, index, src, "scatter")
    idx = _scatter_index(input, index, d, "scatter", src)
    src = _as_src(input, index, src, "scatter")
    if reduce is not None:
        modes = {"add": "sum", "multiply": "prod"}
        if reduce not in modes:
            raise RuntimeError(
                f"scatter(): reduce argument must be 'add' or 'multiply', got {reduce!r}"
            )
        return scatter_reduce(input, d, index, src, modes[reduce])
    return Scatter(d, idx)(input, src)


@on_input_device
@names_node("ScatterReduceBackward0")
def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """Combine ``src`` into ``input`` at ``index`` along ``dim`` with ``reduce`` in
    ``'sum'``, ``'prod'``, ``'mean'``, ``'amax'``, ``'amin'``; ``include_self=False`` leaves
    the places written to out of the reduction. ``'max'`` and ``'min'`` compute as ``'amax'``
    and ``'amin'`` (PyTorch's forward takes them) but refuse a backward, as PyTorch's does.

    Example:
        >>> x = minigrad.zeros(3)
        >>> x.scatter_reduce(0, minigrad.tensor([0, 0, 2]), minigrad.tensor([1.0, 5.0, 2.0]), "amax")
    """
    d = normalize_dim(dim, input.ndim, "scatter_reduce")
    if isinstance(index, graph.Tensor):
        index, src = index_dims(input, index, src, "scatter_reduce")
    idx = _scatter_index(input, index, d, "scatter_reduce", src)
    if not isinstance(src, graph.Tensor):
        raise TypeError("scatter_reduce(): src must be a Tensor")
    same_dtype(input, src, SCATTER_DTYPE)
    if reduce == "mean" and input.dtype is dtypes.bool:
        refuse_dtype(dtypes.bool, "scatter_gather_tensor_cpu_reduce_mean", "scatter_reduce", True)
    if reduce in ("sum", "mean"):
        base = input if include_self else Scatter(d, idx)(input, input.new_zeros(index.shape))
        total = ScatterAdd(d, idx)(base, src)
        if reduce == "sum":
            return total
        counts = ScatterAdd(d, idx)(
            input.new_full(input.shape, 1 if include_self else 0),
            input.new_ones(index.shape),
        )
        if input.dtype.is_floating_point:
            return where(counts == 0, input, total / where(counts == 0, 1, counts))
        return where(counts == 0, input, total // where(counts == 0, 1, counts))
    if reduce in ("amax", "amin", "max", "min"):  # PyTorch's forward also takes max and min
        spelled = None if reduce in ("amax", "amin") else reduce
        return ScatterExtreme(d, idx, "max" in reduce, include_self, spelled)(input, src)
    if reduce == "prod":
        return ScatterProd(d, idx, include_self)(input, src)
    raise RuntimeError(
        "scatter_reduce(): reduce argument must be either sum, prod, mean, amax or amin, got "
        f"{reduce}"
    )


def _index_key(input, dim, index, op, negative=False, source=None, error=IndexError, words=None):
    if not isinstance(index, graph.Tensor):
        raise TypeError(
            f"{op}(): argument 'index' (position 2) must be Tensor, not {type(index).__name__}"
        )
    _check_index_kind(index, op)
    if index.ndim > 1:
        kind = dtypes.scalar_type_name(index.dtype)
        raise {  # PyTorch's words, which differ from op to op
            "index_add": IndexError(
                f"index_add_(): Index is supposed to be a vector, but got dim: {index.ndim} "
                f"with type: {kind} and size: {list(index.shape)}"
            ),
            "index_fill": RuntimeError("Index has to be a vector/scalar"),
        }.get(op, IndexError(f"{op}_(): Index should have dimension 1 or 0 (got {index.ndim})"))
    if index.device is not input.device:
        raise RuntimeError(
            f"{op}(): expected all tensors to be on the same device, but found at least two "
            f"devices, {input.device} (input) and {index.device} (index)"
        )
    graph.refuse_inference_index(index, input, source)
    d = normalize_dim(dim, input.ndim, op)
    data = index.reshape(-1)._data  # (a reshape op: a per-sample index batches under vmap)
    _check_range(data, input.shape[d] if input.ndim else 1, d, error, negative, words)
    return (slice(None),) * d + (data,)


def _check_index_kind(index, op):
    """PyTorch's dtype refusals: index_fill_ takes int64 only, index_add_ int32 or int64."""
    if op == "index_fill" and index.dtype is not dtypes.int64:
        raise IndexError("index_fill_(): Expected dtype int64 for index.")
    if index.dtype not in (dtypes.int64, dtypes.int32):
        raise RuntimeError(
            f"{op}_(): Expected dtype int32/int64 for index but got: "
            + dtypes.scalar_type_name(index.dtype)
        )


def _check_source(input, dim, index, source, op):
    d = normalize_dim(dim, input.ndim, op)
    want = tuple(index.numel() if i == d else s for i, s in enumerate(input.shape))
    if input.ndim and tuple(source.shape) != want:
        raise RuntimeError(
            f"{op}(): source of shape {list(source.shape)} does not match the expected shape "
            f"{list(want)} (self's shape with dim {d} of size len(index))"
        )


@on_input_device
@names_node("IndexAddBackward0")
def index_add(input, dim, index, source, *, alpha=1):
    """``input`` with ``alpha * source`` added at ``index`` along ``dim`` (repeats add up).

    Example:
        >>> minigrad.zeros(3, 2).index_add(0, minigrad.tensor([0, 0]), minigrad.ones(2, 2))
    """
    if _index_add_scatters(input, dim, index, alpha):  # PyTorch's two CPU paths, two messages
        key = _index_key(input, dim, index, "index_add", error=RuntimeError, source=source)
    else:
        key = _index_key(
            input, dim, index, "index_add", words="index out of range in self", source=source
        )
    _check_source(input, dim, index, source, "index_add")
    same_dtype(
        input,
        source,
        "index_add_(): self ({self}) and source ({src}) must have the same scalar type",
    )
    alpha = coefficient(alpha, input, op="index_add")
    if alpha != 1:
        source = source * alpha
    return input + IndexAdd(tuple(input.shape), key, False)(source)


def _index_add_scatters(input, dim, index, alpha) -> bool:
    """Whether PyTorch's CPU ``index_add_`` takes its ``scatter_add_`` path (an index out of
    range then reads as scatter's RuntimeError naming it; else the IndexError 'index out of range
    in self'): a 2-D-or-more input added along its first or last dim, an int64 index, alpha 1."""
    if input.ndim < 2 or not isinstance(dim, int) or not -input.ndim <= dim < input.ndim:
        return False
    first_or_last = dim % input.ndim in (0, input.ndim - 1)
    return first_or_last and getattr(index, "dtype", None) is dtypes.int64 and bool(alpha == 1)


def _index_mask(input, key):
    xp = input.device.xp
    if _is_host_array(key[-1]):
        hit = xp.zeros(input.shape, dtype=bool)
        hit[key] = True
        return constant(hit, input.device)
    # a per-sample index under vmap: through an op, which batches
    d, shape = len(key) - 1, tuple(input.shape)
    ones = constant(xp.ones(shape[:d] + key[-1].shape + shape[d + 1 :], "int64"), input.device)
    return IndexAdd(shape, key, False)(ones) != 0


def _is_host_array(a) -> bool:
    return not hasattr(type(a), "all_elements")


def _masked_scatter_by_position(input, mask, source):
    """``masked_scatter`` through ops that batch: each true place takes the source value at its
    rank among the true places (a cumulative count), where the others keep ``input``'s."""
    every = mask._all_elements().reshape(-1, max(mask.numel(), 1))  # a row per sample
    count = int(every.sum(1).max()) if every.size else 0
    if count > source.numel():
        raise RuntimeError(
            f"masked_scatter: expected source to have at least {count} elements (the number of "
            f"true entries in mask), got {source.numel()}"
        )
    if count == 0:
        return input * 1
    rank = mask.reshape(-1).to(dtypes.int64).cumsum(0) - 1
    picked = source.to(input.dtype).reshape(-1)[rank.clamp(min=0)]
    return where(mask, picked.reshape(input.shape), input)


@autocast_op("index_copy")
@on_input_device
@names_node("IndexCopyBackward0")
def index_copy(input, dim, index, source):
    """``input`` with the slices at ``index`` along ``dim`` replaced by ``source``'s slices."""
    if isinstance(index, graph.Tensor) and index.dtype is not dtypes.int64:  # (no int32 here)
        raise RuntimeError(
            "index_copy_(): Expected a long tensor for index, but got "
            + dtypes.scalar_type_name(index.dtype)
        )
    key = _index_key(input, dim, index, "index_copy", source=source)
    if source.ndim == 0 and index.numel() != 1:  # (PyTorch's check, before the shapes')
        raise IndexError(
            f"index_copy_(): When source is scalar, index should have one element (got "
            f"{index.numel()})"
        )
    _check_source(input, dim, index, source, "index_copy")
    same_dtype(
        input,
        source,
        "index_copy_(): self and source expected to have the same dtype, but got (self) {self} "
        "and (source) {src}",
    )
    source = _last_of_repeats(source, key[-1], len(key) - 1)
    return where(_index_mask(input, key), IndexAdd(tuple(input.shape), key, False)(source), input)


def _last_of_repeats(source, index, d):
    """``source`` with the slices (along ``d``) whose index comes again later set to zero, so
    that adding them up leaves the last one: PyTorch's CPU kernels copy in order, and with a
    repeated index the last write wins (``index_copy_``, ``index_put_`` without accumulate).
    The gradient still reaches every slice, as PyTorch's (each gets its place's gradient)."""
    xp = source.device.xp
    if type(index) is not xp.ndarray or index.ndim != 1 or index.size < 2:
        return source  # (under vmap a per-sample index is no plain array: left as it was)
    _, first = xp.unique(index[::-1], return_index=True)  # first in reverse: last in order
    if first.size == index.size:
        return source
    keep = xp.zeros(index.size, dtype=bool)
    keep[index.size - 1 - first] = True
    shape = [1] * source.ndim
    shape[d] = index.size
    return LastWrites(keep.reshape(shape))(source)


class LastWrites(Op):
    """y = source with the overwritten slices zeroed (``keep`` False); dy passes unchanged, so
    that every write of a repeated index gets its place's gradient, as in PyTorch."""

    supports_complex = True

    def __init__(self, keep):
        self.keep = keep

    def forward(self, source):
        return self.xp.where(self.keep, source, source.dtype.type(0))

    def backward(self, gy):
        return gy


@on_input_device
@names_node(
    lambda input, dim, index, value: f"IndexFillBackward{int(isinstance(value, graph.Tensor))}"
)
def index_fill(input, dim, index, value):
    """``input`` with the slices at ``index`` along ``dim`` set to ``value``."""
    key = _index_key(input, dim, index, "index_fill", negative=True)
    if isinstance(value, graph.Tensor):
        if value.ndim:
            raise RuntimeError("index_fill(): only supports a 0-dimensional value tensor")
        value = value.to(input.dtype)
    out = where(_index_mask(input, key), value, input)
    return out if out.dtype is input.dtype else out.to(input.dtype)


@on_input_device
@names_node("MaskedScatterBackward0")
def masked_scatter(input, mask, source):
    """``input`` with the places where ``mask`` is true filled, in row-major order, with
    consecutive values of ``source`` (which needs at least as many elements).

    Example:
        >>> x = minigrad.zeros(2, 2)
        >>> x.masked_scatter(minigrad.tensor([[True, False], [True, True]]), minigrad.arange(4.0))
    """
    if mask.dtype is not dtypes.bool:
        raise RuntimeError(
            "masked_scatter_ only supports boolean masks, but got mask with dtype "
            + dtypes.scalar_type_name(mask.dtype)
        )
    if tuple(mask.shape) != tuple(input.shape):  # the two broadcast together, as in PyTorch
        try:
            shape = np.broadcast_shapes(tuple(input.shape), tuple(mask.shape))
        except ValueError:
            raise RuntimeError(
                f"masked_scatter: the shapes of input {list(input.shape)} and mask "
                f"{list(mask.shape)} cannot be broadcast together"
            ) from None
        input, mask = input.expand(*shape), mask.expand(*shape)
    if source.dtype != input.dtype:  # (PyTorch's words, after the shapes)
        raise RuntimeError(
            "masked_scatter: expected self and source to have same dtypes but got "
            f"{input.dtype} and {source.dtype}"
        )
    if not _is_host_array(mask._data):  # a per-sample mask under vmap
        return _masked_scatter_by_position(input, mask, source)
    xp = input.device.xp
    where_true = xp.nonzero(mask._data)
    count = int(where_true[0].size) if input.ndim else int(bool(mask._data))
    if count > source.numel():
        raise RuntimeError(
            f"masked_scatter: expected source to have at least {count} elements (the number of "
            f"true entries in mask), got {source.numel()}"
        )
    values = source.to(input.dtype).reshape(-1)[:count]
    if input.ndim == 0:
        return where(mask, values.reshape(()), input) if count else input * 1
    placed = IndexAdd(tuple(input.shape), tuple(where_true), False)(values)
    return where(mask, placed, input)
