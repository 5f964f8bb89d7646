"""scaled_dot_product_attention as one fused op, and the attention-weights op.

``softmax(q·kᵀ·scale + mask)·v`` runs as two batched matrix products around an in-place,
max-subtracted softmax, with a closed-form backward. The backward reuses the attention weights
that forward kept; when it must itself be differentiable (``create_graph``), it recomputes
them through :class:`AttentionWeights`, whose output stays connected to q and k.
"""

from __future__ import annotations

import math

from ... import backend, dtypes
from ...ops import Op
from ...ops.base import autocast_inputs, constant

__all__ = ["scaled_dot_product_attention"]


def _scores_softmax(xp, q, k, mask, scale, mask_is_bool):
    """softmax(q·kᵀ·scale + mask) over the last axis, computed in place in one buffer.

    Rows whose every score is masked out get all-zero weights, as PyTorch's SDPA does.
    """
    s = xp.matmul(q, xp.swapaxes(k, -1, -2))
    s *= scale
    if mask is not None:
        try:
            if mask_is_bool:
                xp.copyto(s, -math.inf, where=~mask)
            else:
                s += mask
        except ValueError:
            raise RuntimeError(
                f"scaled_dot_product_attention: attn_mask of shape {list(mask.shape)} is not "
                f"broadcastable to the attention weights of shape {list(s.shape)}"
            ) from None
    m = s.max(axis=-1, keepdims=True)
    if mask is not None:  # a row with no allowed key: avoid -inf - (-inf), give zeros
        m = xp.where(xp.isfinite(m), m, 0)
    s -= m
    xp.exp(s, out=s)
    z = s.sum(axis=-1, keepdims=True)
    if mask is not None:
        z = xp.where(z == 0, 1, z)
    s /= z
    return s


def _scores_backward(p, gp, q, k, scale, needs):
    """Gradients of (q, k, additive mask) from dP, for P = softmax(q·kᵀ·scale + mask).

    dS = P ⊙ (dP − Σⱼ dP ⊙ P), dq = dS·k·scale, dk = dSᵀ·q·scale, dmask = dS.
    """
    need_q, need_k, need_mask = needs
    gs = p * (gp - (gp * p).sum(-1, keepdim=True))
    gq = (gs @ k) * scale if need_q else None
    gk = (gs.mT @ q) * scale if need_k else None
    return gq, gk, (gs if need_mask else None)


class AttentionWeights(Op):
    """P = softmax(q·kᵀ·scale + mask) over keys; dS = P ⊙ (dP − Σ dP ⊙ P), dq = dS·k·scale,
    dk = dSᵀ·q·scale, dmask = dS"""

    save_inputs = True
    save_output = True

    def __init__(self, scale: float, mask_is_bool: bool):
        self.scale, self.mask_is_bool = scale, mask_is_bool

    def forward(self, q, k, mask):
        return _scores_softmax(self.xp, q, k, mask, self.scale, self.mask_is_bool)

    def backward(self, gp):
        q, k, _, p = self.saved_tensors
        need_q, need_k, need_mask = self.needs_input_grad
        return _scores_backward(p, gp, q, k, self.scale, (need_q, need_k, need_mask))


class ScaledDotProductAttention(Op):
    """y = (P ⊙ keep)·v with P = softmax(q·kᵀ·scale + mask), keep = 0 or 1/(1-p) (dropout);
    dv = (P ⊙ keep)ᵀ·dy, dP = (dy·vᵀ) ⊙ keep, then dq, dk, dmask as AttentionWeights

    Called on (q, k, v, mask, keep) with ``keep`` an array or None. Forward keeps P for
    backward; when backward must be differentiable in q and k, it recomputes P through
    :class:`AttentionWeights` instead.
    """

    save_inputs = True

    def __init__(self, scale: float, mask_is_bool: bool):
        self.scale, self.mask_is_bool = scale, mask_is_bool

    def forward(self, q, k, v, mask, keep):
        xp = self.xp
        p = _scores_softmax(xp, q, k, mask, self.scale, self.mask_is_bool)
        self.keep(weights=p, dropout=keep)
        if keep is not None:
            p = p * keep
        return xp.matmul(p, v).astype(v.dtype, copy=False)  # bfloat16: NumPy gives float32

    def backward(self, gy):
        q, k, v, mask, _ = self.saved_tensors
        need_q, need_k, need_v, need_mask, _ = self.needs_input_grad
        p = self.reuse(
            "weights",
            lambda: AttentionWeights(self.scale, self.mask_is_bool)(q, k, mask),
            q,
            k,
            mask,
        )
        keep = self.kept_arrays["dropout"]
        keep = None if keep is None else constant(keep, gy.device)
        gv = None
        if need_v:
            gv = (p if keep is None else p * keep).mT @ gy
        gq = gk = gmask = None
        if need_q or need_k or need_mask:
            gp = gy @ v.mT
            if keep is not None:
                gp = gp * keep
            gq, gk, gmask = _scores_backward(p, gp, q, k, self.scale, (need_q, need_k, need_mask))
        return gq, gk, gv, gmask, None


def scaled_dot_product_attention(
    query,
    key,
    value,
    attn_mask=None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
):
    """Attention of queries over keys, ``softmax(q·kᵀ·scale + mask)·v``, as PyTorch computes it.

    Args:
        query: (..., L, E).
        key: (..., S, E); batch dims broadcast against the query's.
        value: (..., S, Ev).
        attn_mask: bool (True: the query may attend to that key) or float (added to the
            scores), broadcastable to (..., L, S). A query row with no allowed key outputs zeros.
        dropout_p: dropout on the attention weights (applied whenever > 0, as PyTorch; pass 0.0
            in eval mode).
        is_causal: mask keys after each query (upper-left aligned ``tril``); excludes attn_mask.
        scale: defaults to 1/√E.
        enable_gqa: let key/value have fewer heads (dim -3) than query, each shared by a group.

    Returns:
        (..., L, Ev).

    Example:
        >>> q = k = v = minigrad.randn(2, 4, 8, 16)   # (batch, heads, seq, head dim)
        >>> scaled_dot_product_attention(q, k, v, is_causal=True).shape
        minigrad.Size([2, 4, 8, 16])
    """
    query, key, value = autocast_inputs("scaled_dot_product_attention", query, key, value)
    _check_qkv(query, key, value)
    if enable_gqa:
        key, value = _repeat_heads(query, key), _repeat_heads(query, value)
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    length, source = query.shape[-2], key.shape[-2]
    if is_causal:
        if attn_mask is not None:
            raise RuntimeError(
                "scaled_dot_product_attention: explicit attn_mask should not be set when "
                "is_causal=True"
            )
        attn_mask = causal_mask(length, source, query.device)
    mask_is_bool = False
    if attn_mask is not None:
        attn_mask, mask_is_bool = _canonical_mask(attn_mask, query)
    keep = _dropout_keep(query, key, attn_mask, dropout_p)
    return ScaledDotProductAttention(scale, mask_is_bool)(query, key, value, attn_mask, keep)


def _dropout_keep(query, key, mask, p: float):
    """None without dropout, else an array of the weights' shape: 0 (dropped) or 1/(1-p)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"scaled_dot_product_attention: dropout_p must be in [0, 1], got {p}")
    if p == 0.0:
        return None
    shape = _broadcast_scores_shape(query, key, mask)
    np_dtype = query._data.dtype
    with backend.on(query.device):  # the mask is made on the query's GPU
        u = backend.default_generator(query.device).uniform(shape, np_dtype)
        return (u >= p).astype(np_dtype) * (1.0 / (1.0 - p) if p < 1.0 else 0.0)


def causal_mask(length: int, source: int, device):
    """The (L, S) bool mask of a causal model: query i may attend to keys 0..i."""
    dev = backend.device(device)
    with backend.on(dev):
        return constant(dev.xp.tri(length, source, dtype=bool), dev)


def _canonical_mask(mask, query):
    """The mask as (tensor, is_bool); float masks take the query's dtype."""
    if mask.dtype is dtypes.bool:
        return mask, True
    if not mask.dtype.is_floating_point:
        raise TypeError(
            f"scaled_dot_product_attention: attn_mask must be bool or floating point, got "
            f"{mask.dtype}"
        )
    return (mask if mask.dtype is query.dtype else mask.to(query.dtype)), False


def _check_qkv(q, k, v) -> None:
    name = "scaled_dot_product_attention"
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2:
        raise RuntimeError(
            f"{name}: query, key and value must have at least 2 dims (..., seq, embed), got "
            f"shapes {list(q.shape)}, {list(k.shape)} and {list(v.shape)}"
        )
    if not (q.dtype is k.dtype is v.dtype) or not q.dtype.is_floating_point:
        raise RuntimeError(
            f"{name}: expected query, key and value to have the same floating dtype, got "
            f"{q.dtype}, {k.dtype} and {v.dtype}"
        )
    if q.shape[-1] != k.shape[-1]:
        raise RuntimeError(
            f"{name}: query and key must have the same embedding size (last dim), got query "
            f"{list(q.shape)} and key {list(k.shape)}"
        )
    if k.shape[-2] != v.shape[-2]:
        raise RuntimeError(
            f"{name}: key and value must have the same sequence length (dim -2), got key "
            f"{list(k.shape)} and value {list(v.shape)}"
        )


def _repeat_heads(query, t):
    """``t`` with each head (dim -3) repeated to match the query's head count (grouped queries)."""
    if query.ndim < 3 or t.ndim < 3:
        raise RuntimeError("scaled_dot_product_attention: enable_gqa needs a heads dim (-3)")
    heads, kv_heads = query.shape[-3], t.shape[-3]
    if heads % kv_heads:
        raise RuntimeError(
            f"scaled_dot_product_attention: number of query heads ({heads}) must be divisible by "
            f"the number of key/value heads ({kv_heads}) with enable_gqa"
        )
    rep = heads // kv_heads
    if rep == 1:
        return t
    lead, (s, e) = t.shape[:-3], t.shape[-2:]
    return t.unsqueeze(-3).expand(*lead, kv_heads, rep, s, e).reshape(*lead, heads, s, e)


def _broadcast_scores_shape(q, k, mask) -> tuple:
    """The shape of the attention weights: batch dims of q, k (and mask) broadcast, then (L, S)."""
    shapes = [q.shape[:-2], k.shape[:-2]] + ([mask.shape[:-2]] if mask is not None else [])
    ndim = max(len(s) for s in shapes)
    batch = []
    for i in range(ndim):
        sizes = [s[i - ndim + len(s)] for s in shapes if i - ndim + len(s) >= 0]
        batch.append(max(sizes))
    return tuple(batch) + (q.shape[-2], k.shape[-2])
