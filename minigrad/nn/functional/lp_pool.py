"""Power-average pooling (``lp_pool1d/2d/3d``): ``(Σ xᵖ over a window)^(1/p)``, composed from
average pooling as PyTorch does, so the gradients are the composition's."""

from __future__ import annotations

import math

from ...autograd.graph import names_node
from ...ops import relu, where
from ._windows import pair
from .pooling import avg_pool1d, avg_pool2d, one
from .pooling3d import avg_pool3d

__all__ = ["lp_pool1d", "lp_pool2d", "lp_pool3d"]


def _lp(pooled, kernel: tuple, norm_type: float):
    """The window averages of xᵖ back to (Σ xᵖ)^(1/p); a negative sum (odd p) gives 0, as
    PyTorch's ``sign(s)·relu(|s|)``. An all-zero window has gradient 0, as in PyTorch (the
    root never sees that zero: 0^(1/p - 1) · 0 would be NaN)."""
    total = (pooled.sign() * relu(pooled.abs())).mul(math.prod(kernel))
    zero = total == 0
    return where(zero, 0.0, where(zero, 1.0, total).pow(1.0 / norm_type))


@names_node("PowBackward0")
def lp_pool1d(input, norm_type: float, kernel_size, stride=None, ceil_mode: bool = False):
    """1-D power-average pooling over (N, C, L) or (C, L): ``(Σ_window xᵖ)^(1/p)``.

    Example:
        >>> F.lp_pool1d(minigrad.rand(1, 2, 6), 2, 3).shape
        minigrad.Size([1, 2, 2])
    """
    pooled = avg_pool1d(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return _lp(pooled, (one(kernel_size),), norm_type)


@names_node("PowBackward0")
def lp_pool2d(input, norm_type: float, kernel_size, stride=None, ceil_mode: bool = False):
    """2-D power-average pooling over (N, C, H, W) or (C, H, W): ``(Σ_window xᵖ)^(1/p)``;
    ``p = inf`` is max pooling in the limit, ``p = 1`` sum pooling.

    Example:
        >>> F.lp_pool2d(minigrad.rand(1, 2, 4, 4), 2, 2).shape
        minigrad.Size([1, 2, 2, 2])
    """
    pooled = avg_pool2d(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return _lp(pooled, pair(kernel_size, "kernel_size", "lp_pool2d"), norm_type)


@names_node("PowBackward0")
def lp_pool3d(input, norm_type: float, kernel_size, stride=None, ceil_mode: bool = False):
    """3-D power-average pooling over (N, C, D, H, W) or (C, D, H, W).

    Example:
        >>> F.lp_pool3d(minigrad.rand(1, 2, 4, 4, 4), 2, 2).shape
        minigrad.Size([1, 2, 2, 2, 2])
    """
    pooled = avg_pool3d(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return _lp(pooled, pair(kernel_size, "kernel_size", "lp_pool3d", 3), norm_type)
