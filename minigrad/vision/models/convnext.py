"""torchvision's ConvNeXt (Liu et al. 2022, "A ConvNet for the 2020s") on minigrad's ``nn``:
7×7 depthwise convolution, channels-last LayerNorm and an inverted MLP per block, a learned
layer scale and stochastic depth rising linearly to ``stochastic_depth_prob``; torchvision's
module names and truncated-normal initialisation."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

import minigrad
from minigrad import nn
from minigrad.nn import functional as F

from ..ops.misc import Conv2dNormActivation, Permute
from ..ops.stochastic_depth import StochasticDepth
from ._api import register_model
from ._weights import check_no_weights, weights_enum

__all__ = [
    "ConvNeXt",
    "ConvNeXt_Tiny_Weights",
    "ConvNeXt_Small_Weights",
    "ConvNeXt_Base_Weights",
    "ConvNeXt_Large_Weights",
    "convnext_tiny",
    "convnext_small",
    "convnext_base",
    "convnext_large",
]


class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channels of an ``(N, C, H, W)`` input."""

    def forward(self, x):
        x = F.layer_norm(
            x.permute(0, 2, 3, 1), self.normalized_shape, self.weight, self.bias, self.eps
        )
        return x.permute(0, 3, 1, 2)


class CNBlock(nn.Module):
    """Depthwise 7×7 convolution, LayerNorm and a 4× GELU MLP over channels-last features,
    scaled per channel by ``layer_scale`` and added to the input through stochastic depth."""

    def __init__(
        self,
        dim: int,
        layer_scale: float,
        stochastic_depth_prob: float,
        norm_layer: Callable[..., nn.Module] | None = None,
    ) -> None:
        super().__init__()
        norm_layer = norm_layer or partial(nn.LayerNorm, eps=1e-6)
        self.block = nn.Sequential(
            nn.Conv2d(dim, dim, kernel_size=7, padding=3, groups=dim, bias=True),
            Permute([0, 2, 3, 1]),
            norm_layer(dim),
            nn.Linear(dim, 4 * dim, bias=True),
            nn.GELU(),
            nn.Linear(4 * dim, dim, bias=True),
            Permute([0, 3, 1, 2]),
        )
        self.layer_scale = nn.Parameter(minigrad.ones(dim, 1, 1) * layer_scale)
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob, "row")

    def forward(self, x):
        return self.stochastic_depth(self.layer_scale * self.block(x)) + x


class CNBlockConfig:
    """One stage: its width, the width of the downsampling that follows (None: last stage) and
    its number of blocks."""

    def __init__(self, input_channels: int, out_channels: int | None, num_layers: int) -> None:
        self.input_channels = input_channels
        self.out_channels = out_channels
        self.num_layers = num_layers

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(input_channels={self.input_channels}, "
            f"out_channels={self.out_channels}, num_layers={self.num_layers})"
        )


class ConvNeXt(nn.Module):
    """A 4×4 stride-4 patchify stem with LayerNorm, the stages of ``block_setting`` with a
    LayerNorm + 2×2 stride-2 convolution between them, average pooling, LayerNorm and a linear
    head. Convolutions and linears start truncated-normal (std 0.02), biases zero."""

    def __init__(
        self,
        block_setting: list[CNBlockConfig],
        stochastic_depth_prob: float = 0.0,
        layer_scale: float = 1e-6,
        num_classes: int = 1000,
        block: Callable[..., nn.Module] | None = None,
        norm_layer: Callable[..., nn.Module] | None = None,
        **kwargs,
    ) -> None:
        super().__init__()
        if not block_setting:
            raise ValueError("The block_setting should not be empty")
        if not (
            isinstance(block_setting, Sequence)
            and all(isinstance(s, CNBlockConfig) for s in block_setting)
        ):
            raise TypeError("The block_setting should be List[CNBlockConfig]")
        block = block or CNBlock
        norm_layer = norm_layer or partial(LayerNorm2d, eps=1e-6)
        layers: list[nn.Module] = [
            Conv2dNormActivation(
                3, block_setting[0].input_channels, kernel_size=4, stride=4, padding=0,
                norm_layer=norm_layer, activation_layer=None, bias=True,
            )
        ]  # fmt: skip
        total = sum(cnf.num_layers for cnf in block_setting)
        block_id = 0
        for cnf in block_setting:
            stage = []
            for _ in range(cnf.num_layers):
                sd_prob = stochastic_depth_prob * block_id / (total - 1.0)
                stage.append(block(cnf.input_channels, layer_scale, sd_prob))
                block_id += 1
            layers.append(nn.Sequential(*stage))
            if cnf.out_channels is not None:
                layers.append(
                    nn.Sequential(
                        norm_layer(cnf.input_channels),
                        nn.Conv2d(cnf.input_channels, cnf.out_channels, kernel_size=2, stride=2),
                    )
                )
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        last = block_setting[-1]
        width = last.out_channels if last.out_channels is not None else last.input_channels
        self.classifier = nn.Sequential(
            norm_layer(width), nn.Flatten(1), nn.Linear(width, num_classes)
        )
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def _forward_impl(self, x):
        return self.classifier(self.avgpool(self.features(x)))

    def forward(self, x):
        return self._forward_impl(x)


# widths of the four stages, blocks in the third, default stochastic depth.
_VARIANTS = {
    "tiny": ((96, 192, 384, 768), 9, 0.1, "28.6 M"),
    "small": ((96, 192, 384, 768), 27, 0.4, "50.2 M"),
    "base": ((128, 256, 512, 1024), 27, 0.5, "88.6 M"),
    "large": ((192, 384, 768, 1536), 27, 0.5, "197.8 M"),
}


def _convnext(variant: str, kwargs: dict) -> ConvNeXt:
    widths, depth3, sd_prob, _ = _VARIANTS[variant]
    setting = [
        CNBlockConfig(widths[i], widths[i + 1] if i < 3 else None, depth3 if i == 2 else 3)
        for i in range(4)
    ]
    return ConvNeXt(
        setting, stochastic_depth_prob=kwargs.pop("stochastic_depth_prob", sd_prob), **kwargs
    )


ConvNeXt_Tiny_Weights = weights_enum("ConvNeXt_Tiny_Weights", ("IMAGENET1K_V1",))
ConvNeXt_Small_Weights = weights_enum("ConvNeXt_Small_Weights", ("IMAGENET1K_V1",))
ConvNeXt_Base_Weights = weights_enum("ConvNeXt_Base_Weights", ("IMAGENET1K_V1",))
ConvNeXt_Large_Weights = weights_enum("ConvNeXt_Large_Weights", ("IMAGENET1K_V1",))


@register_model(ConvNeXt_Tiny_Weights)
def convnext_tiny(*, weights=None, progress: bool = True, **kwargs) -> ConvNeXt:
    """ConvNeXt-Tiny (28.6 M parameters)."""
    check_no_weights("convnext_tiny", weights, kwargs)
    return _convnext("tiny", kwargs)


@register_model(ConvNeXt_Small_Weights)
def convnext_small(*, weights=None, progress: bool = True, **kwargs) -> ConvNeXt:
    """ConvNeXt-Small (50.2 M parameters)."""
    check_no_weights("convnext_small", weights, kwargs)
    return _convnext("small", kwargs)


@register_model(ConvNeXt_Base_Weights)
def convnext_base(*, weights=None, progress: bool = True, **kwargs) -> ConvNeXt:
    """ConvNeXt-Base (88.6 M parameters)."""
    check_no_weights("convnext_base", weights, kwargs)
    return _convnext("base", kwargs)


@register_model(ConvNeXt_Large_Weights)
def convnext_large(*, weights=None, progress: bool = True, **kwargs) -> ConvNeXt:
    """ConvNeXt-Large (197.8 M parameters)."""
    check_no_weights("convnext_large", weights, kwargs)
    return _convnext("large", kwargs)
