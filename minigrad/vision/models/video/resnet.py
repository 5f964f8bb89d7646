"""torchvision's video ResNets (Tran et al., 2018): ``r3d_18`` (3-D convolutions throughout),
``mc3_18`` (3-D in the stem and first stage, spatial-only after) and ``r2plus1d_18`` (each 3-D
convolution factored into a spatial 1×3×3 and a temporal 3×1×1 one), over clips of shape
(N, 3, T, H, W), with torchvision's module names, initialisation and parameter counts."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from minigrad import nn

from .._api import register_model
from .._weights import check_no_weights, weights_enum

__all__ = [
    "VideoResNet",
    "R3D_18_Weights",
    "MC3_18_Weights",
    "R2Plus1D_18_Weights",
    "r3d_18",
    "mc3_18",
    "r2plus1d_18",
]


class Conv3DSimple(nn.Conv3d):
    """A bias-free 3×3×3 convolution (``midplanes`` unused: the builders' common signature)."""

    def __init__(self, in_planes, out_planes, midplanes=None, stride=1, padding=1) -> None:
        super().__init__(in_planes, out_planes, (3, 3, 3), stride, padding, bias=False)

    @staticmethod
    def get_downsample_stride(stride: int) -> tuple[int, int, int]:
        return stride, stride, stride


class Conv2Plus1D(nn.Sequential):
    """A (2+1)-D convolution: 1×3×3 to ``midplanes`` channels, batch norm, ReLU, then 3×1×1
    (the stride split between space and time)."""

    def __init__(self, in_planes, out_planes, midplanes, stride=1, padding=1) -> None:
        super().__init__(
            nn.Conv3d(
                in_planes,
                midplanes,
                (1, 3, 3),
                (1, stride, stride),
                (0, padding, padding),
                bias=False,
            ),
            nn.BatchNorm3d(midplanes),
            nn.ReLU(inplace=True),
            nn.Conv3d(
                midplanes, out_planes, (3, 1, 1), (stride, 1, 1), (padding, 0, 0), bias=False
            ),
        )

    @staticmethod
    def get_downsample_stride(stride: int) -> tuple[int, int, int]:
        return stride, stride, stride


class Conv3DNoTemporal(nn.Conv3d):
    """A bias-free 1×3×3 convolution: spatial only, frames kept apart (MC3's later stages)."""

    def __init__(self, in_planes, out_planes, midplanes=None, stride=1, padding=1) -> None:
        super().__init__(
            in_planes, out_planes, (1, 3, 3), (1, stride, stride), (0, padding, padding), bias=False
        )

    @staticmethod
    def get_downsample_stride(stride: int) -> tuple[int, int, int]:
        return 1, stride, stride


def _midplanes(inplanes: int, planes: int) -> int:
    """The (2+1)-D middle width giving as many parameters as a full 3×3×3 convolution."""
    return (inplanes * planes * 3 * 3 * 3) // (inplanes * 3 * 3 + 3 * planes)


class BasicBlock(nn.Module):
    """Two ``conv_builder`` convolutions with batch norms and a residual connection."""

    expansion = 1

    def __init__(self, inplanes, planes, conv_builder, stride=1, downsample=None) -> None:
        super().__init__()
        midplanes = _midplanes(inplanes, planes)
        self.conv1 = nn.Sequential(
            conv_builder(inplanes, planes, midplanes, stride),
            nn.BatchNorm3d(planes),
            nn.ReLU(inplace=True),
        )
        self.conv2 = nn.Sequential(conv_builder(planes, planes, midplanes), nn.BatchNorm3d(planes))
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        residual = x if self.downsample is None else self.downsample(x)
        return self.relu(self.conv2(self.conv1(x)) + residual)


class Bottleneck(nn.Module):
    """1×1×1 reduce, ``conv_builder`` (strided), 1×1×1 expand by 4, with a residual."""

    expansion = 4

    def __init__(self, inplanes, planes, conv_builder, stride=1, downsample=None) -> None:
        super().__init__()
        midplanes = _midplanes(inplanes, planes)
        self.conv1 = nn.Sequential(
            nn.Conv3d(inplanes, planes, kernel_size=1, bias=False),
            nn.BatchNorm3d(planes),
            nn.ReLU(inplace=True),
        )
        self.conv2 = nn.Sequential(
            conv_builder(planes, planes, midplanes, stride),
            nn.BatchNorm3d(planes),
            nn.ReLU(inplace=True),
        )
        self.conv3 = nn.Sequential(
            nn.Conv3d(planes, planes * self.expansion, kernel_size=1, bias=False),
            nn.BatchNorm3d(planes * self.expansion),
        )
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        residual = x if self.downsample is None else self.downsample(x)
        return self.relu(self.conv3(self.conv2(self.conv1(x))) + residual)


class BasicStem(nn.Sequential):
    """3×7×7 convolution (spatial stride 2), batch norm, ReLU."""

    def __init__(self) -> None:
        super().__init__(
            nn.Conv3d(3, 64, (3, 7, 7), (1, 2, 2), (1, 3, 3), bias=False),
            nn.BatchNorm3d(64),
            nn.ReLU(inplace=True),
        )


class R2Plus1dStem(nn.Sequential):
    """The stem factored: 1×7×7 to 45 channels, then 3×1×1 to 64, each with norm and ReLU."""

    def __init__(self) -> None:
        super().__init__(
            nn.Conv3d(3, 45, (1, 7, 7), (1, 2, 2), (0, 3, 3), bias=False),
            nn.BatchNorm3d(45),
            nn.ReLU(inplace=True),
            nn.Conv3d(45, 64, (3, 1, 1), (1, 1, 1), (1, 0, 0), bias=False),
            nn.BatchNorm3d(64),
            nn.ReLU(inplace=True),
        )


class VideoResNet(nn.Module):
    """``stem``, four stages of ``block`` (64, 128, 256, 512 planes; stages 2–4 stride 2, each
    with its own convolution maker from ``conv_makers``), global average pooling over time and
    space, and a linear classifier (400 Kinetics classes by default)."""

    def __init__(
        self,
        block: type[BasicBlock] | type[Bottleneck],
        conv_makers: Sequence[type],
        layers: list[int],
        stem: Callable[..., nn.Module],
        num_classes: int = 400,
        zero_init_residual: bool = False,
    ) -> None:
        super().__init__()
        self.inplanes = 64
        self.stem = stem()
        self.layer1 = self._make_layer(block, conv_makers[0], 64, layers[0], stride=1)
        self.layer2 = self._make_layer(block, conv_makers[1], 128, layers[1], stride=2)
        self.layer3 = self._make_layer(block, conv_makers[2], 256, layers[2], stride=2)
        self.layer4 = self._make_layer(block, conv_makers[3], 512, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool3d((1, 1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)
        self._init_weights(zero_init_residual)

    def _init_weights(self, zero_init_residual: bool) -> None:
        """torchvision's scheme; ``zero_init_residual`` zeroes each bottleneck's last norm
        (torchvision names it ``bn3``, which its video bottleneck lacks: ``conv3[1]`` here)."""
        for m in self.modules():
            if isinstance(m, nn.Conv3d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.BatchNorm3d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.constant_(m.bias, 0)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, Bottleneck):
                    nn.init.constant_(m.conv3[1].weight, 0)

    def _make_layer(self, block, conv_builder, planes: int, blocks: int, stride: int = 1):
        """One stage; the first block changes size/width, with a 1×1×1 shortcut when needed."""
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                nn.Conv3d(
                    self.inplanes,
                    planes * block.expansion,
                    kernel_size=1,
                    stride=conv_builder.get_downsample_stride(stride),
                    bias=False,
                ),
                nn.BatchNorm3d(planes * block.expansion),
            )
        layers = [block(self.inplanes, planes, conv_builder, stride, downsample)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes, conv_builder) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.layer4(self.layer3(self.layer2(self.layer1(self.stem(x)))))
        return self.fc(self.avgpool(x).flatten(1))


R3D_18_Weights = weights_enum("R3D_18_Weights", ("KINETICS400_V1",))
MC3_18_Weights = weights_enum("MC3_18_Weights", ("KINETICS400_V1",))
R2Plus1D_18_Weights = weights_enum("R2Plus1D_18_Weights", ("KINETICS400_V1",))


def _video_resnet(name, conv_makers, stem, weights, kwargs) -> VideoResNet:
    check_no_weights(name, weights, kwargs)
    kwargs.pop("progress", None)
    return VideoResNet(BasicBlock, conv_makers, [2, 2, 2, 2], stem, **kwargs)


@register_model(R3D_18_Weights)
def r3d_18(*, weights=None, progress: bool = True, **kwargs) -> VideoResNet:
    """R3D-18: an 18-layer ResNet of 3-D convolutions (33.4 M parameters)."""
    return _video_resnet("r3d_18", [Conv3DSimple] * 4, BasicStem, weights, kwargs)


@register_model(MC3_18_Weights)
def mc3_18(*, weights=None, progress: bool = True, **kwargs) -> VideoResNet:
    """MC3-18: 3-D convolutions in the first stage, spatial-only after (11.7 M parameters)."""
    makers = [Conv3DSimple] + [Conv3DNoTemporal] * 3
    return _video_resnet("mc3_18", makers, BasicStem, weights, kwargs)


@register_model(R2Plus1D_18_Weights)
def r2plus1d_18(*, weights=None, progress: bool = True, **kwargs) -> VideoResNet:
    """R(2+1)D-18: every 3-D convolution factored into space then time (31.5 M parameters)."""
    return _video_resnet("r2plus1d_18", [Conv2Plus1D] * 4, R2Plus1dStem, weights, kwargs)
