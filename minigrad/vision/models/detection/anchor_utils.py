"""``AnchorGenerator``: the reference boxes of region proposal networks — for every feature
map, ``len(sizes) × len(aspect_ratios)`` boxes centred on each cell, in image coordinates."""

from __future__ import annotations

import minigrad
from minigrad import nn

__all__ = ["AnchorGenerator"]


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
