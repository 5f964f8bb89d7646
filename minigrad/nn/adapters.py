"""Parameter-efficient fine-tuning of whole models: insert adapters or LoRA into a model
(``add_adapters``, ``wrap_lora``), merge LoRA back, freeze the base, train only the adapters,
and save or load only the adapter weights. The layers themselves live in
:mod:`minigrad.nn.modules.adapters`.
"""

from __future__ import annotations

import re

from ..autograd.grad_mode import no_grad
from .modules.adapters import Adapter, LoRALinear
from .modules.linear import Linear
from .modules.module import Module

__all__ = [
    "Adapter",
    "LoRALinear",
    "adapter_parameters",
    "adapter_state_dict",
    "add_adapters",
    "freeze",
    "load_adapter_state_dict",
    "mark_only_adapters_trainable",
    "merge_lora",
    "unmerge_lora",
    "wrap_lora",
]


def _matches(name: str, module: Module, targets) -> bool:
    """True if ``module`` (at dotted ``name``) is one of ``targets``: a class, an exact name,
    a last name component, or a regular expression matching the whole name."""
    for target in targets:
        if isinstance(target, type):
            if isinstance(module, target):
                return True
        elif name == target or name.rsplit(".", 1)[-1] == target:
            return True
        elif isinstance(target, str) and re.fullmatch(target, name):
            return True
    return False


def _replace(model: Module, name: str, new: Module) -> None:
    parent_name, _, child = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, child, new)


def wrap_lora(
    model: Module,
    r: int = 8,
    alpha: float = 8.0,
    dropout: float = 0.0,
    target_modules=(Linear,),
    freeze_base: bool = True,
) -> Module:
    """Replace the matching Linear layers inside ``model`` by :class:`LoRALinear` (in place).

    Args:
        model: the model to adapt (a bare Linear is wrapped and returned).
        r, alpha, dropout: as :class:`LoRALinear`.
        target_modules: classes, names (``"attn.q_proj"`` or just ``"q_proj"``) or regular
            expressions over the dotted names; only Linear layers are wrapped.
        freeze_base: also freeze every other parameter of the model, so only the LoRA matrices
            train (:func:`mark_only_adapters_trainable`).

    Returns:
        The model (or the new LoRALinear when ``model`` itself is a Linear).

    Example:
        >>> wrap_lora(model, r=4, alpha=8, target_modules=["q_proj", "v_proj"])
    """
    targets = (
        tuple(target_modules) if isinstance(target_modules, (list, tuple)) else (target_modules,)
    )
    if isinstance(model, Linear) and not isinstance(model, LoRALinear):
        return LoRALinear(model, r, alpha, dropout)
    found = [
        (name, m)
        for name, m in model.named_modules()
        if name and isinstance(m, Linear) and _matches(name, m, targets)
    ]
    if not found:
        raise ValueError(f"wrap_lora: no Linear layer of the model matches {list(targets)}")
    for name, m in found:
        _replace(model, name, LoRALinear(m, r, alpha, dropout))
    if freeze_base:
        mark_only_adapters_trainable(model)
    return model


def merge_lora(model: Module) -> Module:
    """Merge every LoRALinear of ``model`` (see :meth:`LoRALinear.merge`).

    Example:
        >>> merge_lora(model).eval()   # inference without the low-rank matmuls
    """
    for m in model.modules():
        if isinstance(m, LoRALinear):
            m.merge()
    return model


def unmerge_lora(model: Module) -> Module:
    """Unmerge every LoRALinear of ``model`` (see :meth:`LoRALinear.unmerge`).

    Example:
        >>> unmerge_lora(model).train()   # back to training the LoRA matrices
    """
    for m in model.modules():
        if isinstance(m, LoRALinear):
            m.unmerge()
    return model


def _adapter_hook(module, args, output):
    return module.adapter(output)


def add_adapters(
    model: Module, target_modules, bottleneck: int, dim: int | None = None, **adapter_kwargs
) -> Module:
    """Insert an :class:`Adapter` after each matching submodule (in place).

    The adapter becomes the submodule's child ``adapter`` and runs on its output through a
    forward hook, so the base state-dict keys are unchanged and the model starts as before.

    Args:
        target_modules: classes, names or regular expressions (as :func:`wrap_lora`).
        bottleneck: the adapters' bottleneck width.
        dim: the output width; by default the block's ``out_features``, ``d_model`` or
            ``embed_dim``.
        adapter_kwargs: passed to :class:`Adapter` (activation, dropout, scale).

    Example:
        >>> add_adapters(gpt, [nn.TransformerDecoderBlock], bottleneck=16, dim=128)
    """
    targets = (
        tuple(target_modules) if isinstance(target_modules, (list, tuple)) else (target_modules,)
    )
    found = [
        (name, m)
        for name, m in model.named_modules()
        if name and not isinstance(m, Adapter) and _matches(name, m, targets)
    ]
    if not found:
        raise ValueError(f"add_adapters: no submodule of the model matches {list(targets)}")
    for name, m in found:
        width = dim or next(
            (getattr(m, a) for a in ("out_features", "d_model", "embed_dim") if hasattr(m, a)),
            None,
        )
        if width is None:
            raise ValueError(f"add_adapters: cannot tell the output width of {name!r}; pass dim=")
        p = next(m.parameters(), None)
        factory = dict(device=p.device, dtype=p.dtype) if p is not None else {}
        m.adapter = Adapter(width, bottleneck, **adapter_kwargs, **factory)
        m.register_forward_hook(_adapter_hook)
    return model


def freeze(model: Module) -> Module:
    """Stop every parameter of ``model`` from training (``requires_grad = False``).

    Example:
        >>> freeze(backbone)
    """
    return model.requires_grad_(False)


def adapter_parameters(model: Module):
    """The (name, parameter) pairs that belong to adapters: every parameter of each
    :class:`Adapter`, and ``lora_A``/``lora_B`` of each :class:`LoRALinear`.

    Example:
        >>> opt = minigrad.optim.AdamW([p for _, p in adapter_parameters(model)], lr=1e-3)
    """
    for name, module in model.named_modules():
        prefix = f"{name}." if name else ""
        if isinstance(module, Adapter):
            for pname, p in module.named_parameters():
                yield prefix + pname, p
        elif isinstance(module, LoRALinear):
            yield prefix + "lora_A", module.lora_A
            yield prefix + "lora_B", module.lora_B


def mark_only_adapters_trainable(model: Module) -> Module:
    """Freeze the model, then let only the adapter parameters train.

    Example:
        >>> mark_only_adapters_trainable(model)
        >>> sum(p.numel() for p in model.parameters() if p.requires_grad)   # adapters only
    """
    freeze(model)
    for _, p in adapter_parameters(model):
        p.requires_grad_(True)
    return model


def adapter_state_dict(model: Module) -> dict:
    """Only the adapter weights, by their names in ``model.state_dict()`` (detached).

    Example:
        >>> minigrad.save(adapter_state_dict(model), "adapters.mgt")
    """
    return {name: p.detach() for name, p in adapter_parameters(model)}


def load_adapter_state_dict(model: Module, state_dict: dict, strict: bool = True) -> Module:
    """Copy adapter weights into ``model`` (whose adapters must already be in place).

    Example:
        >>> load_adapter_state_dict(model, minigrad.load("adapters.mgt"))

    Raises:
        RuntimeError: listing missing and unexpected keys (with ``strict``) and shape mismatches.
    """
    params = dict(adapter_parameters(model))
    missing = sorted(set(params) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(params))
    bad = [
        f"{k}: expected {list(params[k].shape)}, got {list(state_dict[k].shape)}"
        for k in sorted(set(params) & set(state_dict))
        if tuple(params[k].shape) != tuple(state_dict[k].shape)
    ]
    problems = []
    if strict and missing:
        problems.append(f"missing keys {missing}")
    if strict and unexpected:
        problems.append(f"unexpected keys {unexpected}")
    if bad:
        problems.append("size mismatch for " + "; ".join(bad))
    if problems:
        raise RuntimeError("load_adapter_state_dict: " + ", ".join(problems))
    with no_grad():
        for name, value in state_dict.items():
            if name in params:
                params[name].copy_(value)
    return model
