"""Picking entries by index, mask or window, composed from ``getitem``/``gather``/
``index_select`` (whose gradients scatter back to the picked places): take, take_along_dim,
masked_select, repeat_interleave, argwhere and ``Tensor.unfold`` (sliding windows)."""

from __future__ import annotations

from .. import dtypes
from ..autograd import graph
from ..autograd.graph import names_node
from ._size import as_int, with_size
from .base import accepts_axis, constant, normalize_dim, on_input_device
from .movement import UnfoldWindows, broadcast_tensors
from .sorting import nonzero


@names_node("TakeBackward0")
def take(input, index):
    """Entries of the flattened ``input`` at ``index`` (a tensor of any shape)."""
    _check_long(index, "take")
    return input.reshape(-1)[index]


@accepts_axis
def take_along_dim(input, indices, dim=None):
    """``gather`` along ``dim`` with ``indices`` broadcast against ``input`` (the flattened input
    when ``dim`` is None), as ``numpy.take_along_axis``. With a ``dim``, PyTorch takes the
    indices modulo the size (``-1`` is the last entry, and so is ``size - 1 + size``); without
    one they must be in range, as for ``gather``."""
    _check_long(indices, "take_along_dim")
    if dim is None:
        return input.reshape(-1).gather(0, indices.reshape(-1))
    if indices.ndim != input.ndim:  # (checked before the dim, as PyTorch)
        raise RuntimeError(
            f"take_along_dim(): input and indices should have the same number of dimensions, "
            f"but got {input.ndim} dimensions for input, and {indices.ndim} dimensions for indices"
        )
    d = normalize_dim(dim, input.ndim, "take_along_dim")
    if input.ndim == 0:
        raise IndexError(f"take_along_dim: Dimension specified as {d} but tensor has no dimensions")
    shape_in, shape_ix = list(input.shape), list(indices.shape)
    shape_in[d] = shape_ix[d] = 1
    common = _broadcast_shape(shape_in, shape_ix, "take_along_dim")
    input = input.expand(*with_size(common, d, input.shape[d]))
    indices = indices.expand(*with_size(common, d, indices.shape[d]))
    if input.shape[d]:  # PyTorch's kernel takes indices modulo the size: -1 is the last
        indices = indices.remainder(input.shape[d])
    return input.gather(d, indices)


@names_node("MaskedSelectBackward0")
def masked_select(input, mask):
    """The entries of ``input`` where the bool ``mask`` (broadcast together) is True, as 1-D."""
    if mask.dtype is not dtypes.bool:
        raise RuntimeError(f"masked_select: expected BoolTensor for mask, got {mask.dtype}")
    input, mask = broadcast_tensors(input, mask)
    return input[mask]


@on_input_device
@names_node(
    lambda input, repeats=None, *a, **k: (
        "IndexSelectBackward0" if isinstance(repeats, graph.Tensor) else "ViewBackward0"
    )
)
@accepts_axis
def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Each entry (or slice along ``dim``) repeated ``repeats`` times in place: ``[1, 2]`` with
    2 repeats is ``[1, 1, 2, 2]``. ``repeats`` is an int or a tensor of one count per entry.
    ``repeat_interleave(counts)`` alone gives the indices ``0`` repeated ``counts[0]`` times,
    ``1`` repeated ``counts[1]`` times, ..."""
    if repeats is None:  # torch.repeat_interleave(repeats): indices repeated by counts
        counts = input
        _check_long(counts, "repeat_interleave")
        xp = counts.device.xp
        positions = xp.arange(counts.shape[0], dtype="int64")
        return constant(xp.repeat(positions, counts._data), counts.device)
    if dim is None:
        input, d = input.reshape(-1), 0
    else:
        d = normalize_dim(dim, input.ndim, "repeat_interleave")
        if input.ndim == 0:  # (PyTorch repeats along a dim of the input, which has none)
            raise IndexError(
                f"repeat_interleave: Dimension specified as {d} but tensor has no dimensions"
            )
    size = input.shape[d]
    xp = input.device.xp
    if isinstance(repeats, graph.Tensor):
        _check_long(repeats, "repeat_interleave")
        if repeats.ndim > 1 or repeats.numel() not in (1, size):
            raise RuntimeError(
                f"repeat_interleave: repeats must have the same size as input along dim {d} "
                f"({size}) or be a single number, got shape {list(repeats.shape)}"
            )
        counts = repeats._data.reshape(-1)
        if bool((counts < 0).any()):
            raise RuntimeError("repeat_interleave: repeats can not be negative")
    else:
        counts = as_int(repeats, "repeat_interleave", "repeats")
        if counts < 0:
            raise RuntimeError("repeat_interleave: repeats can not be negative")
    with_index = constant(xp.repeat(xp.arange(size, dtype="int64"), counts), input.device)
    if output_size is not None and with_index.shape[0] != output_size:
        raise RuntimeError(
            f"repeat_interleave: output_size ({output_size}) does not match the repeated size "
            f"({with_index.shape[0]})"
        )
    return input.index_select(d, with_index)


def argwhere(input):
    """The indices of the non-zero entries as an (n, ndim) int64 tensor (``nonzero``)."""
    return nonzero(input)


@on_input_device
def unfold(input, dimension, size, step):
    """Every window of ``size`` entries along ``dimension``, ``step`` apart, as a new last
    dimension (``Tensor.unfold``): shape (..., n_windows, ..., size). A view, as PyTorch's
    (writes through it reach ``input``; through overlapping windows, ``step < size``, they
    raise)."""
    d = normalize_dim(dimension, max(input.ndim, 1), "unfold")
    length = input.shape[d] if input.ndim else 1
    if size > length:
        raise RuntimeError(
            f"maximum size for tensor at dimension {d} is {length} but size is {size}"
        )
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    return UnfoldWindows(d, int(size), int(step), (length - size) // step + 1)(input)


def _check_long(index, op: str) -> None:
    if not isinstance(index, graph.Tensor) or index.dtype is not dtypes.int64:
        got = index.dtype if isinstance(index, graph.Tensor) else type(index).__name__
        raise RuntimeError(f"{op}(): expected a LongTensor of indices, got {got}")


def _broadcast_shape(a, b, op: str) -> tuple:
    if len(a) != len(b) or any(x != y and 1 not in (x, y) for x, y in zip(a, b)):
        raise RuntimeError(f"{op}(): shapes {a} and {b} cannot be broadcast")
    return tuple(max(x, y) for x, y in zip(a, b))
