"""torchvision's SqueezeNet 1.0 and 1.1 (Iandola et al. 2016) on minigrad's ``nn``: Fire
modules (1×1 squeeze, then 1×1 and 3×3 expansions concatenated) and a convolutional classifier;
torchvision's module names and initialisation."""

from __future__ import annotations

import minigrad
from minigrad import nn

from ._api import register_model
from ._weights import check_no_weights, weights_enum

__all__ = [
    "SqueezeNet",
    "SqueezeNet1_0_Weights",
    "SqueezeNet1_1_Weights",
    "squeezenet1_0",
    "squeezenet1_1",
]


class Fire(nn.Module):
    """Squeeze to ``squeeze_planes`` (1×1, ReLU), then 1×1 and 3×3 expansions (ReLU) side by
    side."""

    def __init__(
        self, inplanes: int, squeeze_planes: int, expand1x1_planes: int, expand3x3_planes: int
    ) -> None:
        super().__init__()
        self.inplanes = inplanes
        self.squeeze = nn.Conv2d(inplanes, squeeze_planes, kernel_size=1)
        self.squeeze_activation = nn.ReLU(inplace=True)
        self.expand1x1 = nn.Conv2d(squeeze_planes, expand1x1_planes, kernel_size=1)
        self.expand1x1_activation = nn.ReLU(inplace=True)
        self.expand3x3 = nn.Conv2d(squeeze_planes, expand3x3_planes, kernel_size=3, padding=1)
        self.expand3x3_activation = nn.ReLU(inplace=True)

    def forward(self, x):
        x = self.squeeze_activation(self.squeeze(x))
        return minigrad.cat(
            [
                self.expand1x1_activation(self.expand1x1(x)),
                self.expand3x3_activation(self.expand3x3(x)),
            ],
            1,
        )


def _pool() -> nn.MaxPool2d:
    return nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True)


def _features(version: str) -> list[nn.Module]:
    if version == "1_0":
        return [
            nn.Conv2d(3, 96, kernel_size=7, stride=2),
            nn.ReLU(inplace=True),
            _pool(),
            Fire(96, 16, 64, 64),
            Fire(128, 16, 64, 64),
            Fire(128, 32, 128, 128),
            _pool(),
            Fire(256, 32, 128, 128),
            Fire(256, 48, 192, 192),
            Fire(384, 48, 192, 192),
            Fire(384, 64, 256, 256),
            _pool(),
            Fire(512, 64, 256, 256),
        ]
    if version == "1_1":
        return [
            nn.Conv2d(3, 64, kernel_size=3, stride=2),
            nn.ReLU(inplace=True),
            _pool(),
            Fire(64, 16, 64, 64),
            Fire(128, 16, 64, 64),
            _pool(),
            Fire(128, 32, 128, 128),
            Fire(256, 32, 128, 128),
            _pool(),
            Fire(256, 48, 192, 192),
            Fire(384, 48, 192, 192),
            Fire(384, 64, 256, 256),
            Fire(512, 64, 256, 256),
        ]
    raise ValueError(f"Unsupported SqueezeNet version {version}: 1_0 or 1_1 expected")


class SqueezeNet(nn.Module):
    """The Fire stack of ``version`` ("1_0" or "1_1"), then dropout, a 1×1 convolution to
    ``num_classes`` (ReLU) and global average pooling. Convolutions start He-uniform, the last
    N(0, 0.01); biases zero."""

    def __init__(self, version: str = "1_0", num_classes: int = 1000, dropout: float = 0.5) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.features = nn.Sequential(*_features(version))
        final_conv = nn.Conv2d(512, num_classes, kernel_size=1)
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout), final_conv, nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d((1, 1))
        )
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                if m is final_conv:
                    nn.init.normal_(m.weight, mean=0.0, std=0.01)
                else:
                    nn.init.kaiming_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.constant_(m.bias, 0)

    def forward(self, x):
        return minigrad.flatten(self.classifier(self.features(x)), 1)


SqueezeNet1_0_Weights = weights_enum("SqueezeNet1_0_Weights", ("IMAGENET1K_V1",))
SqueezeNet1_1_Weights = weights_enum("SqueezeNet1_1_Weights", ("IMAGENET1K_V1",))


@register_model(SqueezeNet1_0_Weights)
def squeezenet1_0(*, weights=None, progress: bool = True, **kwargs) -> SqueezeNet:
    """SqueezeNet 1.0 (1.2 M parameters)."""
    check_no_weights("squeezenet1_0", weights, kwargs)
    return SqueezeNet("1_0", **kwargs)


@register_model(SqueezeNet1_1_Weights)
def squeezenet1_1(*, weights=None, progress: bool = True, **kwargs) -> SqueezeNet:
    """SqueezeNet 1.1 (1.2 M parameters, 2.4× less computation than 1.0)."""
    check_no_weights("squeezenet1_1", weights, kwargs)
    return SqueezeNet("1_1", **kwargs)
