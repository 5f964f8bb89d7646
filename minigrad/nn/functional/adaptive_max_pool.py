"""Adaptive max pooling (``adaptive_max_pool1d/2d/3d``): the max over PyTorch's variable windows,
``floor(i·n/out) .. ceil((i+1)·n/out)``, one spatial dim at a time (a max over a rectangle is
the max over rows of the max over columns)."""

from __future__ import annotations

import functools
import math

from ... import dtypes
from ..._memory_format import output_layout
from ...autograd.graph import named_as
from ...creation import shape_constant
from ...ops.base import kernel_dtypes, linked_to
from ._windows import adaptive_rank, pair


def _window_rows(n: int, n_out: int):
    """The input positions of every window along one dim, each padded to the widest by
    repeating its last element (a max ignores repeats), flat: window i is
    ``rows[i·width : (i+1)·width]``."""
    starts = [math.floor(i * n / n_out) for i in range(n_out)]
    ends = [math.ceil((i + 1) * n / n_out) for i in range(n_out)]
    width = max(e - s for s, e in zip(starts, ends))
    return [min(s + k, e - 1) for s, e in zip(starts, ends) for k in range(width)], width


def _windows_along(x, dim: int, n_out: int):
    """The max over each output position's window along ``dim``."""
    n = x.shape[dim]
    shape = tuple(x.shape)
    if n % n_out == 0:  # equal windows: a reshape
        return x.reshape(shape[:dim] + (n_out, n // n_out) + shape[dim + 1 :]).amax(dim + 1)
    rows, width = _window_rows(n, n_out)
    index = shape_constant(rows, dtypes.int64, x.device)
    gathered = x.index_select(dim, index)
    return gathered.reshape(shape[:dim] + (n_out, width) + shape[dim + 1 :]).amax(dim + 1)


def _with_indices(x, sizes, first: int):
    """The max over each joint window and the flat input index of its first maximum (in
    row-major window order, as PyTorch), the value gathered there so that the gradient goes
    to that element alone."""
    spatial, in_sizes = len(sizes), tuple(x.shape[first:])
    lead = tuple(x.shape[:first])
    tables, widths = [], []
    for i, size in enumerate(sizes):
        rows, width = _window_rows(in_sizes[i], size)
        x = x.index_select(first + 2 * i, shape_constant(rows, dtypes.int64, x.device))
        x = x.reshape(*x.shape[: first + 2 * i], size, width, *x.shape[first + 2 * i + 1 :])
        tables.append(rows)
        widths.append(width)
    # (*lead, o1, w1, o2, w2, ...) -> (*lead, o1, o2, ..., w1·w2·...)
    order = [first + 2 * i for i in range(spatial)] + [first + 2 * i + 1 for i in range(spatial)]
    x = x.permute(*range(first), *order).reshape(*lead, *sizes, -1)
    local = x.detach().argmax(-1, keepdim=True)
    values = x.gather(-1, local).squeeze(-1)
    local = local.squeeze(-1)
    flat = None
    for i in range(spatial):  # offset inside the window, per dim, back to an input position
        offset = (local // math.prod(widths[i + 1 :])) % widths[i]
        shape = [1] * (len(lead) + spatial)
        shape[len(lead) + i] = sizes[i]
        starts = shape_constant(
            [tables[i][o * widths[i]] for o in range(sizes[i])], dtypes.int64, x.device
        ).reshape(shape)
        ends = shape_constant(
            [tables[i][o * widths[i] + widths[i] - 1] for o in range(sizes[i])],
            dtypes.int64,
            x.device,
        ).reshape(shape)
        position = (starts + offset).minimum(ends)
        flat = position if flat is None else flat * in_sizes[i] + position
    return values, flat


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
    if any(s <= 0 for s in sizes):
        raise RuntimeError(f"{op}: output_size must be positive, got {list(sizes)}")
    if return_indices:  # (linked_to: the input stays in a recorded backward's graph, as PyTorch)
        values, indices = _with_indices(x, sizes, first)
        return named_as(linked_to(values, x), _NODES[spatial]), indices
    out = x
    for i, size in enumerate(sizes):
        out = _windows_along(out, first + i, size)
    return named_as(linked_to(out, x), _NODES[spatial])


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
    keeps that size). Where a window holds equal maxima the gradient is shared among them
    (PyTorch gives it to the first); with ``return_indices`` it goes to the first, and the
    flat input indices (h·W + w) of the maxima come back too.

    Example:
        >>> F.adaptive_max_pool2d(minigrad.randn(2, 3, 7, 9), (2, 3)).shape
        minigrad.Size([2, 3, 2, 3])
    """
    size = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * 2
    if len(size) != 2:
        pair(size, "output_size", "adaptive_max_pool2d")  # raises with the usual message
    return _adaptive_max(input, tuple(size), return_indices, "adaptive_max_pool2d", 2)


@kernel_dtypes("adaptive_max_pool2d")
def adaptive_max_pool1d(input, output_size, return_indices: bool = False):
    """Max pooling of (N, C, L) or (C, L) to ``output_size`` positions."""
    size = output_size[0] if isinstance(output_size, (tuple, list)) else output_size
    return _adaptive_max(input, (size,), return_indices, "adaptive_max_pool1d", 1)


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
    size = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * 3
    if len(size) != 3:
        pair(size, "output_size", "adaptive_max_pool3d", 3)  # raises with the usual message
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
