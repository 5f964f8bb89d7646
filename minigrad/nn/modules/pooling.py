"""Pooling layers: MaxPool, AvgPool, AdaptiveAvgPool, AdaptiveMaxPool (1-D to 3-D), LPPool and
MaxUnpool, as ``torch.nn``'s."""

from __future__ import annotations

from .. import functional as F
from ..functional._windows import pair
from ..functional.adaptive_max_pool import (
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    adaptive_max_pool3d,
)
from ..functional.fractional_max_pool import fractional_max_pool2d, fractional_max_pool3d
from ..functional.lp_pool import lp_pool1d, lp_pool2d, lp_pool3d
from ..functional.max_unpool import max_unpool1d, max_unpool2d, max_unpool3d
from ..functional.pooling import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    avg_pool2d,
    max_pool1d,
    max_pool2d,
    one,
)
from ..functional.pooling3d import adaptive_avg_pool3d, avg_pool3d, max_pool3d
from ._functional_ref import functional_ref
from .module import Module

__all__ = [
    "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d",
    "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d",
    "AvgPool1d",
    "AvgPool2d",
    "MaxPool1d",
    "MaxPool2d",
    "AdaptiveAvgPool3d",
    "AdaptiveMaxPool3d",
    "AvgPool3d",
    "LPPool1d",
    "LPPool2d",
    "LPPool3d",
    "MaxPool3d",
    "MaxUnpool1d",
    "MaxUnpool2d",
    "MaxUnpool3d",
    "FractionalMaxPool2d",
    "FractionalMaxPool3d",
]


def _rank_words(cls: str, n: int, shape: list) -> str:
    """PyTorch's words for a pooling input of the wrong rank (they differ by kernel)."""
    op = cls.replace("Pool", "_pool").replace("Adaptive", "adaptive_").lower()
    if cls.startswith("Adaptive") and n > 1:
        return (
            f"{op}(): Expected {n + 1}D or {n + 2}D tensor, but got{':' * ('Max' in cls)} {shape}"
        )
    if n == 1 and not cls.startswith("MaxPool"):
        kernel = op.replace("lp_pool", "avg_pool")
        return (
            f"Expected 2 to 3 dimensions, but got {len(shape)}-dimensional tensor for argument "
            f"#1 'self' (while checking arguments for {kernel})"
        )
    if n == 1:
        return (
            f"max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size "
            f"for input, but got:{shape}"
        )
    return f"non-empty {n + 1}D or {n + 2}D (batch mode) tensor expected for input"


class _Pool(Module):
    """Input checks shared by the pooling layers: the rank they accept, named in errors."""

    dims = 2

    def _check_input(self, x) -> None:
        n = self.dims
        if not hasattr(x, "ndim"):
            name = f"{type(self).__name__.lower().replace('pool', '_pool')}"
            raise TypeError(
                f"{name}(): argument 'input' (position 1) must be Tensor, not {type(x).__name__}"
            )
        if x.ndim not in (n + 1, n + 2):
            spatial = {1: "L", 2: "H, W", 3: "D, H, W"}[n]
            raise RuntimeError(
                _rank_words(type(self).__name__, n, list(x.shape))
                + f" ({self._get_name()}({self.extra_repr()}) expected a {n + 1}D (C, {spatial}) "
                f"or {n + 2}D (N, C, {spatial}) input, got shape {list(x.shape)})"
            )


class MaxPool2d(_Pool):
    """2-D max pooling (``torch.nn.MaxPool2d``); see :func:`max_pool2d`.

    Example:
        >>> nn.MaxPool2d(2)(minigrad.randn(8, 3, 28, 28)).shape
        minigrad.Size([8, 3, 14, 14])
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

    def forward(self, input):
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

    _pool = functional_ref(max_pool2d)


class MaxPool1d(MaxPool2d):
    """1-D max pooling (``torch.nn.MaxPool1d``); see :func:`max_pool1d`.

    Example:
        >>> nn.MaxPool1d(2)(minigrad.randn(8, 3, 10)).shape
        minigrad.Size([8, 3, 5])
    """

    dims = 1
    _pool = functional_ref(max_pool1d)


class AvgPool2d(_Pool):
    """2-D average pooling (``torch.nn.AvgPool2d``); see :func:`avg_pool2d`.

    Example:
        >>> nn.AvgPool2d(3, stride=2, padding=1)(minigrad.randn(8, 3, 28, 28)).shape
        minigrad.Size([8, 3, 14, 14])
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

    _pool = functional_ref(avg_pool2d)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def forward(self, input):
        self._check_input(input)
        return self._pool(
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
        minigrad.Size([8, 3, 5])
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

    def forward(self, input):
        self._check_input(input)
        return F.avg_pool1d(
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
        minigrad.Size([8, 64, 1, 1])
    """

    _pool = functional_ref(adaptive_avg_pool2d)

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"

    def forward(self, input):
        self._check_input(input)
        return self._pool(input, self.output_size)


class AdaptiveAvgPool1d(AdaptiveAvgPool2d):
    """1-D adaptive average pooling (``torch.nn.AdaptiveAvgPool1d``).

    Example:
        >>> nn.AdaptiveAvgPool1d(4)(minigrad.randn(8, 3, 10)).shape
        minigrad.Size([8, 3, 4])
    """

    dims = 1
    _pool = functional_ref(adaptive_avg_pool1d)


class AdaptiveMaxPool2d(_Pool):
    """Max pooling to a fixed output size (``torch.nn.AdaptiveMaxPool2d``); see
    :func:`F.adaptive_max_pool2d`.

    Example:
        >>> nn.AdaptiveMaxPool2d((1, 1))(minigrad.randn(8, 64, 7, 7)).shape
        minigrad.Size([8, 64, 1, 1])
    """

    _pool = functional_ref(adaptive_max_pool2d)

    def __init__(self, output_size, return_indices: bool = False):
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"

    def forward(self, input):
        self._check_input(input)
        return self._pool(input, self.output_size, self.return_indices)


class AdaptiveMaxPool1d(AdaptiveMaxPool2d):
    """1-D adaptive max pooling (``torch.nn.AdaptiveMaxPool1d``)."""

    dims = 1
    _pool = functional_ref(adaptive_max_pool1d)


class MaxPool3d(MaxPool2d):
    """3-D max pooling (``torch.nn.MaxPool3d``); see :func:`F.max_pool3d`.

    Example:
        >>> nn.MaxPool3d(2)(minigrad.randn(2, 3, 4, 8, 8)).shape
        minigrad.Size([2, 3, 2, 4, 4])
    """

    dims = 3
    _pool = functional_ref(max_pool3d)


class AvgPool3d(AvgPool2d):
    """3-D average pooling (``torch.nn.AvgPool3d``); see :func:`F.avg_pool3d`.

    Example:
        >>> nn.AvgPool3d(2)(minigrad.randn(2, 3, 4, 8, 8)).shape
        minigrad.Size([2, 3, 2, 4, 4])
    """

    dims = 3
    _pool = functional_ref(avg_pool3d)


class AdaptiveAvgPool3d(AdaptiveAvgPool2d):
    """3-D adaptive average pooling (``torch.nn.AdaptiveAvgPool3d``).

    Example:
        >>> nn.AdaptiveAvgPool3d(1)(minigrad.randn(2, 3, 4, 5, 6)).shape
        minigrad.Size([2, 3, 1, 1, 1])
    """

    dims = 3
    _pool = functional_ref(adaptive_avg_pool3d)


class AdaptiveMaxPool3d(AdaptiveMaxPool2d):
    """3-D adaptive max pooling (``torch.nn.AdaptiveMaxPool3d``)."""

    dims = 3
    _pool = functional_ref(adaptive_max_pool3d)


class LPPool2d(_Pool):
    """2-D power-average pooling (``torch.nn.LPPool2d``); see :func:`F.lp_pool2d`.

    Example:
        >>> nn.LPPool2d(2, 2)(minigrad.rand(1, 3, 4, 4)).shape
        minigrad.Size([1, 3, 2, 2])
    """

    _pool = functional_ref(lp_pool2d)

    def __init__(self, norm_type: float, kernel_size, stride=None, ceil_mode: bool = False):
        super().__init__()
        self.norm_type, self.kernel_size = norm_type, kernel_size
        self.stride, self.ceil_mode = stride, ceil_mode

    def extra_repr(self) -> str:
        return (
            f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, stride={self.stride}, "
            f"ceil_mode={self.ceil_mode}"
        )

    def forward(self, input):
        self._check_input(input)
        return self._pool(input, self.norm_type, self.kernel_size, self.stride, self.ceil_mode)


class LPPool1d(LPPool2d):
    """1-D power-average pooling (``torch.nn.LPPool1d``)."""

    dims = 1
    _pool = functional_ref(lp_pool1d)


class LPPool3d(LPPool2d):
    """3-D power-average pooling (``torch.nn.LPPool3d``)."""

    dims = 3
    _pool = functional_ref(lp_pool3d)


class MaxUnpool2d(_Pool):
    """The partial inverse of :class:`MaxPool2d` (``torch.nn.MaxUnpool2d``): each value goes to
    its index in a zero output; see :func:`F.max_unpool2d`.

    Example:
        >>> y, i = nn.MaxPool2d(2, return_indices=True)(minigrad.randn(1, 1, 4, 4))
        >>> nn.MaxUnpool2d(2)(y, i).shape
        minigrad.Size([1, 1, 4, 4])
    """

    _unpool = functional_ref(max_unpool2d)

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        n = self.dims
        self.kernel_size = pair(kernel_size, "kernel_size", self._get_name(), n)
        self.stride = self.kernel_size if stride is None else pair(stride, "stride", "", n)
        self.padding = pair(padding, "padding", self._get_name(), n)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def forward(self, input, indices, output_size=None):
        self._check_input(input)
        return self._unpool(
            input, indices, self.kernel_size, self.stride, self.padding, output_size
        )


class MaxUnpool1d(MaxUnpool2d):
    """The partial inverse of :class:`MaxPool1d` (``torch.nn.MaxUnpool1d``)."""

    dims = 1
    _unpool = functional_ref(max_unpool1d)


class MaxUnpool3d(MaxUnpool2d):
    """The partial inverse of :class:`MaxPool3d` (``torch.nn.MaxUnpool3d``)."""

    dims = 3
    _unpool = functional_ref(max_unpool3d)


class FractionalMaxPool2d(_Pool):
    """2-D fractional max pooling (``torch.nn.FractionalMaxPool2d``); see
    :func:`F.fractional_max_pool2d`. Give ``output_size`` or ``output_ratio`` (in (0, 1)).

    Example:
        >>> nn.FractionalMaxPool2d(3, output_ratio=0.5)(minigrad.randn(1, 2, 10, 10)).shape
        minigrad.Size([1, 2, 5, 5])
    """

    _pool = functional_ref(fractional_max_pool2d)

    def __init__(self, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                 _random_samples=None):  # fmt: skip
        super().__init__()
        n, name = self.dims, self._get_name()
        self.kernel_size = _ntuple(kernel_size, n)
        self.return_indices = return_indices
        self.register_buffer("_random_samples", _random_samples)
        self.output_size = None if output_size is None else _ntuple(output_size, n)
        self.output_ratio = None if output_ratio is None else _ntuple(output_ratio, n)
        if output_size is None and output_ratio is None:
            raise ValueError(
                f"{name} requires specifying either an output size, or a pooling ratio"
            )
        if output_size is not None and output_ratio is not None:
            raise ValueError("only one of output_size and output_ratio may be specified")
        if self.output_ratio is not None and any(not 0 < r < 1 for r in self.output_ratio):
            raise ValueError(f"output_ratio must be between 0 and 1 (got {output_ratio})")

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, output_size={self.output_size}"

    def forward(self, input):
        self._check_input(input)
        return self._pool(
            input, self.kernel_size, self.output_size, self.output_ratio, self.return_indices,
            _random_samples=self._random_samples,
        )  # fmt: skip


class FractionalMaxPool3d(FractionalMaxPool2d):
    """3-D fractional max pooling (``torch.nn.FractionalMaxPool3d``); see
    :func:`F.fractional_max_pool3d`."""

    dims = 3
    _pool = functional_ref(fractional_max_pool3d)


def _ntuple(value, n: int) -> tuple:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * n
