"""``torch.distributed.checkpoint.state_dict``: a model's state dict as sharded DTensors (as
``model.state_dict()`` gives them) or as full tensors (``StateDictOptions(full_state_dict=
True)``: DTensors all-gathered), and loading either back into a sharded model."""

from __future__ import annotations

from dataclasses import dataclass

from ..tensor._api import DTensor, _take_chunk

__all__ = ["StateDictOptions", "get_model_state_dict", "set_model_state_dict"]


@dataclass
class StateDictOptions:
    """How :func:`get_model_state_dict` and :func:`set_model_state_dict` treat tensors.

    ``full_state_dict``: full tensors (DTensors all-gathered; loading takes each rank's shard
    of them). ``cpu_offload``: tensors on the CPU; with ``full_state_dict`` only rank 0
    keeps the state dict (the others get an empty one), as in PyTorch.
    ``ignore_frozen_params``: leave out parameters that do not require grad. ``strict``: as
    ``load_state_dict``'s. ``broadcast_from_rank0`` is not in minigrad (it raises)."""

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
    if options.broadcast_from_rank0:
        raise NotImplementedError(f"{where}: broadcast_from_rank0 is not in minigrad")
    return options


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
    out = {}
    for key, value in model.state_dict().items():
        if key in frozen:
            continue
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
    current = model.state_dict()
    converted = {}
    for key, value in model_state_dict.items():
        target = current.get(key)
        if isinstance(target, DTensor) and not isinstance(value, DTensor):
            value = _shard_like(value.to(target.device), target)
        converted[key] = value
    return model.load_state_dict(converted, strict=options.strict)


def _shard_like(full, target: DTensor) -> DTensor:
    """``full`` placed as ``target`` is (this rank's chunks of its sharded dimensions)."""
    if tuple(full.shape) != tuple(target.shape):
        raise RuntimeError(
            f"set_model_state_dict: a tensor of shape {tuple(full.shape)} for a parameter of "
            f"shape {tuple(target.shape)}"
        )
    local = full.detach()
    for mesh_dim, p in enumerate(target.placements):
        if p.is_shard():
            local = _take_chunk(local, target.device_mesh, mesh_dim, p.dim)
        elif p.is_partial():
            raise NotImplementedError("set_model_state_dict: a Partial parameter")
    return DTensor._wrap(local, target.device_mesh, target.placements, target.shape)
