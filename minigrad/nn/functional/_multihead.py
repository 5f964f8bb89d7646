"""The stateless parts of ``MultiheadAttention``: merging its masks, splitting heads, and
attention that keeps its weights (``need_weights=True``)."""

from __future__ import annotations

import math

from ... import dtypes
from ...ops import cat, pad
from .attention import AttentionWeights
from .basic import dropout


def merge_masks(key_padding_mask, attn_mask, n, heads, source, q):
    """Both masks as one SDPA mask (True or 0 = attend), broadcastable to (N, H, L, S).

    ``source`` counts the learned bias key if present; masks get a column that allows it.
    """
    masks = []
    if attn_mask is not None:
        if attn_mask.ndim == 3:
            attn_mask = attn_mask.reshape(n, heads, *attn_mask.shape[1:])
        masks.append(attn_mask)
    if key_padding_mask is not None:
        masks.append(key_padding_mask.reshape(n, 1, 1, key_padding_mask.shape[-1]))
    if not masks:
        return None
    masks = [_pad_mask_to(m, source) for m in masks]
    if all(m.dtype is dtypes.bool for m in masks):
        allowed = ~masks[0]
        for m in masks[1:]:
            allowed = allowed & ~m
        return allowed
    total = None
    for m in masks:  # PyTorch's convention: True (not allowed) becomes -inf, floats add
        m = m.to(q.dtype).masked_fill(m, -math.inf) if m.dtype is dtypes.bool else m.to(q.dtype)
        total = m if total is None else total + m
    return total


def _pad_mask_to(mask, source):
    """A PyTorch-convention mask (True = not allowed) widened to ``source`` keys with 'allowed'."""
    extra = source - mask.shape[-1]
    if extra == 0:
        return mask
    if mask.dtype is dtypes.bool:
        return cat([mask, mask.new_zeros(mask.shape[:-1] + (extra,), dtype=dtypes.bool)], -1)
    return pad(mask, (0, extra))


def pad_mask(mask):
    """An SDPA mask (True or 0 = attend) with one more, allowed, key (for add_zero_attn)."""
    if mask is None:
        return None
    if mask.dtype is dtypes.bool:
        return cat([mask, mask.new_ones(mask.shape[:-1] + (1,), dtype=dtypes.bool)], -1)
    return pad(mask, (0, 1))


def split_heads(t, heads: int):
    """(N, L, E) → (N, H, L, E / H), a view."""
    n, length, e = t.shape
    return t.reshape(n, length, heads, e // heads).permute(0, 2, 1, 3)


def append_zero(t):
    """(N, H, S, D) with one more all-zero position at the end of S."""
    return cat([t, t.new_zeros(t.shape[:2] + (1,) + t.shape[3:])], 2)


def attention_with_weights(q, k, v, mask, dropout_p: float):
    """SDPA with the weights kept: (output (N, H, L, D), weights after dropout (N, H, L, S))."""
    scale = 1.0 / math.sqrt(q.shape[-1])
    is_bool = mask is not None and mask.dtype is dtypes.bool
    weights = AttentionWeights(scale, is_bool)(q, k, mask)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p)
    return weights @ v, weights
