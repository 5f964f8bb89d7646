"""Fused layers for quantization-aware training, as ``torch.ao.nn.intrinsic.qat``: a QAT
layer followed by its ReLU, and conv + batch norm (+ ReLU) with the batch norm folded into the
fake-quantized weights."""

from .....nn import functional as F
from ...qat.modules import Conv2d as _QATConv2d
from ...qat.modules import Linear as _QATLinear
from ..modules import ConvReLU2d as _ConvReLU2d
from ..modules import LinearReLU as _LinearReLU


class LinearReLU(_QATLinear):
    """QAT Linear followed by ReLU (from a fused ``intrinsic.LinearReLU``)."""

    _FLOAT_MODULE = _LinearReLU

    def forward(self, input):
        return F.relu(super().forward(input))


class ConvReLU2d(_QATConv2d):
    """QAT Conv2d followed by ReLU (from a fused ``intrinsic.ConvReLU2d``)."""

    _FLOAT_MODULE = _ConvReLU2d

    def forward(self, input):
        return F.relu(super().forward(input))


from .conv_fused import (  # noqa: E402
    ConvBn2d,
    ConvBnReLU2d,
    freeze_bn_stats,
    update_bn_stats,
)

__all__ = [
    "ConvBn2d", "ConvBnReLU2d", "ConvReLU2d", "LinearReLU", "freeze_bn_stats", "update_bn_stats"
]  # fmt: skip
