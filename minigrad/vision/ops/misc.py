"""torchvision's layer helpers: ``Conv2dNormActivation`` (convolution, optional norm, optional
activation, as one ``Sequential`` whose children are named ``0``, ``1``, ``2`` as
torchvision's, so state dicts of models built from it match) and ``FrozenBatchNorm2d`` (batch
norm with fixed statistics and affine terms, as detection backbones and timm use)."""

from __future__ import annotations

from collections.abc import Callable

import minigrad
from minigrad import nn

__all__ = ["Conv2dNormActivation", "FrozenBatchNorm2d"]


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


class FrozenBatchNorm2d(nn.Module):
    """``BatchNorm2d`` whose statistics and affine terms are buffers, never trained or updated:
    ``x * scale + shift`` with ``scale = weight / sqrt(running_var + eps)``. Loading a
    ``BatchNorm2d`` state dict drops its ``num_batches_tracked``, as torchvision's does."""

    def __init__(self, num_features: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        self.register_buffer("weight", minigrad.ones(num_features))
        self.register_buffer("bias", minigrad.zeros(num_features))
        self.register_buffer("running_mean", minigrad.zeros(num_features))
        self.register_buffer("running_var", minigrad.ones(num_features))
        self._register_load_state_dict_pre_hook(_drop_batches_tracked)

    def forward(self, x):
        scale = self.weight * (self.running_var + self.eps).rsqrt()
        shift = self.bias - self.running_mean * scale
        return x * scale.reshape(1, -1, 1, 1) + shift.reshape(1, -1, 1, 1)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.weight.shape[0]}, eps={self.eps})"


def _drop_batches_tracked(state_dict, prefix, *_) -> None:
    """A ``BatchNorm2d`` checkpoint's step counter has no place in a frozen one."""
    state_dict.pop(prefix + "num_batches_tracked", None)
