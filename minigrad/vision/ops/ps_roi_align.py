"""``ps_roi_align`` / ``PSRoIAlign`` (R-FCN's position-sensitive RoI Align): like RoI Align,
but output bin ``(p, q)`` of output channel ``c`` samples only input channel
``(c·PH + p)·PW + q``, so the input has ``C_out·PH·PW`` channels. Sample points as
torchvision's kernel: the box shifted by -0.5 pixel, no minimum size."""

from __future__ import annotations

import numpy as np

from minigrad import nn

from ._utils import host_rois, pair
from .roi_align import _check_batch, _float_dtype, bilinear_pool, position_channels, sampling_grid

__all__ = ["PSRoIAlign", "ps_roi_align"]


def ps_roi_align(input, boxes, output_size, spatial_scale: float = 1.0, sampling_ratio: int = -1):
    """Position-sensitive RoI Align, as ``torchvision.ops.ps_roi_align``.

    Args:
        input: ``[N, C_out·PH·PW, H, W]`` features.
        boxes: ``[K, 5]`` rows ``(batch_index, x1, y1, x2, y2)``, or a list of ``[L, 4]``.
        output_size: ``(PH, PW)`` (or one int).
        spatial_scale: maps box coordinates onto the feature map.
        sampling_ratio: samples per bin along each axis; ``<= 0`` adapts to the roi's size.

    Returns:
        ``[K, C_out, PH, PW]``, differentiable with respect to ``input``. A roi of zero extent
        with an adaptive sampling ratio has no samples: it gives 0 here where torchvision's
        kernel divides 0 by 0.
    """
    rois = host_rois(input, boxes).astype(_float_dtype(input))
    ph, pw = pair(output_size, "output_size")
    channels = position_channels(input, ph, pw, "ps_roi_align")
    half = rois.dtype.type(0.5)
    corners = rois[:, 1:] * rois.dtype.type(spatial_scale) - half
    width, height = corners[:, 2] - corners[:, 0], corners[:, 3] - corners[:, 1]
    if sampling_ratio > 0:
        grid_h = grid_w = np.full(len(rois), sampling_ratio, dtype=np.int64)
    else:
        grid_h = np.ceil(height / ph).astype(np.int64)
        grid_w = np.ceil(width / pw).astype(np.int64)
    batch = rois[:, 0].astype(np.int64)
    _check_batch(batch, input)
    rows, row_w = sampling_grid(corners[:, 1], height, ph, grid_h, input.shape[2])
    cols, col_w = sampling_grid(corners[:, 0], width, pw, grid_w, input.shape[3])
    return bilinear_pool(input, batch, rows, row_w, cols, col_w, channels)


class PSRoIAlign(nn.Module):
    """:func:`ps_roi_align` as a module."""

    def __init__(self, output_size, spatial_scale: float, sampling_ratio: int) -> None:
        super().__init__()
        self.output_size = output_size
        self.spatial_scale = spatial_scale
        self.sampling_ratio = sampling_ratio

    def forward(self, input, rois):
        return ps_roi_align(input, rois, self.output_size, self.spatial_scale, self.sampling_ratio)

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(output_size={self.output_size}, "
            f"spatial_scale={self.spatial_scale}, sampling_ratio={self.sampling_ratio})"
        )
