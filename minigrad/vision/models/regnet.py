"""torchvision's RegNetX and RegNetY (Radosavovic et al. 2020, "Designing Network Design
Spaces") on minigrad's ``nn``: stages of residual group-convolution bottlenecks (RegNetY with
squeeze-and-excitation) whose widths and depths follow the quantised linear rule of the paper
from ``(depth, w_0, w_a, w_m, group_width)``; torchvision's module names and initialisation."""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable
from functools import partial

import numpy as np

from minigrad import nn

from ..ops.misc import Conv2dNormActivation, SqueezeExcitation
from ._api import register_model
from ._weights import check_no_weights, weights_enum
from .mobilenetv2 import _make_divisible

__all__ = ["RegNet"]


class SimpleStemIN(Conv2dNormActivation):
    """The ImageNet stem: 3×3 stride-2 convolution, norm, activation."""

    def __init__(self, width_in, width_out, norm_layer, activation_layer) -> None:
        super().__init__(
            width_in, width_out, kernel_size=3, stride=2, norm_layer=norm_layer,
            activation_layer=activation_layer,
        )  # fmt: skip


class BottleneckTransform(nn.Sequential):
    """``a`` 1×1, ``b`` 3×3 grouped (``group_width`` channels per group, strided), optional
    ``se`` squeeze-and-excitation (``se_ratio`` of the input width), ``c`` linear 1×1."""

    def __init__(
        self,
        width_in: int,
        width_out: int,
        stride: int,
        norm_layer: Callable[..., nn.Module],
        activation_layer: Callable[..., nn.Module],
        group_width: int,
        bottleneck_multiplier: float,
        se_ratio: float | None,
    ) -> None:
        conv = partial(Conv2dNormActivation, norm_layer=norm_layer)
        w_b = int(round(width_out * bottleneck_multiplier))
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        layers["a"] = conv(width_in, w_b, kernel_size=1, activation_layer=activation_layer)
        layers["b"] = conv(
            w_b, w_b, kernel_size=3, stride=stride, groups=w_b // group_width,
            activation_layer=activation_layer,
        )  # fmt: skip
        if se_ratio:
            layers["se"] = SqueezeExcitation(
                w_b, int(round(se_ratio * width_in)), activation=activation_layer
            )
        layers["c"] = conv(w_b, width_out, kernel_size=1, activation_layer=None)
        super().__init__(layers)


class ResBottleneckBlock(nn.Module):
    """``activation(x + f(x))``, ``x`` projected (1×1, strided) when the shape changes."""

    def __init__(
        self,
        width_in: int,
        width_out: int,
        stride: int,
        norm_layer: Callable[..., nn.Module],
        activation_layer: Callable[..., nn.Module],
        group_width: int = 1,
        bottleneck_multiplier: float = 1.0,
        se_ratio: float | None = None,
    ) -> None:
        super().__init__()
        self.proj = None
        if width_in != width_out or stride != 1:
            self.proj = Conv2dNormActivation(
                width_in, width_out, kernel_size=1, stride=stride, norm_layer=norm_layer,
                activation_layer=None,
            )  # fmt: skip
        self.f = BottleneckTransform(
            width_in, width_out, stride, norm_layer, activation_layer, group_width,
            bottleneck_multiplier, se_ratio,
        )  # fmt: skip
        self.activation = activation_layer(inplace=True)

    def forward(self, x):
        shortcut = x if self.proj is None else self.proj(x)
        return self.activation(shortcut + self.f(x))


class AnyStage(nn.Sequential):
    """``depth`` blocks named ``block{stage_index}-{i}``, the first strided."""

    def __init__(
        self,
        width_in: int,
        width_out: int,
        stride: int,
        depth: int,
        block_constructor: Callable[..., nn.Module],
        norm_layer: Callable[..., nn.Module],
        activation_layer: Callable[..., nn.Module],
        group_width: int,
        bottleneck_multiplier: float,
        se_ratio: float | None = None,
        stage_index: int = 0,
    ) -> None:
        super().__init__()
        for i in range(depth):
            block = block_constructor(
                width_in if i == 0 else width_out, width_out, stride if i == 0 else 1,
                norm_layer, activation_layer, group_width, bottleneck_multiplier, se_ratio,
            )  # fmt: skip
            self.add_module(f"block{stage_index}-{i}", block)


class BlockParams:
    """Per-stage depths, widths, group widths, bottleneck multipliers and strides."""

    def __init__(
        self,
        depths: list[int],
        widths: list[int],
        group_widths: list[int],
        bottleneck_multipliers: list[float],
        strides: list[int],
        se_ratio: float | None = None,
    ) -> None:
        self.depths = depths
        self.widths = widths
        self.group_widths = group_widths
        self.bottleneck_multipliers = bottleneck_multipliers
        self.strides = strides
        self.se_ratio = se_ratio

    @classmethod
    def from_init_params(
        cls,
        depth: int,
        w_0: int,
        w_a: float,
        w_m: float,
        group_width: int,
        bottleneck_multiplier: float = 1.0,
        se_ratio: float | None = None,
        **kwargs,
    ) -> BlockParams:
        """The paper's rule: block ``j`` has width ``w_0 + w_a·j`` snapped to
        ``w_0·w_m^round(log_{w_m}((w_0 + w_a·j)/w_0))`` and to a multiple of 8; runs of equal
        width form the stages (each stride 2). Computed in float32 as torchvision does."""
        if w_a < 0 or w_0 <= 0 or w_m <= 1 or w_0 % 8 != 0:
            raise ValueError("Invalid RegNet settings")
        f32 = np.float32
        widths_cont = np.arange(depth).astype(f32) * f32(w_a) + f32(w_0)
        capacity = np.round(np.log(widths_cont / f32(w_0)) / f32(math.log(w_m)))
        block_widths = np.round(f32(w_0) * np.power(f32(w_m), capacity) / f32(8)) * f32(8)
        block_widths = block_widths.astype(np.int32).tolist()
        num_stages = len(set(block_widths))
        splits = [
            w != wp or r != rp
            for w, wp, r, rp in zip(
                block_widths + [0], [0] + block_widths, block_widths + [0], [0] + block_widths
            )
        ]
        stage_widths = [w for w, t in zip(block_widths, splits[:-1]) if t]
        stage_depths = np.diff([d for d, t in enumerate(splits) if t]).tolist()
        multipliers = [bottleneck_multiplier] * num_stages
        stage_widths, group_widths = cls._adjust_widths_groups_compatibilty(
            stage_widths, multipliers, [group_width] * num_stages
        )
        return cls(
            stage_depths, stage_widths, group_widths, multipliers, [2] * num_stages, se_ratio
        )

    def _get_expanded_params(self):
        return zip(
            self.widths, self.strides, self.depths, self.group_widths, self.bottleneck_multipliers
        )

    @staticmethod
    def _adjust_widths_groups_compatibilty(
        stage_widths: list[int], bottleneck_ratios: list[float], group_widths: list[int]
    ) -> tuple[list[int], list[int]]:
        """Bottleneck widths made multiples of their (capped) group widths."""
        widths = [int(w * b) for w, b in zip(stage_widths, bottleneck_ratios)]
        groups = [min(g, w) for g, w in zip(group_widths, widths)]
        ws_bot = [_make_divisible(w, g) for w, g in zip(widths, groups)]
        return [int(w / b) for w, b in zip(ws_bot, bottleneck_ratios)], groups


class RegNet(nn.Module):
    """A stem to ``stem_width``, one :class:`AnyStage` per stage of ``block_params``
    (``trunk_output.block1``...), average pooling and a linear head. Convolutions start
    N(0, √(2/fan_out)), norms at one/zero, the head N(0, 0.01)."""

    def __init__(
        self,
        block_params: BlockParams,
        num_classes: int = 1000,
        stem_width: int = 32,
        stem_type: Callable[..., nn.Module] | None = None,
        block_type: Callable[..., nn.Module] | None = None,
        norm_layer: Callable[..., nn.Module] | None = None,
        activation: Callable[..., nn.Module] | None = None,
    ) -> None:
        super().__init__()
        stem_type = stem_type or SimpleStemIN
        norm_layer = norm_layer or nn.BatchNorm2d
        block_type = block_type or ResBottleneckBlock
        activation = activation or nn.ReLU
        self.stem = stem_type(3, stem_width, norm_layer, activation)
        width = stem_width
        stages = []
        for i, (width_out, stride, depth, group_width, multiplier) in enumerate(
            block_params._get_expanded_params()
        ):
            stage = AnyStage(
                width, width_out, stride, depth, block_type, norm_layer, activation, group_width,
                multiplier, block_params.se_ratio, stage_index=i + 1,
            )  # fmt: skip
            stages.append((f"block{i + 1}", stage))
            width = width_out
        self.trunk_output = nn.Sequential(OrderedDict(stages))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(in_features=width, out_features=num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                fan_out = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
                nn.init.normal_(m.weight, mean=0.0, std=math.sqrt(2.0 / fan_out))
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, mean=0.0, std=0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        x = self.avgpool(self.trunk_output(self.stem(x)))
        return self.fc(x.flatten(start_dim=1))


def _regnet(name: str, config: dict, weights, kwargs: dict) -> RegNet:
    check_no_weights(name, weights, kwargs)
    params = BlockParams.from_init_params(**config, **kwargs)
    norm_layer = kwargs.pop("norm_layer", partial(nn.BatchNorm2d, eps=1e-05, momentum=0.1))
    return RegNet(params, norm_layer=norm_layer, **kwargs)


_V12 = ("IMAGENET1K_V1", "IMAGENET1K_V2")
_SWAG = ("IMAGENET1K_SWAG_E2E_V1", "IMAGENET1K_SWAG_LINEAR_V1")
# name: (depth, w_0, w_a, w_m, group_width, se_ratio), weights versions, DEFAULT, parameters
_CONFIGS = {
    "y_400mf": ((16, 48, 27.89, 2.09, 8, 0.25), _V12, "", "4.3 M"),
    "y_800mf": ((14, 56, 38.84, 2.4, 16, 0.25), _V12, "", "6.4 M"),
    "y_1_6gf": ((27, 48, 20.71, 2.65, 24, 0.25), _V12, "", "11.2 M"),
    "y_3_2gf": ((21, 80, 42.63, 2.66, 24, 0.25), _V12, "", "19.4 M"),
    "y_8gf": ((17, 192, 76.82, 2.19, 56, 0.25), _V12, "", "39.4 M"),
    "y_16gf": ((18, 200, 106.23, 2.48, 112, 0.25), _V12 + _SWAG, "IMAGENET1K_V2", "83.6 M"),
    "y_32gf": ((20, 232, 115.89, 2.53, 232, 0.25), _V12 + _SWAG, "IMAGENET1K_V2", "145.0 M"),
    "y_128gf": ((27, 456, 160.83, 2.52, 264, 0.25), _SWAG, "IMAGENET1K_SWAG_E2E_V1", "644.8 M"),
    "x_400mf": ((22, 24, 24.48, 2.54, 16, None), _V12, "", "5.5 M"),
    "x_800mf": ((16, 56, 35.73, 2.28, 16, None), _V12, "", "7.3 M"),
    "x_1_6gf": ((18, 80, 34.01, 2.25, 24, None), _V12, "", "9.2 M"),
    "x_3_2gf": ((25, 88, 26.31, 2.25, 48, None), _V12, "", "15.3 M"),
    "x_8gf": ((23, 80, 49.56, 2.88, 120, None), _V12, "", "39.6 M"),
    "x_16gf": ((22, 216, 55.59, 2.1, 128, None), _V12, "", "54.3 M"),
    "x_32gf": ((23, 320, 69.86, 2.0, 168, None), _V12, "", "107.8 M"),
}


def _define(variant: str) -> None:
    """Define ``regnet_<variant>`` and ``RegNet_<VARIANT>_Weights`` in this module."""
    (depth, w_0, w_a, w_m, group_width, se_ratio), versions, default, params = _CONFIGS[variant]
    name = f"regnet_{variant}"
    enum_name = f"RegNet_{variant.upper()}_Weights"
    config = dict(depth=depth, w_0=w_0, w_a=w_a, w_m=w_m, group_width=group_width)
    if se_ratio is not None:
        config["se_ratio"] = se_ratio
    weights_cls = weights_enum(enum_name, versions, default)

    def builder(*, weights=None, progress: bool = True, **kwargs) -> RegNet:
        return _regnet(name, config, weights, kwargs)

    builder.__name__ = builder.__qualname__ = name
    builder.__module__ = __name__
    builder.__doc__ = f"RegNet{variant[0].upper()}-{variant[2:].upper()} ({params} parameters)."
    globals()[name] = register_model(weights_cls)(builder)
    globals()[enum_name] = weights_cls
    __all__.extend([enum_name, name])


for _variant in _CONFIGS:
    _define(_variant)
