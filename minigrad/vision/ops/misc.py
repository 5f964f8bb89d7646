"""torchvision's layer helpers: ``Conv2dNormActivation`` (convolution, optional norm, optional
activation, as one ``Sequential`` whose children are named ``0``, ``1``, ``2`` as
torchvision's, so state dicts of models built from it match; ``Conv3dNormActivation`` for
clips), ``FrozenBatchNorm2d`` (batch
norm with fixed statistics and affine terms, as detection backbones and timm use),
``SqueezeExcitation`` (channel attention of MobileNetV3, EfficientNet, RegNet), ``MLP`` (the
Linear/activation/Dropout stack of the vision transformers) and ``Permute``."""

from __future__ import annotations

from collections.abc import Callable

import minigrad
from minigrad import nn

__all__ = [
    "MLP",
    "Conv2dNormActivation",
    "Conv3dNormActivation",
    "FrozenBatchNorm2d",
    "Permute",
    "SqueezeExcitation",
]


class Conv2dNormActivation(nn.Sequential):
    """``Conv2d`` (padded to keep the size before the stride when ``padding`` is None; with a
    bias only when there is no norm layer, unless ``bias`` says), then ``norm_layer`` and
    ``activation_layer`` where they are not None."""

    _conv = nn.Conv2d  # the convolution class (Conv3dNormActivation: nn.Conv3d)

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
            n = self._conv.dims
            ks = (kernel_size,) * n if isinstance(kernel_size, int) else tuple(kernel_size)
            dil = (dilation,) * n if isinstance(dilation, int) else tuple(dilation)
            padding = tuple((k - 1) // 2 * d for k, d in zip(ks, dil, strict=True))
            if isinstance(kernel_size, int) and isinstance(dilation, int):
                padding = padding[0]
        if bias is None:
            bias = norm_layer is None
        layers: list[nn.Module] = [
            self._conv(
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


class Conv3dNormActivation(Conv2dNormActivation):
    """:class:`Conv2dNormActivation` for clips: ``Conv3d``, then (by default) ``BatchNorm3d``
    and ``ReLU`` (torchvision's S3D and video models)."""

    _conv = nn.Conv3d

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size=3,
        stride=1,
        padding=None,
        groups: int = 1,
        norm_layer: Callable[..., nn.Module] | None = nn.BatchNorm3d,
        activation_layer: Callable[..., nn.Module] | None = nn.ReLU,
        dilation=1,
        inplace: bool | None = True,
        bias: bool | None = None,
    ) -> None:
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            groups,
            norm_layer,
            activation_layer,
            dilation,
            inplace,
            bias,
        )


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


class SqueezeExcitation(nn.Module):
    """Squeeze-and-Excitation (Hu et al. 2017, Fig. 1): average-pool each channel, squeeze to
    ``squeeze_channels`` (1×1 ``fc1``, ``activation``), expand back (``fc2``) and scale the
    input by ``scale_activation`` of the result."""

    def __init__(
        self,
        input_channels: int,
        squeeze_channels: int,
        activation: Callable[..., nn.Module] = nn.ReLU,
        scale_activation: Callable[..., nn.Module] = nn.Sigmoid,
    ) -> None:
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(input_channels, squeeze_channels, 1)
        self.fc2 = nn.Conv2d(squeeze_channels, input_channels, 1)
        self.activation = activation()
        self.scale_activation = scale_activation()

    def _scale(self, x):
        return self.scale_activation(self.fc2(self.activation(self.fc1(self.avgpool(x)))))

    def forward(self, x):
        return self._scale(x) * x


class MLP(nn.Sequential):
    """``Linear`` layers to each width of ``hidden_channels``; between them ``norm_layer`` (if
    any), ``activation_layer`` and ``Dropout(dropout)``; a ``Dropout`` after the last. Children
    are numbered as torchvision's, so state dicts match."""

    def __init__(
        self,
        in_channels: int,
        hidden_channels: list[int],
        norm_layer: Callable[..., nn.Module] | None = None,
        activation_layer: Callable[..., nn.Module] | None = nn.ReLU,
        inplace: bool | None = None,
        bias: bool = True,
        dropout: float = 0.0,
    ) -> None:
        extra = {} if inplace is None else {"inplace": inplace}
        layers: list[nn.Module] = []
        width = in_channels
        for hidden in hidden_channels[:-1]:
            layers.append(nn.Linear(width, hidden, bias=bias))
            if norm_layer is not None:
                layers.append(norm_layer(hidden))
            layers += [activation_layer(**extra), nn.Dropout(dropout, **extra)]
            width = hidden
        layers += [nn.Linear(width, hidden_channels[-1], bias=bias), nn.Dropout(dropout, **extra)]
        super().__init__(*layers)


class Permute(nn.Module):
    """``x.permute(dims)`` as a module (ConvNeXt and Swin move channels last and back)."""

    def __init__(self, dims: list[int]) -> None:
        super().__init__()
        self.dims = dims

    def forward(self, x):
        return minigrad.permute(x, self.dims)
