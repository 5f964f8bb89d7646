"""torchvision's quantizable Inception v3 (``torchvision.models.quantization.inception``): its
conv-bn blocks with ReLU modules (fused by ``fuse_model``), every concatenation through a
``FloatFunctional``, a QuantStub after the input transform and a DeQuantStub on the output."""

from __future__ import annotations

from minigrad.ao.nn.quantized import FloatFunctional

from .. import inception as inception_module
from .._api import register_model
from .._weights import weights_enum
from .googlenet import QuantizableBasicConv2d
from .utils import _quantizable, _Stubbed

__all__ = ["QuantizableInception3", "Inception_V3_QuantizedWeights", "inception_v3"]


def _joined(base):
    """``base`` (an Inception block) built of quantizable convs, its branches joined by a
    ``FloatFunctional`` named ``myop`` (torchvision's name)."""

    class Quantizable(base):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, conv_block=QuantizableBasicConv2d, **kwargs)
            self.myop = FloatFunctional()

        def forward(self, x):
            return self.myop.cat(self._forward(x), 1)

    Quantizable.__name__ = Quantizable.__qualname__ = f"Quantizable{base.__name__}"
    Quantizable.__doc__ = f":class:`{base.__name__}` joined by a ``FloatFunctional``."
    return Quantizable


QuantizableInceptionA = _joined(inception_module.InceptionA)
QuantizableInceptionB = _joined(inception_module.InceptionB)
QuantizableInceptionC = _joined(inception_module.InceptionC)
QuantizableInceptionD = _joined(inception_module.InceptionD)


class QuantizableInceptionE(inception_module.InceptionE):
    """:class:`InceptionE` with its three concatenations through ``FloatFunctional``s."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, conv_block=QuantizableBasicConv2d, **kwargs)
        self.myop1 = FloatFunctional()
        self.myop2 = FloatFunctional()
        self.myop3 = FloatFunctional()

    def _forward(self, x) -> list:
        b3 = self.branch3x3_1(x)
        b3 = self.myop1.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
        d3 = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        d3 = self.myop2.cat([self.branch3x3dbl_3a(d3), self.branch3x3dbl_3b(d3)], 1)
        return [self.branch1x1(x), b3, d3, self.branch_pool(inception_module._pool3(x))]

    def forward(self, x):
        return self.myop3.cat(self._forward(x), 1)


class QuantizableInceptionAux(inception_module.InceptionAux):
    """:class:`InceptionAux` of quantizable convs."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, conv_block=QuantizableBasicConv2d, **kwargs)


class QuantizableInception3(_Stubbed, inception_module.Inception3):
    """:class:`Inception3` with a QuantStub after the input transform and a DeQuantStub on
    the main output."""

    def __init__(self, *args, **kwargs) -> None:
        blocks = [
            QuantizableBasicConv2d, QuantizableInceptionA, QuantizableInceptionB,
            QuantizableInceptionC, QuantizableInceptionD, QuantizableInceptionE,
            QuantizableInceptionAux,
        ]  # fmt: skip
        super().__init__(*args, inception_blocks=blocks, **kwargs)

    def forward(self, x):
        x, aux = self._forward(self.quant(self._transform_input(x)))
        return self.eager_outputs(self.dequant(x), aux)

    def fuse_model(self, is_qat: bool | None = None) -> None:
        """Fuse every conv-bn-relu, in place."""
        for m in self.modules():
            if type(m) is QuantizableBasicConv2d:
                m.fuse_model(is_qat)


Inception_V3_QuantizedWeights = weights_enum(
    "Inception_V3_QuantizedWeights", ("IMAGENET1K_FBGEMM_V1",)
)


@register_model(Inception_V3_QuantizedWeights, name="quantized_inception_v3")
def inception_v3(*, weights=None, progress: bool = True, quantize: bool = False, **kwargs):
    """Quantizable Inception v3; ``quantize=True`` returns it quantized (int8, fbgemm)."""
    return _quantizable("inception_v3", weights, quantize, kwargs, QuantizableInception3)
