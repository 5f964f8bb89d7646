"""torchvision's EfficientNet B0–B7 (Tan & Le 2019) and EfficientNetV2 S/M/L (Tan & Le 2021)
on minigrad's ``nn``: MBConv blocks (depthwise convolution, squeeze-and-excitation, SiLU) and
V2's FusedMBConv blocks, stochastic depth rising linearly over the blocks, torchvision's compound
width/depth scaling, module names, normalisation settings and initialisation."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from functools import partial

import minigrad
from minigrad import nn

from ..ops.misc import Conv2dNormActivation, SqueezeExcitation
from ..ops.stochastic_depth import StochasticDepth
from ._api import register_model
from ._weights import check_no_weights, weights_enum
from .mobilenetv2 import _init_mobilenet, _make_divisible

__all__ = ["EfficientNet"]


class _MBConvConfig:
    """The fields every stage setting has: expansion, kernel, first stride, widths, depth and
    the block class."""

    def __init__(
        self, expand_ratio, kernel, stride, input_channels, out_channels, num_layers, block
    ):
        self.expand_ratio = expand_ratio
        self.kernel = kernel
        self.stride = stride
        self.input_channels = input_channels
        self.out_channels = out_channels
        self.num_layers = num_layers
        self.block = block

    @staticmethod
    def adjust_channels(channels: int, width_mult: float, min_value: int | None = None) -> int:
        return _make_divisible(channels * width_mult, 8, min_value)


class MBConvConfig(_MBConvConfig):
    """An MBConv stage, widths scaled by ``width_mult`` and depth by ``depth_mult`` (rounded
    up)."""

    def __init__(
        self,
        expand_ratio: float,
        kernel: int,
        stride: int,
        input_channels: int,
        out_channels: int,
        num_layers: int,
        width_mult: float = 1.0,
        depth_mult: float = 1.0,
        block: Callable[..., nn.Module] | None = None,
    ) -> None:
        super().__init__(
            expand_ratio, kernel, stride,
            self.adjust_channels(input_channels, width_mult),
            self.adjust_channels(out_channels, width_mult),
            self.adjust_depth(num_layers, depth_mult), block or MBConv,
        )  # fmt: skip

    @staticmethod
    def adjust_depth(num_layers: int, depth_mult: float) -> int:
        return int(math.ceil(num_layers * depth_mult))


class FusedMBConvConfig(_MBConvConfig):
    """A FusedMBConv stage (EfficientNetV2's early stages), unscaled."""

    def __init__(
        self, expand_ratio, kernel, stride, input_channels, out_channels, num_layers, block=None
    ):
        super().__init__(
            expand_ratio, kernel, stride, input_channels, out_channels, num_layers,
            block or FusedMBConv,
        )  # fmt: skip


class _Residual(nn.Module):
    """``block(x)``, plus ``x`` through stochastic depth when the shape is unchanged."""

    def forward(self, x):
        out = self.block(x)
        return self.stochastic_depth(out) + x if self.use_res_connect else out


class MBConv(_Residual):
    """1×1 expansion (SiLU), depthwise ``kernel`` convolution (SiLU), squeeze-and-excitation to
    a quarter of the input width, linear 1×1 projection."""

    def __init__(
        self,
        cnf: MBConvConfig,
        stochastic_depth_prob: float,
        norm_layer: Callable[..., nn.Module],
        se_layer: Callable[..., nn.Module] = SqueezeExcitation,
    ) -> None:
        super().__init__()
        if not (1 <= cnf.stride <= 2):
            raise ValueError("illegal stride value")
        self.use_res_connect = cnf.stride == 1 and cnf.input_channels == cnf.out_channels
        expanded = cnf.adjust_channels(cnf.input_channels, cnf.expand_ratio)
        conv = partial(Conv2dNormActivation, norm_layer=norm_layer, activation_layer=nn.SiLU)
        layers: list[nn.Module] = []
        if expanded != cnf.input_channels:
            layers.append(conv(cnf.input_channels, expanded, kernel_size=1))
        layers += [
            conv(expanded, expanded, kernel_size=cnf.kernel, stride=cnf.stride, groups=expanded),
            se_layer(expanded, max(1, cnf.input_channels // 4), activation=partial(nn.SiLU, inplace=True)),
            conv(expanded, cnf.out_channels, kernel_size=1, activation_layer=None),
        ]  # fmt: skip
        self.block = nn.Sequential(*layers)
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob, "row")
        self.out_channels = cnf.out_channels


class FusedMBConv(_Residual):
    """A full ``kernel`` convolution that expands (SiLU) then a linear 1×1 projection; one
    ``kernel`` convolution with SiLU when the expansion ratio is 1."""

    def __init__(
        self,
        cnf: FusedMBConvConfig,
        stochastic_depth_prob: float,
        norm_layer: Callable[..., nn.Module],
    ) -> None:
        super().__init__()
        if not (1 <= cnf.stride <= 2):
            raise ValueError("illegal stride value")
        self.use_res_connect = cnf.stride == 1 and cnf.input_channels == cnf.out_channels
        expanded = cnf.adjust_channels(cnf.input_channels, cnf.expand_ratio)
        conv = partial(Conv2dNormActivation, norm_layer=norm_layer, activation_layer=nn.SiLU)
        if expanded != cnf.input_channels:
            layers = [
                conv(cnf.input_channels, expanded, kernel_size=cnf.kernel, stride=cnf.stride),
                conv(expanded, cnf.out_channels, kernel_size=1, activation_layer=None),
            ]
        else:
            layers = [conv(cnf.input_channels, cnf.out_channels, cnf.kernel, cnf.stride)]
        self.block = nn.Sequential(*layers)
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob, "row")
        self.out_channels = cnf.out_channels


class EfficientNet(nn.Module):
    """A SiLU stride-2 stem, one ``Sequential`` per stage setting (block ``i`` of ``n`` drops
    with probability ``stochastic_depth_prob * i / n``), a 1×1 convolution to ``last_channel``
    (four times the last width by default), average pooling, dropout and a linear head."""

    def __init__(
        self,
        inverted_residual_setting: Sequence[_MBConvConfig],
        dropout: float,
        stochastic_depth_prob: float = 0.2,
        num_classes: int = 1000,
        norm_layer: Callable[..., nn.Module] | None = None,
        last_channel: int | None = None,
    ) -> None:
        super().__init__()
        if not inverted_residual_setting:
            raise ValueError("The inverted_residual_setting should not be empty")
        if not (
            isinstance(inverted_residual_setting, Sequence)
            and all(isinstance(s, _MBConvConfig) for s in inverted_residual_setting)
        ):
            raise TypeError("The inverted_residual_setting should be List[MBConvConfig]")
        norm_layer = norm_layer or nn.BatchNorm2d
        first = inverted_residual_setting[0].input_channels
        layers: list[nn.Module] = [
            Conv2dNormActivation(
                3, first, kernel_size=3, stride=2, norm_layer=norm_layer, activation_layer=nn.SiLU
            )
        ]
        total = sum(cnf.num_layers for cnf in inverted_residual_setting)
        block_id = 0
        for cnf in inverted_residual_setting:
            stage: list[nn.Module] = []
            for _ in range(cnf.num_layers):
                block_cnf = copy.copy(cnf)
                if stage:
                    block_cnf.input_channels = block_cnf.out_channels
                    block_cnf.stride = 1
                sd_prob = stochastic_depth_prob * float(block_id) / total
                stage.append(block_cnf.block(block_cnf, sd_prob, norm_layer))
                block_id += 1
            layers.append(nn.Sequential(*stage))
        last_in = inverted_residual_setting[-1].out_channels
        last_out = last_channel if last_channel is not None else 4 * last_in
        layers.append(
            Conv2dNormActivation(
                last_in, last_out, kernel_size=1, norm_layer=norm_layer, activation_layer=nn.SiLU
            )
        )
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout, inplace=True), nn.Linear(last_out, num_classes)
        )
        _init_mobilenet(self, _uniform_linear)

    def _forward_impl(self, x):
        x = self.avgpool(self.features(x))
        return self.classifier(minigrad.flatten(x, 1))

    def forward(self, x):
        return self._forward_impl(x)


def _uniform_linear(weight) -> None:
    """EfficientNet's linear init: U(±1/√out_features)."""
    bound = 1.0 / math.sqrt(weight.shape[0])
    nn.init.uniform_(weight, -bound, bound)


# expand, kernel, stride, in, out, layers — B0 (Table 1 of the paper), scaled per variant.
_B_STAGES = [
    (1, 3, 1, 32, 16, 1),
    (6, 3, 2, 16, 24, 2),
    (6, 5, 2, 24, 40, 2),
    (6, 3, 2, 40, 80, 3),
    (6, 5, 1, 80, 112, 3),
    (6, 5, 2, 112, 192, 4),
    (6, 3, 1, 192, 320, 1),
]
# V2 stages: (fused?, expand, kernel, stride, in, out, layers).
_V2_STAGES = {
    "s": [
        (True, 1, 3, 1, 24, 24, 2),
        (True, 4, 3, 2, 24, 48, 4),
        (True, 4, 3, 2, 48, 64, 4),
        (False, 4, 3, 2, 64, 128, 6),
        (False, 6, 3, 1, 128, 160, 9),
        (False, 6, 3, 2, 160, 256, 15),
    ],
    "m": [
        (True, 1, 3, 1, 24, 24, 3),
        (True, 4, 3, 2, 24, 48, 5),
        (True, 4, 3, 2, 48, 80, 5),
        (False, 4, 3, 2, 80, 160, 7),
        (False, 6, 3, 1, 160, 176, 14),
        (False, 6, 3, 2, 176, 304, 18),
        (False, 6, 3, 1, 304, 512, 5),
    ],
    "l": [
        (True, 1, 3, 1, 32, 32, 4),
        (True, 4, 3, 2, 32, 64, 7),
        (True, 4, 3, 2, 64, 96, 7),
        (False, 4, 3, 2, 96, 192, 10),
        (False, 6, 3, 1, 192, 224, 19),
        (False, 6, 3, 2, 224, 384, 25),
        (False, 6, 3, 1, 384, 640, 7),
    ],
}
# variant: width_mult, depth_mult, dropout, norm (None: BatchNorm2d defaults).
_B_VARIANTS = {
    "b0": (1.0, 1.0, 0.2, None),
    "b1": (1.0, 1.1, 0.2, None),
    "b2": (1.1, 1.2, 0.3, None),
    "b3": (1.2, 1.4, 0.3, None),
    "b4": (1.4, 1.8, 0.4, None),
    "b5": (1.6, 2.2, 0.4, partial(nn.BatchNorm2d, eps=0.001, momentum=0.01)),
    "b6": (1.8, 2.6, 0.5, partial(nn.BatchNorm2d, eps=0.001, momentum=0.01)),
    "b7": (2.0, 3.1, 0.5, partial(nn.BatchNorm2d, eps=0.001, momentum=0.01)),
}
_V2_DROPOUT = {"s": 0.2, "m": 0.3, "l": 0.4}


def _efficientnet_b(variant: str, kwargs: dict) -> EfficientNet:
    width, depth, dropout, norm = _B_VARIANTS[variant]
    setting = [MBConvConfig(*row, width_mult=width, depth_mult=depth) for row in _B_STAGES]
    extra = {} if norm is None else {"norm_layer": norm}
    return EfficientNet(
        setting, kwargs.pop("dropout", dropout), last_channel=None, **extra, **kwargs
    )


def _efficientnet_v2(variant: str, kwargs: dict) -> EfficientNet:
    setting = [
        (FusedMBConvConfig if fused else MBConvConfig)(*row) for fused, *row in _V2_STAGES[variant]
    ]
    return EfficientNet(
        setting, kwargs.pop("dropout", _V2_DROPOUT[variant]), last_channel=1280,
        norm_layer=partial(nn.BatchNorm2d, eps=1e-03), **kwargs,
    )  # fmt: skip


def _register(variant: str, params: str, versions: tuple[str, ...]) -> None:
    """Define ``efficientnet_<variant>`` and its ``EfficientNet_<VARIANT>_Weights`` here."""
    name = f"efficientnet_{variant}"
    enum_name = f"EfficientNet_{variant.upper()}_Weights"
    weights_cls = weights_enum(enum_name, versions)
    make = _efficientnet_v2 if variant.startswith("v2") else _efficientnet_b
    key = variant[3:] if variant.startswith("v2") else variant

    def builder(*, weights=None, progress: bool = True, **kwargs) -> EfficientNet:
        check_no_weights(name, weights, kwargs)
        return make(key, kwargs)

    builder.__name__ = builder.__qualname__ = name
    builder.__doc__ = f"EfficientNet{'V2' if make is _efficientnet_v2 else ''}-{key.upper()} ({params} parameters)."
    builder.__module__ = __name__
    globals()[name] = register_model(weights_cls)(builder)
    globals()[enum_name] = weights_cls
    __all__.extend([enum_name, name])


for _variant, _params, _versions in [
    ("b0", "5.3 M", ("IMAGENET1K_V1",)),
    ("b1", "7.8 M", ("IMAGENET1K_V1", "IMAGENET1K_V2")),
    ("b2", "9.1 M", ("IMAGENET1K_V1",)),
    ("b3", "12.2 M", ("IMAGENET1K_V1",)),
    ("b4", "19.3 M", ("IMAGENET1K_V1",)),
    ("b5", "30.4 M", ("IMAGENET1K_V1",)),
    ("b6", "43.0 M", ("IMAGENET1K_V1",)),
    ("b7", "66.3 M", ("IMAGENET1K_V1",)),
    ("v2_s", "21.5 M", ("IMAGENET1K_V1",)),
    ("v2_m", "54.1 M", ("IMAGENET1K_V1",)),
    ("v2_l", "118.5 M", ("IMAGENET1K_V1",)),
]:
    _register(_variant, _params, _versions)
