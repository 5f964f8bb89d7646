"""Training on uneven inputs across ranks (``torch.distributed.algorithms.join``).

When one rank runs out of batches before the others, the collectives the others still start
(DDP's gradient all-reduces, buffer broadcasts) would wait forever for it. Inside a
:class:`Join` context, a rank that has left its loop ("joined") keeps answering those
collectives through the :class:`JoinHook` of each :class:`Joinable` (DDP's contributes zero
gradients), until every rank has joined; then each hook's ``post_hook`` runs once (DDP's copies
the model of a last joiner to every rank).

The protocol, as PyTorch's: every iteration, the first joinable of a rank that has not joined
calls :meth:`Join.notify_join_context`, an all-reduce of a one; a joined rank loops on the same
all-reduce with a zero, so the sum it reads is the number of ranks still training, and runs its
hooks' ``main_hook`` while that number is not zero. With ``throw_on_early_termination``, the
first rank to join sends a one instead, and every rank raises.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, NamedTuple

from ... import ones, zeros
from ..._warnings import warn_user
from ...nn.parallel import DistributedDataParallel
from .. import distributed_c10d as c10d
from ..collectives import all_reduce

__all__ = ["Join", "JoinHook", "Joinable"]

# Iterations a joined rank may shadow before Join warns that the inputs are badly skewed.
_WARN_THRESHOLD = 1000


class JoinHook:
    """What a joined rank does for one :class:`Joinable`: ``main_hook`` once per iteration
    that some rank is still training (shadowing that joinable's collectives), ``post_hook``
    once after every rank has joined. Subclass and override either; both do nothing here."""

    def main_hook(self) -> None:
        """Shadow one training iteration's collectives (forward, backward, optimizer step)."""

    def post_hook(self, is_last_joiner: bool) -> None:
        """Run once every rank has joined; ``is_last_joiner`` is True on the ranks that joined
        last (whose state is the most recent)."""


class Joinable(ABC):
    """A class whose collectives a :class:`Join` context can shadow: it calls
    ``Joinable.__init__`` (which sets its join configuration), returns its hook from
    :meth:`join_hook`, names the device and process group of its collectives, and calls
    :meth:`Join.notify_join_context` before its collectives of each iteration."""

    @abstractmethod
    def __init__(self) -> None:
        super().__init__()
        self._join_config = _JoinConfig.construct_disabled_join_config()

    @abstractmethod
    def join_hook(self, **kwargs) -> JoinHook:
        """The :class:`JoinHook` of this joinable; ``kwargs`` are those given to ``Join``,
        the same for every joinable of the context."""

    @property
    @abstractmethod
    def join_device(self):
        """The device of the join context's own collectives."""

    @property
    @abstractmethod
    def join_process_group(self) -> Any:
        """The process group of the join context's own collectives."""


class _JoinConfig(NamedTuple):
    """A joinable's view of the context it is in."""

    enable: bool
    throw_on_early_termination: bool
    is_first_joinable: bool

    @staticmethod
    def construct_disabled_join_config() -> _JoinConfig:
        """The configuration outside any join context: join logic off."""
        return _JoinConfig(enable=False, throw_on_early_termination=False, is_first_joinable=False)


class Join:
    """Context manager for a training loop whose ranks may have different numbers of inputs.

    Args:
        joinables: the participating :class:`Joinable` objects (for example a
            ``DistributedDataParallel`` model); their hooks run in this order.
        enable: False turns the uneven-input handling off (for inputs known to be even).
        throw_on_early_termination: raise on every rank as soon as one rank runs out of
            inputs, instead of shadowing its collectives.
        **kwargs: passed to every joinable's :meth:`Joinable.join_hook`
            (DDP takes ``divide_by_initial_world_size``).

    Every joinable must use the same process group; the first one's device carries the
    context's own all-reduces. A loop with other collectives than the joinables' (for example
    ``SyncBatchNorm``) needs ``throw_on_early_termination=True``.

    Example:
        >>> model = DistributedDataParallel(nn.Linear(1, 1))
        >>> inputs = [minigrad.ones(1) for _ in range(10 + dist.get_rank())]
        >>> with Join([model]):  # or model.join()
        ...     for x in inputs:
        ...         model(x).sum().backward()
    """

    def __init__(
        self,
        joinables: list[Joinable],
        enable: bool = True,
        throw_on_early_termination: bool = False,
        **kwargs,
    ):
        if len(joinables) == 0:
            raise ValueError("The join context manager requires at least one joinable")
        self._joinables = list(joinables)
        self._join_hooks = [joinable.join_hook(**kwargs) for joinable in self._joinables]
        self._enable = enable
        self._throw_on_early_termination = throw_on_early_termination
        self._set_joinable_configs()
        self._extract_dist_info()

    def _set_joinable_configs(self) -> None:
        """Tell each joinable it is in this context; only the first one notifies it."""
        for i, joinable in enumerate(self._joinables):
            joinable._join_config = _JoinConfig(
                enable=self._enable,
                throw_on_early_termination=self._throw_on_early_termination,
                is_first_joinable=i == 0,
            )

    def _extract_dist_info(self) -> None:
        """The process group (the same for all joinables) and the first joinable's device."""
        process_group, device = None, None
        for joinable in self._joinables:
            if process_group is None:
                process_group = joinable.join_process_group
            elif process_group != joinable.join_process_group:
                raise ValueError("Using join context manager with multiple process groups")
            if device is None:
                device = joinable.join_device
        self._process_group = process_group
        self._rank = c10d.get_rank(process_group)
        self._device = device

    def __enter__(self):
        return None

    def __exit__(self, exc_type, exc_value, traceback):
        """This rank has joined: run the main hooks while some rank is still training, then
        the post hooks. An exception inside the context propagates unchanged."""
        if not self._enable or exc_type is not None:
            return
        is_last_joiner, shadowed = True, 0
        while self._get_num_nonjoined_procs() != 0:
            if shadowed == _WARN_THRESHOLD + 1:
                warn_user(
                    f"Detected uneven input skew of greater than {_WARN_THRESHOLD}. This "
                    f"means that rank {self._rank} has at least {_WARN_THRESHOLD} fewer inputs "
                    "than other currently-active ranks. This level of skew could lead to "
                    "performance degradation during training."
                )
            if self._throw_on_early_termination:
                self._notify_procs_to_terminate()
            for join_hook in self._join_hooks:
                join_hook.main_hook()
            is_last_joiner = False
            shadowed += 1
        for join_hook in self._join_hooks:
            join_hook.post_hook(is_last_joiner)

    def _get_num_nonjoined_procs(self) -> int:
        """The number of ranks still training: this rank's zero summed with the ones of the
        ranks' :meth:`notify_join_context` (and the zeros of the other joined ranks)."""
        count = zeros(1, device=self._device)
        all_reduce(count, group=self._process_group)
        return int(count.item())

    def _notify_procs_to_terminate(self) -> None:
        """Answer the training ranks' early-termination check with a one, then raise."""
        all_reduce(ones(1, device=self._device), group=self._process_group)
        raise RuntimeError(f"Rank {self._rank} exhausted all inputs.")

    @staticmethod
    def notify_join_context(joinable: Joinable):
        """Tell the join context that this rank has not joined (call it before the
        joinable's collectives of each iteration); with ``throw_on_early_termination``, raise
        if some rank has already joined.

        Only the first joinable of a context communicates; for the others, and outside a
        context, this returns None. For the first, it returns the (completed) work handle
        of the all-reduce of a one: ``work.result()[0]`` holds the number of ranks still
        training.
        """
        if not hasattr(joinable, "_join_config"):
            raise AssertionError(
                f"Check that the {type(joinable)} constructor calls the ``Joinable`` constructor"
            )
        config = joinable._join_config
        if not config.is_first_joinable or not config.enable:
            return None
        device, group = joinable.join_device, joinable.join_process_group
        count = ones(1, device=device)
        work = all_reduce(count, group=group, async_op=True)
        # Completed here: callers often drop the handle (PyTorch's own joinables do), and an
        # MPI reduction whose handle is dropped unfinished would lose its buffer. The joined
        # ranks answer it at once, so waiting costs only the overlap.
        work.wait()
        if config.throw_on_early_termination:
            flag = zeros(1, device=device)
            all_reduce(flag, group=group)
            if flag.item():
                raise RuntimeError(
                    "Detected at least one rank that exhausted inputs. Throwing across all ranks."
                )
        return work


class _DDPJoinHook(JoinHook):
    """``DistributedDataParallel``'s join hook: on a joined rank, each iteration answers the
    collectives of the ranks still training (with zero gradients); at the end, the model of a
    rank that joined last is copied to every rank."""

    def __init__(self, ddp, divide_by_initial_world_size: bool):
        if not isinstance(ddp, DistributedDataParallel):
            raise AssertionError(
                "DDP join hook requires passing in a DistributedDataParallel instance as the "
                f"state, got {type(ddp).__name__}"
            )
        self.ddp = ddp
        ddp._divide_by_initial_world_size = divide_by_initial_world_size

    def main_hook(self) -> None:
        self.ddp._shadow_iteration()

    def post_hook(self, is_last_joiner: bool) -> None:
        self.ddp._sync_final_model(is_last_joiner)


# DistributedDataParallel lives in nn, a layer below this one, so it cannot inherit from
# Joinable; it implements the interface and is registered here.
Joinable.register(DistributedDataParallel)
