"""torchvision's ShuffleNetV2 (Ma et al. 2018) on minigrad's ``nn``: blocks that split the
channels (or, when downsampling, feed both branches), filter one half with 1×1 / depthwise 3×3 /
1×1 convolutions and shuffle the two halves together; torchvision's module names and (PyTorch's
default) initialisation."""

from __future__ import annotations

from collections.abc import Callable

import minigrad
from minigrad import nn

from ._api import register_model
from ._weights import check_no_weights, weights_enum

__all__ = [
    "ShuffleNetV2",
    "ShuffleNet_V2_X0_5_Weights",
    "ShuffleNet_V2_X1_0_Weights",
    "ShuffleNet_V2_X1_5_Weights",
    "ShuffleNet_V2_X2_0_Weights",
    "shufflenet_v2_x0_5",
    "shufflenet_v2_x1_0",
    "shufflenet_v2_x1_5",
    "shufflenet_v2_x2_0",
]


def _depthwise(channels: int, stride: int) -> nn.Conv2d:
    return nn.Conv2d(channels, channels, 3, stride, 1, bias=False, groups=channels)


class InvertedResidual(nn.Module):
    """Stride 1: half the channels pass, half go through ``branch2``. Stride > 1: ``branch1``
    (depthwise, 1×1) and ``branch2`` both see the whole input. Then a two-group shuffle."""

    def __init__(self, inp: int, oup: int, stride: int) -> None:
        super().__init__()
        if not (1 <= stride <= 3):
            raise ValueError("illegal stride value")
        self.stride = stride
        branch = oup // 2
        if stride == 1 and inp != branch << 1:
            raise ValueError(
                f"Invalid combination of stride {stride}, inp {inp} and oup {oup} values. "
                "If stride == 1 then inp should be equal to oup // 2 << 1."
            )
        if stride > 1:
            self.branch1 = nn.Sequential(
                _depthwise(inp, stride),
                nn.BatchNorm2d(inp),
                nn.Conv2d(inp, branch, 1, 1, 0, bias=False),
                nn.BatchNorm2d(branch),
                nn.ReLU(inplace=True),
            )
        else:
            self.branch1 = nn.Sequential()
        self.branch2 = nn.Sequential(
            nn.Conv2d(inp if stride > 1 else branch, branch, 1, 1, 0, bias=False),
            nn.BatchNorm2d(branch),
            nn.ReLU(inplace=True),
            _depthwise(branch, stride),
            nn.BatchNorm2d(branch),
            nn.Conv2d(branch, branch, 1, 1, 0, bias=False),
            nn.BatchNorm2d(branch),
            nn.ReLU(inplace=True),
        )

    def forward(self, x):
        if self.stride == 1:
            x1, x2 = x.chunk(2, dim=1)
            out = minigrad.cat((x1, self.branch2(x2)), dim=1)
        else:
            out = minigrad.cat((self.branch1(x), self.branch2(x)), dim=1)
        return nn.functional.channel_shuffle(out, 2)


class ShuffleNetV2(nn.Module):
    """A 3×3 stride-2 stem and max pooling, three stages (``stages_repeats`` blocks, the first
    strided) of widths ``stages_out_channels[1:4]``, a 1×1 convolution, global mean, linear."""

    def __init__(
        self,
        stages_repeats: list[int],
        stages_out_channels: list[int],
        num_classes: int = 1000,
        inverted_residual: Callable[..., nn.Module] = InvertedResidual,
    ) -> None:
        super().__init__()
        if len(stages_repeats) != 3:
            raise ValueError("expected stages_repeats as list of 3 positive ints")
        if len(stages_out_channels) != 5:
            raise ValueError("expected stages_out_channels as list of 5 positive ints")
        self._stage_out_channels = stages_out_channels
        width = stages_out_channels[0]
        self.conv1 = nn.Sequential(
            nn.Conv2d(3, width, 3, 2, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True)
        )
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        for i, (repeats, out) in enumerate(zip(stages_repeats, stages_out_channels[1:4])):
            blocks = [inverted_residual(width, out, 2)]
            blocks += [inverted_residual(out, out, 1) for _ in range(repeats - 1)]
            setattr(self, f"stage{i + 2}", nn.Sequential(*blocks))
            width = out
        last = stages_out_channels[-1]
        self.conv5 = nn.Sequential(
            nn.Conv2d(width, last, 1, 1, 0, bias=False), nn.BatchNorm2d(last), nn.ReLU(inplace=True)
        )
        self.fc = nn.Linear(last, num_classes)

    def _forward_impl(self, x):
        x = self.maxpool(self.conv1(x))
        x = self.conv5(self.stage4(self.stage3(self.stage2(x))))
        return self.fc(x.mean([2, 3]))

    def forward(self, x):
        return self._forward_impl(x)


ShuffleNet_V2_X0_5_Weights = weights_enum("ShuffleNet_V2_X0_5_Weights", ("IMAGENET1K_V1",))
ShuffleNet_V2_X1_0_Weights = weights_enum("ShuffleNet_V2_X1_0_Weights", ("IMAGENET1K_V1",))
ShuffleNet_V2_X1_5_Weights = weights_enum("ShuffleNet_V2_X1_5_Weights", ("IMAGENET1K_V1",))
ShuffleNet_V2_X2_0_Weights = weights_enum("ShuffleNet_V2_X2_0_Weights", ("IMAGENET1K_V1",))


@register_model(ShuffleNet_V2_X0_5_Weights)
def shufflenet_v2_x0_5(*, weights=None, progress: bool = True, **kwargs) -> ShuffleNetV2:
    """ShuffleNetV2 with 0.5× output channels (1.4 M parameters)."""
    check_no_weights("shufflenet_v2_x0_5", weights, kwargs)
    return ShuffleNetV2([4, 8, 4], [24, 48, 96, 192, 1024], **kwargs)


@register_model(ShuffleNet_V2_X1_0_Weights)
def shufflenet_v2_x1_0(*, weights=None, progress: bool = True, **kwargs) -> ShuffleNetV2:
    """ShuffleNetV2 with 1.0× output channels (2.3 M parameters)."""
    check_no_weights("shufflenet_v2_x1_0", weights, kwargs)
    return ShuffleNetV2([4, 8, 4], [24, 116, 232, 464, 1024], **kwargs)


@register_model(ShuffleNet_V2_X1_5_Weights)
def shufflenet_v2_x1_5(*, weights=None, progress: bool = True, **kwargs) -> ShuffleNetV2:
    """ShuffleNetV2 with 1.5× output channels (3.5 M parameters)."""
    check_no_weights("shufflenet_v2_x1_5", weights, kwargs)
    return ShuffleNetV2([4, 8, 4], [24, 176, 352, 704, 1024], **kwargs)


@register_model(ShuffleNet_V2_X2_0_Weights)
def shufflenet_v2_x2_0(*, weights=None, progress: bool = True, **kwargs) -> ShuffleNetV2:
    """ShuffleNetV2 with 2.0× output channels (7.4 M parameters)."""
    check_no_weights("shufflenet_v2_x2_0", weights, kwargs)
    return ShuffleNetV2([4, 8, 4], [24, 244, 488, 976, 2048], **kwargs)
