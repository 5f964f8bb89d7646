"""Weight averaging (``torch.optim.swa_utils``): ``AveragedModel`` for stochastic weight
averaging and exponential moving averages of a model, ``SWALR`` (anneal to a constant SWA
learning rate) and ``update_bn`` (recompute batch-norm statistics for averaged weights)."""

from __future__ import annotations

import copy
import itertools
import math

from .. import creation, dtypes
from ..autograd import grad_mode
from ..nn.modules.batchnorm import _BatchNorm
from ..nn.modules.module import Module
from ..tensor import Tensor
from .lr_scheduler.base import LRScheduler

__all__ = [
    "SWALR",
    "AveragedModel",
    "get_ema_avg_fn",
    "get_ema_multi_avg_fn",
    "get_swa_avg_fn",
    "get_swa_multi_avg_fn",
    "update_bn",
]


def get_ema_multi_avg_fn(decay: float = 0.999):
    """An ``AveragedModel`` ``multi_avg_fn``: every average ← decay·average + (1 - decay)·current."""

    def ema_update(ema_param_list, current_param_list, _num_averaged):
        for ema, current in zip(ema_param_list, current_param_list):
            if ema.dtype.is_floating_point:
                ema.lerp_(current, 1.0 - decay)
            else:  # integer buffers (step counts): the same formula, truncated as PyTorch's copy
                ema.copy_(ema * decay + current * (1 - decay))

    return ema_update


def get_swa_multi_avg_fn():
    """An ``AveragedModel`` ``multi_avg_fn``: the running equal-weight mean of all updates."""

    def swa_update(averaged_param_list, current_param_list, num_averaged):
        n = float(num_averaged)
        for avg, current in zip(averaged_param_list, current_param_list):
            if avg.dtype.is_floating_point:
                avg.add_((current - avg) / (n + 1))
            else:  # integer buffers: the same mean, truncated (PyTorch's per-tensor CPU path)
                avg.copy_(avg + (current - avg) / (n + 1))

    return swa_update


def get_ema_avg_fn(decay: float = 0.999):
    """An ``AveragedModel`` ``avg_fn``: returns decay·average + (1 - decay)·current."""

    def ema_update(ema_param, current_param, num_averaged):
        return decay * ema_param + (1 - decay) * current_param

    return ema_update


def get_swa_avg_fn():
    """An ``AveragedModel`` ``avg_fn``: returns the running equal-weight mean."""

    def swa_update(averaged_param, current_param, num_averaged):
        return averaged_param + (current_param - averaged_param) / (num_averaged + 1)

    return swa_update


class AveragedModel(Module):
    """A copy of ``model`` whose parameters are an average of ``model``'s over the calls of
    :meth:`update_parameters`: the equal-weight mean by default (SWA), or what ``avg_fn``
    (one tensor at a time) or ``multi_avg_fn`` (lists of tensors, in place) computes, e.g.
    :func:`get_ema_multi_avg_fn` for an exponential moving average.

    The first update copies ``model``'s values. With ``use_buffers=True`` buffers are averaged
    too; otherwise they are copied from ``model`` at each update (run :func:`update_bn`
    afterwards for batch-norm statistics that match the averaged weights).

    Example:
        >>> ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.999))
        >>> ...; optimizer.step(); ema.update_parameters(model)
    """

    def __init__(self, model, device=None, avg_fn=None, multi_avg_fn=None, use_buffers=False):
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise ValueError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = copy.deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", creation.tensor(0, dtype=dtypes.int64, device=device))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def _averaged(self, model) -> list:
        params = model.parameters()
        return list(itertools.chain(params, model.buffers()) if self.use_buffers else params)

    def update_parameters(self, model) -> None:
        """Fold ``model``'s current values into the average (the first call copies them)."""
        averaged = [p.detach() for p in self._averaged(self.module)]
        current = [p.detach().to(a.device) for p, a in zip(self._averaged(model), averaged)]
        n = int(self.n_averaged.item())
        with grad_mode.no_grad():
            if n == 0:
                for a, c in zip(averaged, current):
                    a.copy_(c)
            elif self.multi_avg_fn is not None:
                self.multi_avg_fn(averaged, current, self.n_averaged.to(averaged[0].device))
            elif self.avg_fn is not None:
                for a, c in zip(averaged, current):
                    a.copy_(self.avg_fn(a, c, self.n_averaged.to(a.device)))
            else:
                get_swa_multi_avg_fn()(averaged, current, n)
            if not self.use_buffers:  # keep the buffers in step with the source model
                for b_avg, b_model in zip(self.module.buffers(), model.buffers()):
                    b_avg.detach().copy_(b_model.detach().to(b_avg.device))
            self.n_averaged.add_(1)


def update_bn(loader, model, device=None) -> None:
    """Recompute the running statistics of ``model``'s batch-norm layers with one pass over
    ``loader`` (each item a tensor, or a list/tuple whose first element is the input), as a
    cumulative average; the layers' momenta and the model's mode are restored afterwards."""
    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None  # a cumulative moving average over the whole pass
    with grad_mode.no_grad():
        for batch in loader:
            if isinstance(batch, (list, tuple)):
                batch = batch[0]
            if device is not None and isinstance(batch, Tensor):
                batch = batch.to(device)
            model(batch)
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneal each group's learning rate to ``swa_lr`` over ``anneal_epochs`` steps (cosine or
    linear), then hold it there.

    With ``a(t) = (1 - cos(πt)) / 2`` (``'cos'``) or ``t`` (``'linear'``) and
    ``t = min(1, step / anneal_epochs)``: ``lr = a(t)·swa_lr + (1 - a(t))·lr₀``;
    ``anneal_epochs=0`` switches to ``swa_lr`` at once. As in PyTorch the schedule is
    chainable: ``lr₀`` is recovered at every step from the group's current ``lr``, so made at
    the start of training and first stepped after another scheduler has lowered the rate, it
    anneals from that lower rate.

    Args:
        optimizer: the optimizer.
        swa_lr: the target learning rate, or one per param group.
        anneal_epochs: steps of annealing (a non-negative int).
        anneal_strategy: ``'cos'`` or ``'linear'``.
    """

    def __init__(self, optimizer, swa_lr, anneal_epochs=10, anneal_strategy="cos", last_epoch=-1):
        groups = optimizer.param_groups
        swa_lrs = list(swa_lr) if isinstance(swa_lr, (list, tuple)) else [swa_lr] * len(groups)
        if len(swa_lrs) != len(groups):
            raise ValueError(
                f"swa_lr must have the same length as optimizer.param_groups: swa_lr has "
                f"{len(swa_lrs)}, optimizer.param_groups has {len(groups)}"
            )
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(
                f"anneal_strategy must by one of 'cos' or 'linear', instead got {anneal_strategy}"
            )
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        for group, lr in zip(groups, swa_lrs):
            group["swa_lr"] = lr
        self.anneal_epochs = anneal_epochs
        self.anneal_strategy = anneal_strategy
        super().__init__(optimizer, last_epoch)

    def _alpha(self, step: int) -> float:
        t = max(0.0, min(1.0, step / max(1, self.anneal_epochs)))
        return (1 - math.cos(math.pi * t)) / 2 if self.anneal_strategy == "cos" else t

    def get_lr(self) -> list:
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        before, now = self._alpha(step - 1), self._alpha(step)
        lrs = []
        for group in self.optimizer.param_groups:
            swa = group["swa_lr"]
            # the lr₀ that the previous step's mix would have turned into the current lr
            lr0 = swa if before == 1 else (group["lr"] - before * swa) / (1 - before)
            lrs.append(swa * now + lr0 * (1 - now))
        return lrs
