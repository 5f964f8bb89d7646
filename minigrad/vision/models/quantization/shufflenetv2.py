"""torchvision's quantizable ShuffleNetV2 (``torchvision.models.quantization.shufflenetv2``):
the branches' concatenation through ``FloatFunctional.cat`` and ``fuse_model`` fusing the
stem, the last conv and every branch's conv-bn(-relu)."""

from __future__ import annotations

from minigrad import nn
from minigrad.ao.nn.quantized import FloatFunctional

from .._api import register_model
from .._weights import weights_enum
from ..shufflenetv2 import InvertedResidual, ShuffleNetV2
from .utils import _fuse_modules, _quantizable, _Stubbed

__all__ = [
    "QuantizableShuffleNetV2",
    "ShuffleNet_V2_X0_5_QuantizedWeights",
    "ShuffleNet_V2_X1_0_QuantizedWeights",
    "ShuffleNet_V2_X1_5_QuantizedWeights",
    "ShuffleNet_V2_X2_0_QuantizedWeights",
    "shufflenet_v2_x0_5",
    "shufflenet_v2_x1_0",
    "shufflenet_v2_x1_5",
    "shufflenet_v2_x2_0",
]


class QuantizableInvertedResidual(InvertedResidual):
    """:class:`InvertedResidual` concatenating through a ``FloatFunctional``."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.cat = FloatFunctional()

    def forward(self, x):
        if self.stride == 1:
            x1, x2 = x.chunk(2, dim=1)
            out = self.cat.cat([x1, self.branch2(x2)], dim=1)
        else:
            out = self.cat.cat([self.branch1(x), self.branch2(x)], dim=1)
        return nn.functional.channel_shuffle(out, 2)


class QuantizableShuffleNetV2(_Stubbed, ShuffleNetV2):
    """:class:`ShuffleNetV2` between a QuantStub and a DeQuantStub."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, inverted_residual=QuantizableInvertedResidual, **kwargs)

    def fuse_model(self, is_qat: bool | None = None) -> None:
        """Fuse conv-bn(-relu) in the stem, conv5 and every branch, in place."""
        for name, m in self._modules.items():
            if name in ["conv1", "conv5"] and m is not None:
                _fuse_modules(m, [["0", "1", "2"]], is_qat, inplace=True)
        for m in self.modules():
            if type(m) is QuantizableInvertedResidual:
                if len(m.branch1._modules.items()) > 0:
                    _fuse_modules(m.branch1, [["0", "1"], ["2", "3", "4"]], is_qat, inplace=True)
                groups = [["0", "1", "2"], ["3", "4"], ["5", "6", "7"]]
                _fuse_modules(m.branch2, groups, is_qat, inplace=True)


def _enum(width: str):
    return weights_enum(f"ShuffleNet_V2_{width}_QuantizedWeights", ("IMAGENET1K_FBGEMM_V1",))


ShuffleNet_V2_X0_5_QuantizedWeights = _enum("X0_5")
ShuffleNet_V2_X1_0_QuantizedWeights = _enum("X1_0")
ShuffleNet_V2_X1_5_QuantizedWeights = _enum("X1_5")
ShuffleNet_V2_X2_0_QuantizedWeights = _enum("X2_0")


def _shufflenetv2(name, repeats, channels, weights, quantize, kwargs):
    def build(**kw):
        return QuantizableShuffleNetV2(repeats, channels, **kw)

    return _quantizable(name, weights, quantize, kwargs, build)


@register_model(ShuffleNet_V2_X0_5_QuantizedWeights, name="quantized_shufflenet_v2_x0_5")
def shufflenet_v2_x0_5(*, weights=None, progress: bool = True, quantize: bool = False, **kwargs):
    """Quantizable ShuffleNetV2 0.5×; ``quantize=True`` returns it quantized (int8, fbgemm)."""
    channels = [24, 48, 96, 192, 1024]
    return _shufflenetv2("shufflenet_v2_x0_5", [4, 8, 4], channels, weights, quantize, kwargs)


@register_model(ShuffleNet_V2_X1_0_QuantizedWeights, name="quantized_shufflenet_v2_x1_0")
def shufflenet_v2_x1_0(*, weights=None, progress: bool = True, quantize: bool = False, **kwargs):
    """Quantizable ShuffleNetV2 1.0×."""
    channels = [24, 116, 232, 464, 1024]
    return _shufflenetv2("shufflenet_v2_x1_0", [4, 8, 4], channels, weights, quantize, kwargs)


@register_model(ShuffleNet_V2_X1_5_QuantizedWeights, name="quantized_shufflenet_v2_x1_5")
def shufflenet_v2_x1_5(*, weights=None, progress: bool = True, quantize: bool = False, **kwargs):
    """Quantizable ShuffleNetV2 1.5×."""
    channels = [24, 176, 352, 704, 1024]
    return _shufflenetv2("shufflenet_v2_x1_5", [4, 8, 4], channels, weights, quantize, kwargs)


@register_model(ShuffleNet_V2_X2_0_QuantizedWeights, name="quantized_shufflenet_v2_x2_0")
def shufflenet_v2_x2_0(*, weights=None, progress: bool = True, quantize: bool = False, **kwargs):
    """Quantizable ShuffleNetV2 2.0×."""
    channels = [24, 244, 488, 976, 2048]
    return _shufflenetv2("shufflenet_v2_x2_0", [4, 8, 4], channels, weights, quantize, kwargs)
