"""Batch normalization layers: ``BatchNorm1d``, ``BatchNorm2d``, ``BatchNorm3d``."""

from __future__ import annotations

from ... import dtypes
from ...creation import empty, ones, tensor, zeros
from .. import functional as F
from .. import init
from ..parameter import Parameter, UninitializedBuffer, UninitializedParameter
from .lazy import LazyModuleMixin
from .module import Module


class _NormBase(Module):
    """Parameters, running statistics and repr shared by batch and instance norm
    (``torch.nn.modules.batchnorm._NormBase``)."""

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device=None,
        dtype=None,
        *,
        bias: bool = True,
    ):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        factory = dict(device=device, dtype=dtype)
        if affine:
            self.weight = Parameter(empty(num_features, **factory))
            if bias:
                self.bias = Parameter(empty(num_features, **factory))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, **factory))
            self.register_buffer("running_var", ones(num_features, **factory))
            self.register_buffer(
                "num_batches_tracked", tensor(0, dtype=dtypes.int64, device=device)
            )
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, bias={self.bias is not None}, "
            f"track_running_stats={self.track_running_stats}"
        )


class _BatchNorm(_NormBase):
    """Shared code of BatchNorm1d/2d/3d (``torch.nn.modules.batchnorm._BatchNorm``)."""

    _shapes = ""  # the accepted input shapes, for errors
    _ndims: tuple = ()

    def _check_input(self, input) -> None:
        if input.ndim not in self._ndims or input.shape[1] != self.num_features:
            shapes = self._shapes.format(C=self.num_features)
            raise ValueError(
                f"{self._get_name()}({self.extra_repr()}) expected input of shape {shapes}, got "
                f"shape {list(input.shape)}"
            )

    def forward(self, input):
        self._check_input(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:  # cumulative moving average
                factor = 1.0 / float(self.num_batches_tracked)
        use_batch_stats = self.training or (self.running_mean is None and self.running_var is None)
        keep_stats = not self.training or self.track_running_stats
        return F.batch_norm(
            input,
            self.running_mean if keep_stats else None,
            self.running_var if keep_stats else None,
            self.weight,
            self.bias,
            use_batch_stats,
            factor,
            self.eps,
        )


class BatchNorm1d(_BatchNorm):
    """Batch norm over (N, C) or (N, C, L) inputs, per channel C.

    Training mode normalizes with batch statistics and updates ``running_mean`` and
    ``running_var`` (``momentum=None``: a cumulative average); eval mode uses the running ones.

    Example:
        >>> bn = nn.BatchNorm1d(3)
        >>> bn(minigrad.randn(8, 3)).shape
        minigrad.Size([8, 3])
    """

    _ndims = (2, 3)
    _shapes = "(N, {C}) or (N, {C}, L)"


class BatchNorm2d(_BatchNorm):
    """Batch norm over (N, C, H, W) inputs, per channel C (see :class:`BatchNorm1d`)."""

    _ndims = (4,)
    _shapes = "(N, {C}, H, W)"


class BatchNorm3d(_BatchNorm):
    """Batch norm over (N, C, D, H, W) inputs, per channel C."""

    _ndims = (5,)
    _shapes = "(N, {C}, D, H, W)"


# -- branch optimutils: lazy batch norms ---------------------------------------------------------
class _LazyNormBase(LazyModuleMixin, _BatchNorm):
    """Infers ``num_features`` from the first input (``input.shape[1]``)."""

    def __init__(self, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None):  # fmt: skip
        super().__init__(0, eps, momentum, False, False, device=device, dtype=dtype)
        self.affine, self.track_running_stats = affine, track_running_stats
        factory = dict(device=device, dtype=dtype)
        if affine:
            self.weight = UninitializedParameter(**factory)
            self.bias = UninitializedParameter(**factory)
        if track_running_stats:
            self.running_mean = UninitializedBuffer(**factory)
            self.running_var = UninitializedBuffer(**factory)
            self.num_batches_tracked = tensor(0, dtype=dtypes.int64, device=device)

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input, *args, **kwargs) -> None:
        """Materialize the parameters and running statistics for ``input.shape[1]`` features.
        When they were loaded from a state dict, only ``num_features`` is set (PyTorch leaves
        it 0 then)."""
        self.num_features = input.shape[1]
        if not self.has_uninitialized_params():
            return
        for name in ("weight", "bias", "running_mean", "running_var"):
            value = getattr(self, name)
            if value is not None:
                value.materialize((self.num_features,))
        self.reset_parameters()


class LazyBatchNorm1d(_LazyNormBase):
    """A :class:`BatchNorm1d` whose ``num_features`` is inferred from the first input; it then
    becomes a ``BatchNorm1d``."""

    cls_to_become = BatchNorm1d
    _ndims, _shapes = BatchNorm1d._ndims, BatchNorm1d._shapes


class LazyBatchNorm2d(_LazyNormBase):
    """A :class:`BatchNorm2d` whose ``num_features`` is inferred from the first input; it then
    becomes a ``BatchNorm2d``."""

    cls_to_become = BatchNorm2d
    _ndims, _shapes = BatchNorm2d._ndims, BatchNorm2d._shapes
