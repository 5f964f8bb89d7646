"""``roi_pool`` / ``RoIPool`` (Fast R-CNN's pooling): each region of interest, rounded to whole
pixels, is cut into an ``output_size`` grid of bins and each bin is the maximum of its pixels
(0 for an empty bin).

Vectorised: the bins' pixel windows are computed on the host from the boxes, every window is
gathered at once (padded to the largest, the padding at ``-inf``) to find each maximum's place
without recording a graph, and the output is one differentiable gather of those places
(``gather_rows`` on the flat input), so the gradient reaches the input where torchvision's
kernel sends it (the first maximum in row-major order of its bin).
"""

from __future__ import annotations

import numpy as np

import minigrad
from minigrad import nn

from ._utils import gather_rows, host_rois, pair
from .roi_align import _CHUNK_ELEMENTS, _check_batch, _float_dtype

__all__ = ["RoIPool", "roi_pool"]


def _round_half_away(values: np.ndarray) -> np.ndarray:
    """C's ``round``: halves away from zero (NumPy's rounds them to even)."""
    return (np.sign(values) * np.floor(np.abs(values) + 0.5)).astype(np.int64)


def bin_windows(start, size, pooled: int, limit: int, dtype):
    """Each bin's pixels along one axis: ``index [K, pooled, L]`` (clamped to ``limit - 1``)
    and ``valid [K, pooled, L]`` with ``L`` the widest window, as the kernels' floor/ceil
    split of ``size`` whole pixels from ``start``, the window's ends clipped to
    ``[0, limit]`` (computed in the input's ``dtype``, as the kernels)."""
    bin_size = size.astype(dtype) / dtype.type(pooled)
    p = np.arange(pooled, dtype=dtype)
    lo = np.floor(p[None, :] * bin_size[:, None]).astype(np.int64) + start[:, None]
    hi = np.ceil((p[None, :] + 1) * bin_size[:, None]).astype(np.int64) + start[:, None]
    lo, hi = np.clip(lo, 0, limit), np.clip(hi, 0, limit)
    widest = max(int((hi - lo).max(initial=0)), 1)
    index = lo[..., None] + np.arange(widest)[None, None, :]
    return np.clip(index, 0, max(limit - 1, 0)), index < hi[..., None]


def _pool_chunk(pixels, batch, rows, row_ok, cols, col_ok):
    """The pooled values ``[k, C, PH, PW]`` of one chunk of rois (see the module docstring);
    ``pixels`` is the input as ``[N, H, W, C]``."""
    n, h, w, channels = pixels.shape
    k, ph, lh = rows.shape
    pw, lw = cols.shape[1:]
    # each bin's window as [k, PH, PW, Lh, Lw]: the gathered [..., C] rows reshape (no copy)
    # to [k, PH, PW, Lh·Lw, C] for one argmax over the window
    base = batch[:, None, None, None, None] * h + rows[:, :, None, :, None]
    window_pixels = base * w + cols[:, None, :, None, :]
    with minigrad.no_grad():
        window = gather_rows(pixels.detach().reshape(-1, channels), window_pixels)
        ok = row_ok[:, :, None, :, None] & col_ok[:, None, :, None, :]
        window = window.masked_fill(
            minigrad.tensor(~ok[..., None], device=pixels.device), float("-inf")
        )
        place = window.reshape(k, ph, pw, lh * lw, channels).argmax(3)
    place = place.cpu().numpy()  # [k, PH, PW, C]: each maximum's slot in its bin's window
    ki, pi, qi = np.ogrid[:k, :ph, :pw]
    row = rows[ki[..., None], pi[..., None], place // lw]
    col = cols[ki[..., None], qi[..., None], place % lw]
    element = ((batch[:, None, None, None] * h + row) * w + col) * channels + np.arange(channels)
    values = gather_rows(pixels.reshape(-1, 1), element)[..., 0]  # [k, PH, PW, C]
    nonempty = row_ok.any(-1)[:, :, None] & col_ok.any(-1)[:, None, :]
    mask = minigrad.tensor(nonempty, dtype=pixels.dtype, device=pixels.device)[..., None]
    return (values * mask).permute(0, 3, 1, 2)


def roi_pool(input, boxes, output_size, spatial_scale: float = 1.0):
    """RoI max pooling (Girshick, Fast R-CNN), as ``torchvision.ops.roi_pool``.

    Args:
        input: ``[N, C, H, W]`` features.
        boxes: ``[K, 5]`` rows ``(batch_index, x1, y1, x2, y2)``, or a list of ``[L, 4]``
            boxes per image.
        output_size: ``(height, width)`` of the pooled grid (or one int).
        spatial_scale: maps box coordinates onto the feature map (1/stride); the scaled
            corners are rounded to whole pixels and the roi includes its end pixel.

    Returns:
        ``[K, C, output_height, output_width]``; differentiable with respect to ``input``.
    """
    rois = host_rois(input, boxes).astype(_float_dtype(input))
    ph, pw = pair(output_size, "output_size")
    corners = _round_half_away(rois[:, 1:] * rois.dtype.type(spatial_scale))
    batch = rois[:, 0].astype(np.int64)
    _check_batch(batch, input)
    width = np.maximum(corners[:, 2] - corners[:, 0] + 1, 1)
    height = np.maximum(corners[:, 3] - corners[:, 1] + 1, 1)
    rows, row_ok = bin_windows(corners[:, 1], height, ph, input.shape[2], rois.dtype)
    cols, col_ok = bin_windows(corners[:, 0], width, pw, input.shape[3], rois.dtype)
    pixels = input.permute(0, 2, 3, 1)
    step = max(1, _CHUNK_ELEMENTS // max(input.shape[1] * rows[0].size * cols[0].size, 1))
    outputs = [
        _pool_chunk(pixels, *(a[lo : lo + step] for a in (batch, rows, row_ok, cols, col_ok)))
        for lo in range(0, max(len(rois), 1), step)
    ]
    return outputs[0] if len(outputs) == 1 else minigrad.cat(outputs, dim=0)


class RoIPool(nn.Module):
    """:func:`roi_pool` as a module."""

    def __init__(self, output_size, spatial_scale: float) -> None:
        super().__init__()
        self.output_size = output_size
        self.spatial_scale = spatial_scale

    def forward(self, input, rois):
        return roi_pool(input, rois, self.output_size, self.spatial_scale)

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(output_size={self.output_size}, "
            f"spatial_scale={self.spatial_scale})"
        )
