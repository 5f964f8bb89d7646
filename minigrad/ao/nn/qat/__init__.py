"""Quantization-aware-training layers, as ``torch.ao.nn.qat``."""

from .modules import Conv2d, Linear

__all__ = ["Conv2d", "Linear"]
