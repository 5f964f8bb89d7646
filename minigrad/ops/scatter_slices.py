"""Selecting and writing back slices: ``select`` and its ``*_scatter`` inverses (select, slice,
diagonal), ``index_put``/``put``, ``index_reduce``, and the small movement aliases PyTorch
programs use (``fliplr``, ``flipud``, ``moveaxis``, ``msort``, ``narrow_copy``,
``split_with_sizes``, ``diagflat``). All are compositions of differentiable primitives."""

from __future__ import annotations

import math

from .. import dtypes
from ..autograd import graph
from ..autograd.graph import names_node
from .base import accepts_axis, normalize_dim, on_input_device, refuse_dtype
from .indexing import same_dtype
from .joining import split
from .matrix import diag, diagonal
from .movement import broadcast_tensors, flip, movedim, narrow
from .scatter import index_add, index_copy, scatter_reduce


@accepts_axis
def select(input, dim, index):
    """The slice at ``index`` along ``dim`` (that dim removed), a view as ``input[..., index]``."""
    d = normalize_dim(dim, input.ndim, "select")
    n = input.shape[d]
    if not -n <= index < n:
        raise IndexError(
            f"select(): index {index} out of range for tensor of size {list(input.shape)} at "
            f"dimension {dim}"
        )
    return input[(slice(None),) * d + (index,)]


def _check_src(src, view_shape, op):
    if not isinstance(src, graph.Tensor):
        raise TypeError(f"{op}: src must be a Tensor, got {type(src).__name__}")
    if tuple(src.shape) != tuple(view_shape):
        raise RuntimeError(
            f"{op}: expected src to have a size equal to the slice of self. src size = "
            f"{list(src.shape)}, slice size = {list(view_shape)}"
        )


@names_node("SelectScatterBackward0")
def select_scatter(input, src, dim, index):
    """``input`` with the slice ``select(dim, index)`` replaced by ``src``."""
    _check_src(src, select(input, dim, index).shape, "select_scatter")
    d = normalize_dim(dim, input.ndim, "select_scatter")
    position = shape_constant([index % input.shape[d]], _int64(), input.device)
    return index_copy(input, d, position, src.to(input.dtype).unsqueeze(d))


@names_node("SliceScatterBackward0")
def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    """``input`` with ``input[start:end:step]`` along ``dim`` replaced by ``src``."""
    d = normalize_dim(dim, input.ndim, "slice_scatter")
    if step <= 0:
        raise RuntimeError("slice_scatter: slice step must be positive")
    positions = list(range(input.shape[d]))[slice(start, end, step)]
    shape = list(input.shape)
    shape[d] = len(positions)
    _check_src(src, tuple(shape), "slice_scatter")
    positions = shape_constant(positions, _int64(), input.device)
    return index_copy(input, d, positions, src.to(input.dtype))


@names_node("DiagonalScatterBackward0")
def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    """``input`` with ``diagonal(offset, dim1, dim2)`` replaced by ``src``: the two dims moved
    last and flattened, the diagonal's flat positions scattered into."""
    _check_src(src, diagonal(input, offset, dim1, dim2).shape, "diagonal_scatter")
    d1 = normalize_dim(dim1, input.ndim, "diagonal_scatter")
    d2 = normalize_dim(dim2, input.ndim, "diagonal_scatter")
    order = [d for d in range(input.ndim) if d not in (d1, d2)] + [d1, d2]
    moved = input.permute(order)
    rows, cols = moved.shape[-2:]
    k = src.shape[-1]
    first_row, first_col = max(-offset, 0), max(offset, 0)
    positions = [(first_row + i) * cols + first_col + i for i in range(k)]
    batch = moved.shape[:-2]
    index = shape_constant(positions, _int64(), input.device).expand(batch + (k,))
    flat = moved.reshape(batch + (rows * cols,)).scatter(-1, index, src.to(input.dtype))
    inverse = sorted(range(input.ndim), key=order.__getitem__)
    return flat.reshape(moved.shape).permute(inverse)


def _int64():
    from .. import dtypes

    return dtypes.int64


def shape_constant(host, dtype, device):
    """:func:`minigrad.creation.shape_constant` (imported late: creation imports the ops)."""
    from ..creation import shape_constant as make

    return make(host, dtype, device)


def _linear_index(input, indices, op):
    """``indices`` (index tensors for the leading dims, bool masks allowed) as one int64 index
    into ``input`` viewed as ``(prod(leading dims), *rest)``; returns (flat input, index)."""
    if not isinstance(indices, (tuple, list)) or not indices:
        raise TypeError(f"{op}: indices must be a non-empty tuple of tensors")
    expanded = []
    for ix in indices:
        if not isinstance(ix, graph.Tensor):
            raise TypeError(f"{op}: indices must be tensors, got {type(ix).__name__}")
        if ix.dtype.name in ("bool", "uint8"):
            expanded.extend(ix.nonzero(as_tuple=True))
        elif ix.dtype.is_floating_point:
            raise IndexError(f"{op}: tensors used as indices must be long, int, byte or bool")
        else:
            expanded.append(ix.long())
    k = len(expanded)
    if k > input.ndim:
        raise IndexError(f"{op}: too many indices for tensor of dimension {input.ndim}")
    expanded = broadcast_tensors(*expanded)
    lin = None
    for d, ix in enumerate(expanded):
        n = input.shape[d]
        every = ix._all_elements()  # (every sample's under vmap)
        if every.size and bool(((every < -n) | (every >= n)).any()):
            raise IndexError(f"{op}: index out of bounds for dimension {d} with size {n}")
        ix = ix % n if n else ix
        lin = ix if lin is None else lin * n + ix
    rest = tuple(input.shape[k:])
    lead = math.prod(input.shape[:k])  # (-1 is ambiguous where rest holds a 0)
    return input.reshape((lead,) + rest), lin.reshape(-1), tuple(expanded[0].shape), rest


def _fills_by_mask(indices, values, accumulate) -> bool:
    """Whether PyTorch's index_put is a masked_fill here (one bool or uint8 mask, the other
    indices None, one value, no accumulate), which takes the value in any dtype."""
    given = [i for i in indices if i is not None]
    mask = len(given) == 1 and isinstance(given[0], graph.Tensor)
    mask = mask and given[0].dtype in (dtypes.bool, dtypes.uint8)
    return mask and not accumulate and values.numel() == 1


@on_input_device
@names_node("IndexPutBackward0")
def index_put(input, indices, values, accumulate=False):
    """``input`` with ``input[indices] = values`` (``+=`` with ``accumulate``, where repeated
    indices add up); differentiable in ``input`` and ``values``."""
    flat, lin, index_shape, rest = _linear_index(input, indices, "index_put")
    if not isinstance(values, graph.Tensor):
        values = input.new_tensor(values)
    if _fills_by_mask(indices, values, accumulate):
        values = values.to(input.dtype)
    else:
        same_dtype(
            input,
            values,
            "Index put requires the source and destination dtypes match, got {self} for the "
            "destination and {src} for the source.",
        )
    values = values.expand(index_shape + rest).reshape((math.prod(index_shape),) + rest)
    put_in = index_add if accumulate else index_copy
    return put_in(flat, 0, lin, values).reshape(input.shape)


@on_input_device
@names_node("PutBackward0")
def put(input, index, source, accumulate=False):
    """``input`` with its flattened entries at ``index`` set to (or, with ``accumulate``,
    increased by) ``source``'s entries."""
    if source.dtype != input.dtype:  # (PyTorch's words)
        raise RuntimeError(
            "put_(): self and source expected to have the same dtype, but got self.dtype = "
            f"{input.dtype} and source.dtype = {source.dtype}"
        )
    if index.numel() != source.numel():
        raise IndexError(
            f"put_(): Expected source and index to have the same number of elements, but got "
            f"source.numel() = {source.numel()}, index.numel() = {index.numel()}"
        )
    flat = input.reshape(-1)
    return index_put(flat, (index.reshape(-1),), source.reshape(-1), accumulate).reshape(
        input.shape
    )


@names_node("IndexReduceBackward0")
def index_reduce(input, dim, index, source, reduce, *, include_self=True):
    """Reduce ``source``'s slices into ``input`` at ``index`` along ``dim`` with ``reduce`` in
    ``'prod'``, ``'mean'``, ``'amax'``, ``'amin'``."""
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise RuntimeError(
            f"index_reduce(): Expected reduce to be one of prod, mean, amax or amin, got {reduce}."
        )
    same_dtype(
        input,
        source,
        "index_reduce_(): self ({self}) and source ({src}) must have the same scalar type",
    )
    if input.dtype is dtypes.bool and not include_self:  # (PyTorch's kernel for it)
        kernel = "index_reduce_func_exclude_input_init"
        refuse_dtype(dtypes.bool, kernel, "index_reduce", bools_only=True)
    d = normalize_dim(dim, input.ndim, "index_reduce")
    if index.ndim <= 1 and source.ndim and index.numel() != source.shape[d]:  # (PyTorch's words)
        raise RuntimeError(
            f"index_reduce_(): Number of indices ({index.numel()}) should be equal to "
            f"source.size(dim): ({source.shape[d]}), for dim: {dim}"
        )
    if index.ndim > 1 or not source.ndim or index.numel() != source.shape[d]:
        raise IndexError(
            "index_reduce(): Index should have dimension 1 and as many entries as source has "
            f"along dim {dim}"
        )
    shape = [1] * source.ndim
    shape[d] = -1
    scatter_index = index.long().reshape(shape).expand(source.shape)
    return scatter_reduce(input, d, scatter_index, source, reduce, include_self=include_self)


def fliplr(input):
    """Reverse the columns (dim 1) of a tensor with at least 2 dims."""
    if input.ndim < 2:
        raise RuntimeError("fliplr: Input must be >= 2-d.")
    return flip(input, (1,))


def flipud(input):
    """Reverse the rows (dim 0) of a tensor with at least 1 dim."""
    if input.ndim < 1:
        raise RuntimeError("flipud: Input must be >= 1-d.")
    return flip(input, (0,))


def moveaxis(input, source, destination):
    """NumPy's name for :func:`movedim`."""
    return movedim(input, source, destination)


def msort(input):
    """``input`` sorted along dim 0 (the values of ``sort(input, dim=0)``)."""
    return input.sort(dim=0, stable=True).values  # (equal values: any order gives these)


@names_node("NarrowCopyBackward0")
def narrow_copy(input, dim, start, length):
    """A copy (not a view) of :func:`narrow`."""
    return narrow(input, dim, start, length).clone()


def split_with_sizes(input, split_sizes, dim=0):
    """Split into pieces of the given sizes along ``dim`` (they must add up to its length)."""
    if input.ndim == 0:
        raise RuntimeError("split_with_sizes expects at least a 1-dimensional tensor")
    d = normalize_dim(dim, input.ndim, "split_with_sizes")
    if sum(split_sizes) != input.shape[d]:
        raise RuntimeError(
            f"split_with_sizes expects split_sizes to sum exactly to {input.shape[d]} (input "
            f"tensor's size at dimension {dim}), but got split_sizes={list(split_sizes)}"
        )
    return split(input, list(split_sizes), d)


@names_node("DiagEmbedBackward0")
def diagflat(input, offset=0):
    """A square matrix with ``input``'s flattened entries on diagonal ``offset``."""
    return diag(input.reshape(-1), offset)
