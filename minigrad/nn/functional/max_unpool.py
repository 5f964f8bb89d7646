"""``max_unpool1d/2d/3d``: the partial inverse of max pooling, each value written at its
pooling index in an output of zeros (a :func:`scatter`, so the gradient is a gather)."""

from __future__ import annotations

import math

from ... import backend
from ...autograd.graph import names_node
from ...ops.base import autocast_op, kernel_dtypes, on_input_device
from ...ops.complex import real_only
from ._windows import pair

__all__ = ["max_unpool1d", "max_unpool2d", "max_unpool3d"]


def _output_size(x, kernel, stride, padding, output_size, op: str) -> tuple:
    """PyTorch's ``_unpool_output_size``: the pooled input's size, or ``output_size`` if it is
    one the pooling could have come from."""
    n = len(kernel)
    default = [
        (x.shape[x.ndim - n + d] - 1) * stride[d] + kernel[d] - 2 * padding[d] for d in range(n)
    ]
    if output_size is None:
        return _non_negative(default)
    size = list(output_size)
    if len(size) == n + 2:
        size = size[2:]
    if len(size) != n:
        raise ValueError(
            f"{op}: output_size should be a sequence containing {n} or {n + 2} elements, but it "
            f"has a length of '{len(size)}'"
        )
    for d in range(n):
        low, high = default[d] - stride[d], default[d] + stride[d]
        if not low < size[d] < high:
            raise ValueError(
                f'{op}: invalid output_size "{size}" (dim {d} must be between {low} and {high})'
            )
    return _non_negative([int(s) for s in size])


def _non_negative(size: list) -> tuple:
    for d, s in enumerate(size):
        if s < 0:
            raise ValueError(
                "max_unpooling: output_size must contain non-negative spatial dimensions, but "
                f"got output_size[{d}]={s}"
            )
    return tuple(size)


def _max_unpool(input, indices, kernel_size, stride, padding, output_size, n: int, op: str):
    if input.ndim not in (n + 1, n + 2):
        raise backend.DimensionError(
            f"{op}: expected a {n + 1}D or {n + 2}D input, got shape {list(input.shape)}"
        )
    kernel = pair(kernel_size, "kernel_size", op, n)
    stride = kernel if stride is None else pair(stride, "stride", op, n)
    padding = pair(padding, "padding", op, n)
    size = _output_size(input, kernel, stride, padding, output_size, op)  # (PyTorch's first)
    if tuple(indices.shape) != tuple(input.shape) or indices.dtype.is_floating_point:
        raise RuntimeError(
            f"{op}: expected integer indices of the input's shape {list(input.shape)}, got "
            f"{indices.dtype} of shape {list(indices.shape)}"
        )
    lead = tuple(input.shape[: input.ndim - n])
    flat, idx = input.reshape(*lead, -1), indices.reshape(*lead, -1)
    total = math.prod(size)
    every = idx._all_elements()  # (every sample's under vmap)
    low, high = (int(every.min()), int(every.max())) if every.size else (0, 0)
    if low < 0 or high >= total:
        raise RuntimeError(
            f"{op}: Found an invalid max index: indices must lie in [0, {total}) for an output "
            f"of size {list(size)}, got values in [{low}, {high}]"
        )
    out = input.new_zeros(*lead, total).scatter(-1, idx, flat)
    return out.reshape(*lead, *size)


@on_input_device
@real_only
@names_node("SqueezeBackward1")
@kernel_dtypes("max_unpool2d", min_ndim=1)  # (fewer dims: an IndexError, as PyTorch)
def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Undo :func:`max_pool1d`: (N, C, L_in) values placed at their ``indices`` (from
    ``return_indices=True``) in a zero (N, C, L_out).

    Example:
        >>> y, i = F.max_pool1d(minigrad.randn(1, 1, 6), 2, return_indices=True)
        >>> F.max_unpool1d(y, i, 2).shape
        minigrad.Size([1, 1, 6])
    """
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 1, "max_unpool1d")


@autocast_op("max_unpool2d")
@on_input_device
@real_only
@names_node("MaxUnpool2DBackward0")
@kernel_dtypes("max_unpool2d", min_ndim=2)  # (fewer dims: an IndexError, as PyTorch)
def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Undo :func:`max_pool2d`: values placed at their flat ``indices`` (h·W + w) in a zero
    output of the pooled input's size (or ``output_size``).

    Example:
        >>> y, i = F.max_pool2d(minigrad.randn(1, 1, 4, 4), 2, return_indices=True)
        >>> F.max_unpool2d(y, i, 2).shape
        minigrad.Size([1, 1, 4, 4])
    """
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 2, "max_unpool2d")


@autocast_op("max_unpool3d")
@on_input_device
@real_only
@names_node("MaxUnpool3DBackward0")
@kernel_dtypes("max_unpool3d", min_ndim=3)  # (fewer dims: an IndexError, as PyTorch)
def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Undo :func:`max_pool3d`: values placed at their flat indices (d·H·W + h·W + w)."""
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 3, "max_unpool3d")
