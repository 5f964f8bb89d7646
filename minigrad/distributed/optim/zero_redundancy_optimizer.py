"""``torch.distributed.optim.ZeroRedundancyOptimizer``: an optimizer whose state is sharded over
the ranks (ZeRO stage 1).

Each rank keeps the whole model but runs the wrapped optimizer on its own part of the
parameters only (so holds only their state); after the step every rank broadcasts its updated
parameters to the others. The parts are PyTorch's: each param group's parameters sorted by size
(largest first), each given to the rank with the fewest elements so far (the lowest rank on a
tie), the counts carried from group to group. With ``DistributedDataParallel`` (gradients
averaged on every rank) the weights are those of the wrapped optimizer run on every rank.

``state_dict()`` needs ``consolidate_state_dict(to=rank)`` first (on every rank): that rank
receives every rank's state and gives the whole optimizer's state dict, indexed as the
wrapped optimizer's would be; ``load_state_dict`` takes such a dict on every rank and keeps
its own part.
"""

from __future__ import annotations

import copy
from itertools import chain

from ... import cat, empty, no_grad
from ...optim import Optimizer
from ...optim.optimizer import _check_layout
from ...tensor import Tensor
from .. import distributed_c10d as c10d
from ..algorithms.join import Join, Joinable, JoinHook
from ..collectives import broadcast, broadcast_object_list

__all__ = ["ZeroRedundancyOptimizer"]


class _ZeROJoinHook(JoinHook):
    """A joined rank still steps its part of the parameters (with the gradients DDP's join
    hook gave it) and takes part in the broadcasts (PyTorch's hook)."""

    def __init__(self, zero):
        self.zero = zero

    def main_hook(self) -> None:
        self.zero.step()


class ZeroRedundancyOptimizer(Optimizer, Joinable):
    """Wrap ``optimizer_class`` so that each rank updates (and keeps the state of) about
    ``1 / world_size`` of the parameters, then broadcasts them (PyTorch's class).

    Args:
        params: the parameters or param groups, the same on every rank.
        optimizer_class: the wrapped optimizer (``minigrad.optim.Adam``, ...).
        process_group: the group of ranks (the world: minigrad has no subgroups).
        parameters_as_bucket_view: accepted; minigrad always sends one rank's parameters in
            one broadcast, and the parameters keep their own storage either way.
        overlap_with_ddp: ``True`` (steps inside DDP's communication hook) raises
            ``NotImplementedError``.
        **defaults: the wrapped optimizer's hyperparameters (``lr=...``).

    Example:
        >>> model = DistributedDataParallel(net)
        >>> opt = ZeroRedundancyOptimizer(model.parameters(), minigrad.optim.Adam, lr=1e-3)
        >>> loss_fn(model(x), y).backward(); opt.step()
    """

    def __init__(
        self,
        params,
        optimizer_class,
        process_group=None,
        parameters_as_bucket_view: bool = False,
        overlap_with_ddp: bool = False,
        **defaults,
    ):
        if overlap_with_ddp:
            raise NotImplementedError(
                "ZeroRedundancyOptimizer(overlap_with_ddp=True): stepping inside DDP's "
                "communication hook (register_comm_hook with ddp_zero_hook.hook_with_zero_step) "
                "is not in minigrad, whose DistributedDataParallel has no communication hooks; "
                "step after backward"
            )
        params = self._verify_and_init_params(params)
        self.initialized = False
        Optimizer.__init__(self, params, defaults)
        Joinable.__init__(self)
        self.process_group = c10d._group(process_group, "ZeroRedundancyOptimizer")
        self.world_size = self.process_group.size()
        self.rank = self.process_group.rank()
        self.global_rank = self.rank  # (the world is the only group)
        self._default_device = self._all_params[0].device
        self._partition_parameters_cache: list = []
        self._optim_defaults = defaults
        self.parameters_as_bucket_view = parameters_as_bucket_view
        self.optim = optimizer_class(self._partition_parameters()[self.rank], **defaults)
        self._sync_param_groups(self.optim.param_groups, self.param_groups)
        self._all_state_dicts: list = []
        self.initialized = True

    # -- checks and the partition ----------------------------------------------------------------
    def _verify_and_init_params(self, params) -> list:
        """``params`` as a list (tensors or groups), and ``self._all_params``; PyTorch's errors."""
        if isinstance(params, Tensor):
            raise TypeError(
                f"`params` argument should be an iterable of Tensors, but got {params.type()}"
            )
        try:
            all_params = list(params)
        except TypeError as e:
            raise TypeError(
                "`params` argument should be an iterable of Tensors or dicts, but got "
                f"{type(params).__name__}"
            ) from e
        if not all_params:
            raise ValueError("ZeroRedundancyOptimizer got an empty parameter list")
        if all(isinstance(p, Tensor) for p in all_params):
            self._all_params = all_params
        elif all(isinstance(p, dict) for p in all_params):
            if any("params" not in g for g in all_params):
                raise ValueError(
                    "Each parameter group passed-in via `params` must have a 'params' key "
                    "mapping to the parameters in the group"
                )
            self._all_params = [p for g in all_params for p in g["params"]]
        else:
            raise TypeError("`params` argument should be an iterable of Tensors or dicts")
        first = self._all_params[0]
        for p in self._all_params:
            if getattr(p, "_local_tensor", None) is not None:
                raise NotImplementedError(
                    "ZeroRedundancyOptimizer of DTensor parameters is not in minigrad (FSDP "
                    "shards the optimizer state already)"
                )
            if p.is_sparse or (p.dtype, p.device) != (first.dtype, first.device):
                raise ValueError(
                    "ZeroRedundancyOptimizer only supports using the same dense type for all "
                    f"parameters but got both {first.type()} and {p.type()}"
                )
        return all_params

    def _partition_parameters(self) -> list:
        """For each rank, its param groups (copies of ours holding its parameters): each
        group's parameters largest first, each to the rank with the fewest elements so far."""
        if not self._partition_parameters_cache:
            per_rank = [[] for _ in range(self.world_size)]
            sizes = [0] * self.world_size
            for group in self.param_groups:
                mine = [[] for _ in range(self.world_size)]
                for p in sorted(group["params"], key=lambda t: t.numel(), reverse=True):
                    rank = sizes.index(min(sizes))
                    mine[rank].append(p)
                    sizes[rank] += p.numel()
                for rank, params in enumerate(mine):
                    part = copy.copy(group)
                    part["params"] = params
                    per_rank[rank].append(part)
            self._partition_parameters_cache = per_rank
        return self._partition_parameters_cache

    @property
    def _param_to_rank(self) -> dict:
        return {
            id(p): rank
            for rank, groups in enumerate(self._partition_parameters())
            for g in groups
            for p in g["params"]
        }

    @property
    def _index_to_param(self) -> list:
        return list(chain.from_iterable(g["params"] for g in self.param_groups))

    @staticmethod
    def _sync_param_groups(src: list, dst: list) -> None:
        """Copy every hyperparameter (not ``params``) of ``src``'s groups into ``dst``'s."""
        if len(src) != len(dst):
            raise AssertionError(
                "Mismatch between number of source and destination parameter groups"
            )
        for s, d in zip(src, dst):
            for key, value in s.items():
                if key != "params":
                    d[key] = value

    # -- param groups ------------------------------------------------------------------------------
    def add_param_group(self, param_group: dict) -> None:
        """Add a group (on every rank): the new parameters are partitioned after the old ones
        (which keep their ranks), and this rank's part joins the wrapped optimizer."""
        super().add_param_group(param_group)
        if getattr(self, "initialized", False):
            self._partition_parameters_cache = []
            groups = self._partition_parameters()[self.rank]
            if len(groups) == len(self.optim.param_groups) + 1:
                self.optim.add_param_group(groups[-1])

    # -- the step ----------------------------------------------------------------------------------
    def step(self, closure=None, **kwargs):
        """The wrapped optimizer's step on this rank's parameters, then every rank's updated
        parameters broadcast to the others. Returns the closure's loss (or None)."""
        Join.notify_join_context(self)
        self._sync_param_groups(self.param_groups, self.optim.param_groups)
        if closure is None:
            loss = self.optim.step(**kwargs)
        else:
            loss = self.optim.step(closure=closure, **kwargs)
        self._sync_param_groups(self.optim.param_groups, self.param_groups)
        self._sync_params()
        return loss

    def _sync_params(self) -> None:
        """Each rank's parameters broadcast from it, one flat broadcast per rank."""
        for rank, groups in enumerate(self._partition_parameters()):
            params = [p for g in groups for p in g["params"]]
            if not params:
                continue
            with no_grad():
                if rank == self.rank:
                    flat = cat([p.detach().reshape(-1) for p in params])
                else:
                    total = sum(p.numel() for p in params)
                    flat = empty(total, dtype=params[0].dtype, device=params[0].device)
                broadcast(flat, src=rank, group=self.process_group)
                if rank != self.rank:
                    start = 0
                    for p in params:
                        n = p.numel()
                        p.data.copy_(flat[start : start + n].view(p.shape))
                        start += n

    # -- Join --------------------------------------------------------------------------------------
    def join_hook(self, **kwargs) -> JoinHook:
        return _ZeROJoinHook(self)

    @property
    def join_device(self):
        return self._default_device

    @property
    def join_process_group(self):
        return self.process_group

    # -- state dicts -------------------------------------------------------------------------------
    def consolidate_state_dict(self, to: int = 0) -> None:
        """Send every rank's state to rank ``to`` (call it on every rank), for
        :meth:`state_dict` there."""
        self._sync_param_groups(self.param_groups, self.optim.param_groups)
        self._all_state_dicts = []
        for rank in range(self.world_size):
            box = [self.optim.state_dict() if rank == self.rank else None]
            if rank != to:  # (rank ``to``'s own state is not sent)
                broadcast_object_list(box, src=rank, group=self.process_group)
            if self.rank == to:
                self._all_state_dicts.append(_to_cpu(box[0]))

    def state_dict(self) -> dict:
        """The whole optimizer's state dict (indices over all parameters, in group order) as
        last consolidated on this rank."""
        if not self._all_state_dicts:
            raise RuntimeError(
                "Optimizer state has not been consolidated on this rank. Please call "
                f"`consolidate_state_dict(to={self.rank})` on all ranks beforehand if you "
                "meant to save the global state."
            )
        out = super().state_dict()
        index = {id(p): i for i, p in enumerate(self._index_to_param)}
        for local, groups in zip(self._all_state_dicts, self._partition_parameters()):
            for local_group, group in zip(local["param_groups"], groups):
                for i, p in zip(local_group["params"], group["params"]):
                    if i in local["state"]:
                        out["state"][index[id(p)]] = local["state"][i]
        out["state"] = dict(sorted(out["state"].items()))
        return out

    def load_state_dict(self, state_dict: dict) -> None:
        """Load a state dict of :meth:`state_dict` (on every rank): this rank's parameters'
        state into the wrapped optimizer, the hyperparameters into every group."""
        saved_groups = _check_layout(state_dict)
        self._check_groups_match(saved_groups)
        params, owner = self._index_to_param, self._param_to_rank
        ids = list(chain.from_iterable(g["params"] for g in saved_groups))
        position = {key: i for i, key in enumerate(ids)}
        for key, value in state_dict["state"].items():
            p = params[position[key]]
            if owner[id(p)] == self.rank:
                self.optim.state[p] = self.optim._load_param_state(p, key, value)
        self._sync_param_groups(saved_groups, self.param_groups)
        self._sync_param_groups(self.param_groups, self.optim.param_groups)


def _to_cpu(value):
    """``value`` with its tensors copied to the CPU (dicts, lists and tuples walked)."""
    if isinstance(value, Tensor):
        return value.to("cpu")
    if isinstance(value, dict):
        return {k: _to_cpu(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_to_cpu(v) for v in value)
    return value
