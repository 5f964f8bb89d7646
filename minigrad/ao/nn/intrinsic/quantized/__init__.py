"""Quantized fused modules, as ``torch.ao.nn.intrinsic.quantized``: a quantized layer whose
requantization clamps at the output zero point (the ReLU, for free)."""

from ...quantized.modules import Conv2d as _QConv2d
from ...quantized.modules import Linear as _QLinear


class LinearReLU(_QLinear):
    """Quantized Linear with a fused ReLU."""

    _RELU = True

    def _get_name(self) -> str:
        return "QuantizedLinearReLU"


class ConvReLU2d(_QConv2d):
    """Quantized Conv2d with a fused ReLU."""

    _RELU = True

    def _get_name(self) -> str:
        return "QuantizedConvReLU2d"


from . import dynamic  # noqa: E402  (after the classes: nn.intrinsic.quantized.dynamic)

__all__ = ["ConvReLU2d", "LinearReLU", "dynamic"]
