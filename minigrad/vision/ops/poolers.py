"""``MultiScaleRoIAlign``: RoI Align over a feature pyramid, each box pooled from the level
that suits its size (eq. 1 of the FPN paper, as torchvision's ``LevelMapper``)."""

from __future__ import annotations

import math

import minigrad
from minigrad import nn

from ._utils import convert_boxes_to_roi_format, pair
from .boxes import box_area
from .roi_align import roi_align

__all__ = ["LevelMapper", "MultiScaleRoIAlign"]


class LevelMapper:
    """The pyramid level of each box: ``floor(canonical_level + log2(sqrt(area) /
    canonical_scale) + eps)`` clamped to ``[k_min, k_max]``, returned less ``k_min`` (int64)."""

    def __init__(
        self,
        k_min: int,
        k_max: int,
        canonical_scale: int = 224,
        canonical_level: int = 4,
        eps: float = 1e-6,
    ) -> None:
        self.k_min, self.k_max = k_min, k_max
        self.s0, self.lvl0, self.eps = canonical_scale, canonical_level, eps

    def __call__(self, boxlists):
        s = minigrad.sqrt(minigrad.cat([box_area(b) for b in boxlists]))
        target = minigrad.floor(self.lvl0 + minigrad.log2(s / self.s0) + self.eps)
        target = minigrad.clamp(target, min=self.k_min, max=self.k_max)
        return target.to(minigrad.int64) - self.k_min


def _infer_scale(feature, original_size) -> float:
    """The feature map's scale relative to the image, rounded to a power of two (the
    height's, as torchvision)."""
    approx = float(feature.shape[-2]) / float(original_size[0])
    return 2.0 ** round(math.log2(approx))


def _setup_scales(features, image_shapes, canonical_scale: int, canonical_level: int):
    """Each level's scale and the ``LevelMapper`` between the finest and coarsest level."""
    if not image_shapes:
        raise ValueError("images list should not be empty")
    original = (max(s[0] for s in image_shapes), max(s[1] for s in image_shapes))
    scales = [_infer_scale(f, original) for f in features]
    lvl_min, lvl_max = -math.log2(scales[0]), -math.log2(scales[-1])
    mapper = LevelMapper(int(lvl_min), int(lvl_max), canonical_scale, canonical_level)
    return scales, mapper


class MultiScaleRoIAlign(nn.Module):
    """RoI Align of boxes (in image coordinates) over the feature maps ``featmap_names`` of a
    dict of features, inferring each map's scale from the image sizes on the first call, as
    ``torchvision.ops.MultiScaleRoIAlign``. Returns ``[K, C, *output_size]`` for the boxes of
    all images in order."""

    def __init__(
        self,
        featmap_names: list[str],
        output_size,
        sampling_ratio: int,
        *,
        canonical_scale: int = 224,
        canonical_level: int = 4,
    ) -> None:
        super().__init__()
        self.featmap_names = featmap_names
        self.sampling_ratio = sampling_ratio
        self.output_size = pair(output_size, "output_size")
        self.scales = None
        self.map_levels = None
        self.canonical_scale = canonical_scale
        self.canonical_level = canonical_level

    def forward(self, x: dict, boxes: list, image_shapes: list):
        features = [v for k, v in x.items() if k in self.featmap_names]
        if self.scales is None or self.map_levels is None:
            self.scales, self.map_levels = _setup_scales(
                features, image_shapes, self.canonical_scale, self.canonical_level
            )
        rois = convert_boxes_to_roi_format(boxes)
        if len(features) == 1:
            return roi_align(
                features[0], rois, self.output_size, self.scales[0], self.sampling_ratio
            )
        levels = self.map_levels(boxes)
        pooled, order = [], []
        for level, (feature, scale) in enumerate(zip(features, self.scales, strict=True)):
            idx = minigrad.where(levels == level)[0]
            pooled.append(
                roi_align(feature, rois[idx], self.output_size, scale, self.sampling_ratio)
            )
            order.append(idx)
        unpooled = minigrad.where(levels >= len(features))[0]
        if unpooled.numel():  # a level between the maps given (torchvision leaves them at 0)
            pooled.append(
                features[0].new_zeros((unpooled.numel(), features[0].shape[1], *self.output_size))
            )
            order.append(unpooled)
        # Put each box's result back in its place (a gather, so gradients flow per level).
        return minigrad.cat(pooled, dim=0)[minigrad.argsort(minigrad.cat(order))]

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(featmap_names={self.featmap_names}, "
            f"output_size={self.output_size}, sampling_ratio={self.sampling_ratio})"
        )
