"""Adaptive max pooling (``adaptive_max_pool1d/2d``): the max over PyTorch's variable windows,
``floor(i·n/out) .. ceil((i+1)·n/out)``, one spatial dim at a time (a max over a rectangle is
the max over rows of the max over columns)."""

from __future__ import annotations

import math

from ... import dtypes
from ...creation import tensor
from ._windows import pair


def _windows_along(x, dim: int, n_out: int):
    """The max over each output position's window along ``dim``."""
    n = x.shape[dim]
    shape = tuple(x.shape)
    if n % n_out == 0:  # equal windows: a reshape
        return x.reshape(shape[:dim] + (n_out, n // n_out) + shape[dim + 1 :]).amax(dim + 1)
    starts = [math.floor(i * n / n_out) for i in range(n_out)]
    ends = [math.ceil((i + 1) * n / n_out) for i in range(n_out)]
    width = max(e - s for s, e in zip(starts, ends))
    # each window padded to the widest by repeating its last element (a max ignores repeats)
    rows = [min(s + k, e - 1) for s, e in zip(starts, ends) for k in range(width)]
    index = tensor(rows, dtype=dtypes.int64, device=x.device)
    gathered = x.index_select(dim, index)
    return gathered.reshape(shape[:dim] + (n_out, width) + shape[dim + 1 :]).amax(dim + 1)


def _adaptive_max(x, sizes, return_indices: bool, op: str, spatial: int):
    if return_indices:
        raise NotImplementedError(f"{op}: return_indices=True is not supported")
    if x.ndim not in (spatial + 1, spatial + 2):
        raise RuntimeError(
            f"{op}: expected a {spatial + 1}-D or {spatial + 2}-D input, got {list(x.shape)}"
        )
    first = x.ndim - spatial
    sizes = tuple(n if s is None else s for s, n in zip(sizes, x.shape[first:]))
    if any(s <= 0 for s in sizes):
        raise RuntimeError(f"{op}: output_size must be positive, got {list(sizes)}")
    for i, size in enumerate(sizes):
        x = _windows_along(x, first + i, size)
    return x


def adaptive_max_pool2d(input, output_size, return_indices: bool = False):
    """Max pooling of (N, C, H, W) or (C, H, W) to ``output_size`` (an int or a pair; None
    keeps that size). Where a window holds equal maxima the gradient is shared among them
    (PyTorch gives it to the first).

    Example:
        >>> F.adaptive_max_pool2d(minigrad.randn(2, 3, 7, 9), (2, 3)).shape
        minigrad.Size([2, 3, 2, 3])
    """
    size = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * 2
    if len(size) != 2:
        pair(size, "output_size", "adaptive_max_pool2d")  # raises with the usual message
    return _adaptive_max(input, tuple(size), return_indices, "adaptive_max_pool2d", 2)


def adaptive_max_pool1d(input, output_size, return_indices: bool = False):
    """Max pooling of (N, C, L) or (C, L) to ``output_size`` positions."""
    size = output_size[0] if isinstance(output_size, (tuple, list)) else output_size
    return _adaptive_max(input, (size,), return_indices, "adaptive_max_pool1d", 1)
