"""Fused float modules, as ``torch.ao.nn.intrinsic``: sequences that ``fuse_modules`` makes
so that quantization treats them as one layer (one observer on the fused output)."""

from __future__ import annotations

from ....nn.modules.activation import ReLU
from ....nn.modules.batchnorm import BatchNorm2d
from ....nn.modules.container import Sequential
from ....nn.modules.conv import Conv2d
from ....nn.modules.linear import Linear


class _FusedModule(Sequential):
    """A Sequential of fixed member types."""

    _TYPES: tuple = ()

    def __init__(self, *modules):
        if len(modules) != len(self._TYPES) or not all(
            type(m) is t for m, t in zip(modules, self._TYPES)
        ):
            raise AssertionError(
                f"Incorrect types for input modules{[type(m) for m in modules]}: "
                f"{type(self).__name__} takes {[t.__name__ for t in self._TYPES]}"
            )
        super().__init__(*modules)


class ConvReLU2d(_FusedModule):
    """Conv2d followed by ReLU."""

    _TYPES = (Conv2d, ReLU)


class LinearReLU(_FusedModule):
    """Linear followed by ReLU."""

    _TYPES = (Linear, ReLU)


class ConvBn2d(_FusedModule):
    """Conv2d followed by BatchNorm2d (kept apart for training; folded by eval fusion)."""

    _TYPES = (Conv2d, BatchNorm2d)


class ConvBnReLU2d(_FusedModule):
    """Conv2d, BatchNorm2d and ReLU."""

    _TYPES = (Conv2d, BatchNorm2d, ReLU)


class BNReLU2d(_FusedModule):
    """BatchNorm2d followed by ReLU."""

    _TYPES = (BatchNorm2d, ReLU)
