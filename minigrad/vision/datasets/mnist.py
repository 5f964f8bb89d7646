"""MNIST, Fashion-MNIST and Kuzushiji-MNIST in torchvision's layout: IDX files in ``root/<ClassName>/raw/``."""

from __future__ import annotations

import os
from pathlib import Path

from ... import dtypes
from ...creation import tensor
from ...datasets import _cache
from ...datasets import mnist as _minigrad_mnist
from ...datasets.mnist import read_idx
from ..transforms.functional import _need_pil
from .vision import VisionDataset

_NOT_FOUND = "Dataset not found. You can use download=True to download it"


class MNIST(VisionDataset):
    """The MNIST digits as torchvision gives them: ``data`` (N, 28, 28) uint8, ``targets``
    int64, items ``(PIL image in mode L, int)`` before the transforms.

    Files: ``root/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte`` (gzip-compressed
    ``.gz`` too). ``download=True`` fetches the missing ones from the mirrors, checking their
    SHA-256 digests (see :mod:`minigrad.datasets`)."""

    _source = _minigrad_mnist.MNIST  # mirrors, digests and class names
    classes = [
        "0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
        "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine",
    ]  # fmt: skip

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        prefix = "train" if train else "t10k"
        images = self._read(f"{prefix}-images-idx3-ubyte", download)
        labels = self._read(f"{prefix}-labels-idx1-ubyte", download)
        self.data = tensor(images, dtype=dtypes.uint8)
        self.targets = tensor(labels.astype("int64"))

    @property
    def raw_folder(self) -> str:
        return os.path.join(self.root, type(self).__name__, "raw")

    @property
    def class_to_idx(self) -> dict:
        return {name: i for i, name in enumerate(self.classes)}

    def _read(self, stem: str, download: bool):
        folder = Path(self.raw_folder)
        for name in (stem, f"{stem}.gz"):
            if (folder / name).exists():
                return read_idx(folder / name)
        if not download:
            raise RuntimeError(_NOT_FOUND)
        if self._source is None:
            raise NotImplementedError(
                f"{type(self).__name__}(download=True): minigrad has no verified digests for "
                f"its files; copy them (MNIST's IDX format) into {folder}"
            )
        name = f"{stem}.gz"
        path = _cache.fetch(name, self._source.resources[name], folder, self._source.mirrors, True)
        return read_idx(path)

    def __getitem__(self, index: int):
        _need_pil(f"{type(self).__name__}[i]")
        from PIL import Image

        image = Image.fromarray(self.data[index].numpy())
        target = int(self.targets[index])
        return self.transforms(image, target) if self.transforms is not None else (image, target)

    def __len__(self) -> int:
        return len(self.data)

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train else 'Test'}"


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST in MNIST's format (``root/FashionMNIST/raw/``)."""

    _source = _minigrad_mnist.FashionMNIST
    classes = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]  # fmt: skip


class KMNIST(MNIST):
    """Kuzushiji-MNIST (cursive Japanese characters) in MNIST's format
    (``root/KMNIST/raw/``). It reads files already there; downloading is not supported."""

    _source = None
    classes = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]
