"""Quantized modules, as ``torch.ao.nn.quantized``; dynamic ones in :mod:`.dynamic`, the
functions they run in :mod:`.functional`."""

from . import dynamic, functional
from .embedding import Embedding, EmbeddingBag
from .float_kernels import (
    ELU,
    BatchNorm2d,
    GroupNorm,
    Hardswish,
    InstanceNorm1d,
    InstanceNorm2d,
    InstanceNorm3d,
    LayerNorm,
    LeakyReLU,
    Sigmoid,
)
from .functional_modules import FloatFunctional, QFunctional
from .modules import (
    Conv1d,
    Conv2d,
    Conv3d,
    DeQuantize,
    Dropout,
    Linear,
    Quantize,
    ReLU6,
)

__all__ = [
    "ELU", "BatchNorm2d", "Conv1d", "Conv2d", "Conv3d", "DeQuantize", "Dropout", "Embedding",
    "EmbeddingBag",
    "FloatFunctional", "GroupNorm", "Hardswish", "InstanceNorm1d", "InstanceNorm2d",
    "InstanceNorm3d", "LayerNorm", "LeakyReLU", "Linear",
    "QFunctional", "Quantize", "ReLU6", "Sigmoid", "dynamic", "functional",
]  # fmt: skip
