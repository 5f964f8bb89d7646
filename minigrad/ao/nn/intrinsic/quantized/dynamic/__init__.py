"""Dynamically quantized fused modules, as ``torch.ao.nn.intrinsic.quantized.dynamic``:
qint8 weights, float inputs and outputs, the fused ReLU applied to the float output."""

from ......nn import functional as F
from ....quantized.dynamic import Linear as _DynamicLinear


class LinearReLU(_DynamicLinear):
    """Dynamically quantized Linear followed by ReLU (what ``quantize_dynamic`` makes of a
    fused ``nn.intrinsic.LinearReLU``: the ReLU is kept).

    Example:
        >>> m = nn.intrinsic.quantized.dynamic.LinearReLU(20, 30)
        >>> m(minigrad.randn(128, 20)).size()
        minigrad.Size([128, 30])
    """

    _FLOAT_MODULE = None  # set in quantization_mappings

    def _get_name(self) -> str:
        return "DynamicQuantizedLinearReLU"

    def forward(self, x):
        return F.relu(super().forward(x))


__all__ = ["LinearReLU"]
