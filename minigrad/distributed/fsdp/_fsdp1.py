"""FSDP1's ``FullyShardedDataParallel`` over the world process group (MPI on CPU): flat
parameters, as PyTorch's with ``use_orig_params=False``.

Each wrapper flattens the parameters of its module (those not inside a nested wrapper) into
one 1-d ``_flat_param`` registered on the wrapped module, padded to a multiple of the world
size; each rank keeps its equal slice (``FULL_SHARD``, ``SHARD_GRAD_OP``) or all of it
(``NO_SHARD``). Forward all-gathers the flat parameter and registers views of it under the
original names; ``FULL_SHARD`` frees them after forward (all but the root's), ``SHARD_GRAD_OP``
after backward. Backward reduce-scatters the flat gradient (all-reduces it for ``NO_SHARD``),
averaged over the ranks, into ``_flat_param.grad``. ``auto_wrap_policy`` wraps submodules
first (:mod:`minigrad.distributed.fsdp.wrap`). ``summon_full_params``, ``state_dict_type``
(``FULL_STATE_DICT``: ``state_dict()`` gives the original names and full tensors),
``no_sync`` and ``clip_grad_norm_`` work as PyTorch's. As in :mod:`._fully_shard`, the
gathered parameters the autograd graph saved stay until backward.
"""

from __future__ import annotations

import contextlib
import enum
from dataclasses import dataclass

from ...autograd import grad_mode
from ...autograd.function import Function
from ...nn import Module, Parameter
from .. import collectives
from ._fully_shard import _all_gather, _reduce_scatter

_WRAPPED = "_fsdp_wrapped_module"
_PREFIX = _WRAPPED + "."


class StateDictType(enum.Enum):
    """Which state dict an FSDP1 model gives (minigrad: ``FULL_STATE_DICT``)."""

    FULL_STATE_DICT = enum.auto()
    LOCAL_STATE_DICT = enum.auto()
    SHARDED_STATE_DICT = enum.auto()


@dataclass
class FullStateDictConfig:
    """``offload_to_cpu`` (the CPU is where minigrad's tensors are) and ``rank0_only`` (the
    other ranks get an empty state dict)."""

    offload_to_cpu: bool = False
    rank0_only: bool = False


class _FlatHandle:
    """One wrapper's flat parameter: where its pieces came from and how it is laid out."""

    def __init__(self, module, strategy, mesh):
        from ... import cat, zeros
        from . import ShardingStrategy

        self.module, self.mesh, self.strategy = module, mesh, strategy
        self.sharded = strategy is not ShardingStrategy.NO_SHARD
        self.requires_gradient_sync = True
        self.reshard_after_backward = True
        self.pending = None
        self.entries = _flatten_targets(module)  # [(owners, shape, numel)]
        params = [owners[0][0]._parameters[owners[0][1]] for owners, _, _ in self.entries]
        if len({p.dtype for p in params}) > 1:
            raise ValueError(
                f"Must flatten tensors with uniform dtype but got {sorted({str(p.dtype) for p in params})}"
            )
        n = mesh.size(0) if self.sharded else 1
        self.total = sum(numel for _, _, numel in self.entries)
        self.step = -(-self.total // n)
        flat = cat([p.detach().reshape(-1) for p in params]) if params else zeros(0)
        flat = cat([flat, zeros(n * self.step - self.total, dtype=flat.dtype)])
        rank = mesh.get_coordinate()[0] if self.sharded else 0
        local = flat[rank * self.step : (rank + 1) * self.step].clone()
        self.flat_param = Parameter(local, requires_grad=any(p.requires_grad for p in params))
        for owners, _, _ in self.entries:
            for owner, name in owners:
                del owner._parameters[name]
        module.register_parameter("_flat_param", self.flat_param)
        self.views = None
        self.summoned = 0

    def unshard(self) -> None:
        """All-gather the flat parameter; register views of it under the original names."""
        if self.views is not None:
            return
        full = _GatherFlat.apply(self, self.flat_param)
        self.full, self.views, offset = full, [], 0
        for owners, shape, numel in self.entries:
            view = full[offset : offset + numel].view(shape)
            offset += numel
            for owner, name in owners:
                owner._parameters[name] = view
            self.views.append(view)
        del self.module._parameters["_flat_param"]

    def reshard(self) -> None:
        if self.views is None:
            return
        for owners, _, _ in self.entries:
            for owner, name in owners:
                del owner._parameters[name]
        self.module._parameters["_flat_param"] = self.flat_param
        self.views = self.full = None

    def write_back(self) -> None:
        """Copy this rank's slice of the (possibly changed) unsharded parameters back."""
        from ... import cat, zeros

        n = self.mesh.size(0) if self.sharded else 1
        rank = self.mesh.get_coordinate()[0] if self.sharded else 0
        with grad_mode.no_grad():
            flat = cat([v.detach().reshape(-1) for v in self.views] + [zeros(0)])
            flat = cat([flat, zeros(n * self.step - self.total, dtype=flat.dtype)])
            self.flat_param.detach().copy_(flat[rank * self.step : (rank + 1) * self.step])


def _flatten_targets(module) -> list:
    """``[(owners, shape, numel)]`` of the parameters of ``module`` outside nested wrappers."""
    found: dict = {}
    stack = [module]
    while stack:
        m = stack.pop()
        for name, p in m._parameters.items():
            if p is not None:
                found.setdefault(id(p), ([], tuple(p.shape), p.numel()))[0].append((m, name))
        for child in reversed(list(m._modules.values())):
            if child is not None and not isinstance(child, FullyShardedDataParallel):
                stack.append(child)
    return list(found.values())


class _GatherFlat(Function):
    """The flat shard → the unpadded flat parameter; backward: the flat gradient averaged over
    the ranks, this rank's slice of it (all of it for ``NO_SHARD``)."""

    @staticmethod
    def forward(ctx, handle, shard):
        ctx.handle = handle
        n = handle.mesh.size(0)
        if not handle.sharded:
            return shard.clone()
        return _all_gather(handle.mesh, [shard], [(n * handle.step,)])[0][: handle.total]

    @staticmethod
    def backward(ctx, grad):
        from ... import cat, zeros
        from ..distributed_c10d import ReduceOp

        handle = ctx.handle
        grad = grad.detach()
        if handle.pending is not None:
            grad, handle.pending = grad + handle.pending, None
        if not handle.requires_gradient_sync:
            handle.pending = grad
            out = None
        elif not handle.sharded:
            out = grad.clone()
            group = handle.mesh._group(0, "FullyShardedDataParallel (all_reduce)")
            collectives.all_reduce(out, ReduceOp.SUM, group=group)
            out = out / handle.mesh.size(0)
        else:
            n = handle.mesh.size(0)
            padded = cat([grad, zeros(n * handle.step - handle.total, dtype=grad.dtype)])
            out = _reduce_scatter(handle.mesh, [padded], [(n * handle.step,)])[0]
        if handle.reshard_after_backward and not handle.summoned:
            handle.reshard()
        return None, out


class FullyShardedDataParallel(Module):
    """PyTorch's FSDP1 wrapper with flat parameters (see the module docstring).

    Args:
        module: the module to wrap (its parameters are flattened and sharded in place).
        process_group: the world (None) or ``dist.group.WORLD``.
        sharding_strategy: ``ShardingStrategy.FULL_SHARD`` (default), ``SHARD_GRAD_OP`` or
            ``NO_SHARD``.
        auto_wrap_policy: a policy of :mod:`minigrad.distributed.fsdp.wrap` (or PyTorch's
            callable form) wrapping submodules first.
        device_id: ``torch.device("cpu")``: without it PyTorch (and minigrad) refuse to
            wrap a module on the CPU, looking for an accelerator.
        use_orig_params: False (True, the original parameters as views of the flat one, is
            not in minigrad: use ``fully_shard``).

    Example:
        >>> model = FSDP(model, auto_wrap_policy=ModuleWrapPolicy({Block}))
        >>> loss.backward(); model.clip_grad_norm_(1.0); opt.step()
    """

    def __init__(
        self,
        module,
        process_group=None,
        sharding_strategy=None,
        cpu_offload=None,
        auto_wrap_policy=None,
        backward_prefetch=None,
        mixed_precision=None,
        ignored_modules=None,
        param_init_fn=None,
        device_id=None,
        sync_module_states=False,
        forward_prefetch=False,
        limit_all_gathers=True,
        use_orig_params=False,
        ignored_states=None,
        device_mesh=None,
    ):
        from ..tensor._api import _default_mesh
        from . import ShardingStrategy
        from .wrap import _recursive_wrap

        _refuse(use_orig_params, mixed_precision, ignored_modules or ignored_states,
                param_init_fn, sync_module_states, sharding_strategy, device_mesh)  # fmt: skip
        _check_device(module, device_id)
        super().__init__()
        mesh = _default_mesh("cpu")
        strategy = ShardingStrategy.FULL_SHARD if sharding_strategy is None else sharding_strategy
        if auto_wrap_policy is not None:

            def wrap(m):
                return FullyShardedDataParallel(
                    m, process_group, sharding_strategy=strategy, device_id=device_id
                )

            _recursive_wrap(module, auto_wrap_policy, wrap, set(), only_wrap_children=True)
        self._is_root = True
        for m in module.modules():
            if isinstance(m, FullyShardedDataParallel):
                m._is_root = False
        self._strategy = strategy
        self._state_dict_type = StateDictType.FULL_STATE_DICT
        self._state_dict_config = FullStateDictConfig()
        self._handle = _FlatHandle(module, strategy, mesh)
        self._fsdp_wrapped_module = module

    @property
    def module(self):
        """The wrapped module."""
        return self._fsdp_wrapped_module

    @property
    def sharding_strategy(self):
        return self._strategy

    def forward(self, *args, **kwargs):
        """Gather the flat parameter, run the wrapped module, reshard (``FULL_SHARD``, but
        the root, whose parameters backward needs at once)."""
        from . import ShardingStrategy

        stale = self._handle.views is not None and self._handle.full.grad_fn is None
        if stale and grad_mode.is_grad_enabled() and not self._handle.summoned:
            self._handle.reshard()  # gathered without a graph: again, with one
        self._handle.unshard()
        out = self._fsdp_wrapped_module(*args, **kwargs)
        if self._strategy is ShardingStrategy.FULL_SHARD and not self._is_root:
            if not self._handle.summoned:
                self._handle.reshard()
        return out

    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:
            modules = self.__dict__.get("_modules")
            if not modules or _WRAPPED not in modules:
                raise
            return getattr(modules[_WRAPPED], name)

    def __getitem__(self, index):
        return self._fsdp_wrapped_module[index]

    # -- contexts -------------------------------------------------------------------------------
    def _wrappers(self, recurse: bool = True) -> list:
        return [m for m in self.modules() if isinstance(m, FullyShardedDataParallel)] if recurse \
            else [self]  # fmt: skip

    @staticmethod
    @contextlib.contextmanager
    def summon_full_params(
        module, recurse=True, writeback=True, rank0_only=False, offload_to_cpu=False,
        with_grads=False,
    ):  # fmt: skip
        """Inside, the wrappers' original parameters are whole (gathered, without autograd);
        with ``writeback`` changes to them reach the shards on leaving."""
        if rank0_only or with_grads:
            raise NotImplementedError(
                "summon_full_params: rank0_only and with_grads are not in minigrad"
            )
        wrappers = [m for m in module.modules() if isinstance(m, FullyShardedDataParallel)]
        if not recurse:
            wrappers = wrappers[:1]
        handles = [w._handle for w in wrappers]
        with grad_mode.no_grad():
            for h in handles:
                if h.summoned == 0:
                    h.reshard()  # (a forward's gathered views: gathered again, detached)
                h.summoned += 1
                h.unshard()
        try:
            yield
        finally:
            for h in handles:
                h.summoned -= 1
                if h.summoned == 0:
                    if writeback:
                        h.write_back()
                    h.reshard()

    @contextlib.contextmanager
    def no_sync(self):
        """Backward keeps the unsharded gradients without communication; the first backward
        after the context reduces their sum."""
        handles = [w._handle for w in self._wrappers()]
        for h in handles:
            h.requires_gradient_sync = False
        try:
            yield
        finally:
            for h in handles:
                h.requires_gradient_sync = True

    @staticmethod
    @contextlib.contextmanager
    def state_dict_type(
        module, state_dict_type, state_dict_config=None, optim_state_dict_config=None
    ):
        """Which state dict the wrappers in ``module`` give (``FULL_STATE_DICT`` only)."""
        if state_dict_type is not StateDictType.FULL_STATE_DICT:
            raise NotImplementedError(
                f"FullyShardedDataParallel.state_dict_type: {state_dict_type} is not in "
                f"minigrad (FULL_STATE_DICT is)"
            )
        wrappers = [m for m in module.modules() if isinstance(m, FullyShardedDataParallel)]
        saved = [(w._state_dict_type, w._state_dict_config) for w in wrappers]
        for w in wrappers:
            w._state_dict_type = state_dict_type
            w._state_dict_config = state_dict_config or FullStateDictConfig()
        try:
            yield
        finally:
            for w, (t, c) in zip(wrappers, saved):
                w._state_dict_type, w._state_dict_config = t, c

    # -- state dicts ----------------------------------------------------------------------------
    def state_dict(self, *args, destination=None, prefix="", keep_vars=False):
        """The full state dict under the original names (``FULL_STATE_DICT``)."""
        if self._handle.summoned:  # inside an outer wrapper's state_dict
            return super().state_dict(
                *args, destination=destination, prefix=prefix, keep_vars=keep_vars
            )
        from .. import distributed_c10d as c10d

        with FullyShardedDataParallel.summon_full_params(self, writeback=False):
            raw = super().state_dict(*args, prefix=prefix, keep_vars=keep_vars)
            out = {k.replace(_PREFIX, ""): v.clone() for k, v in raw.items()}
        if self._state_dict_config.rank0_only and c10d.get_rank() != 0:
            out = {}
        if destination is not None:
            destination.update(out)
            return destination
        return out

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        """Load a full state dict (original names) into the shards."""
        with FullyShardedDataParallel.summon_full_params(self, writeback=True):
            raw = {k.replace(_PREFIX, ""): k for k in Module.state_dict(self)}
            given = {raw.get(k, k): v for k, v in state_dict.items()}
            return super().load_state_dict(given, strict=strict)

    # -- gradients ------------------------------------------------------------------------------
    def clip_grad_norm_(self, max_norm, norm_type=2.0):
        """Scale the flat gradients so that their total norm (over all ranks) is at most
        ``max_norm``; returns the total norm."""
        import math

        from ...nn.utils.clip_grad import clip_grads_with_norm_, get_total_norm
        from ..distributed_c10d import ReduceOp

        if not self._is_root:
            raise RuntimeError(
                "`clip_grad_norm_()` should only be called on the root FSDP instance"
            )
        params = list(self.parameters())
        p = float(norm_type)
        local = get_total_norm([q.grad for q in params if q.grad is not None], p)
        if any(w._handle.sharded for w in self._wrappers()):
            group = self._handle.mesh._group(0, "clip_grad_norm_")
            if math.isinf(p):
                collectives.all_reduce(local, ReduceOp.MAX if p > 0 else ReduceOp.MIN, group=group)
            else:
                power = local if p == 0 else local**p
                collectives.all_reduce(power, ReduceOp.SUM, group=group)
                local = power if p == 0 else power ** (1.0 / p)
        clip_grads_with_norm_(params, max_norm, local)
        return local


def _refuse(use_orig_params, mixed_precision, ignored, param_init_fn, sync_states, strategy, mesh):
    """What of FSDP1 minigrad does not have: raise naming it."""
    from . import ShardingStrategy

    missing = {
        "use_orig_params=True (use fully_shard, whose parameters are the original ones)": use_orig_params,
        "mixed_precision": mixed_precision is not None,
        "ignored_modules/ignored_states": bool(ignored),
        "param_init_fn": param_init_fn is not None,
        "sync_module_states": sync_states,
        "device_mesh (HSDP)": mesh is not None,
        f"sharding_strategy={strategy}": strategy is not None and strategy not in (
            ShardingStrategy.FULL_SHARD, ShardingStrategy.SHARD_GRAD_OP, ShardingStrategy.NO_SHARD
        ),
    }  # fmt: skip
    for what, given in missing.items():
        if given:
            raise NotImplementedError(f"FullyShardedDataParallel: {what} is not in minigrad")


def _check_device(module, device_id) -> None:
    """PyTorch's FSDP1 runs on the CPU only when told ``device_id=torch.device("cpu")``;
    minigrad's runs on the CPU only."""
    from ...backend import DeviceType

    if device_id is None:
        if any(p.device.type not in ("cpu", "meta") for p in module.parameters()):
            raise NotImplementedError(
                "FullyShardedDataParallel: minigrad's runs on the CPU (MPI) only; for modules "
                "on an accelerator use fully_shard or DistributedDataParallel"
            )
        raise RuntimeError(
            "FSDP needs a non-CPU accelerator device, but no accelerator device is detected."
        )
    if DeviceType(device_id).type != "cpu":
        raise NotImplementedError(
            f"FullyShardedDataParallel: device_id={device_id}; minigrad's runs on the CPU only "
            f"(device_id=torch.device('cpu'))"
        )
