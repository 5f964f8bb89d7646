"""Convolution and pooling layers: Conv1d, Conv2d, MaxPool, AvgPool and AdaptiveAvgPool (1-D and
2-D), with PyTorch's parameters, default initialisation and reprs."""

from __future__ import annotations

from ...creation import empty
from .. import init
from ..functional._windows import pair
from ..functional.conv import conv1d, conv2d, conv_padding
from ..functional.pooling import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    avg_pool1d,
    avg_pool2d,
    max_pool1d,
    max_pool2d,
    one,
)
from ..parameter import Parameter
from .module import Module

__all__ = [
    "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d",
    "AvgPool1d",
    "AvgPool2d",
    "Conv1d",
    "Conv2d",
    "MaxPool1d",
    "MaxPool2d",
]

# -- convolution ----------------------------------------------------------------------------------


class _ConvNd(Module):
    """The shared parts of Conv1d and Conv2d: parameters, PyTorch's default init, checks, repr."""

    dims = 2
    _padding_modes = ("zeros", "reflect", "replicate", "circular")

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device=None,
        dtype=None,
    ):
        super().__init__()
        name, n = type(self).__name__, self.dims
        if groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer, got {groups}")
        for what, channels in (("in_channels", in_channels), ("out_channels", out_channels)):
            if channels % groups:
                raise ValueError(
                    f"{name}: {what} ({channels}) must be divisible by groups ({groups})"
                )
        if padding_mode not in self._padding_modes:
            raise ValueError(
                f"{name}: padding_mode must be one of {list(self._padding_modes)}, got "
                f"{padding_mode!r}"
            )
        if padding_mode != "zeros":
            raise NotImplementedError(f"{name}: padding_mode={padding_mode!r} (only 'zeros')")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = pair(kernel_size, "kernel_size", name, n)
        self.stride = pair(stride, "stride", name, n)
        self.dilation = pair(dilation, "dilation", name, n)
        if isinstance(padding, str):
            conv_padding(padding, self.kernel_size, self.stride, self.dilation, name)  # validates
            self.padding = padding
        else:
            self.padding = pair(padding, "padding", name, n)
        self.padding_mode = padding_mode
        shape = (out_channels, in_channels // groups, *self.kernel_size)
        self.weight = Parameter(empty(*shape, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(empty(out_channels, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: weight ~ kaiming_uniform(a=√5), bias ~ U(±1/√fan_in)."""
        init.layer_default_(self.weight, self.bias)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}"
        s += f", stride={self.stride}"
        if self.padding != (0,) * self.dims:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * self.dims:
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s

    def _check_input(self, x) -> None:
        n, c = self.dims, self.in_channels
        spatial = ("L",) if n == 1 else ("H", "W")
        if x.ndim not in (n + 1, n + 2) or x.shape[-n - 1] != c:
            expected = ", ".join(("N", str(c), *spatial))
            unbatched = ", ".join((str(c), *spatial))
            raise RuntimeError(
                f"{self._get_name()}({self.extra_repr()}) expected input with {c} channels, of "
                f"shape ({expected}) or ({unbatched}), got shape {list(x.shape)}"
            )


class Conv2d(_ConvNd):
    """2-D convolution layer over (N, C_in, H, W) inputs (``torch.nn.Conv2d``).

    Args:
        in_channels, out_channels: channels of the input and the output.
        kernel_size, stride, dilation: an int or a pair.
        padding: an int, a pair, ``'valid'`` or ``'same'`` (stride 1).
        groups: split the channels into independent groups (``in_channels`` = groups: depthwise).
        bias: learn a per-channel bias (default True).
        padding_mode: ``'zeros'`` only (other modes raise NotImplementedError).

    Shape:
        input (N, C_in, H, W) or (C_in, H, W) → output (N, C_out, H_out, W_out); weight
        (C_out, C_in / groups, kH, kW), initialised as PyTorch does.

    Example:
        >>> conv = nn.Conv2d(1, 8, 3, padding=1)
        >>> conv(minigrad.randn(32, 1, 28, 28)).shape
        (32, 8, 28, 28)
    """

    dims = 2

    def forward(self, input):  # noqa: A002
        self._check_input(input)
        return conv2d(
            input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups
        )


class Conv1d(_ConvNd):
    """1-D convolution layer over (N, C_in, L) inputs (``torch.nn.Conv1d``).

    Args: as :class:`Conv2d`, with single ints.

    Shape:
        input (N, C_in, L) or (C_in, L) → output (N, C_out, L_out); weight (C_out, C_in / groups, k).

    Example:
        >>> nn.Conv1d(4, 6, 3, stride=2)(minigrad.randn(2, 4, 11)).shape
        (2, 6, 5)
    """

    dims = 1

    def forward(self, input):  # noqa: A002
        self._check_input(input)
        return conv1d(
            input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups
        )


# -- pooling ------------------------------------------------------------------------------------


class _Pool(Module):
    """Input checks shared by the pooling layers: the rank they accept, named in errors."""

    dims = 2

    def _check_input(self, x) -> None:
        n = self.dims
        if x.ndim not in (n + 1, n + 2):
            spatial = "L" if n == 1 else "H, W"
            raise RuntimeError(
                f"{self._get_name()}({self.extra_repr()}) expected a {n + 1}D (C, {spatial}) or "
                f"{n + 2}D (N, C, {spatial}) input, got shape {list(x.shape)}"
            )


class MaxPool2d(_Pool):
    """2-D max pooling (``torch.nn.MaxPool2d``); see :func:`max_pool2d`.

    Example:
        >>> nn.MaxPool2d(2)(minigrad.randn(8, 3, 28, 28)).shape
        (8, 3, 14, 14)
    """

    def __init__(
        self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False
    ):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None and stride != () else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )

    def forward(self, input):  # noqa: A002
        self._check_input(input)
        return self._pool(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            ceil_mode=self.ceil_mode,
            return_indices=self.return_indices,
        )

    _pool = staticmethod(max_pool2d)


class MaxPool1d(MaxPool2d):
    """1-D max pooling (``torch.nn.MaxPool1d``); see :func:`max_pool1d`.

    Example:
        >>> nn.MaxPool1d(2)(minigrad.randn(8, 3, 10)).shape
        (8, 3, 5)
    """

    dims = 1
    _pool = staticmethod(max_pool1d)


class AvgPool2d(_Pool):
    """2-D average pooling (``torch.nn.AvgPool2d``); see :func:`avg_pool2d`.

    Example:
        >>> nn.AvgPool2d(3, stride=2, padding=1)(minigrad.randn(8, 3, 28, 28)).shape
        (8, 3, 14, 14)
    """

    def __init__(
        self,
        kernel_size,
        stride=None,
        padding=0,
        ceil_mode=False,
        count_include_pad=True,
        divisor_override=None,
    ):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None and stride != () else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def forward(self, input):  # noqa: A002
        self._check_input(input)
        return avg_pool2d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
            self.divisor_override,
        )


class AvgPool1d(_Pool):
    """1-D average pooling (``torch.nn.AvgPool1d``); see :func:`avg_pool1d`.

    Example:
        >>> nn.AvgPool1d(2)(minigrad.randn(8, 3, 10)).shape
        (8, 3, 5)
    """

    dims = 1

    def __init__(
        self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True
    ):
        super().__init__()
        self.kernel_size = (one(kernel_size),)
        self.stride = self.kernel_size if stride is None or stride == () else (one(stride),)
        self.padding, self.ceil_mode = (one(padding),), ceil_mode
        self.count_include_pad = count_include_pad

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def forward(self, input):  # noqa: A002
        self._check_input(input)
        return avg_pool1d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
        )


class AdaptiveAvgPool2d(_Pool):
    """Average pooling to a fixed output size (``torch.nn.AdaptiveAvgPool2d``); see
    :func:`adaptive_avg_pool2d`.

    Example:
        >>> nn.AdaptiveAvgPool2d((1, 1))(minigrad.randn(8, 64, 7, 7)).shape
        (8, 64, 1, 1)
    """

    _pool = staticmethod(adaptive_avg_pool2d)

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"

    def forward(self, input):  # noqa: A002
        self._check_input(input)
        return self._pool(input, self.output_size)


class AdaptiveAvgPool1d(AdaptiveAvgPool2d):
    """1-D adaptive average pooling (``torch.nn.AdaptiveAvgPool1d``).

    Example:
        >>> nn.AdaptiveAvgPool1d(4)(minigrad.randn(8, 3, 10)).shape
        (8, 3, 4)
    """

    dims = 1
    _pool = staticmethod(adaptive_avg_pool1d)
