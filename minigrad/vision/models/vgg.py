"""torchvision's VGG networks (``vgg11`` ... ``vgg19``, with and without batch norm) on
minigrad's ``nn``: the same ``features`` / ``avgpool`` / ``classifier`` layout, so state-dict
keys and shapes match torchvision's, and the same initialisation."""

from __future__ import annotations

import minigrad
from minigrad import nn

from ._api import register_model
from ._weights import check_no_weights, weights_enum

__all__ = ["VGG"]

# The convolution widths of each configuration of the VGG paper ("M": a 2×2 max pool).
cfgs: dict[str, list[str | int]] = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M"]
    + [512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}


class VGG(nn.Module):
    """``features`` (the convolutions), a 7×7 adaptive average pool and a three-layer
    classifier with dropout."""

    def __init__(
        self, features: nn.Module, num_classes: int = 1000, init_weights: bool = True, dropout=0.5
    ) -> None:
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096),
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes),
        )
        if init_weights:
            self._init_weights()

    def _init_weights(self) -> None:
        """He-normal (fan_out) convolutions, unit batch norms, N(0, 0.01) linear layers; all
        biases zero."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.constant_(m.bias, 0)

    def forward(self, x):
        return self.classifier(minigrad.flatten(self.avgpool(self.features(x)), 1))


def make_layers(cfg: list[str | int], batch_norm: bool = False) -> nn.Sequential:
    """The ``features`` stack of a configuration: 3×3 convolutions (each followed by batch norm
    when asked, and ReLU) and max pools."""
    layers: list[nn.Module] = []
    in_channels = 3
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        layers.append(nn.Conv2d(in_channels, v, kernel_size=3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(v))
        layers.append(nn.ReLU(inplace=True))
        in_channels = v
    return nn.Sequential(*layers)


def _define(name: str, cfg: str, batch_norm: bool, weights_name: str, versions=("IMAGENET1K_V1",)):
    """Module-level builder ``name`` and its weights enum, as torchvision's."""

    def builder(*, weights=None, progress: bool = True, **kwargs) -> VGG:
        check_no_weights(name, weights, kwargs)
        return VGG(make_layers(cfgs[cfg], batch_norm=batch_norm), **kwargs)

    layers = {"A": 11, "B": 13, "D": 16, "E": 19}[cfg]
    builder.__name__ = builder.__qualname__ = name
    builder.__doc__ = (
        f"VGG-{layers} (configuration {cfg}){' with batch norm' if batch_norm else ''}."
    )
    weights_cls = weights_enum(weights_name, versions, default="IMAGENET1K_V1")
    globals()[name] = register_model(weights_cls)(builder)
    globals()[weights_name] = weights_cls
    __all__.extend([name, weights_name])


_define("vgg11", "A", False, "VGG11_Weights")
_define("vgg11_bn", "A", True, "VGG11_BN_Weights")
_define("vgg13", "B", False, "VGG13_Weights")
_define("vgg13_bn", "B", True, "VGG13_BN_Weights")
_define("vgg16", "D", False, "VGG16_Weights", ("IMAGENET1K_V1", "IMAGENET1K_FEATURES"))
_define("vgg16_bn", "D", True, "VGG16_BN_Weights")
_define("vgg19", "E", False, "VGG19_Weights")
_define("vgg19_bn", "E", True, "VGG19_BN_Weights")
