"""FSDP2's ``fully_shard`` over the world process group (MPI on CPU), with PyTorch's semantics.

``fully_shard(module)`` makes one *parameter group* of the module's parameters (those not
already in a group of a sharded submodule): each becomes a ``DTensor`` parameter sharded on
dim 0 (``Shard(0)``; this rank's ``torch.chunk`` rows, the last ranks' smaller or empty, as
PyTorch pads uneven shards), and the module's class becomes ``FSDP<Class>``, a subclass of
:class:`FSDPModule` and of the original class.

Forward: a forward pre-hook all-gathers the group (one all-gather per dtype of the group) and
registers the unsharded tensors on the modules in place of the sharded ones; a forward hook
reshards (registers the sharded DTensors again) when ``reshard_after_forward`` (by default
``None``: every group but the root's, which backward needs at once). The all-gather is one
autograd function whose backward reduce-scatters the group's gradients (summed over the
ranks, divided by the world size) into the sharded parameters' ``.grad`` (DTensors of
``Shard(0)``), then reshards the group. Unlike PyTorch, minigrad does not free the gathered
parameters after forward and gather them again in backward: NumPy storage cannot be resized
to nothing under the views the autograd graph saved, so the graph keeps them (the memory a
resharded group saves is the registered parameters', not the graph's).

On a 2-d mesh (HSDP: dimensions (replicate, shard)) the parameters are ``(Replicate(),
Shard(0))`` DTensors: gathered over the shard dimension, gradients reduce-scattered over it and
all-reduced over the replicate dimension, averaged over every rank.

``set_requires_gradient_sync(False)`` keeps the unsharded gradients on each rank (no
communication); the next backward with sync on reduce-scatters their sum with its own.
``MixedPrecisionPolicy``: the gathered parameters and the module's floating inputs are cast
to ``param_dtype``, gradients reduced in ``reduce_dtype`` (default: ``param_dtype``), the
sharded gradients kept in the parameters' dtype, outputs cast to ``output_dtype``.
"""

from __future__ import annotations

import math

from ...autograd.function import Function
from ...tensor import Tensor
from .. import collectives
from ..tensor._api import DTensor, _chunk, _take_chunk
from ..tensor.placement_types import Replicate, Shard

_FSDP_CLASSES: dict = {}


class FSDPModule:
    """The class FSDP2 mixes into a sharded module (``FSDP<Class>``): ``unshard``,
    ``reshard``, ``set_requires_gradient_sync``, ``set_reshard_after_forward``,
    ``set_reshard_after_backward``."""

    def __new__(cls, *args, **kwargs):
        # (PyTorch's: making an FSDP<Class> makes the original class's module)
        orig_cls = cls.__mro__[2]
        self = orig_cls.__new__(orig_cls, *args, **kwargs)
        self.__init__(*args, **kwargs)
        return self

    def _fsdp_state(self) -> _FSDPState:
        return self.__dict__["_fsdp_state_"]

    def _fsdp_states(self, recurse: bool):
        modules = self.modules() if recurse else [self]
        return [m._fsdp_state() for m in modules if isinstance(m, FSDPModule)]

    def unshard(self, async_op: bool = False):
        """All-gather this module's parameter group and register the unsharded parameters
        (they stay until :meth:`reshard` or the end of the next backward). With
        ``async_op=True`` a handle whose ``wait()`` returns at once (minigrad's collectives
        are synchronous)."""
        self._fsdp_state().unshard()
        return _UnshardHandle() if async_op else None

    def reshard(self) -> None:
        """Register the sharded parameters again (dropping the unsharded ones)."""
        self._fsdp_state().reshard()

    def set_requires_gradient_sync(self, requires_gradient_sync: bool, *, recurse=True) -> None:
        """With False, backward keeps the unsharded gradients on each rank, without
        communication (gradient accumulation); the next backward with True reduce-scatters
        their sum."""
        for state in self._fsdp_states(recurse):
            state.requires_gradient_sync = bool(requires_gradient_sync)

    def set_reshard_after_forward(self, reshard_after_forward: bool, recurse: bool = True):
        """Whether to reshard the parameters after forward (overrides the root's default)."""
        if not isinstance(reshard_after_forward, bool):
            raise ValueError(
                f"reshard_after_forward should be a bool, got {type(reshard_after_forward)}"
            )
        for state in self._fsdp_states(recurse):
            state.reshard_after_forward = reshard_after_forward

    def set_reshard_after_backward(self, reshard_after_backward: bool, *, recurse=True) -> None:
        """Whether to reshard the parameters after backward (default True)."""
        for state in self._fsdp_states(recurse):
            state.reshard_after_backward = bool(reshard_after_backward)


class _UnshardHandle:
    """What ``unshard(async_op=True)`` returns: the all-gather has already run."""

    def wait(self) -> None:
        return None


class _FSDPState:
    """One parameter group: its sharded parameters, where they are registered, and whether
    they are unsharded now."""

    def __init__(self, module, mesh, reshard_after_forward, mp_policy):
        self.module, self.mesh, self.mp_policy = module, mesh, mp_policy
        self.reshard_after_forward = reshard_after_forward  # None: not for the root
        self.reshard_after_backward = True
        self.requires_gradient_sync = True
        self.is_root = True
        self.params = []  # (sharded DTensor parameter, [(module, name), ...])
        self.unsharded = None  # the gathered tensors while unsharded
        self.pending = None  # unsharded gradients kept while gradient sync is off

    def unshard(self) -> None:
        """All-gather the group (differentiably where grad is on) and register it."""
        if self.unsharded is not None:
            return
        locals_ = [p._local_tensor for p, _ in self.params]
        fulls = _AllGatherParams.apply(self, *locals_)
        fulls = (fulls,) if isinstance(fulls, Tensor) else fulls
        for (_, owners), full in zip(self.params, fulls):
            for module, name in owners:
                module._parameters[name] = full
        self.unsharded = fulls

    def reshard(self) -> None:
        """Register the sharded parameters again."""
        for param, owners in self.params:
            for module, name in owners:
                module._parameters[name] = param
        self.unsharded = None

    # -- hooks ----------------------------------------------------------------------------------
    def pre_forward(self, module, args, kwargs):
        from ...autograd import grad_mode

        if self.unsharded is not None and grad_mode.is_grad_enabled():
            stale = any(f.grad_fn is None for f in self.unsharded) and any(
                p.requires_grad for p, _ in self.params
            )
            if stale:  # gathered without a graph (unshard() under no_grad): again, with one
                self.reshard()
        self.unshard()
        dtype = self.mp_policy.param_dtype
        if dtype is not None and self.mp_policy.cast_forward_inputs:
            args, kwargs = _cast_floats(args, dtype), _cast_floats(kwargs, dtype)
        return args, kwargs

    def post_forward(self, module, args, output):
        reshard = self.reshard_after_forward
        if reshard is None:  # PyTorch's default: the root keeps them for backward
            reshard = not self.is_root
        if reshard:
            self.reshard()
        if self.mp_policy.output_dtype is not None:
            output = _cast_floats(output, self.mp_policy.output_dtype)
        return output


def _cast_floats(value, dtype):
    """``value`` with every floating tensor (also inside lists, tuples, dicts) cast."""
    if isinstance(value, Tensor):
        return value.to(dtype) if value.is_floating_point() else value
    if isinstance(value, (list, tuple)):
        return type(value)(_cast_floats(v, dtype) for v in value)
    if isinstance(value, dict):
        return {k: _cast_floats(v, dtype) for k, v in value.items()}
    return value


def _padded_rows(size: int, n: int) -> int:
    return -(-size // n)


class _AllGatherParams(Function):
    """The group's shards → its unsharded parameters (an all-gather per dtype); backward:
    the gradients reduce-scattered (averaged over the ranks) into the shards."""

    @staticmethod
    def forward(ctx, state, *shards):
        ctx.state = state
        ctx.shapes = [p.shape for p, _ in state.params]
        ctx.dtypes = [s.dtype for s in shards]
        dtype = state.mp_policy.param_dtype
        shards = [s if dtype is None else s.to(dtype) for s in shards]
        return tuple(_all_gather(state.mesh, shards, ctx.shapes))

    @staticmethod
    def backward(ctx, *grads):
        state = ctx.state
        grads = [g.detach() for g in grads]
        if state.pending is not None:  # gradients kept while sync was off
            grads = [g + p.to(g.dtype) for g, p in zip(grads, state.pending)]
            state.pending = None
        if not state.requires_gradient_sync:
            state.pending = grads
            shard_grads = [None] * len(grads)
        else:
            mp = state.mp_policy
            reduce_dtype = mp.reduce_dtype or mp.param_dtype
            if reduce_dtype is not None:
                grads = [g.to(reduce_dtype) for g in grads]
            shard_grads = _reduce_scatter(state.mesh, grads, ctx.shapes)
            shard_grads = [g.to(dt) for g, dt in zip(shard_grads, ctx.dtypes)]
        if state.reshard_after_backward:
            state.reshard()
        return (None, *shard_grads)


def _buckets(tensors) -> dict:
    """Indices of ``tensors`` by dtype (one collective each)."""
    out: dict = {}
    for i, t in enumerate(tensors):
        out.setdefault(t.dtype, []).append(i)
    return out


def _shard_dim(mesh) -> int:
    """The mesh dimension FSDP shards over: the last (on a 2-d mesh, HSDP's (replicate,
    shard), the first replicates)."""
    return mesh.ndim - 1


def _all_gather(mesh, shards, shapes) -> list:
    """Each parameter's whole tensor from every rank's shard: the shards padded to
    ``ceil(rows / n)`` rows, flattened into one buffer per dtype, all-gathered over the
    shard dimension of the mesh, split."""
    from ... import cat, empty, zeros

    dim = _shard_dim(mesh)
    n = mesh.size(dim)
    group = mesh._group(dim, "fully_shard (all_gather)") if n > 1 else None
    out = [None] * len(shards)
    for dtype, idx in _buckets(shards).items():
        flat = []
        for i in idx:
            s, shape = shards[i], shapes[i]
            rows = _padded_rows(shape[0], n)
            pad = zeros((rows - s.shape[0], *shape[1:]), dtype=dtype)
            flat.append(cat([s, pad]).reshape(-1))
        buf = cat(flat)
        if n == 1:
            gathered = buf.reshape(1, -1)
        else:
            gathered = empty((n, buf.shape[0]), dtype=dtype)
            collectives.all_gather_into_tensor(gathered, buf.contiguous(), group=group)
        offset = 0
        for i in idx:
            shape = shapes[i]
            rows = _padded_rows(shape[0], n)
            length = rows * math.prod(shape[1:])
            part = gathered[:, offset : offset + length].reshape(n * rows, *shape[1:])
            out[i] = part[: shape[0]].contiguous()
            offset += length
    return out


def _reduce_scatter(mesh, grads, shapes) -> list:
    """Each rank's rows of the sum of every rank's ``grads``, divided by the world size
    (PyTorch's average): one reduce-scatter per dtype of buffers laid out rank by rank over
    the shard dimension of the mesh; on a 2-d mesh (HSDP) then an all-reduce of the shards
    over the replicate dimension, averaged too."""
    from ... import cat, empty, zeros
    from ..distributed_c10d import ReduceOp

    dim = _shard_dim(mesh)
    n, replicas = mesh.size(dim), mesh.size(0) if mesh.ndim == 2 else 1
    group = mesh._group(dim, "fully_shard (reduce_scatter)") if n > 1 else None
    rank = mesh.get_coordinate()[dim]
    out = [None] * len(grads)
    for dtype, idx in _buckets(grads).items():
        per_rank = [[] for _ in range(n)]
        for i in idx:
            g, shape = grads[i], shapes[i]
            rows = _padded_rows(shape[0], n)
            pad = zeros((n * rows - shape[0], *shape[1:]), dtype=dtype)
            padded = cat([g, pad]).reshape(n, -1)
            for r in range(n):
                per_rank[r].append(padded[r])
        buf = cat([cat(parts) for parts in per_rank])
        if n == 1:
            mine = buf
        else:
            mine = empty((buf.shape[0] // n,), dtype=dtype)
            collectives.reduce_scatter_tensor(mine, buf.contiguous(), group=group)
        if replicas > 1:
            mine = mine.contiguous()
            replicate = mesh._group(0, "fully_shard (HSDP all_reduce)")
            collectives.all_reduce(mine, ReduceOp.SUM, group=replicate)
        mine = mine / (n * replicas)
        offset = 0
        for i in idx:
            shape = shapes[i]
            rows = _padded_rows(shape[0], n)
            length = rows * math.prod(shape[1:])
            size = _chunk(shape[0], n, rank)[1]
            part = mine[offset : offset + length].reshape(rows, *shape[1:])
            out[i] = part[:size].contiguous()
            offset += length
    return out


# -- fully_shard ---------------------------------------------------------------------------------
def _fsdp_class(cls) -> type:
    """``FSDP<Class>``: the sharded module's class (made once per class)."""
    if cls not in _FSDP_CLASSES:
        _FSDP_CLASSES[cls] = type(f"FSDP{cls.__name__}", (FSDPModule, cls), {})
    return _FSDP_CLASSES[cls]


def _managed_params(module, ignored) -> list:
    """``[(param, [(owner module, name), ...])]`` of the parameters ``module`` and its
    submodules register, outside the subtrees of sharded submodules (theirs already)."""
    found: dict = {}
    stack = [module]
    while stack:
        m = stack.pop()
        for name, p in m._parameters.items():
            if p is not None and id(p) not in ignored:
                found.setdefault(id(p), (p, []))[1].append((m, name))
        for child in reversed(list(m._modules.values())):
            if child is not None and not isinstance(child, FSDPModule):
                stack.append(child)
    return list(found.values())


def _check_module(module) -> None:
    from ...nn import Module

    if isinstance(module, (list, tuple)):
        raise NotImplementedError(
            "fully_shard: a list of modules (one group for several) is not in minigrad; "
            "shard each module"
        )
    if not isinstance(module, Module):
        raise ValueError(f"fully_shard does not support containers that do not implement "
                         f"forward: {type(module).__name__}")  # fmt: skip
    if isinstance(module, FSDPModule):
        raise ValueError(f"fully_shard: {type(module).__name__} is already sharded")


def _check_args(mesh, reshard_after_forward, shard_placement_fn, offload_policy) -> None:
    from . import OffloadPolicy

    if mesh.ndim > 2:
        raise NotImplementedError(
            f"fully_shard: a {mesh.ndim}-d mesh is not in minigrad; a 1-d mesh (FSDP) or a "
            "2-d one (HSDP: (replicate, shard)) is"
        )
    if reshard_after_forward is not None and not isinstance(reshard_after_forward, bool):
        raise NotImplementedError(
            "fully_shard: reshard_after_forward as an int (resharding to a smaller world) is "
            "not in minigrad; True, False or None are"
        )
    if shard_placement_fn is not None:
        raise NotImplementedError("fully_shard: shard_placement_fn (sharding other than "
                                  "Shard(0)) is not in minigrad")  # fmt: skip
    if type(offload_policy) is not OffloadPolicy and mesh.device_type != "cpu":
        raise NotImplementedError(
            "fully_shard: CPUOffloadPolicy on an accelerator mesh is not in minigrad"
        )


def fully_shard(
    module,
    *,
    mesh=None,
    reshard_after_forward=None,
    shard_placement_fn=None,
    mp_policy=None,
    offload_policy=None,
    ignored_params=None,
):
    """Shard ``module``'s parameters over ``mesh`` (PyTorch's FSDP2; see the module
    docstring): they become ``DTensor`` parameters of ``Shard(0)``, the module an
    ``FSDP<Class>`` whose forward all-gathers them and whose backward reduce-scatters the
    gradients. Shard submodules first (each its own group), then the root.

    Args:
        module: the module (in place; also returned).
        mesh: a 1-d :class:`DeviceMesh` (default: the world on the CPU), or a 2-d one for
            HSDP (dimensions (replicate, shard): parameters ``(Replicate(), Shard(0))``,
            gradients reduce-scattered over the second, all-reduced over the first).
        reshard_after_forward: reshard after forward (None: every module but the root).
        mp_policy: a :class:`MixedPrecisionPolicy`.
        offload_policy: ``OffloadPolicy()``; ``CPUOffloadPolicy()`` on a CPU mesh (where the
            parameters already are).
        ignored_params: parameters left unsharded (and their gradients unreduced).

    Example:
        >>> for layer in model.layers:
        ...     fully_shard(layer)
        >>> fully_shard(model)
        >>> loss = model(x).sum(); loss.backward(); opt.step()
    """
    from ...nn import Parameter
    from ..tensor._api import _default_mesh
    from . import MixedPrecisionPolicy, OffloadPolicy

    _check_module(module)
    mesh = _default_mesh("cpu") if mesh is None else mesh
    mp_policy = MixedPrecisionPolicy() if mp_policy is None else mp_policy
    offload_policy = OffloadPolicy() if offload_policy is None else offload_policy
    _check_args(mesh, reshard_after_forward, shard_placement_fn, offload_policy)
    state = _FSDPState(module, mesh, reshard_after_forward, mp_policy)
    for m in module.modules():
        if isinstance(m, FSDPModule):
            m._fsdp_state().is_root = False
    ignored = {id(p) for p in ignored_params or ()}
    for param, owners in _managed_params(module, ignored):
        if isinstance(param, DTensor):
            raise NotImplementedError(
                f"fully_shard: parameter {owners[0][1]} is already a DTensor (FSDP2 with "
                f"tensor parallelism is not in minigrad)"
            )
        if param.ndim == 0:
            raise NotImplementedError(f"fully_shard: 0-d parameter {owners[0][1]}")
        if not param.is_floating_point():
            raise NotImplementedError(f"fully_shard: {param.dtype} parameter {owners[0][1]}")
        local = _take_chunk(param.detach(), mesh, _shard_dim(mesh), 0)
        placements = (Replicate(),) * (mesh.ndim - 1) + (Shard(0),)
        sharded = DTensor._wrap(local, mesh, placements, param.shape)
        sharded = Parameter(sharded, requires_grad=param.requires_grad)
        state.params.append((sharded, owners))
    state.reshard()
    module.__dict__["_fsdp_state_"] = state
    module.register_forward_pre_hook(state.pre_forward, prepend=True, with_kwargs=True)
    module.register_forward_hook(state.post_forward)
    module.__class__ = _fsdp_class(type(module))
    return module
