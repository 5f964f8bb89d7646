"""Batch normalization layers: ``BatchNorm1d``, ``BatchNorm2d``, ``BatchNorm3d``."""

from __future__ import annotations

from collections import ChainMap

from ... import dtypes
from ...autograd import Function, no_grad
from ...creation import empty, ones, tensor, zeros
from ...ops import cat
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

    def _load_from_state_dict(self, state_dict, prefix, *args) -> None:
        key = prefix + "num_batches_tracked"
        if self.num_batches_tracked is not None and key not in state_dict:
            # older checkpoints have no counter: keep this module's, as PyTorch does, so that
            # they still load with strict=True and the key is not reported missing
            state_dict = ChainMap({key: self.num_batches_tracked}, state_dict)
        super()._load_from_state_dict(state_dict, prefix, *args)  # minigrad's or PyTorch's

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
        """PyTorch's errors (a ValueError for the rank, batch_norm's RuntimeError for the
        channels), then which layer and the shapes it accepts."""
        if input.ndim in self._ndims and input.shape[1] == self.num_features:
            return
        expected = (
            f"{self._get_name()}({self.extra_repr()}) expected input of shape "
            f"{self._shapes.format(C=self.num_features)}, got shape {list(input.shape)}"
        )
        if input.ndim not in self._ndims:
            raise ValueError(
                f"expected {_rank_words(self._ndims)} input (got {input.ndim}D input): {expected}"
            )
        held = "running_mean" if self.running_mean is not None else "weight"
        if getattr(self, held) is not None:  # (without either, PyTorch normalizes any channels)
            raise RuntimeError(
                f"{held} should contain {input.shape[1]} elements not {self.num_features}: "
                f"{expected}"
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


class SyncBatchNorm(_BatchNorm):
    """Batch norm whose training statistics are those of the global batch, summed over every
    rank of the process group (``torch.nn.SyncBatchNorm``), for data-parallel training where
    each rank sees a few samples. Outside a process group of two or more ranks, and in eval
    mode, it is :class:`BatchNorm2d` (any (N, C, *) input).

    Each training forward runs two all-reduces (the per-channel sums, then the sums of squared
    deviations: exact where sums of squares lose digits); backward all-reduces their
    gradients, so the input's gradient is the one of the whole batch.

    Example:
        >>> model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
        >>> ddp = DistributedDataParallel(model)
    """

    _ndims = (2, 3, 4, 5)
    _shapes = "(N, {C}, *)"

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, process_group=None,
                 device=None, dtype=None):  # fmt: skip
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)
        self.process_group = process_group

    def forward(self, input):
        world = _world_size(self.process_group) if self.training else 1
        if world <= 1:
            return super().forward(input)
        self._check_input(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked)
        dims = [0] + list(range(2, input.ndim))
        kept = [1, -1] + [1] * (input.ndim - 2)
        x = input.float() if input.dtype in (dtypes.float16, dtypes.bfloat16) else input
        local = tensor(float(x.numel() // x.shape[1]), dtype=x.dtype, device=x.device)
        totals = _AllReduceSum.apply(cat([x.sum(dims), local.reshape(1)]), self.process_group)
        count = totals[-1]  # the samples per channel over all ranks (ranks' batches may differ)
        mean = totals[:-1] / count
        centered = x - mean.reshape(kept)
        var = _AllReduceSum.apply(centered.pow(2).sum(dims), self.process_group) / count
        out = (centered * (var.reshape(kept) + self.eps).rsqrt()).to(input.dtype)
        if self.weight is not None:
            out = out * self.weight.reshape(kept)
        if self.bias is not None:
            out = out + self.bias.reshape(kept)
        if self.track_running_stats and self.running_mean is not None:
            with no_grad():
                unbiased = var * (count / (count - 1))
                self.running_mean.mul_(1 - factor).add_(mean.detach() * factor)
                self.running_var.mul_(1 - factor).add_(unbiased.detach() * factor)
        return out

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """``module`` with every BatchNorm1d/2d/3d (itself or inside it) replaced by a
        SyncBatchNorm holding the same parameters and buffers (the same tensors)."""
        converted = module
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            converted = cls(module.num_features, module.eps, module.momentum, module.affine,
                            module.track_running_stats, process_group)  # fmt: skip
            for name in ("weight", "bias"):
                if name in module._parameters:
                    converted._parameters[name] = module._parameters[name]
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                converted._buffers[name] = module._buffers.get(name)
            converted.train(module.training)
        for name, child in module.named_children():
            converted.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return converted


class _AllReduceSum(Function):
    """The sum over the ranks, differentiable: each rank's gradient is the sum of them all (the
    output is the same on every rank and feeds every rank's loss)."""

    @staticmethod
    def forward(ctx, t, group):
        from ... import distributed as dist  # the layer above nn: imported only when used

        ctx.group = group
        out = t.clone()
        dist.all_reduce(out, group=group)
        return out

    @staticmethod
    def backward(ctx, grad):
        from ... import distributed as dist

        total = grad.clone()
        dist.all_reduce(total, group=ctx.group)
        return total, None


def _world_size(group) -> int:
    from ... import distributed as dist

    return dist.get_world_size(group) if dist.is_available() and dist.is_initialized() else 1


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


class LazyBatchNorm3d(_LazyNormBase):
    """A :class:`BatchNorm3d` whose ``num_features`` is inferred from the first input; it then
    becomes a ``BatchNorm3d``."""

    cls_to_become = BatchNorm3d
    _ndims, _shapes = BatchNorm3d._ndims, BatchNorm3d._shapes


def _rank_words(ndims: tuple) -> str:
    """PyTorch's words for the accepted ranks: ``2D or 3D``, ``4D``, ``at least 2D``."""
    if len(ndims) > 2:
        return f"at least {ndims[0]}D"
    return " or ".join(f"{n}D" for n in ndims)
