"""Convolution layers: Conv1d/2d/3d and ConvTranspose1d/2d/3d, with PyTorch's
parameters, default initialisation and reprs."""

from __future__ import annotations

from ...creation import empty
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..functional._windows import pair
from ..functional.conv import conv_channel_mismatch, conv_padding, conv_rank_mismatch
from ..parameter import Parameter, UninitializedParameter
from .lazy import LazyModuleMixin
from .module import Module

__all__ = [
    "Conv1d",
    "Conv2d",
    "Conv3d",
    "ConvTranspose1d",
    "ConvTranspose2d",
    "ConvTranspose3d",
]


class _ConvNd(Module):
    """The shared parts of the convolution layers: parameters, PyTorch's default init, checks,
    repr. A transposed convolution's weight is (C_in, C_out / groups, *kernel)."""

    dims = 2
    transposed = False
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
                    f"{what} must be divisible by groups ({name}: {what}={channels}, "
                    f"groups={groups})"
                )
        if padding_mode not in self._padding_modes:
            raise ValueError(
                f"padding_mode must be one of {set(self._padding_modes)}, but got "
                f"padding_mode={padding_mode!r} ({name})"
            )
        if padding_mode != "zeros" and self.transposed:
            raise ValueError(f'Only "zeros" padding mode is supported for {name}')
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = pair(kernel_size, "kernel_size", name, n)
        self.stride = pair(stride, "stride", name, n)
        self.dilation = pair(dilation, "dilation", name, n)
        if isinstance(padding, str) and not self.transposed:
            try:  # (PyTorch's constructor refuses a bad padding string with a ValueError)
                conv_padding(padding, self.kernel_size, self.stride, self.dilation, name)
            except RuntimeError as exc:
                raise ValueError(str(exc)) from None
            self.padding = padding
        elif isinstance(padding, str):  # kept, as PyTorch's: the transposed forward refuses it
            self.padding = padding
        else:
            self.padding = pair(padding, "padding", name, n)
        self.padding_mode = padding_mode
        if not self.transposed:  # as PyTorch's attributes: zeros for a plain convolution
            self.output_padding = (0,) * n
        if self.transposed:
            shape = (in_channels, out_channels // groups, *self.kernel_size)
        else:
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
        if getattr(self, "output_padding", (0,) * self.dims) != (0,) * self.dims:
            s += f", output_padding={self.output_padding}"
        if self.dilation != (1,) * self.dims:
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s

    def _padded(self, input) -> tuple:
        """``(input, padding)`` for the convolution: with ``padding_mode`` 'reflect',
        'replicate' or 'circular' the input is padded by :func:`F.pad` in that mode and the
        convolution itself pads nothing, as PyTorch does."""
        if self.padding_mode == "zeros":
            return input, self.padding
        before, after = conv_padding(
            self.padding, self.kernel_size, self.stride, self.dilation, type(self).__name__
        )
        widths = []
        for b, a in zip(reversed(before), reversed(after)):  # F.pad lists the last dim first
            widths += [b, a]
        return F.pad(input, widths, mode=self.padding_mode), 0

    def _check_input(self, x) -> None:
        """PyTorch's words for a wrong rank or channel count, then this module's own shape."""
        if not isinstance(x, Tensor):
            return  # an fx Proxy while tracing: the functional call checks the real input
        n, c = self.dims, self.in_channels
        if x.ndim not in (n + 1, n + 2):
            words = conv_rank_mismatch(self._functional_name(), n, x.shape)
        elif x.shape[-n - 1] != c:
            words = conv_channel_mismatch(self._given(), self.weight.shape, x.shape, n, c)
        else:
            return
        spatial = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}[n]
        shapes = f"({', '.join(('N', str(c), *spatial))}) or ({', '.join((str(c), *spatial))})"
        raise RuntimeError(f"{words}: {self._get_name()}({self.extra_repr()}) expects {shapes}")

    def _functional_name(self) -> str:
        return f"conv{'_transpose' if self.transposed else ''}{self.dims}d"

    def _given(self) -> str:
        return "transposed=1" if self.transposed else f"groups={self.groups}"


class Conv2d(_ConvNd):
    """2-D convolution layer over (N, C_in, H, W) inputs (``torch.nn.Conv2d``).

    Args:
        in_channels, out_channels: channels of the input and the output.
        kernel_size, stride, dilation: an int or a pair.
        padding: an int, a pair, ``'valid'`` or ``'same'`` (stride 1).
        groups: split the channels into independent groups (``in_channels`` = groups: depthwise).
        bias: learn a per-channel bias (default True).
        padding_mode: ``'zeros'`` (default), ``'reflect'``, ``'replicate'`` or ``'circular'``:
            how the input is padded (transposed convolutions take ``'zeros'`` only, as in
            PyTorch).

    Shape:
        input (N, C_in, H, W) or (C_in, H, W) → output (N, C_out, H_out, W_out); weight
        (C_out, C_in / groups, kH, kW), initialised as PyTorch does.

    Example:
        >>> conv = nn.Conv2d(1, 8, 3, padding=1)
        >>> conv(minigrad.randn(32, 1, 28, 28)).shape
        minigrad.Size([32, 8, 28, 28])
    """

    dims = 2

    def forward(self, input):
        self._check_input(input)
        input, padding = self._padded(input)
        return F.conv2d(
            input, self.weight, self.bias, self.stride, padding, self.dilation, self.groups
        )


class Conv1d(_ConvNd):
    """1-D convolution layer over (N, C_in, L) inputs (``torch.nn.Conv1d``).

    Args: as :class:`Conv2d`, with single ints.

    Shape:
        input (N, C_in, L) or (C_in, L) → output (N, C_out, L_out); weight (C_out, C_in / groups, k).

    Example:
        >>> nn.Conv1d(4, 6, 3, stride=2)(minigrad.randn(2, 4, 11)).shape
        minigrad.Size([2, 6, 5])
    """

    dims = 1

    def forward(self, input):
        self._check_input(input)
        input, padding = self._padded(input)
        return F.conv1d(
            input, self.weight, self.bias, self.stride, padding, self.dilation, self.groups
        )


class _ConvTransposeNd(_ConvNd):
    """Transposed convolution layers: ``output_padding`` and ``forward(input, output_size)``."""

    transposed = True

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        output_padding=0,
        groups: int = 1,
        bias: bool = True,
        dilation=1,
        padding_mode: str = "zeros",
        device=None,
        dtype=None,
    ):
        name, n = type(self).__name__, self.dims
        self.output_padding = pair(output_padding, "output_padding", name, n)
        super().__init__(
            in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
            padding_mode, device, dtype,
        )  # fmt: skip

    def _output_padding(self, input, output_size) -> tuple:
        """The output padding that gives ``output_size`` (PyTorch's rule), or the configured one."""
        if output_size is None:
            return self.output_padding
        n = self.dims
        wanted = tuple(output_size)[-n:]
        padding = []
        for i in range(n):
            size = input.shape[input.ndim - n + i]
            smallest = (size - 1) * self.stride[i] - 2 * self.padding[i]
            smallest += self.dilation[i] * (self.kernel_size[i] - 1) + 1
            if not smallest <= wanted[i] < smallest + max(self.stride[i], self.dilation[i]):
                raise ValueError(
                    f"{type(self).__name__}: requested an output size of {list(wanted)}, but "
                    f"valid sizes range from {smallest} to "
                    f"{smallest + max(self.stride[i], self.dilation[i]) - 1} in dim {i}"
                )
            padding.append(wanted[i] - smallest)
        return tuple(padding)


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution (``torch.nn.ConvTranspose2d``); see :func:`F.conv_transpose2d`.

    Shape:
        input (N, C_in, H, W) → output (N, C_out, H_out, W_out) with H_out = (H - 1)·stride -
        2·padding + dilation·(k - 1) + output_padding + 1; weight (C_in, C_out / groups, kH, kW).

    Example:
        >>> up = nn.ConvTranspose2d(8, 4, 4, stride=2, padding=1)
        >>> up(minigrad.randn(2, 8, 7, 7)).shape
        minigrad.Size([2, 4, 14, 14])
    """

    dims = 2

    def forward(self, input, output_size=None):
        self._check_input(input)
        return F.conv_transpose2d(
            input, self.weight, self.bias, self.stride, self.padding,
            self._output_padding(input, output_size), self.groups, self.dilation,
        )  # fmt: skip


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution (``torch.nn.ConvTranspose1d``): input (N, C_in, L)."""

    dims = 1

    def forward(self, input, output_size=None):
        self._check_input(input)
        return F.conv_transpose1d(
            input, self.weight, self.bias, self.stride, self.padding,
            self._output_padding(input, output_size), self.groups, self.dilation,
        )  # fmt: skip


# -- branch optimutils: lazy convolutions ---------------------------------------------------------
class _LazyConvXdMixin(LazyModuleMixin):
    """Infers ``in_channels`` from the first input (dim 1 when batched, 0 when not)."""

    def __init__(self, out_channels: int, *args, bias: bool = True, device=None, dtype=None):
        super().__init__(0, 0, *args, device=device, dtype=dtype)
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_channels = out_channels
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def _get_in_channels(self, input) -> int:
        unbatched = self.dims + 1
        if input.ndim not in (unbatched, unbatched + 1):
            raise RuntimeError(
                f"Expected {unbatched}D (unbatched) or {unbatched + 1}D (batched) input to "
                f"{self.__class__.__name__}, but got input of size: {list(input.shape)}"
            )
        return input.shape[1] if input.ndim == unbatched + 1 else input.shape[0]

    def initialize_parameters(self, input, *args, **kwargs) -> None:
        """Materialize the weight and bias for ``input``'s channels. When they were loaded from
        a state dict, only ``in_channels`` is set (PyTorch leaves it 0 then)."""
        self.in_channels = self._get_in_channels(input)
        if not self.has_uninitialized_params():
            return
        if self.in_channels % self.groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        groups, k = self.groups, self.kernel_size
        if self.transposed:
            shape = (self.in_channels, self.out_channels // groups, *k)
        else:
            shape = (self.out_channels, self.in_channels // groups, *k)
        self.weight.materialize(shape)
        if self.bias is not None:
            self.bias.materialize((self.out_channels,))
        self.reset_parameters()


class LazyConv1d(_LazyConvXdMixin, Conv1d):
    """A :class:`Conv1d` whose ``in_channels`` is inferred from the first input; it then
    becomes a ``Conv1d``."""

    cls_to_become = Conv1d

    def __init__(self, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):  # fmt: skip
        _LazyConvXdMixin.__init__(
            self, out_channels, kernel_size, stride, padding, dilation, groups, False,
            padding_mode, bias=bias, device=device, dtype=dtype,
        )  # fmt: skip


class LazyConv2d(_LazyConvXdMixin, Conv2d):
    """A :class:`Conv2d` whose ``in_channels`` is inferred from the first input; it then
    becomes a ``Conv2d``.

    Example:
        >>> conv = nn.LazyConv2d(8, 3)
        >>> conv(minigrad.randn(1, 3, 5, 5)).shape, conv.in_channels
        (minigrad.Size([1, 8, 3, 3]), 3)
    """

    cls_to_become = Conv2d
    __init__ = LazyConv1d.__init__


class LazyConvTranspose1d(_LazyConvXdMixin, ConvTranspose1d):
    """A :class:`ConvTranspose1d` whose ``in_channels`` is inferred from the first input; it
    then becomes a ``ConvTranspose1d``."""

    cls_to_become = ConvTranspose1d

    def __init__(self, out_channels, kernel_size, stride=1, padding=0, output_padding=0,
                 groups=1, bias=True, dilation=1, padding_mode="zeros", device=None,
                 dtype=None):  # fmt: skip
        _LazyConvXdMixin.__init__(
            self, out_channels, kernel_size, stride, padding, output_padding, groups, False,
            dilation, padding_mode, bias=bias, device=device, dtype=dtype,
        )  # fmt: skip


class LazyConvTranspose2d(_LazyConvXdMixin, ConvTranspose2d):
    """A :class:`ConvTranspose2d` whose ``in_channels`` is inferred from the first input; it
    then becomes a ``ConvTranspose2d``."""

    cls_to_become = ConvTranspose2d
    __init__ = LazyConvTranspose1d.__init__


class Conv3d(_ConvNd):
    """3-D convolution layer over (N, C_in, D, H, W) inputs (``torch.nn.Conv3d``); see
    :func:`F.conv3d`.

    Args: as :class:`Conv2d`, with triples.

    Example:
        >>> nn.Conv3d(2, 4, 3, padding=1)(minigrad.randn(1, 2, 5, 6, 6)).shape
        minigrad.Size([1, 4, 5, 6, 6])
    """

    dims = 3

    def forward(self, input):
        self._check_input(input)
        input, padding = self._padded(input)
        return F.conv3d(
            input, self.weight, self.bias, self.stride, padding, self.dilation, self.groups
        )


class ConvTranspose3d(_ConvTransposeNd):
    """3-D transposed convolution (``torch.nn.ConvTranspose3d``): input (N, C_in, D, H, W),
    weight (C_in, C_out / groups, kD, kH, kW); see :func:`F.conv_transpose3d`.

    Example:
        >>> nn.ConvTranspose3d(4, 2, 2, stride=2)(minigrad.randn(1, 4, 2, 3, 3)).shape
        minigrad.Size([1, 2, 4, 6, 6])
    """

    dims = 3

    def forward(self, input, output_size=None):
        self._check_input(input)
        return F.conv_transpose3d(
            input, self.weight, self.bias, self.stride, self.padding,
            self._output_padding(input, output_size), self.groups, self.dilation,
        )  # fmt: skip


class LazyConv3d(_LazyConvXdMixin, Conv3d):
    """A :class:`Conv3d` whose ``in_channels`` is inferred from the first input; it then
    becomes a ``Conv3d``."""

    cls_to_become = Conv3d
    __init__ = LazyConv1d.__init__


class LazyConvTranspose3d(_LazyConvXdMixin, ConvTranspose3d):
    """A :class:`ConvTranspose3d` whose ``in_channels`` is inferred from the first input; it
    then becomes a ``ConvTranspose3d``."""

    cls_to_become = ConvTranspose3d
    __init__ = LazyConvTranspose1d.__init__
