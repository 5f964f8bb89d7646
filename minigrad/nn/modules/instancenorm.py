"""Instance normalization layers: ``InstanceNorm1d``, ``InstanceNorm2d``, ``InstanceNorm3d``."""

from __future__ import annotations

from ..._warnings import warn_user
from .. import functional as F
from .batchnorm import _LazyNormBase, _NormBase


class _InstanceNorm(_NormBase):
    """Normalize each (sample, channel) over its spatial dims (``torch.nn.modules.instancenorm.
    _InstanceNorm``): no affine parameters and no running statistics by default."""

    _no_batch_dim = 0  # the ndim of an unbatched input (C, *spatial)

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = False,
        track_running_stats: bool = False,
        device=None,
        dtype=None,
        *,
        bias: bool = True,
    ):
        super().__init__(
            num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias
        )

    def _check_input(self, input) -> None:
        if input.ndim not in (self._no_batch_dim, self._no_batch_dim + 1):
            raise ValueError(
                f"{self._get_name()}: expected {self._no_batch_dim}D or "
                f"{self._no_batch_dim + 1}D input (got {input.ndim}D input)"
            )
        feature_dim = input.ndim - self._no_batch_dim
        if input.shape[feature_dim] == self.num_features:
            return
        if self.affine:
            raise ValueError(
                f"{self._get_name()}: expected input's size at dim={feature_dim} to match "
                f"num_features ({self.num_features}), but got: {input.shape[feature_dim]}."
            )
        warn_user(
            f"input's size at dim={feature_dim} does not match num_features. You can silence "
            "this warning by not passing in num_features, which is not used because "
            "affine=False",
        )

    def forward(self, input):
        self._check_input(input)
        unbatched = input.ndim == self._no_batch_dim
        if unbatched:
            input = input.unsqueeze(0)
        out = F.instance_norm(
            input,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            self.training or not self.track_running_stats,
            0.0 if self.momentum is None else self.momentum,  # PyTorch's reading of None here
            self.eps,
        )
        return out.squeeze(0) if unbatched else out


class InstanceNorm1d(_InstanceNorm):
    """Instance norm over (N, C, L) or (C, L) inputs.

    Example:
        >>> norm = nn.InstanceNorm1d(3, affine=True)
        >>> norm(minigrad.randn(2, 3, 8)).shape
        minigrad.Size([2, 3, 8])
    """

    _no_batch_dim = 2


class InstanceNorm2d(_InstanceNorm):
    """Instance norm over (N, C, H, W) or (C, H, W) inputs."""

    _no_batch_dim = 3


class InstanceNorm3d(_InstanceNorm):
    """Instance norm over (N, C, D, H, W) or (C, D, H, W) inputs."""

    _no_batch_dim = 4


class _LazyInstanceNorm(_LazyNormBase, _InstanceNorm):
    """Infers ``num_features`` from the first input's channel dim. PyTorch's defaults
    (``affine=True``, ``track_running_stats=True``, unlike the eager classes). The channel dim
    of an unbatched input is its first (PyTorch reads ``input.shape[1]`` there, and then
    refuses the input)."""

    def initialize_parameters(self, input, *args, **kwargs) -> None:
        if input.ndim not in (self._no_batch_dim, self._no_batch_dim + 1):
            self._check_input(input)
        channel_first = input.ndim == self._no_batch_dim
        super().initialize_parameters(input.unsqueeze(0) if channel_first else input)


class LazyInstanceNorm1d(_LazyInstanceNorm):
    """An :class:`InstanceNorm1d` whose ``num_features`` is inferred from the first input."""

    cls_to_become = InstanceNorm1d
    _no_batch_dim = InstanceNorm1d._no_batch_dim


class LazyInstanceNorm2d(_LazyInstanceNorm):
    """An :class:`InstanceNorm2d` whose ``num_features`` is inferred from the first input."""

    cls_to_become = InstanceNorm2d
    _no_batch_dim = InstanceNorm2d._no_batch_dim


class LazyInstanceNorm3d(_LazyInstanceNorm):
    """An :class:`InstanceNorm3d` whose ``num_features`` is inferred from the first input."""

    cls_to_become = InstanceNorm3d
    _no_batch_dim = InstanceNorm3d._no_batch_dim
