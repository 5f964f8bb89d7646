"""``VisionDataset``: the base of the image datasets (root folder, transforms, repr)."""

from __future__ import annotations

import os

from ...utils.data import Dataset


class StandardTransform:
    """``transform`` for the image and ``target_transform`` for the target, as one callable."""

    def __init__(self, transform=None, target_transform=None):
        self.transform, self.target_transform = transform, target_transform

    def __call__(self, input, target):
        if self.transform is not None:
            input = self.transform(input)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return input, target

    def __repr__(self) -> str:
        lines = [type(self).__name__]
        for name, t in (("Transform", self.transform), ("Target transform", self.target_transform)):
            if t is not None:
                head, *rest = repr(t).splitlines()
                lines += [f"{name}: {head}"] + [" " * (len(name) + 2) + line for line in rest]
        return "\n".join(lines)


class VisionDataset(Dataset):
    """A dataset under ``root`` whose items go through ``transforms(image, target)``, or through
    ``transform(image)`` and ``target_transform(target)`` (not both kinds)."""

    _repr_indent = 4

    def __init__(self, root=None, transforms=None, transform=None, target_transform=None):
        self.root = (
            os.path.expanduser(root) if isinstance(root, (str, bytes, os.PathLike)) else root
        )
        separate = transform is not None or target_transform is not None
        if transforms is not None and separate:
            raise ValueError(
                "Only transforms or transform/target_transform can be passed as argument"
            )
        self.transform, self.target_transform = transform, target_transform
        self.transforms = StandardTransform(transform, target_transform) if separate else transforms

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} does not define __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} does not define __len__")

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        body = [f"Number of datapoints: {len(self)}"]
        if self.root is not None:
            body.append(f"Root location: {self.root}")
        body += self.extra_repr().splitlines()
        if self.transforms is not None:  # one entry: only its first line is indented, as
            body.append(repr(self.transforms))  # torchvision prints it
        pad = " " * self._repr_indent
        return "\n".join([f"Dataset {type(self).__name__}"] + [pad + line for line in body])
