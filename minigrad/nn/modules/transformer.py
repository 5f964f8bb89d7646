"""Transformer blocks: PyTorch's TransformerEncoderLayer and TransformerEncoder, and a GPT-style
decoder-only block (pre-norm, causal self-attention, GELU MLP)."""

from __future__ import annotations

import copy
import math

from ... import dtypes
from ...creation import full
from .. import functional as F
from ..functional.attention import scaled_dot_product_attention
from .activation import GELU, MultiheadAttention, ReLU
from .container import ModuleList
from .dropout import Dropout
from .linear import Linear
from .module import Module
from .normalization import LayerNorm

__all__ = [
    "CausalSelfAttention",
    "FeedForward",
    "TransformerDecoderBlock",
    "TransformerEncoder",
    "TransformerEncoderLayer",
    "generate_square_subsequent_mask",
]


def generate_square_subsequent_mask(sz: int, device=None, dtype=None):
    """The (sz, sz) float causal mask: 0 on and below the diagonal, -inf above it
    (``nn.Transformer.generate_square_subsequent_mask``).

    Example:
        >>> generate_square_subsequent_mask(3)   # row i may attend to keys 0..i
    """
    return full((sz, sz), -math.inf, dtype=dtype or dtypes.get_default_dtype(), device=device).triu(
        1
    )


def _activation_function(activation, name: str):
    """``'relu'``/``'gelu'`` as functions (as PyTorch stores them), or the callable itself."""
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    if callable(activation):
        return activation
    raise RuntimeError(f"{name}: activation should be relu/gelu or a callable, not {activation!r}")


class TransformerEncoderLayer(Module):
    """Self-attention and a feed-forward network, each with a residual connection and layer
    norm (``torch.nn.TransformerEncoderLayer``; submodule names match, so a PyTorch state_dict
    loads).

    Post-norm (default): ``x = norm1(x + sa(x)); x = norm2(x + ff(x))``.
    Pre-norm (``norm_first=True``): ``x = x + sa(norm1(x)); x = x + ff(norm2(x))``.
    ``sa`` is MultiheadAttention followed by ``dropout1``; ``ff`` is
    ``dropout2(linear2(dropout(activation(linear1(x)))))``.

    Args:
        d_model: model width; nhead: attention heads; dim_feedforward: hidden width of ff.
        dropout: dropout probability everywhere (attention weights included).
        activation: ``'relu'``, ``'gelu'`` or a callable.
        batch_first: (N, S, E) inputs instead of (S, N, E).

    Example:
        >>> layer = nn.TransformerEncoderLayer(32, 4, 64, batch_first=True, norm_first=True)
        >>> layer(minigrad.randn(2, 10, 32)).shape
        (2, 10, 32)
    """

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation="relu",
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        device=None,
        dtype=None,
    ):
        super().__init__()
        factory = dict(device=device, dtype=dtype)
        self.self_attn = MultiheadAttention(
            d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first, **factory
        )
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **factory)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **factory)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation = _activation_function(activation, type(self).__name__)

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal: bool = False):
        """Encode ``src``; the masks follow MultiheadAttention's conventions (True = ignore)."""
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(
            x,
            x,
            x,
            attn_mask=attn_mask,
            key_padding_mask=key_padding_mask,
            need_weights=False,
            is_causal=is_causal,
        )[0]
        return self.dropout1(x)

    def _ff_block(self, x):
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))


class TransformerEncoder(Module):
    """A stack of ``num_layers`` copies of an encoder layer, and an optional final norm
    (``torch.nn.TransformerEncoder``).

    Example:
        >>> layer = nn.TransformerEncoderLayer(32, 4, 64, batch_first=True)
        >>> encoder = nn.TransformerEncoder(layer, num_layers=2)
        >>> encoder(minigrad.randn(2, 10, 32)).shape
        (2, 10, 32)
    """

    def __init__(
        self,
        encoder_layer: Module,
        num_layers: int,
        norm: Module | None = None,
        enable_nested_tensor: bool = True,
        mask_check: bool = True,
    ):
        super().__init__()
        self.layers = ModuleList([copy.deepcopy(encoder_layer) for _ in range(num_layers)])
        self.num_layers = num_layers
        self.norm = norm
        # PyTorch's nested-tensor fast path has no counterpart here; the flags are accepted.
        self.enable_nested_tensor, self.mask_check = enable_nested_tensor, mask_check

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal: bool | None = None):
        """Run ``src`` through every layer with the same masks, then the final norm."""
        out = src
        for layer in self.layers:
            out = layer(
                out,
                src_mask=mask,
                src_key_padding_mask=src_key_padding_mask,
                is_causal=bool(is_causal),
            )
        return self.norm(out) if self.norm is not None else out


# -- GPT-style decoder-only block -----------------------------------------------------------------


class CausalSelfAttention(Module):
    """Multi-head causal self-attention over (B, T, C) inputs: token t attends to tokens ≤ t.

    ``q_proj``, ``k_proj``, ``v_proj`` and ``out_proj`` are separate Linear layers (the layout
    LoRA usually targets), attention is one fused :func:`scaled_dot_product_attention` call
    with ``is_causal=True``; ``dropout`` applies to the attention weights and, through
    ``resid_dropout``, to the output (training mode only).

    Example:
        >>> attn = nn.CausalSelfAttention(32, 4)
        >>> attn(minigrad.randn(2, 10, 32)).shape
        (2, 10, 32)
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
        (2, 10, 32)
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
        (8, 16, 64)
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
