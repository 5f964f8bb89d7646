"""``ps_roi_pool`` / ``PSRoIPool`` (R-FCN's position-sensitive RoI pooling): output bin
``(p, q)`` of output channel ``c`` is the mean of input channel ``(c·PH + p)·PW + q`` over the
bin's whole pixels. Bins as torchvision's forward kernel: corners rounded, the roi at least one
pixel, bin ends clipped to ``H - 1``/``W - 1`` (so the last row and column are never read),
empty bins 0. A mean is a weighted sum, so this reuses RoI Align's gather and contraction with
0/1 weights over each bin's pixels divided by its area."""

from __future__ import annotations

import numpy as np

from minigrad import nn

from ._utils import host_rois, pair
from .roi_align import _check_batch, _float_dtype, bilinear_pool, position_channels
from .roi_pool import _round_half_away, bin_windows

__all__ = ["PSRoIPool", "ps_roi_pool"]


def _mean_weights(index, valid):
    """Each bin's pixels weighted by 1/count (0 for an empty bin)."""
    count = valid.sum(-1, keepdims=True)
    return index, valid / np.maximum(count, 1)


def ps_roi_pool(input, boxes, output_size, spatial_scale: float = 1.0):
    """Position-sensitive RoI average pooling, as ``torchvision.ops.ps_roi_pool``.

    Args:
        input: ``[N, C_out·PH·PW, H, W]`` features.
        boxes: ``[K, 5]`` rows ``(batch_index, x1, y1, x2, y2)``, or a list of ``[L, 4]``.
        output_size: ``(PH, PW)`` (or one int).
        spatial_scale: maps box coordinates onto the feature map.

    Returns:
        ``[K, C_out, PH, PW]``, differentiable with respect to ``input`` (the gradient of this
        forward; torchvision's backward kernel clips the bins to ``H``/``W`` instead).
    """
    rois = host_rois(input, boxes).astype(_float_dtype(input))
    ph, pw = pair(output_size, "output_size")
    channels = position_channels(input, ph, pw, "ps_roi_pool")
    corners = _round_half_away(rois[:, 1:] * rois.dtype.type(spatial_scale))
    batch = rois[:, 0].astype(np.int64)
    _check_batch(batch, input)
    width = np.maximum(corners[:, 2] - corners[:, 0], 1)
    height = np.maximum(corners[:, 3] - corners[:, 1], 1)
    h, w = input.shape[2], input.shape[3]
    rows, row_w = _mean_weights(*bin_windows(corners[:, 1], height, ph, h - 1, rois.dtype))
    cols, col_w = _mean_weights(*bin_windows(corners[:, 0], width, pw, w - 1, rois.dtype))
    return bilinear_pool(input, batch, rows, row_w, cols, col_w, channels)


class PSRoIPool(nn.Module):
    """:func:`ps_roi_pool` as a module."""

    def __init__(self, output_size, spatial_scale: float) -> None:
        super().__init__()
        self.output_size = output_size
        self.spatial_scale = spatial_scale

    def forward(self, input, rois):
        return ps_roi_pool(input, rois, self.output_size, self.spatial_scale)

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(output_size={self.output_size}, "
            f"spatial_scale={self.spatial_scale})"
        )
