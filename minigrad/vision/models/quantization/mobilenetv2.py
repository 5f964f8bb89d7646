"""torchvision's quantizable MobileNetV2 (``torchvision.models.quantization.mobilenetv2``):
residual adds through ``FloatFunctional``, ReLU6 as ReLU (fusable), conv-bn(-relu) fused by
``fuse_model``; torchvision's default backend here is qnnpack (per-tensor weights)."""

from __future__ import annotations

from minigrad import nn
from minigrad.ao.nn.quantized import FloatFunctional

from ...ops.misc import Conv2dNormActivation
from .._api import register_model
from .._weights import weights_enum
from ..mobilenetv2 import InvertedResidual, MobileNetV2
from .utils import _fuse_modules, _quantizable, _Stubbed

__all__ = ["QuantizableMobileNetV2", "MobileNet_V2_QuantizedWeights", "mobilenet_v2"]


class QuantizableInvertedResidual(InvertedResidual):
    """:class:`InvertedResidual` whose residual add is a ``FloatFunctional``."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.skip_add = FloatFunctional()

    def forward(self, x):
        return self.skip_add.add(x, self.conv(x)) if self.use_res_connect else self.conv(x)

    def fuse_model(self, is_qat: bool | None = None) -> None:
        """The projection conv with its batch norm, in place."""
        for idx in range(len(self.conv)):
            if type(self.conv[idx]) is nn.Conv2d:
                _fuse_modules(self.conv, [str(idx), str(idx + 1)], is_qat, inplace=True)


class QuantizableMobileNetV2(_Stubbed, MobileNetV2):
    """:class:`MobileNetV2` between a QuantStub and a DeQuantStub."""

    def fuse_model(self, is_qat: bool | None = None) -> None:
        """Fuse every conv-bn-relu and the blocks' conv-bn, in place."""
        for m in self.modules():
            if type(m) is Conv2dNormActivation:
                _fuse_modules(m, ["0", "1", "2"], is_qat, inplace=True)
            if type(m) is QuantizableInvertedResidual:
                m.fuse_model(is_qat)


MobileNet_V2_QuantizedWeights = weights_enum(
    "MobileNet_V2_QuantizedWeights", ("IMAGENET1K_QNNPACK_V1",)
)


@register_model(MobileNet_V2_QuantizedWeights, name="quantized_mobilenet_v2")
def mobilenet_v2(*, weights=None, progress: bool = True, quantize: bool = False, **kwargs):
    """Quantizable MobileNetV2; ``quantize=True`` returns it quantized (int8, qnnpack)."""
    kwargs.setdefault("backend", "qnnpack")

    def build(**kw):
        return QuantizableMobileNetV2(block=QuantizableInvertedResidual, **kw)

    return _quantizable("mobilenet_v2", weights, quantize, kwargs, build)
