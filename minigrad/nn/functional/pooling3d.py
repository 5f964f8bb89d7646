"""3-D pooling (``max_pool3d``, ``avg_pool3d``, ``adaptive_avg_pool3d``) and the
``*_with_indices`` forms of max pooling.

A box window is the product of its per-dimension windows, so 3-D pooling is 2-D pooling over
(H, W) followed by pooling along depth, both through :mod:`.pooling`'s ops: the gradients (and
second derivatives) are theirs. Average divisors are per-dimension products too (the count of
input or padded positions in a box), so the two passes give PyTorch's divisors, and max pooling
over (H, W) first then depth picks the first maximum in (d, h, w) order, as PyTorch does.
"""

from __future__ import annotations

from ... import dtypes
from ..._memory_format import output_layout
from ...autograd.graph import names_node
from ...ops.base import autocast_op, constant, linked_to
from ._windows import (
    INTEGERS,
    adaptive_rank,
    adaptive_sizes,
    empty_output,
    empty_pooled,
    window_args_first,
)
from .pooling import (
    adaptive_matrix,
    avg_pool2d,
    batched,
    max_pool1d,
    max_pool2d,
    pool_divisor,
    pool_geometry,
    trunc_divide,
)

__all__ = [
    "adaptive_avg_pool3d",
    "avg_pool3d",
    "max_pool1d_with_indices",
    "max_pool2d_with_indices",
    "max_pool3d",
    "max_pool3d_with_indices",
]


@autocast_op("max_pool3d")
@output_layout()
@names_node("MaxPool3DWithIndicesBackward0")
def max_pool3d(
    input,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode=False,
    return_indices=False,
):
    """3-D max pooling over an (N, C, D, H, W) or (C, D, H, W) input; see :func:`max_pool2d`.

    Returns:
        (N, C, D_out, H_out, W_out), and the flat indices (d·H·W + h·W + w) of the maxima if
        ``return_indices``.

    Example:
        >>> F.max_pool3d(minigrad.randn(1, 2, 4, 4, 4), 2).shape
        minigrad.Size([1, 2, 2, 2, 2])
    """
    window_args_first("max_pool3d", 3, kernel_size=kernel_size, stride=stride, padding=padding)
    x, unbatched = batched(input, 3, "max_pool3d", "max_pool3d", INTEGERS)
    geom = pool_geometry(x, kernel_size, stride, padding, dilation, ceil_mode, "max_pool3d")
    (n, c, d, h, w), (kd, *k2), (sd, *s2) = x.shape, geom.kernel, geom.stride
    (pd, *p2), (dd, *d2) = geom.pad, geom.dilation
    # indices only when asked for: the plain form batches under vmap
    planes = max_pool2d(x.reshape(n, c * d, h, w), k2, s2, p2, d2, ceil_mode, return_indices)
    planes, hw_idx = planes if return_indices else (planes, None)
    ho, wo = planes.shape[2:]
    planes = planes.reshape(n, c, d, ho * wo)
    out = max_pool2d(planes, (kd, 1), (sd, 1), (pd, 0), (dd, 1), ceil_mode, return_indices)
    out, d_idx = out if return_indices else (out, None)
    out = out.reshape(n, c, out.shape[2], ho, wo)  # (no -1: an empty batch)
    if unbatched:
        out = out.squeeze(0)
    if not return_indices:
        return out
    depth = d_idx // (ho * wo)  # d_idx indexes the (D, Ho·Wo) plane
    indices = depth * (h * w) + hw_idx.reshape(n, c, d, ho * wo).gather(2, depth)
    indices = indices.reshape(out.shape)
    return out, indices


@autocast_op("avg_pool3d")
@output_layout(volumes=False)
@names_node("AvgPool3DBackward0")
def avg_pool3d(
    input,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode=False,
    count_include_pad=True,
    divisor_override=None,
):
    """3-D average pooling over an (N, C, D, H, W) or (C, D, H, W) input; see
    :func:`avg_pool2d`.

    Example:
        >>> F.avg_pool3d(minigrad.randn(1, 2, 4, 4, 4), 2).shape
        minigrad.Size([1, 2, 2, 2, 2])
    """
    window_args_first("avg_pool3d", 3, kernel_size=kernel_size, stride=stride, padding=padding)
    x, unbatched = batched(input, 3, "avg_pool3d", "avg_pool3d_out_frame", (dtypes.int64,))
    geom = pool_geometry(x, kernel_size, stride, padding, 1, ceil_mode, "avg_pool3d")
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("avg_pool3d: divisor must be not zero")
    if x.dtype is dtypes.int64 and divisor_override is None:
        # PyTorch truncates each box's sum over its divisor once; two averaging passes would
        # truncate twice, so the passes only sum here
        sums = avg_pool3d(input, kernel_size, stride, padding, ceil_mode, count_include_pad, 1)
        divisor = pool_divisor(x, geom, count_include_pad)
        return constant(trunc_divide(x.device.xp, sums._data, divisor), x.device)
    (n, c, d, h, w), (kd, *k2), (sd, *s2), (pd, *p2) = x.shape, geom.kernel, geom.stride, geom.pad
    # with divisor_override, the depth pass sums (divisor 1) and the (H, W) pass divides
    depth = avg_pool2d(
        x.reshape(n, c, d, h * w), (kd, 1), (sd, 1), (pd, 0), ceil_mode, count_include_pad,
        None if divisor_override is None else 1,
    )  # fmt: skip
    d_out = depth.shape[2]
    out = avg_pool2d(
        depth.reshape(n, c * d_out, h, w), k2, s2, p2, ceil_mode, count_include_pad,
        divisor_override,
    )  # fmt: skip
    out = out.reshape(n, c, d_out, *out.shape[2:])
    return out.squeeze(0) if unbatched else out


def _adaptive_avg_node(input, output_size) -> str:
    """PyTorch's node of an adaptive average pool: a mean for a 1x1x1 output, else its own."""
    sizes = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * 3
    spatial = input.shape[-3:]
    ones = all((n if s is None else s) == 1 for s, n in zip(sizes, spatial))
    return "MeanBackward1" if ones else "AdaptiveAvgPool3DBackward0"


@autocast_op("adaptive_avg_pool3d")
@output_layout(volumes=False)
@names_node(_adaptive_avg_node)
def adaptive_avg_pool3d(input, output_size):
    """Average pooling of (N, C, D, H, W) or (C, D, H, W) to ``output_size`` (an int or a
    triple; None keeps that size), one dim at a time with PyTorch's window bounds.

    Example:
        >>> F.adaptive_avg_pool3d(minigrad.randn(1, 2, 5, 7, 9), (2, 3, 4)).shape
        minigrad.Size([1, 2, 2, 3, 4])
    """
    op = "adaptive_avg_pool3d"
    adaptive_rank(input, output_size)
    x, unbatched = batched(input, 3, op, "adaptive_avg_pool3d_cpu")
    sizes = adaptive_sizes(output_size, 3, op)
    sizes = tuple(n if s is None else int(s) for s, n in zip(sizes, x.shape[2:]))
    if empty_output(sizes, op):
        out = empty_pooled(x, 2, sizes)
        return out.squeeze(0) if unbatched else out
    pooled = x
    for dim, size in zip((2, 3, 4), sizes):
        n = x.shape[dim]
        if size == n:
            continue
        if n % size == 0:  # equal windows: a reshape and a mean
            x = x.reshape(*x.shape[:dim], size, n // size, *x.shape[dim + 1 :]).mean(dim + 1)
        else:  # windows of varying size: a product with the averaging matrix
            x = (x.transpose(dim, -1) @ adaptive_matrix(x, n, size).mT).transpose(dim, -1)
    if sizes != (1, 1, 1):  # (a mean: PyTorch's gradient is free of the input)
        x = linked_to(x, pooled)  # the input stays in a recorded backward's graph, as PyTorch
    return x.squeeze(0) if unbatched else x


def max_pool1d_with_indices(
    input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False
):
    """:func:`max_pool1d` returning ``(output, indices)`` whatever ``return_indices`` says."""
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


@output_layout()
def max_pool2d_with_indices(
    input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False
):
    """:func:`max_pool2d` returning ``(output, indices)`` whatever ``return_indices`` says."""
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


@output_layout()
def max_pool3d_with_indices(
    input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False
):
    """:func:`max_pool3d` returning ``(output, indices)`` whatever ``return_indices`` says."""
    return max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, True)
