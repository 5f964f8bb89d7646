"""``torchvision`` on minigrad: the image transforms, datasets and utilities that PyTorch
tutorials import (``from torchvision import datasets, transforms``).

The pure-Python core of torchvision 0.28's public API (the release paired with PyTorch 2.13),
written for minigrad: :mod:`.transforms` (the classic v1 transforms and their functional
forms, on PIL images and tensors; ``transforms.v2``), :mod:`.datasets` (MNIST, FashionMNIST, CIFAR-10/100,
ImageFolder, FakeData, in torchvision's on-disk layouts), :mod:`.utils` (``make_grid``,
``save_image``, ``draw_bounding_boxes``, ``draw_segmentation_masks``), :mod:`.io` (image
files and bytes ↔ uint8 tensors, through PIL), :mod:`.models` (classification
models with torchvision's state-dict layout, no pretrained weights; ``models.segmentation``;
``models.detection``: Faster and Mask R-CNN) and :mod:`.ops` (box operations, NMS, RoI
Align/Pool, FPN, layer helpers). Under ``python -m minigrad.as_torch`` a script's
``import torchvision`` imports this package. ``transforms.v2`` and :mod:`.tv_tensors`
transform images, masks and bounding boxes together. Video is not here: importing it fails
as for a module that does not exist. PIL (``pip install pillow``) is
needed for PIL images, the datasets' ``__getitem__``, ``save_image``, ``io`` and drawing.
"""

import importlib

from . import datasets, io, models, ops, transforms, utils

__version__ = "0.28.0"  # the torchvision release whose API this follows (PyTorch 2.13's)

__all__ = ["datasets", "io", "models", "ops", "transforms", "tv_tensors", "utils"]


def __getattr__(name: str):
    """``tv_tensors`` on first use: its Tensor subclasses take part in ``__torch_function__``,
    and while such a class lives every Tensor method dispatches (10–30% more per call), a cost
    that scripts using only the v1 transforms, datasets and models should not pay."""
    if name == "tv_tensors":
        return importlib.import_module(f"{__name__}.tv_tensors")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
