"""torchvision's quantizable GoogLeNet (``torchvision.models.quantization.googlenet``): conv-bn
blocks with their own ReLU modules (fused by ``fuse_model``), the Inception branches joined by
``FloatFunctional.cat``, a QuantStub after the input transform and a DeQuantStub before the
outputs."""

from __future__ import annotations

import minigrad
from minigrad import nn
from minigrad.ao.nn.quantized import FloatFunctional
from minigrad.nn import functional as F

from .._api import register_model
from .._weights import weights_enum
from ..googlenet import BasicConv2d, GoogLeNet, Inception, InceptionAux
from .utils import _fuse_modules, _quantizable, _Stubbed

__all__ = ["QuantizableGoogLeNet", "GoogLeNet_QuantizedWeights", "googlenet"]


class QuantizableBasicConv2d(BasicConv2d):
    """:class:`BasicConv2d` with its ReLU as a module, so that conv-bn-relu fuse."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.relu(self.bn(self.conv(x)))

    def fuse_model(self, is_qat: bool | None = None) -> None:
        """conv-bn-relu, in place."""
        _fuse_modules(self, ["conv", "bn", "relu"], is_qat, inplace=True)


class QuantizableInception(Inception):
    """:class:`Inception` whose branches are joined by a ``FloatFunctional``."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, conv_block=QuantizableBasicConv2d, **kwargs)
        self.cat = FloatFunctional()

    def forward(self, x):
        return self.cat.cat(self._forward(x), 1)


class QuantizableInceptionAux(InceptionAux):
    """:class:`InceptionAux` with its ReLU as a module."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, conv_block=QuantizableBasicConv2d, **kwargs)
        self.relu = nn.ReLU()

    def forward(self, x):
        x = minigrad.flatten(self.conv(F.adaptive_avg_pool2d(x, (4, 4))), 1)
        return self.fc2(self.dropout(self.relu(self.fc1(x))))


class QuantizableGoogLeNet(_Stubbed, GoogLeNet):
    """:class:`GoogLeNet` with a QuantStub after the input transform and a DeQuantStub on
    the main output."""

    def __init__(self, *args, **kwargs) -> None:
        blocks = [QuantizableBasicConv2d, QuantizableInception, QuantizableInceptionAux]
        super().__init__(*args, blocks=blocks, **kwargs)

    def forward(self, x):
        x, aux2, aux1 = self._forward(self.quant(self._transform_input(x)))
        return self.eager_outputs(self.dequant(x), aux2, aux1)

    def fuse_model(self, is_qat: bool | None = None) -> None:
        """Fuse every conv-bn-relu, in place."""
        for m in self.modules():
            if type(m) is QuantizableBasicConv2d:
                m.fuse_model(is_qat)


GoogLeNet_QuantizedWeights = weights_enum("GoogLeNet_QuantizedWeights", ("IMAGENET1K_FBGEMM_V1",))


@register_model(GoogLeNet_QuantizedWeights, name="quantized_googlenet")
def googlenet(*, weights=None, progress: bool = True, quantize: bool = False, **kwargs):
    """Quantizable GoogLeNet; ``quantize=True`` returns it quantized (int8, fbgemm)."""
    return _quantizable("googlenet", weights, quantize, kwargs, QuantizableGoogLeNet)
