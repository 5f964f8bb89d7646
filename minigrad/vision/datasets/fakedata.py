"""``FakeData``: random images, the same for an index whatever the order of access."""

from __future__ import annotations

from ... import random as _random
from ...creation import randint, randn
from ..transforms.functional import to_pil_image
from .vision import VisionDataset


class FakeData(VisionDataset):
    """``size`` images of ``image_size`` (C, H, W) drawn from N(0, 1) with seed
    ``index + random_offset`` (the global generator's state is kept), as PIL images, with a
    random class in ``[0, num_classes)``; torchvision's draws, so the same images."""

    def __init__(self, size=1000, image_size=(3, 224, 224), num_classes=10, transform=None,
                 target_transform=None, random_offset=0):  # fmt: skip
        super().__init__(None, transform=transform, target_transform=target_transform)
        self.size, self.num_classes = size, num_classes
        self.image_size, self.random_offset = image_size, random_offset

    def __getitem__(self, index: int):
        if index >= len(self):
            raise IndexError(f"{type(self).__name__} index out of range")
        state = _random.get_rng_state()
        _random.manual_seed(index + self.random_offset)
        image = randn(*self.image_size)
        target = randint(0, self.num_classes, size=(1,))[0]
        _random.set_rng_state(state)
        image = to_pil_image(image)
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target.item() if hasattr(target, "item") else target

    def __len__(self) -> int:
        return self.size
