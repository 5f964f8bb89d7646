"""torchvision's quantizable ResNets (``torchvision.models.quantization.resnet``): the float
ResNet with a QuantStub/DeQuantStub around it, residual adds through ``FloatFunctional.
add_relu`` and ``fuse_model`` (conv-bn-relu), so eager-mode quantization can observe and swap
every layer; ``quantize=True`` returns the converted (int8) model."""

from __future__ import annotations

from minigrad import nn
from minigrad.ao.nn.quantized import FloatFunctional

from .._api import register_model
from .._weights import weights_enum
from ..resnet import BasicBlock, Bottleneck, ResNet
from .utils import _fuse_modules, _quantizable, _Stubbed

__all__ = [
    "QuantizableResNet",
    "ResNet18_QuantizedWeights",
    "ResNet50_QuantizedWeights",
    "ResNeXt101_32X8D_QuantizedWeights",
    "ResNeXt101_64X4D_QuantizedWeights",
    "resnet18",
    "resnet50",
    "resnext101_32x8d",
    "resnext101_64x4d",
]


class QuantizableBasicBlock(BasicBlock):
    """:class:`BasicBlock` whose residual add-and-ReLU is a ``FloatFunctional``."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.add_relu = FloatFunctional()

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.add_relu.add_relu(out, identity)

    def fuse_model(self, is_qat: bool | None = None) -> None:
        """conv1-bn1-relu, conv2-bn2 and the downsample's conv-bn, in place."""
        _fuse_modules(self, [["conv1", "bn1", "relu"], ["conv2", "bn2"]], is_qat, inplace=True)
        if self.downsample:
            _fuse_modules(self.downsample, ["0", "1"], is_qat, inplace=True)


class QuantizableBottleneck(Bottleneck):
    """:class:`Bottleneck` with one ReLU per conv (each fuses with its own) and the residual
    add-and-ReLU as a ``FloatFunctional``."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.skip_add_relu = FloatFunctional()
        self.relu1 = nn.ReLU(inplace=False)
        self.relu2 = nn.ReLU(inplace=False)

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu1(self.bn1(self.conv1(x)))
        out = self.relu2(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.skip_add_relu.add_relu(out, identity)

    def fuse_model(self, is_qat: bool | None = None) -> None:
        """conv1-bn1-relu1, conv2-bn2-relu2, conv3-bn3 and the downsample's conv-bn."""
        groups = [["conv1", "bn1", "relu1"], ["conv2", "bn2", "relu2"], ["conv3", "bn3"]]
        _fuse_modules(self, groups, is_qat, inplace=True)
        if self.downsample:
            _fuse_modules(self.downsample, ["0", "1"], is_qat, inplace=True)


class QuantizableResNet(_Stubbed, ResNet):
    """:class:`ResNet` between a QuantStub and a DeQuantStub."""

    def fuse_model(self, is_qat: bool | None = None) -> None:
        """Fuse conv-bn-relu / conv-bn in the stem and every block, in place (the numbers do
        not change; the model stays float)."""
        _fuse_modules(self, ["conv1", "bn1", "relu"], is_qat, inplace=True)
        for m in self.modules():
            if type(m) is QuantizableBottleneck or type(m) is QuantizableBasicBlock:
                m.fuse_model(is_qat)


ResNet18_QuantizedWeights = weights_enum("ResNet18_QuantizedWeights", ("IMAGENET1K_FBGEMM_V1",))
ResNet50_QuantizedWeights = weights_enum(
    "ResNet50_QuantizedWeights", ("IMAGENET1K_FBGEMM_V1", "IMAGENET1K_FBGEMM_V2")
)
ResNeXt101_32X8D_QuantizedWeights = weights_enum(
    "ResNeXt101_32X8D_QuantizedWeights", ("IMAGENET1K_FBGEMM_V1", "IMAGENET1K_FBGEMM_V2")
)
ResNeXt101_64X4D_QuantizedWeights = weights_enum(
    "ResNeXt101_64X4D_QuantizedWeights", ("IMAGENET1K_FBGEMM_V1",)
)


def _resnet(name, block, layers, weights, quantize, kwargs, **defaults):
    def build(**kw):
        return QuantizableResNet(block, layers, **{**defaults, **kw})

    return _quantizable(name, weights, quantize, kwargs, build)


@register_model(ResNet18_QuantizedWeights, name="quantized_resnet18")
def resnet18(*, weights=None, progress: bool = True, quantize: bool = False, **kwargs):
    """Quantizable ResNet-18; ``quantize=True`` returns it quantized (int8, fbgemm)."""
    return _resnet("resnet18", QuantizableBasicBlock, [2, 2, 2, 2], weights, quantize, kwargs)


@register_model(ResNet50_QuantizedWeights, name="quantized_resnet50")
def resnet50(*, weights=None, progress: bool = True, quantize: bool = False, **kwargs):
    """Quantizable ResNet-50; ``quantize=True`` returns it quantized (int8, fbgemm)."""
    return _resnet("resnet50", QuantizableBottleneck, [3, 4, 6, 3], weights, quantize, kwargs)


@register_model(ResNeXt101_32X8D_QuantizedWeights, name="quantized_resnext101_32x8d")
def resnext101_32x8d(*, weights=None, progress: bool = True, quantize: bool = False, **kwargs):
    """Quantizable ResNeXt-101 32×8d."""
    return _resnet(
        "resnext101_32x8d", QuantizableBottleneck, [3, 4, 23, 3], weights, quantize, kwargs,
        groups=32, width_per_group=8,
    )  # fmt: skip


@register_model(ResNeXt101_64X4D_QuantizedWeights, name="quantized_resnext101_64x4d")
def resnext101_64x4d(*, weights=None, progress: bool = True, quantize: bool = False, **kwargs):
    """Quantizable ResNeXt-101 64×4d."""
    return _resnet(
        "resnext101_64x4d", QuantizableBottleneck, [3, 4, 23, 3], weights, quantize, kwargs,
        groups=64, width_per_group=4,
    )  # fmt: skip
