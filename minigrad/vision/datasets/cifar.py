"""CIFAR-10 and CIFAR-100 in torchvision's layout: the Python pickle batches of
``cifar-10-batches-py`` / ``cifar-100-python``, read by a restricted unpickler (arrays and
plain containers only: a crafted batch file cannot run code)."""

from __future__ import annotations

import os
import pickle

import numpy as np

from ..transforms.functional import _need_pil
from .mnist import _NOT_FOUND
from .vision import VisionDataset

_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode"),
}  # fmt: skip


class _ArrayUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f"CIFAR batch file holds {module}.{name}; only arrays and containers are read"
        )


def _load_batch(path: str) -> dict:
    with open(path, "rb") as f:
        return _ArrayUnpickler(f, encoding="latin1").load()


class CIFAR10(VisionDataset):
    """CIFAR-10: ``data`` (N, 32, 32, 3) uint8 ndarray, ``targets`` a list of ints, items
    ``(PIL RGB image, int)`` before the transforms. Files are read from
    ``root/cifar-10-batches-py/``; their presence is checked, not torchvision's MD5 sums.
    ``download=True`` raises (no mirror is configured): put the extracted files there."""

    base_folder = "cifar-10-batches-py"
    train_list = [f"data_batch_{i}" for i in range(1, 6)]
    test_list = ["test_batch"]
    meta = {"filename": "batches.meta", "key": "label_names"}
    labels_key = "labels"

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        names = self.train_list if train else self.test_list
        paths = [os.path.join(self.root, self.base_folder, n) for n in names]
        meta_path = os.path.join(self.root, self.base_folder, self.meta["filename"])
        if not all(os.path.exists(p) for p in [*paths, meta_path]):
            if download:
                raise RuntimeError(
                    f"{type(self).__name__}(download=True): downloading is not implemented in "
                    f"minigrad.vision; extract the archive into {os.path.join(self.root, self.base_folder)}"
                )
            raise RuntimeError(_NOT_FOUND.replace("not found", "not found or corrupted"))
        batches = [_load_batch(p) for p in paths]
        self.data = (
            np.vstack([b["data"] for b in batches]).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        )
        self.targets = [int(t) for b in batches for t in b[self.labels_key]]
        self.classes = list(_load_batch(meta_path)[self.meta["key"]])
        self.class_to_idx = {name: i for i, name in enumerate(self.classes)}

    def __getitem__(self, index: int):
        _need_pil(f"{type(self).__name__}[i]")
        from PIL import Image

        image, target = Image.fromarray(self.data[index]), self.targets[index]
        return self.transforms(image, target) if self.transforms is not None else (image, target)

    def __len__(self) -> int:
        return len(self.data)

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train else 'Test'}"


class CIFAR100(CIFAR10):
    """CIFAR-100 (fine labels), from ``root/cifar-100-python/``."""

    base_folder = "cifar-100-python"
    train_list = ["train"]
    test_list = ["test"]
    meta = {"filename": "meta", "key": "fine_label_names"}
    labels_key = "fine_labels"
