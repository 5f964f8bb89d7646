"""minigrad's GPT-style decoder-only blocks: causal self-attention, the feed-forward MLP, and a
pre-norm block of both (what ``models/gpt.py`` stacks). PyTorch's encoder-decoder classes are in
:mod:`minigrad.nn.modules.transformer`."""

from __future__ import annotations

from ..functional.attention import scaled_dot_product_attention
from .activation import GELU, ReLU
from .dropout import Dropout
from .linear import Linear
from .module import Module
from .normalization import LayerNorm

__all__ = ["CausalSelfAttention", "FeedForward", "TransformerDecoderBlock"]


class CausalSelfAttention(Module):
    """Multi-head causal self-attention over (B, T, C) inputs: token t attends to tokens ≤ t.

    ``q_proj``, ``k_proj``, ``v_proj`` and ``out_proj`` are separate Linear layers (the layout
    LoRA usually targets), attention is one fused :func:`scaled_dot_product_attention` call
    with ``is_causal=True``; ``dropout`` applies to the attention weights and, through
    ``resid_dropout``, to the output (training mode only).

    Example:
        >>> attn = nn.CausalSelfAttention(32, 4)
        >>> attn(minigrad.randn(2, 10, 32)).shape
        minigrad.Size([2, 10, 32])
    """

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dropout: float = 0.0,
        bias: bool = True,
        device=None,
        dtype=None,
    ):
        super().__init__()
        if d_model % nhead:
            raise ValueError(
                f"CausalSelfAttention: d_model ({d_model}) must be divisible by nhead ({nhead})"
            )
        factory = dict(bias=bias, device=device, dtype=dtype)
        self.d_model, self.nhead, self.dropout = d_model, nhead, dropout
        self.q_proj = Linear(d_model, d_model, **factory)
        self.k_proj = Linear(d_model, d_model, **factory)
        self.v_proj = Linear(d_model, d_model, **factory)
        self.out_proj = Linear(d_model, d_model, **factory)
        self.resid_dropout = Dropout(dropout)

    def extra_repr(self) -> str:
        return f"d_model={self.d_model}, nhead={self.nhead}, dropout={self.dropout}"

    def forward(self, x):
        """(B, T, C) → (B, T, C)."""
        if x.ndim != 3 or x.shape[-1] != self.d_model:
            raise RuntimeError(
                f"{self._get_name()}({self.extra_repr()}) expected input of shape (B, T, "
                f"{self.d_model}), got shape {list(x.shape)}"
            )
        b, t, c = x.shape
        q, k, v = (
            proj(x).reshape(b, t, self.nhead, c // self.nhead).permute(0, 2, 1, 3)
            for proj in (self.q_proj, self.k_proj, self.v_proj)
        )
        p = self.dropout if self.training else 0.0
        y = scaled_dot_product_attention(q, k, v, dropout_p=p, is_causal=True)
        y = y.permute(0, 2, 1, 3).reshape(b, t, c)
        return self.resid_dropout(self.out_proj(y))


class FeedForward(Module):
    """The MLP of a transformer block: ``dropout(fc2(act(fc1(x))))``.

    Example:
        >>> FeedForward(32, 128)(minigrad.randn(2, 10, 32)).shape
        minigrad.Size([2, 10, 32])
    """

    def __init__(
        self,
        d_model: int,
        dim_feedforward: int,
        dropout: float = 0.0,
        activation="gelu",
        bias: bool = True,
        device=None,
        dtype=None,
    ):
        super().__init__()
        factory = dict(bias=bias, device=device, dtype=dtype)
        self.d_model = d_model
        self.fc1 = Linear(d_model, dim_feedforward, **factory)
        self.act = _activation_module(activation)
        self.fc2 = Linear(dim_feedforward, d_model, **factory)
        self.dropout = Dropout(dropout)

    def forward(self, x):
        return self.dropout(self.fc2(self.act(self.fc1(x))))


def _activation_module(activation) -> Module:
    if isinstance(activation, Module):
        return activation
    modules = {"gelu": GELU, "relu": ReLU, "gelu_tanh": lambda: GELU(approximate="tanh")}
    if activation not in modules:
        raise ValueError(
            f"activation must be a Module or one of {sorted(modules)}, got {activation!r}"
        )
    return modules[activation]()


class TransformerDecoderBlock(Module):
    """One block of a GPT-style decoder-only transformer, over (B, T, C) inputs.

    Architecture (pre-norm, as GPT-2)::

        x = x + attn(ln_1(x))    # CausalSelfAttention: q/k/v/out projections, causal SDPA
        x = x + mlp(ln_2(x))     # FeedForward: Linear(C, 4C) → GELU → Linear(4C, C) → Dropout

    A GPT model is token + position embeddings, a stack of these blocks, a final LayerNorm
    and a linear head to the vocabulary.

    Args:
        d_model: width C; nhead: attention heads (C must divide evenly).
        dim_feedforward: MLP hidden width (default 4·d_model).
        dropout: on attention weights, and on the attention and MLP outputs (training only).
        activation: ``'gelu'`` (exact), ``'gelu_tanh'`` (GPT-2's approximation), ``'relu'``, or
            a Module.
        layer_norm_eps: epsilon of both LayerNorms.

    Example:
        >>> block = nn.TransformerDecoderBlock(64, 4)
        >>> block(minigrad.randn(8, 16, 64)).shape
        minigrad.Size([8, 16, 64])
    """

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int | None = None,
        dropout: float = 0.0,
        activation="gelu",
        layer_norm_eps: float = 1e-5,
        bias: bool = True,
        device=None,
        dtype=None,
    ):
        super().__init__()
        factory = dict(device=device, dtype=dtype)
        hidden = dim_feedforward if dim_feedforward is not None else 4 * d_model
        self.d_model = d_model
        self.ln_1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.attn = CausalSelfAttention(d_model, nhead, dropout, bias, **factory)
        self.ln_2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.mlp = FeedForward(d_model, hidden, dropout, activation, bias, **factory)

    def forward(self, x):
        """(B, T, C) → (B, T, C)."""
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))
