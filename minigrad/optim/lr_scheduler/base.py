"""The scheduler base class, LRScheduler, and the helpers the schedulers share."""

from __future__ import annotations

import functools
import os

from ..._warnings import warn_user
from ...tensor import Tensor
from ..optimizer import Optimizer

_STEP_ORDER = (  # PyTorch's words
    "Detected call of `lr_scheduler.step()` before `optimizer.step()`. In PyTorch 1.1.0 and "
    "later, you should call them in the opposite order: `optimizer.step()` before "
    "`lr_scheduler.step()`.  Failure to do this will result in PyTorch skipping the first value "
    "of the learning rate schedule. See more details at "
    "https://pytorch.org/docs/stable/optim.html#how-to-adjust-learning-rate"
)
_EPOCH_DEPRECATION = (  # PyTorch's words
    "The epoch parameter in `scheduler.step()` was not necessary and is being deprecated where "
    "possible. Please use `scheduler.step()` to step the scheduler. During the deprecation, if "
    "epoch is different from None, the closed form is used instead of the new chainable form, "
    "where available. Please open an issue if you are unable to replicate your use case: "
    "https://github.com/pytorch/pytorch/issues/new/choose."
)


def set_lr(group: dict, lr) -> None:
    """Set a param group's learning rate; a tensor ``lr`` (PyTorch takes one) is filled in
    place, as PyTorch's schedulers do, so that whoever holds it sees the new value."""
    current = group["lr"]
    if isinstance(current, Tensor):  # (from a tensor: no host read, so a compiled step replays)
        current.fill_(lr.squeeze() if isinstance(lr, Tensor) and lr.dim() else lr)
    else:
        group["lr"] = lr


class LRScheduler:
    """Base class of the schedulers: keeps ``base_lrs``, ``last_epoch`` and ``_last_lr``.

    Subclasses implement ``get_lr()``, the learning rates for ``self.last_epoch`` (usually
    from the current ``group["lr"]``), and optionally ``_get_closed_form_lr()``.

    Args:
        optimizer: the optimizer whose learning rates to change.
        last_epoch: the index of the last epoch; -1 (the default) starts from scratch and
            records each group's ``lr`` as its ``initial_lr``.
    """

    _is_initial = False
    _get_lr_called_within_step = False  # (PyTorch's flag, in the state dict as in PyTorch)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        get_lr = cls.__dict__.get("get_lr")
        if _is_ours(get_lr):  # each of minigrad's schedulers warns when called from outside step
            cls.get_lr = _warning_outside_step(get_lr)  # (a program's own get_lr does not)

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        _check_optimizer(optimizer)
        self.optimizer = optimizer
        if not optimizer.__dict__.get("_step_tracked"):  # steps count from the first scheduler
            optimizer.__dict__.update(_step_tracked=True, _opt_called=False)  # (as PyTorch's)
        for i, group in enumerate(optimizer.param_groups):
            if last_epoch == -1:
                lr = group["lr"]  # a tensor lr is filled in place later: keep its first value
                group.setdefault("initial_lr", lr.clone() if isinstance(lr, Tensor) else lr)
            elif "initial_lr" not in group:
                raise KeyError(
                    f"param 'initial_lr' is not specified in param_groups[{i}] when resuming a "
                    f"scheduler with last_epoch={last_epoch}: load the optimizer's state_dict "
                    f"first, or start with last_epoch=-1"
                )
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        """Reset the step count and take the step that sets the epoch-0 learning rates."""
        self._step_count = 0
        self._is_initial = (
            True  # set before the flag below: the state dict's key order is PyTorch's
        )
        self._get_lr_called_within_step = False
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self) -> list:
        """The learning rates for ``self.last_epoch``; called by :meth:`step`."""
        raise NotImplementedError

    def lrs_within_step(self) -> list:
        """``get_lr()`` as :meth:`step` calls it (without the warning a direct call gives)."""
        self._get_lr_called_within_step = True
        try:
            return self.get_lr()
        finally:
            self._get_lr_called_within_step = False

    def get_last_lr(self) -> list:
        """The learning rates set by the last :meth:`step`, one per param group."""
        return self._last_lr

    def step(self, epoch: int | None = None) -> None:
        """Advance one epoch (or, deprecated, jump to ``epoch``) and set the new learning rates."""
        self._warn_if_optimizer_not_stepped()
        self._step_count += 1
        if epoch is not None:
            warn_user(_EPOCH_DEPRECATION, UserWarning)
        self._update_lr(epoch)

    def _warn_if_optimizer_not_stepped(self) -> None:
        """PyTorch's warning when the first ``step()`` after construction comes before any
        ``optimizer.step()`` (the first learning rate of the schedule is then skipped)."""
        if self._step_count == 1 and not getattr(self.optimizer, "_opt_called", False):
            warn_user(_STEP_ORDER, UserWarning)

    def _update_lr(self, epoch: int | None = None) -> None:
        if epoch is None:
            self.last_epoch += 1
            values = self.lrs_within_step()
        else:
            self.last_epoch = epoch
            closed_form = getattr(self, "_get_closed_form_lr", None)
            values = closed_form() if closed_form is not None else self.lrs_within_step()
        values, groups = list(values), self.optimizer.param_groups
        if len(values) != len(groups):  # PyTorch's zip(..., strict=True) raises here too
            raise ValueError(
                f"{type(self).__name__}.step(): {len(values)} learning rates for {len(groups)} "
                f"param groups: a group added with add_param_group after the scheduler was made "
                f"has no base_lr (or lr_lambda) in it; make the scheduler after adding groups"
            )
        for group, lr in zip(groups, values):
            set_lr(group, lr)
        self._last_lr = _group_lrs(self.optimizer)

    def state_dict(self) -> dict:
        """Every attribute but the optimizer; round-trips through :func:`minigrad.save`."""
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore attributes saved by :meth:`state_dict` of the same kind of scheduler.

        Raises:
            ValueError: ``state_dict`` has keys this scheduler does not have (it was saved
                from another kind of scheduler).
        """
        state_dict = _check_keys(self, state_dict)
        self.__dict__.update(state_dict)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, last_lr={self._last_lr})"


_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _is_ours(fn) -> bool:
    """``fn`` is a function defined in minigrad's own files (as PyTorch, whose built-in
    schedulers warn from their ``get_lr`` and a subclass's own ``get_lr`` does not)."""
    code = getattr(fn, "__code__", None)
    return code is not None and code.co_filename.startswith(_PACKAGE_DIR + os.sep)


def _warning_outside_step(get_lr):
    """``get_lr`` warning, as PyTorch's, when a program calls it rather than ``step``: it
    computes the next rates (recursive formulas from the current ones), not the last ones."""

    @functools.wraps(get_lr)
    def checked(self):
        if not self._get_lr_called_within_step:
            warn_user(
                "To get the last learning rate computed by the scheduler, please use "
                "`get_last_lr()`.",
                UserWarning,
            )
        return get_lr(self)

    return checked


def _check_optimizer(optimizer) -> None:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")


def _check_keys(scheduler, state_dict) -> dict:
    """``state_dict``, after checking it has no key this kind of scheduler lacks."""
    if not isinstance(state_dict, dict):
        raise TypeError(f"state_dict must be a dict, got {type(state_dict).__name__}")
    unknown = set(state_dict) - set(scheduler.__dict__)
    if unknown:
        name = type(scheduler).__name__
        raise ValueError(
            f"state_dict was saved from another kind of scheduler than this {name}: it has "
            f"keys {sorted(map(str, unknown))} that {name} does not have"
        )
    return state_dict


def _group_lrs(optimizer: Optimizer) -> list:
    """Each param group's learning rate; a tensor one cloned (as PyTorch's
    ``_param_groups_val_list``), so that ``get_last_lr()`` keeps this step's value when the
    tensor is filled in place by the next step."""
    return [
        g["lr"].clone() if isinstance(g["lr"], Tensor) else g["lr"] for g in optimizer.param_groups
    ]


def _per_group(name: str, optimizer: Optimizer, value) -> list:
    """``value`` repeated for each param group, or checked to have one entry per group."""
    groups = len(optimizer.param_groups)
    if isinstance(value, (list, tuple)):
        if len(value) != groups:
            raise ValueError(
                f"{name} must have the same length as optimizer.param_groups. {name} has "
                f"{len(value)} values, param_groups has {groups}."
            )
        return list(value)
    return [value] * groups


class _LRScheduler(LRScheduler):
    """The old name of :class:`LRScheduler`, which schedulers written for PyTorch before 2.0
    (torch-lr-finder, warmup recipes) still subclass; PyTorch keeps it as a subclass too."""
