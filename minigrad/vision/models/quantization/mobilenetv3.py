"""torchvision's quantizable MobileNetV3 (``torchvision.models.quantization.mobilenetv3``):
squeeze-and-excitation gates through ``FloatFunctional.mul`` with a hard-sigmoid (whose
quantization-aware training uses the fixed [0, 1] grid, ``FixedQParamsFakeQuantize``), residual
adds through ``FloatFunctional``, conv-bn(-relu) and the gates' fc1-relu fused by ``fuse_model``.
``quantize=True`` follows torchvision's route for this model: fuse for QAT, the backend's QAT
qconfig, ``prepare_qat``, then ``convert`` with no calibration (torchvision loads QAT-trained
weights between the two; minigrad has none)."""

from __future__ import annotations

from minigrad import nn
from minigrad.ao import quantization as tq
from minigrad.ao.nn.quantized import FloatFunctional

from ...ops.misc import Conv2dNormActivation, SqueezeExcitation
from .._api import register_model
from .._weights import check_no_weights, weights_enum
from ..mobilenetv3 import InvertedResidual, MobileNetV3, _mobilenet_v3_conf
from .utils import _fuse_modules, _replace_relu, _Stubbed

__all__ = [
    "QuantizableMobileNetV3",
    "MobileNet_V3_Large_QuantizedWeights",
    "mobilenet_v3_large",
]


class QuantizableSqueezeExcitation(SqueezeExcitation):
    """:class:`SqueezeExcitation` with a hard-sigmoid gate applied by ``FloatFunctional.mul``."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs["scale_activation"] = nn.Hardsigmoid
        super().__init__(*args, **kwargs)
        self.skip_mul = FloatFunctional()

    def forward(self, input):
        return self.skip_mul.mul(self._scale(input), input)

    def fuse_model(self, is_qat: bool | None = None) -> None:
        """``fc1`` with its ReLU, in place."""
        _fuse_modules(self, ["fc1", "activation"], is_qat, inplace=True)


class QuantizableInvertedResidual(InvertedResidual):
    """:class:`InvertedResidual` with quantizable gates and a ``FloatFunctional`` residual add."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, se_layer=QuantizableSqueezeExcitation, **kwargs)
        self.skip_add = FloatFunctional()

    def forward(self, x):
        return self.skip_add.add(x, self.block(x)) if self.use_res_connect else self.block(x)


class QuantizableMobileNetV3(_Stubbed, MobileNetV3):
    """:class:`MobileNetV3` between a QuantStub and a DeQuantStub."""

    def fuse_model(self, is_qat: bool | None = None) -> None:
        """Fuse every conv-bn (with its ReLU, not a hard-swish) and each gate's fc1-relu."""
        for m in self.modules():
            if type(m) is Conv2dNormActivation:
                modules_to_fuse = ["0", "1"]
                if len(m) == 3 and type(m[2]) is nn.ReLU:
                    modules_to_fuse.append("2")
                _fuse_modules(m, modules_to_fuse, is_qat, inplace=True)
            elif type(m) is QuantizableSqueezeExcitation:
                m.fuse_model(is_qat)


def _mobilenet_v3_model(setting, last_channel, quantize: bool, kwargs: dict):
    """Build, swap ReLUs; with ``quantize``, torchvision's QAT route: ``fuse_model(is_qat=True)``,
    the backend's QAT qconfig, ``prepare_qat``, ``convert``, eval mode."""
    backend = kwargs.pop("backend", "qnnpack")
    model = QuantizableMobileNetV3(
        setting, last_channel, block=QuantizableInvertedResidual, **kwargs
    )
    _replace_relu(model)
    if quantize:
        model.fuse_model(is_qat=True)
        model.qconfig = tq.get_default_qat_qconfig(backend)
        tq.prepare_qat(model, inplace=True)
        tq.convert(model, inplace=True)
        model.eval()
    return model


MobileNet_V3_Large_QuantizedWeights = weights_enum(
    "MobileNet_V3_Large_QuantizedWeights", ("IMAGENET1K_QNNPACK_V1",)
)


@register_model(MobileNet_V3_Large_QuantizedWeights, name="quantized_mobilenet_v3_large")
def mobilenet_v3_large(*, weights=None, progress: bool = True, quantize: bool = False, **kwargs):
    """Quantizable MobileNetV3-Large; ``quantize=True`` returns it quantized (int8, qnnpack)
    by torchvision's QAT-then-convert route."""
    check_no_weights("quantization.mobilenet_v3_large", weights, kwargs)
    setting, last_channel = _mobilenet_v3_conf("mobilenet_v3_large", **kwargs)
    return _mobilenet_v3_model(setting, last_channel, quantize, kwargs)
