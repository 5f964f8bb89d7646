"""``torch.distributed.checkpoint.state_dict``: a model's and its optimizers' state dicts keyed
by canonical parameter names (FQNs: a ``DistributedDataParallel``'s ``module.``, a compiled
module's ``_orig_mod.`` left out, as in PyTorch), as sharded DTensors (as ``model.state_dict()``
gives them) or as full tensors (``StateDictOptions(full_state_dict=True)``: DTensors
all-gathered), and loading either back into a sharded model and its optimizers."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from ..tensor._api import DTensor, _take_chunk

__all__ = [
    "StateDictOptions",
    "get_model_state_dict",
    "get_optimizer_state_dict",
    "get_state_dict",
    "set_model_state_dict",
    "set_optimizer_state_dict",
    "set_state_dict",
]

# Attribute names of wrappers whose prefix a canonical FQN leaves out (PyTorch's _get_fqns).
_WRAPPER_CHILDREN = ("_orig_mod", "_checkpoint_wrapped_module")


@dataclass
class StateDictOptions:
    """How the ``get_*``/``set_*`` functions treat model and optimizer state dicts.

    ``full_state_dict``: full tensors (DTensors all-gathered; loading takes each rank's shard
    of them). ``cpu_offload``: tensors on the CPU; with ``full_state_dict`` only rank 0
    keeps the state dict (the others get an empty one), as in PyTorch.
    ``ignore_frozen_params``: leave out parameters that do not require grad. ``strict``: as
    ``load_state_dict``'s. ``broadcast_from_rank0`` (with ``full_state_dict``): loading takes
    rank 0's full state dict (the others may pass an empty one), broadcast to every rank.
    ``flatten_optimizer_state_dict``: optimizer state dicts as one level of dotted keys
    (``"state.<fqn>.exp_avg"``, ``"param_groups.<fqn>.lr"``), as PyTorch's."""

    full_state_dict: bool = False
    cpu_offload: bool = False
    ignore_frozen_params: bool = False
    keep_submodule_prefixes: bool = True
    strict: bool = True
    broadcast_from_rank0: bool = False
    flatten_optimizer_state_dict: bool = False
    dsd_fqn_modifiers: str = "_fqn_modifiers"


def _options(options, where: str) -> StateDictOptions:
    options = StateDictOptions() if options is None else options
    if options.broadcast_from_rank0 and not options.full_state_dict:
        raise ValueError("full_state_dict must be True when broadcast_from_rank0 is True.")
    return options


def _fqn(model, name: str) -> str:
    """The canonical FQN of ``model``'s parameter or buffer ``name``: without the ``module.``
    of a ``DistributedDataParallel`` nor a wrapper's ``_orig_mod.``."""
    from ...nn.parallel import DistributedDataParallel

    parts, module = [], model
    for part in name.split("."):
        wrapper = part in _WRAPPER_CHILDREN or (
            part == "module" and isinstance(module, DistributedDataParallel)
        )
        if not wrapper:
            parts.append(part)
        module = getattr(module, part, None) if module is not None else None
    return ".".join(parts)


def _rank() -> int:
    from .. import distributed_c10d as c10d

    return c10d.get_rank() if c10d.is_initialized() else 0


def get_model_state_dict(model, *, submodules=None, options=None) -> dict:
    """``model``'s state dict: DTensors as they are, or all-gathered into full tensors with
    ``options.full_state_dict`` (see :class:`StateDictOptions`)."""
    if submodules is not None:
        raise NotImplementedError("get_model_state_dict: submodules (deprecated in PyTorch)")
    options = _options(options, "get_model_state_dict")
    frozen = set()
    if options.ignore_frozen_params:
        frozen = {name for name, p in model.named_parameters() if not p.requires_grad}
    out = OrderedDict()  # (PyTorch's type: model.state_dict()'s)
    for key, value in model.state_dict().items():
        if key in frozen:
            continue
        key = _fqn(model, key)
        if options.full_state_dict and isinstance(value, DTensor):
            value = value.full_tensor()
        if options.cpu_offload and hasattr(value, "cpu"):
            value = value.cpu()
        out[key] = value
    if options.full_state_dict and options.cpu_offload and _rank() != 0:
        return {}
    return out


def set_model_state_dict(model, model_state_dict: dict, *, options=None):
    """Load ``model_state_dict`` into ``model``: a full tensor given for a DTensor parameter
    or buffer is sharded as it is (each rank keeps its part). Returns ``load_state_dict``'s
    missing and unexpected keys."""
    options = _options(options, "set_model_state_dict")
    if options.broadcast_from_rank0:
        model_state_dict = _from_rank0(model_state_dict)
    current = model.state_dict()
    own_key = {_fqn(model, k): k for k in current}
    converted = {}
    for key, value in model_state_dict.items():
        key = own_key.get(key, key)
        target = current.get(key)
        if isinstance(target, DTensor) and not isinstance(value, DTensor):
            value = _shard_like(value.to(target.device), target)
        converted[key] = value
    result = model.load_state_dict(converted, strict=options.strict)
    canonical = [_fqn(model, k) for k in result.missing_keys]
    result.missing_keys[:] = canonical  # (a model's own key is kept if not one of its keys)
    return result


class _Slot:
    """Where a tensor of rank 0's state dict goes in the skeleton sent to the other ranks."""

    def __init__(self, shape: tuple, dtype):
        self.shape, self.dtype = shape, dtype


def _from_rank0(state_dict):
    """Rank 0's (nested) state dict on every rank: its layout, objects and tensor shapes in
    one ``broadcast_object_list``, then each tensor broadcast (``broadcast_from_rank0``)."""
    from ... import empty
    from ...tensor import Tensor
    from .. import distributed_c10d as c10d
    from ..collectives import broadcast, broadcast_object_list

    if not c10d.is_initialized() or c10d.get_world_size() == 1:
        return state_dict
    tensors = []

    def strip(value):
        if isinstance(value, DTensor):
            raise ValueError("broadcast_from_rank0: rank 0's state dict must hold full tensors")
        if isinstance(value, Tensor):
            tensors.append(value.detach().contiguous())
            return _Slot(tuple(value.shape), value.dtype)
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(strip(v) for v in value)
        return value

    rank0 = c10d.get_rank() == 0
    box = [strip(state_dict) if rank0 else None]
    broadcast_object_list(box, src=0)
    sent = iter(tensors)

    def fill(value):
        if isinstance(value, _Slot):
            t = next(sent) if rank0 else empty(value.shape, dtype=value.dtype)
            broadcast(t, src=0)
            return t
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(fill(v) for v in value)
        return value

    return fill(box[0])


def _shard_like(full, target: DTensor, where: str = "set_model_state_dict") -> DTensor:
    """``full`` placed as ``target`` is (this rank's chunks of its sharded dimensions)."""
    if tuple(full.shape) != tuple(target.shape):
        raise RuntimeError(
            f"{where}: a tensor of shape {tuple(full.shape)} for a parameter of "
            f"shape {tuple(target.shape)}"
        )
    local = full.detach()
    for mesh_dim, p in enumerate(target.placements):
        if p.is_shard():
            local = _take_chunk(local, target.device_mesh, mesh_dim, p.dim)
        elif p.is_partial():
            raise NotImplementedError("set_model_state_dict: a Partial parameter")
    return DTensor._wrap(local, target.device_mesh, target.placements, target.shape)


# -- optimizers ----------------------------------------------------------------------------------
def _optimizers(optimizers) -> tuple:
    from ...optim import Optimizer

    return (optimizers,) if isinstance(optimizers, Optimizer) else tuple(optimizers)


def _param_fqns(model, where: str) -> dict:
    """id(parameter) -> its canonical FQN; FSDP1's flat parameters are refused."""
    out = {}
    for name, p in model.named_parameters():
        if name.endswith("_flat_param"):
            raise NotImplementedError(
                f"{where}: the optimizer state of FSDP1's flat parameters "
                "(FSDP.optim_state_dict) is not in minigrad; fully_shard keeps parameter names"
            )
        out[id(p)] = _fqn(model, name)
    return out


def _init_optim_state(optim) -> None:
    """Make ``optim``'s state as PyTorch does before reading or loading it: if it has none
    and no parameter has a gradient, one step with zero gradients and ``lr`` 0 (Adam's step
    count becomes 1, as in PyTorch), gradients then set to None."""
    from ... import tensor as make_tensor
    from ... import zeros_like
    from ...tensor import Tensor

    if optim.state or any(p.grad is not None for g in optim.param_groups for p in g["params"]):
        return
    for group in optim.param_groups:
        for p in group["params"]:
            if p.requires_grad:
                p.grad = zeros_like(p)
    lrs = []
    for group in optim.param_groups:
        if "lr" in group:
            lrs.append(group["lr"])
            group["lr"] = make_tensor(0.0) if isinstance(group["lr"], Tensor) else 0.0
    optim.step(closure=None)
    for group in optim.param_groups:
        if "lr" in group:
            group["lr"] = lrs.pop(0)
    optim.zero_grad(set_to_none=True)


def _full_or_offloaded(value, options: StateDictOptions):
    """A state value all-gathered (``full_state_dict``) and moved to the CPU (``cpu_offload``)."""
    if options.full_state_dict and isinstance(value, DTensor):
        value = value.full_tensor()
    if options.cpu_offload and hasattr(value, "cpu"):
        value = value.cpu()
    return value


def get_optimizer_state_dict(model, optimizers, *, submodules=None, options=None) -> dict:
    """The state dict of ``optimizers`` (one or several) of ``model``, keyed by parameter FQN:
    ``{"state": {fqn: {"step", "exp_avg", ...}}, "param_groups": [{..., "params": [fqn,
    ...]}]}`` (the groups of every optimizer, in order). An optimizer without state gets it
    first, as in PyTorch (a step with zero gradients and ``lr`` 0). DTensor states stay
    sharded, or are all-gathered with ``full_state_dict``; with ``cpu_offload`` too, only
    rank 0 gets the state dict (the others an empty dict)."""
    if submodules is not None:
        raise NotImplementedError("get_optimizer_state_dict: submodules (deprecated in PyTorch)")
    options = _options(options, "get_optimizer_state_dict")
    fqns = _param_fqns(model, "get_optimizer_state_dict")
    out = {"state": {}, "param_groups": []}
    for optim in _optimizers(optimizers):
        _init_optim_state(optim)
        osd = optim.state_dict()
        params = [p for g in optim.param_groups for p in g["params"]]
        names = {i: fqns[id(p)] for i, p in enumerate(params) if id(p) in fqns}
        for index, state in osd["state"].items():
            out["state"][names[index]] = {
                k: _full_or_offloaded(v, options) for k, v in state.items()
            }
        for group in osd["param_groups"]:
            out["param_groups"].append(dict(group, params=[names[i] for i in group["params"]]))
    if options.full_state_dict and options.cpu_offload and _rank() != 0:
        return {}
    return _flatten(out) if options.flatten_optimizer_state_dict else out


def _flatten(osd: dict) -> dict:
    """PyTorch's flattened layout: ``"state.<fqn>.<name>"`` (nested states by dotted path)
    and each group's hyperparameters under each of its parameters,
    ``"param_groups.<fqn>.<key>"``."""
    out = {}

    def put(prefix: str, value) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                put(f"{prefix}.{k}", v)
        else:
            out[prefix] = value

    for fqn, state in osd["state"].items():
        put(f"state.{fqn}", state)
    for group in osd["param_groups"]:
        for fqn in group["params"]:
            for k, v in group.items():
                if k != "params":
                    out[f"param_groups.{fqn}.{k}"] = v
    return out


def _unflatten_for(optim, flat: dict, fqns: dict) -> dict:
    """``optim``'s part of a flattened state dict, in the nested layout: each parameter's
    state (the names its optimizer keeps; nested ones rebuilt from their dotted keys) and
    each group's hyperparameters, which every parameter of the group must agree on."""
    state, groups = {}, []
    for group in optim.param_groups:
        names = [fqns[id(p)] for p in group["params"]]
        loaded = {"params": names}
        for name, p in zip(names, group["params"]):
            if p.requires_grad:
                state[name] = {k: _nested(flat, f"state.{name}.{k}") for k in optim.state[p]}
            for k in group:
                if k == "params":
                    continue
                value = flat[f"param_groups.{name}.{k}"]
                if k in loaded and loaded[k] != value:
                    raise RuntimeError(
                        "All the parameters in the same parameter group should have the same "
                        f"saved param_group value. But {name}.{k} is {value} while other(s) "
                        f"is {loaded[k]}."
                    )
                loaded[k] = value
        groups.append(loaded)
    return {"state": state, "param_groups": groups}


def _nested(flat: dict, key: str):
    """``flat[key]``, or the dict rebuilt from the keys under ``key.``."""
    if key in flat:
        return flat[key]
    out = {}
    for k, v in flat.items():
        if k.startswith(key + "."):
            *path, last = k[len(key) + 1 :].split(".")
            node = out
            for part in path:
                node = node.setdefault(part, {})
            node[last] = v
    return out


def _split_for(optim, optim_state_dict: dict, fqns: dict, options: StateDictOptions) -> dict:
    """The part of a (several optimizers') FQN-keyed state dict that is ``optim``'s, in its
    own layout: its groups (matched by their parameters' FQNs) and their parameters' state,
    full tensors of DTensor parameters sharded as the parameters are."""
    state, groups = {}, []
    saved = optim_state_dict["param_groups"]
    for group in optim.param_groups:
        names = [fqns[id(p)] for p in group["params"]]
        match = [g for g in saved if set(g["params"]) & set(names)]
        if len(match) != 1:
            raise ValueError(
                "set_optimizer_state_dict: the state dict has no param group (or several) for "
                f"the parameters {names}"
            )
        groups.append(dict(match[0], params=names))
        for name, p in zip(names, group["params"]):
            if name not in optim_state_dict["state"]:
                if p.requires_grad and options.strict:
                    raise RuntimeError(
                        f"Missing optimizer state for parameter '{name}' in checkpoint. The "
                        "parameter requires gradients but has no saved optimizer state. To "
                        "load anyway, use StateDictOptions(strict=False)."
                    )
                continue
            state[name] = {
                k: _shard_like(v.to(p.device), p, "set_optimizer_state_dict")
                if isinstance(p, DTensor) and not isinstance(v, DTensor) and v.ndim
                else v
                for k, v in optim_state_dict["state"][name].items()
            }
    return {"state": state, "param_groups": groups}


def set_optimizer_state_dict(model, optimizers, optim_state_dict: dict, *, options=None) -> None:
    """Load an FQN-keyed optimizer state dict (of :func:`get_optimizer_state_dict`, sharded or
    full) into ``optimizers``: each takes its groups and its parameters' state (full tensors
    of sharded parameters are sharded as the parameters are)."""
    options = _options(options, "set_optimizer_state_dict")
    if options.broadcast_from_rank0:
        optim_state_dict = _from_rank0(optim_state_dict)
    fqns = _param_fqns(model, "set_optimizer_state_dict")
    for optim in _optimizers(optimizers):
        _init_optim_state(optim)
        if optim_state_dict:
            nested = optim_state_dict
            if "state" not in optim_state_dict:  # flattened (flatten_optimizer_state_dict)
                nested = _unflatten_for(optim, optim_state_dict, fqns)
            optim.load_state_dict(_split_for(optim, nested, fqns, options))


def get_state_dict(model, optimizers, *, submodules=None, options=None) -> tuple[dict, dict]:
    """``(get_model_state_dict(model), get_optimizer_state_dict(model, optimizers))``."""
    return (
        get_model_state_dict(model, submodules=submodules, options=options),
        get_optimizer_state_dict(model, optimizers, submodules=submodules, options=options),
    )


def set_state_dict(model, optimizers, *, model_state_dict, optim_state_dict, options=None):
    """Load both (:func:`set_model_state_dict`, :func:`set_optimizer_state_dict`); returns the
    model's missing and unexpected keys."""
    result = set_model_state_dict(model, model_state_dict, options=options)
    set_optimizer_state_dict(model, optimizers, optim_state_dict, options=options)
    return result
