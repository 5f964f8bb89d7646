"""torchvision's ResNet family (``resnet18`` ... ``resnet152``, ResNeXt, Wide ResNet) on
minigrad's ``nn``, with torchvision's module names, so ``state_dict()`` keys and shapes match
and a state dict saved by PyTorch loads; and with its initialisation (He-normal convolutions in
``fan_out`` mode, batch norms at weight 1 and bias 0, optionally zero-initialised residual
branches)."""

from __future__ import annotations

from collections.abc import Callable

import minigrad
from minigrad import nn

from ._api import register_model
from ._weights import check_no_weights, weights_enum

__all__ = [
    "ResNet",
    "BasicBlock",
    "Bottleneck",
    "resnet18",
    "resnet34",
    "resnet50",
    "resnet101",
    "resnet152",
    "resnext50_32x4d",
    "resnext101_32x8d",
    "resnext101_64x4d",
    "wide_resnet50_2",
    "wide_resnet101_2",
    "ResNet18_Weights",
    "ResNet34_Weights",
    "ResNet50_Weights",
    "ResNet101_Weights",
    "ResNet152_Weights",
    "ResNeXt50_32X4D_Weights",
    "ResNeXt101_32X8D_Weights",
    "ResNeXt101_64X4D_Weights",
    "Wide_ResNet50_2_Weights",
    "Wide_ResNet101_2_Weights",
]


def conv3x3(in_planes: int, out_planes: int, stride: int = 1, groups: int = 1, dilation: int = 1):
    """A bias-free 3×3 convolution padded to keep the size (before the stride)."""
    return nn.Conv2d(
        in_planes,
        out_planes,
        kernel_size=3,
        stride=stride,
        padding=dilation,
        groups=groups,
        bias=False,
        dilation=dilation,
    )


def conv1x1(in_planes: int, out_planes: int, stride: int = 1):
    """A bias-free 1×1 convolution (channel mixing, or the strided shortcut)."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3×3 convolutions with a residual connection (ResNet-18/34)."""

    expansion: int = 1

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int = 1,
        downsample: nn.Module | None = None,
        groups: int = 1,
        base_width: int = 64,
        dilation: int = 1,
        norm_layer: Callable[..., nn.Module] | None = None,
    ) -> None:
        super().__init__()
        norm_layer = norm_layer or nn.BatchNorm2d
        if groups != 1 or base_width != 64:
            raise ValueError("BasicBlock only supports groups=1 and base_width=64")
        if dilation > 1:
            raise NotImplementedError("Dilation > 1 not supported in BasicBlock")
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = norm_layer(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = norm_layer(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """1×1 reduce, 3×3 (strided, grouped), 1×1 expand by 4, with a residual connection
    (ResNet-50 and up; the stride sits on the 3×3 as in torchvision's "ResNet V1.5")."""

    expansion: int = 4

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int = 1,
        downsample: nn.Module | None = None,
        groups: int = 1,
        base_width: int = 64,
        dilation: int = 1,
        norm_layer: Callable[..., nn.Module] | None = None,
    ) -> None:
        super().__init__()
        norm_layer = norm_layer or nn.BatchNorm2d
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = norm_layer(width)
        self.conv2 = conv3x3(width, width, stride, groups, dilation)
        self.bn2 = norm_layer(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = norm_layer(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


class ResNet(nn.Module):
    """The stem (7×7 stride-2 convolution, batch norm, ReLU, 3×3 max pool), four stages of
    ``block`` (64, 128, 256, 512 planes; stages 2–4 halve the size, or dilate instead where
    ``replace_stride_with_dilation`` says), global average pooling and a linear classifier."""

    def __init__(
        self,
        block: type[BasicBlock] | type[Bottleneck],
        layers: list[int],
        num_classes: int = 1000,
        zero_init_residual: bool = False,
        groups: int = 1,
        width_per_group: int = 64,
        replace_stride_with_dilation: list[bool] | None = None,
        norm_layer: Callable[..., nn.Module] | None = None,
    ) -> None:
        super().__init__()
        self._norm_layer = norm_layer or nn.BatchNorm2d
        self.inplanes = 64
        self.dilation = 1
        if replace_stride_with_dilation is None:
            replace_stride_with_dilation = [False, False, False]
        if len(replace_stride_with_dilation) != 3:
            raise ValueError(
                "replace_stride_with_dilation should be None or a 3-element tuple, "
                f"got {replace_stride_with_dilation}"
            )
        self.groups = groups
        self.base_width = width_per_group
        self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = self._norm_layer(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        dilate = replace_stride_with_dilation
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2, dilate=dilate[0])
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2, dilate=dilate[1])
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2, dilate=dilate[2])
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)
        self._init_weights(zero_init_residual)

    def _init_weights(self, zero_init_residual: bool) -> None:
        """torchvision's scheme; ``zero_init_residual`` starts each block as the identity."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, Bottleneck) and m.bn3.weight is not None:
                    nn.init.constant_(m.bn3.weight, 0)
                elif isinstance(m, BasicBlock) and m.bn2.weight is not None:
                    nn.init.constant_(m.bn2.weight, 0)

    def _make_layer(self, block, planes: int, blocks: int, stride: int = 1, dilate: bool = False):
        """One stage: the first block changes size/width (with a 1×1 shortcut when needed)."""
        norm_layer = self._norm_layer
        previous_dilation = self.dilation
        if dilate:
            self.dilation *= stride
            stride = 1
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                conv1x1(self.inplanes, planes * block.expansion, stride),
                norm_layer(planes * block.expansion),
            )
        shared = {"groups": self.groups, "base_width": self.base_width, "norm_layer": norm_layer}
        layers = [
            block(self.inplanes, planes, stride, downsample, dilation=previous_dilation, **shared)
        ]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes, dilation=self.dilation, **shared))
        return nn.Sequential(*layers)

    def _forward_impl(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(minigrad.flatten(self.avgpool(x), 1))

    def forward(self, x):
        return self._forward_impl(x)


ResNet18_Weights = weights_enum("ResNet18_Weights", ("IMAGENET1K_V1",))
ResNet34_Weights = weights_enum("ResNet34_Weights", ("IMAGENET1K_V1",))
ResNet50_Weights = weights_enum("ResNet50_Weights", ("IMAGENET1K_V1", "IMAGENET1K_V2"))
ResNet101_Weights = weights_enum("ResNet101_Weights", ("IMAGENET1K_V1", "IMAGENET1K_V2"))
ResNet152_Weights = weights_enum("ResNet152_Weights", ("IMAGENET1K_V1", "IMAGENET1K_V2"))
ResNeXt50_32X4D_Weights = weights_enum(
    "ResNeXt50_32X4D_Weights", ("IMAGENET1K_V1", "IMAGENET1K_V2")
)
ResNeXt101_32X8D_Weights = weights_enum(
    "ResNeXt101_32X8D_Weights", ("IMAGENET1K_V1", "IMAGENET1K_V2")
)
ResNeXt101_64X4D_Weights = weights_enum("ResNeXt101_64X4D_Weights", ("IMAGENET1K_V1",))
Wide_ResNet50_2_Weights = weights_enum(
    "Wide_ResNet50_2_Weights", ("IMAGENET1K_V1", "IMAGENET1K_V2")
)
Wide_ResNet101_2_Weights = weights_enum(
    "Wide_ResNet101_2_Weights", ("IMAGENET1K_V1", "IMAGENET1K_V2")
)


def _resnet(name, block, layers, weights, kwargs, **defaults) -> ResNet:
    check_no_weights(name, weights, kwargs)
    kwargs.pop("progress", None)
    return ResNet(block, layers, **{**defaults, **kwargs})


@register_model(ResNet18_Weights)
def resnet18(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    """ResNet-18 (11.7 M parameters)."""
    return _resnet("resnet18", BasicBlock, [2, 2, 2, 2], weights, kwargs)


@register_model(ResNet34_Weights)
def resnet34(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    """ResNet-34 (21.8 M parameters)."""
    return _resnet("resnet34", BasicBlock, [3, 4, 6, 3], weights, kwargs)


@register_model(ResNet50_Weights)
def resnet50(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    """ResNet-50 (25.6 M parameters)."""
    return _resnet("resnet50", Bottleneck, [3, 4, 6, 3], weights, kwargs)


@register_model(ResNet101_Weights)
def resnet101(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    """ResNet-101 (44.5 M parameters)."""
    return _resnet("resnet101", Bottleneck, [3, 4, 23, 3], weights, kwargs)


@register_model(ResNet152_Weights)
def resnet152(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    """ResNet-152 (60.2 M parameters)."""
    return _resnet("resnet152", Bottleneck, [3, 8, 36, 3], weights, kwargs)


@register_model(ResNeXt50_32X4D_Weights)
def resnext50_32x4d(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    """ResNeXt-50 32×4d: bottlenecks with 32 groups of width 4."""
    return _resnet(
        "resnext50_32x4d", Bottleneck, [3, 4, 6, 3], weights, kwargs, groups=32, width_per_group=4
    )


@register_model(ResNeXt101_32X8D_Weights)
def resnext101_32x8d(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    """ResNeXt-101 32×8d."""
    return _resnet(
        "resnext101_32x8d", Bottleneck, [3, 4, 23, 3], weights, kwargs, groups=32, width_per_group=8
    )


@register_model(ResNeXt101_64X4D_Weights)
def resnext101_64x4d(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    """ResNeXt-101 64×4d."""
    return _resnet(
        "resnext101_64x4d", Bottleneck, [3, 4, 23, 3], weights, kwargs, groups=64, width_per_group=4
    )


@register_model(Wide_ResNet50_2_Weights)
def wide_resnet50_2(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    """Wide ResNet-50-2: bottlenecks twice as wide inside."""
    return _resnet(
        "wide_resnet50_2", Bottleneck, [3, 4, 6, 3], weights, kwargs, width_per_group=128
    )


@register_model(Wide_ResNet101_2_Weights)
def wide_resnet101_2(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    """Wide ResNet-101-2."""
    return _resnet(
        "wide_resnet101_2", Bottleneck, [3, 4, 23, 3], weights, kwargs, width_per_group=128
    )
