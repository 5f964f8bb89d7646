"""``AnchorGenerator``: the reference boxes of region proposal networks — for every feature
map, ``len(sizes) × len(aspect_ratios)`` boxes centred on each cell, in image coordinates —
and ``DefaultBoxGenerator``, SSD's default boxes (scales relative to the image)."""

from __future__ import annotations

import math

import minigrad
from minigrad import nn

__all__ = ["AnchorGenerator", "DefaultBoxGenerator"]


class AnchorGenerator(nn.Module):
    """Anchors per feature map: ``sizes[i]`` and ``aspect_ratios[i]`` (height/width) for the
    ``i``-th map, as torchvision's. ``forward(image_list, feature_maps)`` returns one
    ``[A, 4]`` tensor per image (all maps' anchors, map by map, cell by cell in row-major
    order, the cell's anchors ratio-major)."""

    def __init__(self, sizes=((128, 256, 512),), aspect_ratios=((0.5, 1.0, 2.0),)) -> None:
        super().__init__()
        if not isinstance(sizes[0], (list, tuple)):
            sizes = tuple((s,) for s in sizes)
        if not isinstance(aspect_ratios[0], (list, tuple)):
            aspect_ratios = (aspect_ratios,) * len(sizes)
        self.sizes = sizes
        self.aspect_ratios = aspect_ratios
        self.cell_anchors = [
            self.generate_anchors(s, a) for s, a in zip(sizes, aspect_ratios, strict=True)
        ]

    def generate_anchors(
        self, scales, aspect_ratios, dtype=minigrad.float32, device="cpu"
    ) -> minigrad.Tensor:
        """Zero-centred anchors ``[len(ratios)·len(scales), 4]`` of area ``scale²`` and
        height/width ``ratio``, rounded to whole pixels (halves to even, as ``torch.round``)."""
        scales = minigrad.as_tensor(scales, dtype=dtype, device=device)
        ratios = minigrad.as_tensor(aspect_ratios, dtype=dtype, device=device)
        h_ratios = minigrad.sqrt(ratios)
        w_ratios = 1 / h_ratios
        ws = (w_ratios[:, None] * scales[None, :]).reshape(-1)
        hs = (h_ratios[:, None] * scales[None, :]).reshape(-1)
        return (minigrad.stack([-ws, -hs, ws, hs], dim=1) / 2).round()

    def set_cell_anchors(self, dtype, device) -> None:
        self.cell_anchors = [a.to(dtype=dtype, device=device) for a in self.cell_anchors]

    def num_anchors_per_location(self) -> list[int]:
        return [len(s) * len(a) for s, a in zip(self.sizes, self.aspect_ratios, strict=True)]

    def grid_anchors(self, grid_sizes, strides) -> list[minigrad.Tensor]:
        """The cell anchors shifted to every cell of each map (``stride`` pixels apart)."""
        if not len(grid_sizes) == len(strides) == len(self.cell_anchors):
            raise ValueError(
                "Anchors should be Tuple[Tuple[int]] because each feature map could potentially "
                "have different sizes and aspect ratios. There needs to be a match between the "
                "number of feature maps passed and the number of sizes / aspect ratios specified."
            )
        anchors = []
        for (gh, gw), (sh, sw), base in zip(grid_sizes, strides, self.cell_anchors, strict=True):
            device = base.device
            shifts_x = minigrad.arange(0, gw, dtype=minigrad.int32, device=device) * sw
            shifts_y = minigrad.arange(0, gh, dtype=minigrad.int32, device=device) * sh
            shift_y, shift_x = minigrad.meshgrid(shifts_y, shifts_x, indexing="ij")
            shift_x, shift_y = shift_x.reshape(-1), shift_y.reshape(-1)
            shifts = minigrad.stack((shift_x, shift_y, shift_x, shift_y), dim=1)
            anchors.append((shifts.reshape(-1, 1, 4) + base.reshape(1, -1, 4)).reshape(-1, 4))
        return anchors

    def forward(self, image_list, feature_maps) -> list[minigrad.Tensor]:
        grid_sizes = [tuple(f.shape[-2:]) for f in feature_maps]
        image_size = image_list.tensors.shape[-2:]
        strides = [(image_size[0] // g[0], image_size[1] // g[1]) for g in grid_sizes]
        self.set_cell_anchors(feature_maps[0].dtype, feature_maps[0].device)
        per_map = self.grid_anchors(grid_sizes, strides)
        return [minigrad.cat(per_map) for _ in image_list.image_sizes]


class DefaultBoxGenerator(nn.Module):
    """SSD's default boxes (Liu et al., 2016): per feature map ``k``, at each cell centre,
    squares of side ``s_k`` and ``sqrt(s_k·s_{k+1})`` and, per aspect ratio ``r``, boxes
    ``s_k·sqrt(r) × s_k/sqrt(r)`` and their transposes — sizes relative to the image (clipped
    to [0, 1] when ``clip``). The scales are ``scales`` or evenly spread from ``min_ratio`` to
    ``max_ratio``; ``steps`` (pixels per cell) place the centres, else the map's own grid."""

    def __init__(
        self, aspect_ratios, min_ratio=0.15, max_ratio=0.9, scales=None, steps=None, clip=True
    ) -> None:
        super().__init__()
        if steps is not None and len(aspect_ratios) != len(steps):
            raise ValueError("aspect_ratios and steps should have the same length")
        self.aspect_ratios = aspect_ratios
        self.steps = steps
        self.clip = clip
        num_outputs = len(aspect_ratios)
        if scales is None:
            if num_outputs > 1:
                span = max_ratio - min_ratio
                self.scales = [
                    min_ratio + span * k / (num_outputs - 1.0) for k in range(num_outputs)
                ]
                self.scales.append(1.0)
            else:
                self.scales = [min_ratio, max_ratio]
        else:
            self.scales = scales
        self._wh_pairs = self._generate_wh_pairs(num_outputs)

    def _generate_wh_pairs(self, num_outputs, dtype=minigrad.float32, device="cpu"):
        """Each map's ``[2 + 2·len(ratios), 2]`` relative widths and heights."""
        pairs = []
        for k in range(num_outputs):
            s_k = self.scales[k]
            s_prime = math.sqrt(self.scales[k] * self.scales[k + 1])
            wh = [[s_k, s_k], [s_prime, s_prime]]
            for ar in self.aspect_ratios[k]:
                root = math.sqrt(ar)
                wh.extend([[s_k * root, s_k / root], [s_k / root, s_k * root]])
            pairs.append(minigrad.as_tensor(wh, dtype=dtype, device=device))
        return pairs

    def num_anchors_per_location(self) -> list[int]:
        return [2 + 2 * len(r) for r in self.aspect_ratios]

    def _grid_default_boxes(self, grid_sizes, image_size, dtype=minigrad.float32):
        """All maps' boxes as ``[ΣHW·A, 4]`` relative ``(cx, cy, w, h)``."""
        boxes = []
        for k, (gh, gw) in enumerate(grid_sizes):
            if self.steps is not None:
                x_f, y_f = image_size[1] / self.steps[k], image_size[0] / self.steps[k]
            else:
                y_f, x_f = gh, gw
            shifts_x = ((minigrad.arange(0, gw) + 0.5) / x_f).to(dtype=dtype)
            shifts_y = ((minigrad.arange(0, gh) + 0.5) / y_f).to(dtype=dtype)
            shift_y, shift_x = minigrad.meshgrid(shifts_y, shifts_x, indexing="ij")
            shift_x, shift_y = shift_x.reshape(-1), shift_y.reshape(-1)
            count = len(self._wh_pairs[k])
            shifts = minigrad.stack((shift_x, shift_y) * count, dim=-1).reshape(-1, 2)
            wh = self._wh_pairs[k].clamp(min=0, max=1) if self.clip else self._wh_pairs[k]
            boxes.append(minigrad.cat((shifts, wh.repeat(gh * gw, 1)), dim=1))
        return minigrad.cat(boxes, dim=0)

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(aspect_ratios={self.aspect_ratios}, clip={self.clip}, "
            f"scales={self.scales}, steps={self.steps})"
        )

    def forward(self, image_list, feature_maps):
        """One ``[ΣHW·A, 4]`` tensor of ``xyxy`` boxes in pixels per image."""
        grid_sizes = [tuple(f.shape[-2:]) for f in feature_maps]
        image_size = image_list.tensors.shape[-2:]
        dtype, device = feature_maps[0].dtype, feature_maps[0].device
        boxes = self._grid_default_boxes(grid_sizes, image_size, dtype=dtype).to(device)
        x_y_size = minigrad.tensor([image_size[1], image_size[0]], device=device)
        corners = minigrad.cat(
            [
                (boxes[:, :2] - 0.5 * boxes[:, 2:]) * x_y_size,
                (boxes[:, :2] + 0.5 * boxes[:, 2:]) * x_y_size,
            ],
            -1,
        )
        return [corners for _ in image_list.image_sizes]
