"""torchvision's layer helper ``Conv2dNormActivation`` (convolution, optional norm, optional
activation, as one ``Sequential`` whose children are named ``0``, ``1``, ``2`` as
torchvision's, so state dicts of models built from it match)."""

from __future__ import annotations

from collections.abc import Callable

from minigrad import nn

__all__ = ["Conv2dNormActivation"]


class Conv2dNormActivation(nn.Sequential):
    """``Conv2d`` (padded to keep the size before the stride when ``padding`` is None; with a
    bias only when there is no norm layer, unless ``bias`` says), then ``norm_layer`` and
    ``activation_layer`` where they are not None."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int] = 3,
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] | str | None = None,
        groups: int = 1,
        norm_layer: Callable[..., nn.Module] | None = nn.BatchNorm2d,
        activation_layer: Callable[..., nn.Module] | None = nn.ReLU,
        dilation: int | tuple[int, int] = 1,
        inplace: bool | None = True,
        bias: bool | None = None,
    ) -> None:
        if padding is None:
            ks = (kernel_size,) * 2 if isinstance(kernel_size, int) else tuple(kernel_size)
            dil = (dilation,) * 2 if isinstance(dilation, int) else tuple(dilation)
            padding = tuple((k - 1) // 2 * d for k, d in zip(ks, dil, strict=True))
            if isinstance(kernel_size, int) and isinstance(dilation, int):
                padding = padding[0]
        if bias is None:
            bias = norm_layer is None
        layers: list[nn.Module] = [
            nn.Conv2d(
                in_channels,
                out_channels,
                kernel_size,
                stride,
                padding,
                dilation=dilation,
                groups=groups,
                bias=bias,
            )
        ]
        if norm_layer is not None:
            layers.append(norm_layer(out_channels))
        if activation_layer is not None:
            layers.append(activation_layer(**({} if inplace is None else {"inplace": inplace})))
        super().__init__(*layers)
        self.out_channels = out_channels
