"""Parameter-efficient fine-tuning: bottleneck adapters and LoRA, and helpers to freeze a model,
train only its adapters, and save or load only the adapter weights.

Both kinds start as the identity change: a new adapter's up-projection and a new LoRA's ``B``
are zero, so a wrapped model computes exactly what it computed before, and training moves
only the small added matrices. The base model's state-dict keys do not change, so a base
checkpoint still loads into a wrapped model.
"""

from __future__ import annotations

import math
import re

from ...autograd.grad_mode import no_grad
from ...creation import zeros
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .activation import GELU, ReLU, SiLU, Tanh
from .dropout import Dropout
from .linear import Identity, Linear
from .module import Module

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

_ACTIVATIONS = {"relu": ReLU, "gelu": GELU, "silu": SiLU, "tanh": Tanh}


class Adapter(Module):
    """A bottleneck adapter (Houlsby et al.): ``x + scale·up(act(down(dropout(x))))``.

    ``up`` starts at zero (weight and bias), so a new adapter is the identity. Insert it after a
    block with :func:`add_adapters`, or call it yourself.

    Args:
        dim: width of the input and output.
        bottleneck: width of the down-projection.
        activation: ``'relu'``, ``'gelu'``, ``'silu'``, ``'tanh'`` or a Module.
        dropout: dropout on the adapter's input (training only).
        scale: factor on the adapter's contribution.

    Shape:
        (*, dim) → (*, dim).

    Example:
        >>> adapter = nn.Adapter(64, 8)
        >>> x = minigrad.randn(2, 64)
        >>> bool((adapter(x) == x).all())   # identity at initialisation
        True
    """

    def __init__(
        self,
        dim: int,
        bottleneck: int,
        activation="relu",
        dropout: float = 0.0,
        scale: float = 1.0,
        device=None,
        dtype=None,
    ):
        super().__init__()
        factory = dict(device=device, dtype=dtype)
        self.dim, self.bottleneck, self.scale = dim, bottleneck, scale
        self.dropout = Dropout(dropout) if dropout > 0 else Identity()
        self.down = Linear(dim, bottleneck, **factory)
        self.act = _activation(activation)
        self.up = Linear(bottleneck, dim, **factory)
        init.zeros_(self.up.weight)
        init.zeros_(self.up.bias)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, bottleneck={self.bottleneck}, scale={self.scale}"

    def forward(self, x):
        if x.ndim == 0 or x.shape[-1] != self.dim:
            raise RuntimeError(
                f"{self._get_name()}({self.extra_repr()}) expected input with last dimension "
                f"{self.dim}, got shape {list(x.shape)}"
            )
        h = self.up(self.act(self.down(self.dropout(x))))
        return x + (h if self.scale == 1.0 else h * self.scale)


def _activation(activation) -> Module:
    if isinstance(activation, Module):
        return activation
    if activation not in _ACTIVATIONS:
        raise ValueError(
            f"Adapter: activation must be a Module or one of {sorted(_ACTIVATIONS)}, got "
            f"{activation!r}"
        )
    return _ACTIVATIONS[activation]()


class LoRALinear(Module):
    """A Linear layer with a frozen weight plus a trainable low-rank update (Hu et al., LoRA):
    ``y = x·Wᵀ + b + (dropout(x)·Aᵀ·Bᵀ)·alpha/r``.

    ``weight`` and ``bias`` are the wrapped layer's own parameters (shared, frozen), so the
    state-dict keys of the base layer stay the same; ``lora_A`` (r, in) starts
    kaiming-uniform and ``lora_B`` (out, r) at zero, so the wrapped layer starts identical.
    :meth:`merge` folds B·A·alpha/r into the weight (for inference without the extra matmuls)
    and :meth:`unmerge` takes it out again.

    Args:
        base: the Linear layer to adapt.
        r: rank of the update.
        alpha: scaling numerator; the update is scaled by alpha / r.
        dropout: dropout on the input of the low-rank branch (training only).

    Example:
        >>> layer = nn.LoRALinear(nn.Linear(64, 32), r=4, alpha=8)
        >>> [name for name, p in layer.named_parameters() if p.requires_grad]
        ['lora_A', 'lora_B']
    """

    def __init__(self, base: Linear, r: int = 8, alpha: float = 8.0, dropout: float = 0.0):
        super().__init__()
        if not isinstance(base, Linear):
            raise TypeError(f"LoRALinear wraps an nn.Linear, got {type(base).__name__}")
        if not isinstance(r, int) or r <= 0:
            raise ValueError(f"LoRALinear: rank r must be a positive int, got {r!r}")
        self.in_features, self.out_features = base.in_features, base.out_features
        self.r, self.alpha, self.scaling = r, alpha, alpha / r
        self.weight = base.weight.requires_grad_(False)
        self.bias = base.bias.requires_grad_(False) if base.bias is not None else None
        w = base.weight
        self.lora_A = Parameter(zeros(r, self.in_features, dtype=w.dtype, device=w.device))
        self.lora_B = Parameter(zeros(self.out_features, r, dtype=w.dtype, device=w.device))
        init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
        self.lora_dropout = Dropout(dropout) if dropout > 0 else Identity()
        self.merged = False

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}, r={self.r}, alpha={self.alpha}, merged={self.merged}"
        )

    def forward(self, input):  # noqa: A002
        if input.ndim == 0 or input.shape[-1] != self.in_features:
            raise RuntimeError(
                f"{self._get_name()}({self.extra_repr()}) expected input with last dimension "
                f"{self.in_features}, got shape {list(input.shape)}"
            )
        y = F.linear(input, self.weight, self.bias)
        if self.merged:  # the update is inside the weight; A and B get no gradient here
            return y
        update = F.linear(F.linear(self.lora_dropout(input), self.lora_A), self.lora_B)
        return y + update * self.scaling

    def delta_weight(self):
        """The update B·A·alpha/r, shaped like the weight."""
        return (self.lora_B @ self.lora_A) * self.scaling

    def merge(self) -> LoRALinear:
        """Fold the update into the weight: forward then costs one matmul. Idempotent."""
        if not self.merged:
            with no_grad():
                self.weight.add_(self.delta_weight().to(self.weight.dtype))
            self.merged = True
        return self

    def unmerge(self) -> LoRALinear:
        """Take the update out of the weight again (to float rounding). Idempotent."""
        if self.merged:
            with no_grad():
                self.weight.sub_(self.delta_weight().to(self.weight.dtype))
            self.merged = False
        return self


# -- model-level helpers --------------------------------------------------------------------------


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
