"""Fine-tuning a pretrained model on a new task: in full, head only, with bottleneck adapters,
or with LoRA — and counting what each one trains.

Every method gives the new task a fresh output layer (its classes differ from the old ones);
they differ in what else may change:

- ``"full"``: every weight of the base model;
- ``"head"``: nothing else (a linear probe on the frozen features);
- ``"adapter"``: small bottleneck adapters inserted after each hidden Linear layer;
- ``"lora"``: low-rank updates ``B·A`` added to each hidden Linear layer's frozen weight.
"""

from __future__ import annotations

import copy

from minigrad import nn
from minigrad.nn import adapters

from .mlp import MLP

METHODS = ("full", "head", "adapter", "lora")


def count_parameters(model: nn.Module, trainable_only: bool = True) -> int:
    """Number of (trainable) parameter elements of ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def prepare_for_finetuning(
    base: MLP,
    method: str,
    num_classes: int,
    bottleneck: int = 8,
    rank: int = 4,
    alpha: float = 8.0,
) -> MLP:
    """A copy of the pretrained ``base`` set up to fine-tune with ``method`` on a new task.

    The base is deep-copied (it stays as it was), its output layer replaced by a fresh
    ``Linear(·, num_classes)`` which always trains.

    Args:
        base: a pretrained :class:`~minigrad.models.mlp.MLP`.
        method: one of :data:`METHODS`.
        num_classes: classes of the new task.
        bottleneck: adapter width (``"adapter"``).
        rank, alpha: LoRA rank and scale numerator (``"lora"``).

    Returns:
        The new model; ``count_parameters(model)`` tells how much of it trains.

    Example:
        >>> lora = prepare_for_finetuning(pretrained, "lora", num_classes=5, rank=4)
        >>> opt = minigrad.optim.Adam([p for p in lora.parameters() if p.requires_grad])
    """
    if method not in METHODS:
        raise ValueError(f"unknown fine-tuning method {method!r}; choose from {METHODS}")
    model = copy.deepcopy(base)
    layers = list(model.net)
    hidden = [i for i, m in enumerate(layers[:-1]) if isinstance(m, nn.Linear)]
    if method == "head":
        adapters.freeze(model)
    elif method == "adapter":
        adapters.add_adapters(model, [f"net.{i}" for i in hidden], bottleneck=bottleneck)
        adapters.mark_only_adapters_trainable(model)
    elif method == "lora":
        for i in hidden:
            layers[i] = nn.LoRALinear(layers[i], r=rank, alpha=alpha)
        adapters.mark_only_adapters_trainable(model)
    layers[-1] = _new_head(layers[-1], num_classes)
    # A new Sequential keeps the layer order explicit (replacing children in place can reorder).
    model.net = nn.Sequential(*layers)
    model.out_features = num_classes
    return model


def _new_head(old: nn.Linear, num_classes: int) -> nn.Linear:
    """A fresh, trainable Linear with ``old``'s input width, device and dtype."""
    p = old.weight
    return nn.Linear(old.in_features, num_classes, device=p.device, dtype=p.dtype)
