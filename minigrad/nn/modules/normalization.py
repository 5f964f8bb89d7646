"""Normalization layers that keep no running statistics: ``LayerNorm``, ``GroupNorm``,
``RMSNorm``, ``LocalResponseNorm``, ``CrossMapLRN2d``."""

from __future__ import annotations

from ...creation import ones, zeros
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..functional._norm_more import cross_map_lrn2d
from ..functional.normalization import layer_norm_shape_error
from ..parameter import Parameter
from .module import Module


class LayerNorm(Module):
    """Normalize over the trailing ``normalized_shape`` dims, then scale and shift elementwise.

    Example:
        >>> ln = nn.LayerNorm(8)
        >>> ln(minigrad.randn(2, 5, 8)).shape
        minigrad.Size([2, 5, 8])
    """

    def __init__(
        self,
        normalized_shape,
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        device=None,
        dtype=None,
    ):
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        factory = dict(device=device, dtype=dtype)
        if elementwise_affine:
            self.weight = Parameter(ones(self.normalized_shape, **factory))
            if bias:
                self.bias = Parameter(zeros(self.normalized_shape, **factory))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def reset_parameters(self) -> None:
        if self.elementwise_affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, input):
        k = len(self.normalized_shape)
        shape = tuple(input.shape) if isinstance(input, Tensor) else self.normalized_shape
        if shape[len(shape) - k :] != self.normalized_shape or len(shape) < k:
            raise RuntimeError(
                layer_norm_shape_error(self.normalized_shape, input.shape)
                + f" ({self._get_name()}({self.extra_repr()}) expected input with trailing shape "
                f"{list(self.normalized_shape)}, got shape {list(input.shape)})"
            )
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, "
            f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}"
        )


class GroupNorm(Module):
    """Normalize (N, C, *) inputs over groups of channels, then scale and shift per channel.

    Example:
        >>> gn = nn.GroupNorm(2, 6)
        >>> gn(minigrad.randn(4, 6, 5)).shape
        minigrad.Size([4, 6, 5])
    """

    def __init__(
        self,
        num_groups: int,
        num_channels: int,
        eps: float = 1e-5,
        affine: bool = True,
        device=None,
        dtype=None,
        *,
        bias: bool = True,
    ):
        super().__init__()
        if num_channels % num_groups:
            raise ValueError(
                f"num_channels ({num_channels}) must be divisible by num_groups ({num_groups})"
            )
        self.num_groups, self.num_channels, self.eps, self.affine = (
            num_groups,
            num_channels,
            eps,
            affine,
        )
        factory = dict(device=device, dtype=dtype)
        if affine:
            self.weight = Parameter(ones(num_channels, **factory))
            if bias:
                self.bias = Parameter(zeros(num_channels, **factory))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def reset_parameters(self) -> None:
        """Scale 1 and shift 0 again (as made)."""
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, input):
        if input.ndim < 2 or input.shape[1] != self.num_channels:
            shape = list(input.shape)
            if input.ndim < 2:
                words = f"Expected at least 2 dimensions for input tensor but received {input.ndim}"
            elif input.shape[1] % self.num_groups:
                words = (
                    f"Expected number of channels in input to be divisible by num_groups, but "
                    f"got input of shape {shape} and num_groups={self.num_groups}"
                )
            else:
                words = (
                    f"Expected weight to be a vector of size equal to the number of channels in "
                    f"input, but got weight of shape [{self.num_channels}] and input of shape "
                    f"{shape}"
                )
            raise RuntimeError(
                f"{words} ({self._get_name()}({self.extra_repr()}) expected input of shape "
                f"(N, {self.num_channels}, *), got shape {shape})"
            )
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
            f"bias={self.bias is not None}"
        )


class RMSNorm(Module):
    """Scale by the root mean square over the trailing ``normalized_shape`` dims, then by a
    learned elementwise ``weight``: y = x / √(mean(x²) + eps) · weight (no centering, no bias).

    ``eps=None`` uses the machine epsilon of the input's (computing) dtype.

    Example:
        >>> norm = nn.RMSNorm(8)
        >>> norm(minigrad.randn(2, 5, 8)).shape
        minigrad.Size([2, 5, 8])
    """

    def __init__(
        self,
        normalized_shape,
        eps: float | None = None,
        elementwise_affine: bool = True,
        device=None,
        dtype=None,
    ):
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(ones(self.normalized_shape, device=device, dtype=dtype))
        else:
            self.register_parameter("weight", None)

    def reset_parameters(self) -> None:
        if self.elementwise_affine:
            init.ones_(self.weight)

    def forward(self, input):
        return F.rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
        )


class _ResponseNorm(Module):
    """The arguments and repr of LocalResponseNorm and CrossMapLRN2d."""

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


class LocalResponseNorm(_ResponseNorm):
    """Divide each channel by (k + alpha·mean of x² over ``size`` neighbouring channels)^beta.

    Example:
        >>> lrn = nn.LocalResponseNorm(2)
        >>> lrn(minigrad.randn(2, 6, 4, 4)).shape
        minigrad.Size([2, 6, 4, 4])
    """

    def forward(self, input):
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)


class CrossMapLRN2d(_ResponseNorm):
    """Legacy cross-channel LRN on (N, C, H, W) inputs (PyTorch's values; see
    ``F._norm_more.cross_map_lrn2d`` for how its gradient differs from PyTorch's)."""

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1):
        super().__init__(size, alpha, beta, k)

    def forward(self, input):
        return cross_map_lrn2d(input, self.size, self.alpha, self.beta, self.k)
