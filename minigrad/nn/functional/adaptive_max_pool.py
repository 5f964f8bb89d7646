"""Adaptive max pooling (``adaptive_max_pool1d/2d/3d``): the max over PyTorch's variable windows,
``floor(i·n/out) .. ceil((i+1)·n/out)`` per dim, by one gather over a table of every joint
window's flat input indices (cached per geometry), so a call costs a few ops whatever the
number of output cells."""

from __future__ import annotations

import functools
import math

import numpy as np

from ... import dtypes
from ..._memory_format import output_layout
from ...autograd.graph import named_as
from ...creation import shape_constant
from ...ops.base import autocast_op, kernel_dtypes, linked_to
from ...ops.indexing import Gather, GetItem
from ._windows import adaptive_rank, adaptive_sizes, empty_output, empty_pooled
from .pooling import one


def _window_rows(n: int, n_out: int):
    """The input positions of every window along one dim, each padded to the widest by
    repeating its last element (a max ignores repeats, and a repeat comes after its first
    occurrence, so the first maximum is a real one), as an (n_out, width) array."""
    starts = [math.floor(i * n / n_out) for i in range(n_out)]
    ends = [math.ceil((i + 1) * n / n_out) for i in range(n_out)]
    width = max(e - s for s, e in zip(starts, ends))
    rows = [[min(s + k, e - 1) for k in range(width)] for s, e in zip(starts, ends)]
    return np.array(rows, dtype=np.int64)


@functools.lru_cache(maxsize=256)
def _window_table(in_sizes: tuple, sizes: tuple):
    """The flat input index (row-major over ``in_sizes``) of every element of every joint
    window, as a read-only (prod(sizes), prod(widths)) array: row p is output cell p's
    window in row-major window order. Computed once per geometry, so a call is one gather
    (gradcheck calls a pool thousands of times on one shape)."""
    spatial = len(sizes)
    flat = np.zeros((1,) * (2 * spatial), dtype=np.int64)
    for i, (n, size) in enumerate(zip(in_sizes, sizes)):
        rows = _window_rows(n, size)
        shape = [1] * (2 * spatial)
        shape[i], shape[spatial + i] = rows.shape
        flat = flat * n + rows.reshape(shape)
    table = flat.reshape(math.prod(sizes), -1)
    table.flags.writeable = False
    return table


def _with_indices(x, sizes, first: int):
    """The max over each joint window and the flat input index of its first maximum (in
    row-major window order, as PyTorch), the value gathered there so that the gradient goes
    to that element alone (as PyTorch's)."""
    lead, in_sizes = tuple(x.shape[:first]), tuple(x.shape[first:])
    table = _window_table(in_sizes, tuple(sizes))
    flat_x = x.reshape(*lead, math.prod(in_sizes))
    index = shape_constant(table, dtypes.int64, x.device)
    cells = shape_constant(np.arange(table.shape[0]), dtypes.int64, x.device)
    # Ops themselves (one each): these indices are in range by construction, which
    # index_select and gather would check again at every call.
    windows = GetItem((slice(None),) * len(lead) + (index._data,))(flat_x.detach())
    local = windows.argmax(-1)  # (*lead, cells): the first maximum of each window
    flat = GetItem((cells._data, local._data))(index)
    values = Gather(len(lead), flat._data)(flat_x)
    return values.reshape(*lead, *sizes), flat.reshape(*lead, *sizes)


def _adaptive_max(x, sizes, return_indices: bool, op: str, spatial: int):
    if x.ndim not in (spatial + 1, spatial + 2):
        raise RuntimeError(
            f"{op}: expected a {spatial + 1}-D or {spatial + 2}-D input, got {list(x.shape)}"
        )
    for d in range(1, x.ndim):
        if x.shape[d] == 0:
            raise RuntimeError(
                f"{op}(): Expected input to have non-zero size for non-batch dimensions, but "
                f"input has sizes {list(x.shape)} with dimension {d} being empty"
            )
    first = x.ndim - spatial
    sizes = tuple(n if s is None else s for s, n in zip(sizes, x.shape[first:]))
    if empty_output(sizes, op):
        values = empty_pooled(x, first, sizes)
        indices = values.detach().to(dtypes.int64)
        return (values, indices) if return_indices else values
    # (linked_to: the input stays in a recorded backward's graph, as PyTorch)
    values, indices = _with_indices(x, sizes, first)
    values = named_as(linked_to(values, x), _NODES[spatial])
    return (values, indices) if return_indices else values


def adaptive_rank_first(fn):
    """``fn`` with PyTorch's rank check of a sequence ``output_size`` (its ValueError) before
    the kernel's dtype check."""

    @functools.wraps(fn)
    def run(input, output_size, *args, **kwargs):
        adaptive_rank(input, output_size)
        return fn(input, output_size, *args, **kwargs)

    return run


# PyTorch's last node per spatial dims (1-D pools in 2-D, then squeezes)
_NODES = {1: "SqueezeBackward1", 2: "AdaptiveMaxPool2DBackward0", 3: "AdaptiveMaxPool3DBackward0"}


@output_layout()
@adaptive_rank_first
@kernel_dtypes("adaptive_max_pool2d")
def adaptive_max_pool2d(input, output_size, return_indices: bool = False):
    """Max pooling of (N, C, H, W) or (C, H, W) to ``output_size`` (an int or a pair; None
    keeps that size). Where a window holds equal maxima the gradient goes to the first, as
    PyTorch's; with ``return_indices`` the flat input indices (h·W + w) of the maxima come
    back too.

    Example:
        >>> F.adaptive_max_pool2d(minigrad.randn(2, 3, 7, 9), (2, 3)).shape
        minigrad.Size([2, 3, 2, 3])
    """
    size = adaptive_sizes(output_size, 2, "adaptive_max_pool2d")
    return _adaptive_max(input, tuple(size), return_indices, "adaptive_max_pool2d", 2)


@kernel_dtypes("adaptive_max_pool2d")
def adaptive_max_pool1d(input, output_size, return_indices: bool = False):
    """Max pooling of (N, C, L) or (C, L) to ``output_size`` positions."""
    size = one(output_size, "output_size", "adaptive_max_pool1d")
    return _adaptive_max(input, (size,), return_indices, "adaptive_max_pool1d", 1)


@autocast_op("adaptive_max_pool3d")
@output_layout(volumes=False)
@adaptive_rank_first
@kernel_dtypes("adaptive_max_pool3d_cpu")
def adaptive_max_pool3d(input, output_size, return_indices: bool = False):
    """Max pooling of (N, C, D, H, W) or (C, D, H, W) to ``output_size`` (an int or a triple;
    None keeps that size).

    Example:
        >>> F.adaptive_max_pool3d(minigrad.randn(1, 2, 5, 7, 9), (2, 3, 4)).shape
        minigrad.Size([1, 2, 2, 3, 4])
    """
    size = adaptive_sizes(output_size, 3, "adaptive_max_pool3d")
    return _adaptive_max(input, tuple(size), return_indices, "adaptive_max_pool3d", 3)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices: bool = False):
    """:func:`adaptive_max_pool1d` returning ``(output, indices)``."""
    return adaptive_max_pool1d(input, output_size, True)


@output_layout()
def adaptive_max_pool2d_with_indices(input, output_size, return_indices: bool = False):
    """:func:`adaptive_max_pool2d` returning ``(output, indices)``."""
    return adaptive_max_pool2d(input, output_size, True)


@output_layout(volumes=False)
def adaptive_max_pool3d_with_indices(input, output_size, return_indices: bool = False):
    """:func:`adaptive_max_pool3d` returning ``(output, indices)``."""
    return adaptive_max_pool3d(input, output_size, True)
