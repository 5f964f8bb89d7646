"""``ImageList``: a batch of images padded to one size, with each image's own size kept."""

from __future__ import annotations

__all__ = ["ImageList"]


class ImageList:
    """``tensors [N, C, H, W]`` (padded) and ``image_sizes`` (each image's ``(h, w)`` before
    padding), as torchvision's."""

    def __init__(self, tensors, image_sizes: list[tuple[int, int]]) -> None:
        self.tensors = tensors
        self.image_sizes = image_sizes

    def to(self, device) -> ImageList:
        return ImageList(self.tensors.to(device), self.image_sizes)
