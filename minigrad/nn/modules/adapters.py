"""Adapter layers for parameter-efficient fine-tuning: a bottleneck ``Adapter`` and
``LoRALinear`` (the model-level helpers that insert them are in :mod:`minigrad.nn.adapters`).

Both kinds start as the identity change: a new adapter's up-projection and a new LoRA's ``B``
are zero, so a wrapped model computes exactly what it computed before, and training moves
only the small added matrices. The base model's state-dict keys do not change, so a base
checkpoint still loads into a wrapped model.
"""

from __future__ import annotations

import math

from ...autograd.grad_mode import no_grad
from ...creation import zeros
from .. import functional as F
from .. import init
from ..functional.basic import linear_shape_mismatch
from ..parameter import Parameter
from .activation import GELU, ReLU, SiLU, Tanh
from .dropout import Dropout
from .linear import Identity, Linear
from .module import Module

__all__ = ["Adapter", "LoRALinear"]

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

    def forward(self, input):
        if input.ndim == 0 or input.shape[-1] != self.in_features:
            raise RuntimeError(
                linear_shape_mismatch(input.shape, self.out_features, self.in_features)
                + f": {self._get_name()}({self.extra_repr()}) expects input with last dimension "
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
