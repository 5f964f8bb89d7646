"""``FeaturePyramidNetwork`` (Lin et al., 2017): lateral 1×1 convolutions and a top-down path
of nearest upsampling and sums over a backbone's feature maps, each result smoothed by a 3×3
convolution; with the extra levels detection models add (``LastLevelMaxPool``,
``LastLevelP6P7``). Module names as torchvision's, so state dicts match."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

from minigrad import nn
from minigrad.nn import functional as F

from .misc import Conv2dNormActivation

__all__ = ["ExtraFPNBlock", "FeaturePyramidNetwork", "LastLevelMaxPool", "LastLevelP6P7"]


class ExtraFPNBlock(nn.Module):
    """Base class of the blocks that add levels after the pyramid: ``forward(results, x,
    names)`` takes the pyramid's outputs, the backbone's inputs and the names, and returns the
    extended outputs and names."""

    def forward(self, results, x, names):
        raise NotImplementedError(f"{type(self).__name__}.forward is not defined")


class LastLevelMaxPool(ExtraFPNBlock):
    """A ``pool`` level: the coarsest output subsampled by 2 (``max_pool2d(kernel 1, stride
    2)``), as Faster R-CNN's RPN uses."""

    def forward(self, results, x, names):
        names.append("pool")
        results.append(F.max_pool2d(results[-1], 1, 2, 0))
        return results, names


class LastLevelP6P7(ExtraFPNBlock):
    """RetinaNet's P6 and P7: strided 3×3 convolutions on P5 (or on C5 when the channel counts
    differ), with a ReLU between them."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.p6 = nn.Conv2d(in_channels, out_channels, 3, 2, 1)
        self.p7 = nn.Conv2d(out_channels, out_channels, 3, 2, 1)
        for module in (self.p6, self.p7):
            nn.init.kaiming_uniform_(module.weight, a=1)
            nn.init.constant_(module.bias, 0)
        self.use_P5 = in_channels == out_channels

    def forward(self, p, c, names):
        p6 = self.p6(p[-1] if self.use_P5 else c[-1])
        p.extend([p6, self.p7(F.relu(p6))])
        names.extend(["p6", "p7"])
        return p, names


class FeaturePyramidNetwork(nn.Module):
    """Feature maps ``OrderedDict[name, [N, C_i, H_i, W_i]]`` (finest first, ``C_i`` from
    ``in_channels_list``) to an ``OrderedDict`` of ``[N, out_channels, H_i, W_i]`` with the
    same names, plus those of ``extra_blocks``."""

    def __init__(
        self,
        in_channels_list: list[int],
        out_channels: int,
        extra_blocks: ExtraFPNBlock | None = None,
        norm_layer: Callable[..., nn.Module] | None = None,
    ) -> None:
        super().__init__()
        self.inner_blocks = nn.ModuleList()
        self.layer_blocks = nn.ModuleList()
        for in_channels in in_channels_list:
            if in_channels == 0:
                raise ValueError("in_channels=0 is currently not supported")
            self.inner_blocks.append(
                Conv2dNormActivation(
                    in_channels, out_channels, 1, padding=0, norm_layer=norm_layer,
                    activation_layer=None,
                )
            )  # fmt: skip
            self.layer_blocks.append(
                Conv2dNormActivation(
                    out_channels, out_channels, 3, norm_layer=norm_layer, activation_layer=None
                )
            )
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_uniform_(m.weight, a=1)
                if m.bias is not None:
                    nn.init.constant_(m.bias, 0)
        if extra_blocks is not None and not isinstance(extra_blocks, ExtraFPNBlock):
            raise TypeError(
                f"extra_blocks should be of type ExtraFPNBlock not {type(extra_blocks)}"
            )
        self.extra_blocks = extra_blocks

    def forward(self, x: dict) -> OrderedDict:
        names = list(x.keys())
        features = list(x.values())
        last_inner = self.inner_blocks[-1](features[-1])
        results = [self.layer_blocks[-1](last_inner)]
        for idx in range(len(features) - 2, -1, -1):
            lateral = self.inner_blocks[idx](features[idx])
            top_down = F.interpolate(last_inner, size=lateral.shape[-2:], mode="nearest")
            last_inner = lateral + top_down
            results.insert(0, self.layer_blocks[idx](last_inner))
        if self.extra_blocks is not None:
            results, names = self.extra_blocks(results, features, names)
        return OrderedDict(zip(names, results, strict=True))
