"""RAFT's sampling helpers, as torchvision's ``models.optical_flow._utils``: ``grid_sample`` in
absolute pixel coordinates, ``make_coords_grid`` (each pixel's own (x, y)) and
``upsample_flow`` (bilinear, or RAFT's learned convex combination of 3×3 neighbours)."""

from __future__ import annotations

import minigrad
from minigrad.nn import functional as F

__all__ = ["grid_sample", "make_coords_grid", "upsample_flow"]


def grid_sample(img, absolute_grid, mode: str = "bilinear", align_corners: bool | None = None):
    """``F.grid_sample`` with ``absolute_grid`` in pixels (x, y) rather than in [-1, 1]
    (a height of 1 leaves y as given, as torchvision)."""
    h, w = img.shape[-2:]
    xgrid, ygrid = absolute_grid.split([1, 1], dim=-1)
    xgrid = 2 * xgrid / (w - 1) - 1
    if h > 1:
        ygrid = 2 * ygrid / (h - 1) - 1
    normalized_grid = minigrad.cat([xgrid, ygrid], dim=-1)
    return F.grid_sample(img, normalized_grid, mode=mode, align_corners=align_corners)


def make_coords_grid(batch_size: int, h: int, w: int, device="cpu"):
    """(batch_size, 2, h, w) float coordinates: channel 0 is x (the column), 1 is y."""
    coords = minigrad.meshgrid(
        minigrad.arange(h, device=device), minigrad.arange(w, device=device), indexing="ij"
    )
    coords = minigrad.stack(coords[::-1], dim=0).float()
    return coords[None].repeat(batch_size, 1, 1, 1)


def upsample_flow(flow, up_mask=None, factor: int = 8):
    """``flow`` (N, 2, h, w) at ``factor`` times the size, its values scaled by ``factor``:
    bilinearly (corners aligned) without ``up_mask``, else each fine pixel a softmax-weighted
    (convex) combination of the coarse pixel's 3×3 neighbourhood (RAFT, appendix B)."""
    batch_size, num_channels, h, w = flow.shape
    new_h, new_w = h * factor, w * factor
    if up_mask is None:
        return factor * F.interpolate(
            flow, size=(new_h, new_w), mode="bilinear", align_corners=True
        )
    up_mask = minigrad.softmax(up_mask.view(batch_size, 1, 9, factor, factor, h, w), dim=2)
    neighbours = F.unfold(factor * flow, kernel_size=3, padding=1).view(
        batch_size, num_channels, 9, 1, 1, h, w
    )
    upsampled = minigrad.sum(up_mask * neighbours, dim=2)
    return upsampled.permute(0, 1, 4, 2, 5, 3).reshape(batch_size, num_channels, new_h, new_w)
