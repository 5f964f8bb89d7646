"""``roi_align`` / ``RoIAlign`` (Mask R-CNN's pooling): each region of interest is cut into an
``output_size`` grid of bins and each bin is the mean of bilinearly interpolated samples.

Vectorised over all rois, bins and samples: the sample coordinates, the pixel rows and
columns each one reads and their bilinear weights are computed on the host from the boxes (no
gradient flows to the boxes, as in torchvision); the pixels are then gathered from the input
as rows of its ``[N·H·W, C]`` pixel matrix (``gather_rows``: its backward adds repeated
pixels with one flat ``np.add.at``) and contracted with the weights (``einsum``), both
differentiable, so the gradient with respect to the input (and higher ones) comes from
autograd.
Because a bilinear weight is a product of a row weight and a column weight, and
torchvision's out-of-image test (a sample more than one pixel outside is zero) is a product
of a row test and a column test, the rows and columns are weighted separately.
"""

from __future__ import annotations

import numpy as np

import minigrad
from minigrad import nn

from ._utils import gather_rows, host_rois, pair

__all__ = ["RoIAlign", "roi_align"]

_CHUNK_ELEMENTS = 1 << 24  # gathered values per chunk of rois: bounds the memory of a call


def _float_dtype(input) -> np.dtype:
    """The host dtype of the coordinate arithmetic: the input's (float32 for half floats), as
    torchvision's kernel computes in the input's accumulation type."""
    return np.dtype(np.float64) if input.dtype == minigrad.float64 else np.dtype(np.float32)


def sampling_grid(start, size, pooled: int, grid, length: int):
    """Rows (or columns) and weights of the bilinear samples of each bin along one axis.

    Args:
        start, size: ``[K]`` host arrays: where each roi starts and its extent, in pixels.
        pooled: bins along the axis.
        grid: ``[K]`` int array, samples per bin for each roi (0 gives an all-zero bin).
        length: the feature map's extent along the axis.

    Returns:
        ``index [K, pooled, 2 * G]`` (int64) and ``weight [K, pooled, 2 * G]`` with
        ``G = max(grid)``: for each sample its lower and upper pixel and their weights, divided
        by the roi's sample count, zero for padded samples and for samples beyond the image.
    """
    dtype = start.dtype
    g_max = max(int(grid.max(initial=0)), 1)
    bin_size = size / dtype.type(pooled)
    steps = np.arange(g_max, dtype=dtype)
    p = np.arange(pooled, dtype=dtype)
    per_sample = bin_size[:, None] / np.maximum(grid, 1).astype(dtype)[:, None]
    coord = (
        start[:, None, None]
        + p[None, :, None] * bin_size[:, None, None]
        + (steps[None, None, :] + dtype.type(0.5)) * per_sample[:, None, :]
    )
    keep = (steps[None, None, :] < grid[:, None, None]) & (coord >= -1.0) & (coord <= length)
    coord = np.maximum(coord, 0)
    low = np.floor(coord).astype(np.int64)
    at_edge = low >= length - 1
    low = np.where(at_edge, length - 1, low)
    high = np.where(at_edge, length - 1, low + 1)
    frac = np.where(at_edge, 0, coord - low).astype(dtype)
    scale = keep / np.maximum(grid, 1).astype(dtype)[:, None, None]
    index = np.stack([low, high], axis=-1).reshape(len(start), pooled, 2 * g_max)
    weight = np.stack([(1 - frac) * scale, frac * scale], axis=-1)
    return index, weight.reshape(len(start), pooled, 2 * g_max).astype(dtype)


def distinct_pixels(index, weight):
    """The same sampling with each pixel read once per roi: ``index [K, P, S]`` and
    ``weight [K, P, S]`` (``S`` slots per bin, pixels repeating across slots and bins) become
    each roi's distinct pixels ``[K, U]`` (padded with pixel 0 at weight 0) and the weights
    ``[K, P, U]`` of every bin on them (the slots of a pixel summed). A roi a few pixels high
    with 7 bins of 2 samples has 28 slots but only its few rows, so the gather shrinks by the
    square of that ratio."""
    k, p, s = index.shape
    flat = index.reshape(k, p * s)
    order = np.argsort(flat, axis=1, kind="stable")
    ordered = np.take_along_axis(flat, order, axis=1)
    first = np.ones(ordered.shape, dtype=bool)
    first[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    rank = np.cumsum(first, axis=1) - 1  # each sorted slot's place among the distinct pixels
    distinct = int(rank[:, -1].max()) + 1 if rank.size else 1
    pixels = np.zeros((k, distinct), dtype=np.int64)
    roi, _ = np.nonzero(first)
    pixels[roi, rank[first]] = ordered[first]
    slot_rank = np.empty_like(rank)
    np.put_along_axis(slot_rank, order, rank, axis=1)
    # each slot's flat place in [K, P, U], its weights summed there (bincount: no add.at)
    bins = (np.arange(k * p).reshape(k, p, 1) * distinct + slot_rank.reshape(k, p, s)).ravel()
    local = np.bincount(bins, weights=weight.ravel(), minlength=k * p * distinct)
    return pixels, local.reshape(k, p, distinct).astype(weight.dtype)


def bilinear_pool(input, batch, rows, row_w, cols, col_w, channels=None):
    """``out[k, c, p, q] = Σ_a Σ_b row_w[k,p,a] col_w[k,q,b] input[batch[k], ch, rows[k,p,a],
    cols[k,q,b]]`` with ``ch = c`` (each roi's distinct pixels gathered once, see
    :func:`distinct_pixels`), or ``ch = channels[c, p, q]`` (position-sensitive pooling: per
    bin), in chunks of rois; a differentiable gather and contraction."""
    if channels is None:
        rows, row_w = distinct_pixels(rows, row_w)
        cols, col_w = distinct_pixels(cols, col_w)
    k_total = len(batch)
    out_channels = input.shape[1] if channels is None else channels.shape[0]
    per_roi = max(out_channels * rows[0].size * cols[0].size, 1) if k_total else 1
    step = max(1, _CHUNK_ELEMENTS // per_roi)
    device, dtype = input.device, input.dtype
    pixels = input.permute(0, 2, 3, 1)  # [N, H, W, C]: one gather picks the channels
    if channels is not None:  # [1, P, 1, Q, 1, C_out], broadcast against the pixel indices
        ch = minigrad.tensor(channels.transpose(1, 2, 0), device=device)[None, :, None, :, None]
    else:
        height, width = input.shape[2], input.shape[3]
        pixel_rows = pixels.reshape(-1, input.shape[1])
    outputs = []
    for lo in range(0, max(k_total, 1), step):
        sl = slice(lo, lo + step)
        b = minigrad.tensor(batch[sl], device=device)
        wy = minigrad.tensor(row_w[sl], dtype=dtype, device=device)
        wx = minigrad.tensor(col_w[sl], dtype=dtype, device=device)
        if channels is None:
            # each (roi, row, column)'s pixel as a row of the [N·H·W, C] pixel matrix
            flat = (batch[sl, None, None] * height + rows[sl][:, :, None]) * width
            gathered = gather_rows(pixel_rows, flat + cols[sl][:, None, :])  # [k, U, V, C]
            outputs.append(minigrad.einsum("kpa,kqb,kabc->kcpq", wy, wx, gathered))
            continue
        b = b[:, None, None, None, None, None]
        r = minigrad.tensor(rows[sl], device=device)[:, :, :, None, None, None]
        c = minigrad.tensor(cols[sl], device=device)[:, None, None, :, :, None]
        gathered = pixels[b, r, c, ch]  # [k, P, A, Q, B, C_out]
        outputs.append(minigrad.einsum("kpa,kqb,kpaqbc->kcpq", wy, wx, gathered))
    return outputs[0] if len(outputs) == 1 else minigrad.cat(outputs, dim=0)


def position_channels(input, ph: int, pw: int, op: str) -> np.ndarray:
    """Position-sensitive pooling's input channel of each output ``(c, p, q)``:
    ``(c·PH + p)·PW + q`` (torchvision's ``channel_mapping``)."""
    if input.shape[1] % (ph * pw):
        raise RuntimeError(
            f"{op}: input channels must be a multiple of pooling height * pooling width "
            f"(got {input.shape[1]} channels for a {ph}x{pw} output)"
        )
    return np.arange(input.shape[1], dtype=np.int64).reshape(-1, ph, pw)


def _check_batch(batch, input) -> None:
    if len(batch) and (batch.min() < 0 or batch.max() >= input.shape[0]):
        raise IndexError(
            f"roi batch index {int(batch.max())} is out of range for an input batch of "
            f"{input.shape[0]} images"
        )


def roi_align(
    input,
    boxes,
    output_size,
    spatial_scale: float = 1.0,
    sampling_ratio: int = -1,
    aligned: bool = False,
):
    """RoI Align (He et al., Mask R-CNN), as ``torchvision.ops.roi_align``.

    Args:
        input: ``[N, C, H, W]`` features.
        boxes: ``[K, 5]`` rows ``(batch_index, x1, y1, x2, y2)``, or a list of ``[L, 4]``
            boxes per image, in input-image coordinates.
        output_size: ``(height, width)`` of the pooled grid (or one int).
        spatial_scale: maps box coordinates onto the feature map (1/stride).
        sampling_ratio: samples per bin along each axis; ``<= 0`` takes
            ``ceil(roi_size / output_size)`` per roi, as torchvision.
        aligned: shift the box by -0.5 pixel so sample points align with pixel centres; when
            False (the original behaviour) a roi is at least 1×1 pixel.

    Returns:
        ``[K, C, output_height, output_width]``; differentiable with respect to ``input``.

    Example:
        >>> x = minigrad.arange(16.0).reshape(1, 1, 4, 4)
        >>> roi_align(x, [minigrad.tensor([[0.0, 0.0, 2.0, 2.0]])], 1, aligned=True)
        tensor([[[[5.]]]])
    """
    rois = host_rois(input, boxes).astype(_float_dtype(input))
    ph, pw = pair(output_size, "output_size")
    dtype = rois.dtype
    offset = dtype.type(0.5 if aligned else 0.0)
    scale = dtype.type(spatial_scale)
    x1, y1 = rois[:, 1] * scale - offset, rois[:, 2] * scale - offset
    width, height = rois[:, 3] * scale - offset - x1, rois[:, 4] * scale - offset - y1
    if not aligned:  # the original RoIAlign forces malformed rois to be 1×1
        width, height = np.maximum(width, 1.0), np.maximum(height, 1.0)
    if sampling_ratio > 0:
        grid_h = grid_w = np.full(len(rois), sampling_ratio, dtype=np.int64)
    else:
        grid_h = np.ceil(height / ph).astype(np.int64)
        grid_w = np.ceil(width / pw).astype(np.int64)
    batch = rois[:, 0].astype(np.int64)
    _check_batch(batch, input)
    rows, row_w = sampling_grid(y1, height, ph, grid_h, input.shape[2])
    cols, col_w = sampling_grid(x1, width, pw, grid_w, input.shape[3])
    return bilinear_pool(input, batch, rows, row_w, cols, col_w)


class RoIAlign(nn.Module):
    """:func:`roi_align` as a module."""

    def __init__(
        self, output_size, spatial_scale: float, sampling_ratio: int, aligned: bool = False
    ) -> None:
        super().__init__()
        self.output_size = output_size
        self.spatial_scale = spatial_scale
        self.sampling_ratio = sampling_ratio
        self.aligned = aligned

    def forward(self, input, rois):
        return roi_align(
            input, rois, self.output_size, self.spatial_scale, self.sampling_ratio, self.aligned
        )

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(output_size={self.output_size}, "
            f"spatial_scale={self.spatial_scale}, sampling_ratio={self.sampling_ratio}, "
            f"aligned={self.aligned})"
        )
