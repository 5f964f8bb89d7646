"""Fused modules for quantization, as ``torch.ao.nn.intrinsic`` (float sequences; their
quantized forms in :mod:`.quantized`, their QAT forms in :mod:`.qat`)."""

from .modules import BNReLU2d, ConvBn2d, ConvBnReLU2d, ConvReLU2d, LinearReLU, _FusedModule

__all__ = ["BNReLU2d", "ConvBn2d", "ConvBnReLU2d", "ConvReLU2d", "LinearReLU"]
