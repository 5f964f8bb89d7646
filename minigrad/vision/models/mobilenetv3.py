"""torchvision's MobileNetV3 (Howard et al. 2019) on minigrad's ``nn``: inverted residual
blocks with optional squeeze-and-excitation and hard-swish, the Large and Small settings of the
paper's Tables 1 and 2 (with torchvision's ``reduced_tail`` and ``dilated`` variants for
segmentation backbones), torchvision's module names and initialisation."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

import minigrad
from minigrad import nn

from ..ops.misc import Conv2dNormActivation, SqueezeExcitation
from ._api import register_model
from ._weights import check_no_weights, weights_enum
from .mobilenetv2 import _init_mobilenet, _make_divisible

__all__ = [
    "MobileNetV3",
    "MobileNet_V3_Large_Weights",
    "MobileNet_V3_Small_Weights",
    "mobilenet_v3_large",
    "mobilenet_v3_small",
]


class InvertedResidualConfig:
    """One row of the paper's tables: channels (scaled by ``width_mult``, rounded to 8),
    depthwise kernel, squeeze-and-excitation, activation (``"HS"`` hard-swish, ``"RE"`` ReLU),
    stride and dilation."""

    def __init__(
        self,
        input_channels: int,
        kernel: int,
        expanded_channels: int,
        out_channels: int,
        use_se: bool,
        activation: str,
        stride: int,
        dilation: int,
        width_mult: float,
    ) -> None:
        self.input_channels = self.adjust_channels(input_channels, width_mult)
        self.kernel = kernel
        self.expanded_channels = self.adjust_channels(expanded_channels, width_mult)
        self.out_channels = self.adjust_channels(out_channels, width_mult)
        self.use_se = use_se
        self.use_hs = activation == "HS"
        self.stride = stride
        self.dilation = dilation

    @staticmethod
    def adjust_channels(channels: int, width_mult: float) -> int:
        return _make_divisible(channels * width_mult, 8)


# MobileNetV3's squeeze-and-excitation gates with a hard sigmoid.
_HARD_SE = partial(SqueezeExcitation, scale_activation=nn.Hardsigmoid)


class InvertedResidual(nn.Module):
    """1×1 expansion (when the width changes), depthwise ``kernel`` convolution, optional
    squeeze-and-excitation (hard-sigmoid gate), linear 1×1 projection; residual when shapes
    match. A dilated block keeps stride 1."""

    def __init__(
        self,
        cnf: InvertedResidualConfig,
        norm_layer: Callable[..., nn.Module],
        se_layer: Callable[..., nn.Module] = _HARD_SE,
    ) -> None:
        super().__init__()
        if not (1 <= cnf.stride <= 2):
            raise ValueError("illegal stride value")
        self.use_res_connect = cnf.stride == 1 and cnf.input_channels == cnf.out_channels
        act = nn.Hardswish if cnf.use_hs else nn.ReLU
        layers: list[nn.Module] = []
        if cnf.expanded_channels != cnf.input_channels:
            layers.append(
                Conv2dNormActivation(
                    cnf.input_channels, cnf.expanded_channels, kernel_size=1,
                    norm_layer=norm_layer, activation_layer=act,
                )
            )  # fmt: skip
        layers.append(
            Conv2dNormActivation(
                cnf.expanded_channels, cnf.expanded_channels, kernel_size=cnf.kernel,
                stride=1 if cnf.dilation > 1 else cnf.stride, dilation=cnf.dilation,
                groups=cnf.expanded_channels, norm_layer=norm_layer, activation_layer=act,
            )
        )  # fmt: skip
        if cnf.use_se:
            squeeze = _make_divisible(cnf.expanded_channels // 4, 8)
            layers.append(se_layer(cnf.expanded_channels, squeeze))
        layers.append(
            Conv2dNormActivation(
                cnf.expanded_channels, cnf.out_channels, kernel_size=1,
                norm_layer=norm_layer, activation_layer=None,
            )
        )  # fmt: skip
        self.block = nn.Sequential(*layers)
        self.out_channels = cnf.out_channels
        self._is_cn = cnf.stride > 1

    def forward(self, x):
        out = self.block(x)
        return out + x if self.use_res_connect else out


class MobileNetV3(nn.Module):
    """A hard-swish stride-2 stem, the blocks of ``inverted_residual_setting``, a 1×1
    convolution to six times the last width, global average pooling and a two-layer classifier
    (``last_channel`` hidden units, hard-swish, dropout)."""

    def __init__(
        self,
        inverted_residual_setting: list[InvertedResidualConfig],
        last_channel: int,
        num_classes: int = 1000,
        block: Callable[..., nn.Module] | None = None,
        norm_layer: Callable[..., nn.Module] | None = None,
        dropout: float = 0.2,
        **kwargs,
    ) -> None:
        super().__init__()
        if not inverted_residual_setting:
            raise ValueError("The inverted_residual_setting should not be empty")
        if not (
            isinstance(inverted_residual_setting, Sequence)
            and all(isinstance(s, InvertedResidualConfig) for s in inverted_residual_setting)
        ):
            raise TypeError("The inverted_residual_setting should be List[InvertedResidualConfig]")
        block = block or InvertedResidual
        norm_layer = norm_layer or partial(nn.BatchNorm2d, eps=0.001, momentum=0.01)
        first = inverted_residual_setting[0].input_channels
        layers: list[nn.Module] = [
            Conv2dNormActivation(
                3, first, kernel_size=3, stride=2, norm_layer=norm_layer,
                activation_layer=nn.Hardswish,
            )
        ]  # fmt: skip
        layers += [block(cnf, norm_layer) for cnf in inverted_residual_setting]
        last_in = inverted_residual_setting[-1].out_channels
        last_out = 6 * last_in
        layers.append(
            Conv2dNormActivation(
                last_in, last_out, kernel_size=1, norm_layer=norm_layer,
                activation_layer=nn.Hardswish,
            )
        )  # fmt: skip
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(
            nn.Linear(last_out, last_channel),
            nn.Hardswish(inplace=True),
            nn.Dropout(p=dropout, inplace=True),
            nn.Linear(last_channel, num_classes),
        )
        _init_mobilenet(self)

    def _forward_impl(self, x):
        x = self.avgpool(self.features(x))
        return self.classifier(minigrad.flatten(x, 1))

    def forward(self, x):
        return self._forward_impl(x)


# input, kernel, expanded, output, SE, activation, stride; "/r": divided by 2 with reduced_tail.
_LARGE = [
    (16, 3, 16, 16, False, "RE", 1),
    (16, 3, 64, 24, False, "RE", 2),
    (24, 3, 72, 24, False, "RE", 1),
    (24, 5, 72, 40, True, "RE", 2),
    (40, 5, 120, 40, True, "RE", 1),
    (40, 5, 120, 40, True, "RE", 1),
    (40, 3, 240, 80, False, "HS", 2),
    (80, 3, 200, 80, False, "HS", 1),
    (80, 3, 184, 80, False, "HS", 1),
    (80, 3, 184, 80, False, "HS", 1),
    (80, 3, 480, 112, True, "HS", 1),
    (112, 3, 672, 112, True, "HS", 1),
    (112, 5, 672, "160/r", True, "HS", 2),
    ("160/r", 5, "960/r", "160/r", True, "HS", 1),
    ("160/r", 5, "960/r", "160/r", True, "HS", 1),
]
_SMALL = [
    (16, 3, 16, 16, True, "RE", 2),
    (16, 3, 72, 24, False, "RE", 2),
    (24, 3, 88, 24, False, "RE", 1),
    (24, 5, 96, 40, True, "HS", 2),
    (40, 5, 240, 40, True, "HS", 1),
    (40, 5, 240, 40, True, "HS", 1),
    (40, 5, 120, 48, True, "HS", 1),
    (48, 5, 144, 48, True, "HS", 1),
    (48, 5, 288, "96/r", True, "HS", 2),
    ("96/r", 5, "576/r", "96/r", True, "HS", 1),
    ("96/r", 5, "576/r", "96/r", True, "HS", 1),
]


def _mobilenet_v3_conf(
    arch: str,
    width_mult: float = 1.0,
    reduced_tail: bool = False,
    dilated: bool = False,
    **kwargs,
) -> tuple[list[InvertedResidualConfig], int]:
    """The block settings and penultimate width of ``arch``; ``reduced_tail`` halves the last
    stage, ``dilated`` gives it dilation 2 instead of stride (the segmentation backbones)."""
    divider = 2 if reduced_tail else 1
    if arch == "mobilenet_v3_large":
        rows, last = _LARGE, 1280
    elif arch == "mobilenet_v3_small":
        rows, last = _SMALL, 1024
    else:
        raise ValueError(f"Unsupported model type {arch}")

    def width(c):
        return int(c[:-2]) // divider if isinstance(c, str) else c

    settings = []
    for i, (inp, k, exp, out, se, act, stride) in enumerate(rows):
        tail = i >= len(rows) - 3
        settings.append(
            InvertedResidualConfig(
                width(inp), k, width(exp), width(out), se, act, stride,
                2 if dilated and tail else 1, width_mult,
            )
        )  # fmt: skip
    return settings, InvertedResidualConfig.adjust_channels(last // divider, width_mult)


MobileNet_V3_Large_Weights = weights_enum(
    "MobileNet_V3_Large_Weights", ("IMAGENET1K_V1", "IMAGENET1K_V2")
)
MobileNet_V3_Small_Weights = weights_enum("MobileNet_V3_Small_Weights", ("IMAGENET1K_V1",))


@register_model(MobileNet_V3_Large_Weights)
def mobilenet_v3_large(*, weights=None, progress: bool = True, **kwargs) -> MobileNetV3:
    """MobileNetV3-Large (5.5 M parameters)."""
    check_no_weights("mobilenet_v3_large", weights, kwargs)
    setting, last_channel = _mobilenet_v3_conf("mobilenet_v3_large", **kwargs)
    return MobileNetV3(setting, last_channel, **kwargs)


@register_model(MobileNet_V3_Small_Weights)
def mobilenet_v3_small(*, weights=None, progress: bool = True, **kwargs) -> MobileNetV3:
    """MobileNetV3-Small (2.5 M parameters)."""
    check_no_weights("mobilenet_v3_small", weights, kwargs)
    setting, last_channel = _mobilenet_v3_conf("mobilenet_v3_small", **kwargs)
    return MobileNetV3(setting, last_channel, **kwargs)
