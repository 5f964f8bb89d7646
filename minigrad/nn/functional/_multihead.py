"""Multi-head attention without its module: ``F.multi_head_attention_forward``, which
``nn.MultiheadAttention`` calls, and its parts (masks, heads, attention that keeps weights)."""

from __future__ import annotations

import math

from ... import dtypes
from ...backend import AssertedArgumentError
from ...ops import cat, pad
from .attention import AttentionWeights, scaled_dot_product_attention
from .basic import dropout, linear


def multi_head_attention_forward(
    query,
    key,
    value,
    embed_dim_to_check: int,
    num_heads: int,
    in_proj_weight,
    in_proj_bias,
    bias_k,
    bias_v,
    add_zero_attn: bool,
    dropout_p: float,
    out_proj_weight,
    out_proj_bias,
    training: bool = True,
    key_padding_mask=None,
    need_weights: bool = True,
    attn_mask=None,
    use_separate_proj_weight: bool = False,
    q_proj_weight=None,
    k_proj_weight=None,
    v_proj_weight=None,
    static_k=None,
    static_v=None,
    average_attn_weights: bool = True,
    is_causal: bool = False,
):
    """Multi-head attention with the given weights: what ``nn.MultiheadAttention`` computes.

    The query, key and value are projected (``in_proj_weight`` (3E, E) packs the three
    projections; with ``use_separate_proj_weight``, ``q/k/v_proj_weight`` (E, E), (E, kdim),
    (E, vdim)), split into ``num_heads`` heads, attended, joined and projected by
    ``out_proj_weight``. ``bias_k``/``bias_v`` (1, 1, E) add one learned key and value;
    ``add_zero_attn`` one all-zero key and value per head; ``static_k``/``static_v``
    (N·num_heads, S, E / num_heads) replace the projected key/value heads.

    Args:
        query: (L, N, E) or unbatched (L, E); key (S, N, kdim), value (S, N, vdim) or (S, ·).
        embed_dim_to_check: E, which the query's last dim must be.
        key_padding_mask: (N, S) (or (S,)), bool with True = ignore that key, or float (added).
        attn_mask: (L, S) or (N·num_heads, L, S), bool with True = not allowed, or float (added).
        dropout_p: dropout on the attention weights, applied only when ``training``.
        need_weights: also return the attention weights (computed outside the fused kernel).
        average_attn_weights: average the returned weights over heads.
        is_causal: a hint that ``attn_mask`` is the causal mask (which must be given).

    Returns:
        ``(output (L, N, E), weights)`` with weights (N, L, S) averaged over heads, or
        (N, num_heads, L, S), or None when ``need_weights=False`` (no N when unbatched).

    Differs from PyTorch: a query allowed to see no key gets zero weights (PyTorch gives NaN
    when ``need_weights=True``).

    Example:
        >>> q = minigrad.randn(5, 2, 8)  # (L, N, E)
        >>> w_in, w_out = minigrad.randn(24, 8), minigrad.randn(8, 8)
        >>> out, weights = F.multi_head_attention_forward(
        ...     q, q, q, 8, 2, w_in, None, None, None, False, 0.0, w_out, None)
        >>> out.shape, weights.shape
        ((5, 2, 8), (2, 5, 5))
    """
    name = "multi_head_attention_forward"
    if use_separate_proj_weight:
        projections = (q_proj_weight, k_proj_weight, v_proj_weight)
        if any(w is None for w in projections):
            raise RuntimeError(
                f"{name}: use_separate_proj_weight is True but q_proj_weight, k_proj_weight or "
                f"v_proj_weight is None"
            )
    elif in_proj_weight is None:
        raise RuntimeError(f"{name}: use_separate_proj_weight is False but in_proj_weight is None")
    else:
        projections = in_proj_weight
    return attend(
        query, key, value, embed_dim_to_check, num_heads, projections, in_proj_bias,
        lambda out: linear(out, out_proj_weight, out_proj_bias),
        bias_k=bias_k, bias_v=bias_v, add_zero_attn=add_zero_attn,
        dropout_p=dropout_p if training else 0.0, key_padding_mask=key_padding_mask,
        need_weights=need_weights, attn_mask=attn_mask, static_k=static_k, static_v=static_v,
        average_attn_weights=average_attn_weights, is_causal=is_causal, name=name,
    )  # fmt: skip


def attend(
    query,
    key,
    value,
    embed_dim: int,
    heads: int,
    projections,
    in_proj_bias,
    out_proj,
    *,
    bias_k=None,
    bias_v=None,
    add_zero_attn=False,
    dropout_p=0.0,
    key_padding_mask=None,
    need_weights=True,
    attn_mask=None,
    static_k=None,
    static_v=None,
    average_attn_weights=True,
    is_causal=False,
    batch_first=False,
    name="multi_head_attention_forward",
):
    """:func:`multi_head_attention_forward` for ``nn.MultiheadAttention`` as well: the input
    projections are the packed (3E, E) weight or a (q, k, v) tuple of weights, ``out_proj`` a
    callable on (N, L, E), inputs batch-first when ``batch_first``; errors name ``name``."""
    e = embed_dim
    if e <= 0 or heads <= 0 or e % heads:
        raise RuntimeError(
            f"{name}: embed_dim ({e}) must be divisible by num_heads ({heads}), both positive"
        )
    packed = not isinstance(projections, (tuple, list))
    kdim, vdim = (e, e) if packed else (projections[1].shape[-1], projections[2].shape[-1])
    unbatched = query.ndim == 2
    same = query is key and key is value  # self-attention: one packed GEMM for all three
    q, k, v = _batch_first(query, key, value, (e, kdim, vdim), batch_first, name)
    n, length, head_dim = q.shape[0], q.shape[1], e // heads
    if unbatched and key_padding_mask is not None:
        key_padding_mask = key_padding_mask.reshape(1, -1)
    if is_causal and attn_mask is None:
        raise RuntimeError(
            f"{name}: need attn_mask if specifying the is_causal hint; make it with "
            f"nn.Transformer.generate_square_subsequent_mask"
        )
    static_k = _static(static_k, "static_k", n * heads, head_dim, name)
    static_v = _static(static_v, "static_v", n * heads, head_dim, name)
    source = k.shape[1] if static_k is None else static_k.shape[1]
    _check_mask(attn_mask, "attn_mask", [(length, source), (n * heads, length, source)], name)
    _check_mask(key_padding_mask, "key_padding_mask", [(n, source)], name)
    if (bias_k is None) != (bias_v is None):
        raise RuntimeError(f"{name}: bias_k and bias_v must be given together")
    if bias_k is not None and (static_k is not None or static_v is not None):
        raise RuntimeError(f"{name}: bias cannot be added to a static key or value")
    q, k, v = _project(q, k, v, projections, in_proj_bias, same, static_k, static_v, e)
    if bias_k is not None:  # one more (learned) key and value
        k = cat([k, bias_k.reshape(1, 1, e).expand(n, 1, e)], 1)
        v = cat([v, bias_v.reshape(1, 1, e).expand(n, 1, e)], 1)
    q = split_heads(q, heads)
    k = split_heads(k, heads) if static_k is None else static_k.reshape(n, heads, -1, head_dim)
    v = split_heads(v, heads) if static_v is None else static_v.reshape(n, heads, -1, head_dim)
    if k.shape[2] != v.shape[2]:
        raise RuntimeError(f"{name}: the key has {k.shape[2]} positions but the value {v.shape[2]}")
    mask = merge_masks(key_padding_mask, attn_mask, n, heads, k.shape[2], q)
    if add_zero_attn:
        k, v = append_zero(k), append_zero(v)
        mask = pad_mask(mask)
    weights = None
    if need_weights:
        out, weights = attention_with_weights(q, k, v, mask, dropout_p)
        if average_attn_weights:
            weights = weights.mean(1)
    else:  # the causal hint is used when no other mask is merged in
        causal = is_causal and key_padding_mask is None
        out = scaled_dot_product_attention(
            q, k, v, None if causal else mask, dropout_p, is_causal=causal
        )
    if out.is_nested:  # a ragged batch keeps its batch dim first
        out = out_proj(out.permute(0, 2, 1, 3).reshape(n, length, e))
        return (out if batch_first else out.transpose(0, 1)), weights
    # projected in (L, N, E) order, as PyTorch: a batch-first output is a transposed view,
    # and the dropout that follows it in a Transformer layer draws in that memory order
    out = out_proj(out.permute(2, 0, 1, 3).reshape(length, n, e))
    if unbatched:
        return out.squeeze(1), (weights.squeeze(0) if weights is not None else None)
    return (out.transpose(0, 1) if batch_first else out), weights


def _batch_first(query, key, value, dims, batch_first: bool, name: str):
    """The inputs as checked (N, L, E) views (self-attention keeps one tensor for all three)."""
    e, kdim, vdim = dims
    if query.ndim not in (2, 3) or query.shape[-1] != e:
        layout = "(N, L, E)" if batch_first else "(L, N, E)"
        words = (
            f"query should be unbatched 2D or batched 3D tensor but received {query.ndim}-D "
            f"query tensor"
            if query.ndim not in (2, 3)
            else f"was expecting embedding dimension of {e}, but got {query.shape[-1]}"
        )
        raise AssertedArgumentError(
            f"{words} ({name} expected query of shape {layout} or (L, E) with E={e}, got shape "
            f"{list(query.shape)})"
        )
    for label, t, dim in (("key", key, kdim), ("value", value, vdim)):
        if t.ndim != query.ndim or t.shape[-1] != dim:
            raise AssertedArgumentError(
                _key_value_words(query, key, value, label, dims)
                + f" ({name}: expected {label} with {query.ndim} dims and last dim {dim} (like "
                f"the query {list(query.shape)}), got shape {list(t.shape)})"
            )
    if key.shape[:-1] != value.shape[:-1]:
        raise RuntimeError(
            f"{name}: key {list(key.shape)} and value {list(value.shape)} must agree in all "
            f"but the last dim"
        )
    if query.ndim == 2:
        move = lambda t: t.unsqueeze(0)  # noqa: E731
    elif batch_first:
        move = lambda t: t  # noqa: E731
    else:
        move = lambda t: t.transpose(0, 1)  # noqa: E731
    q = move(query)
    if query is key and key is value:
        return q, q, q
    k, v = move(key), move(value)
    if q.shape[0] != k.shape[0]:
        raise RuntimeError(
            f"{name}: query and key have different batch sizes, {q.shape[0]} and {k.shape[0]}"
        )
    return q, k, v


def _key_value_words(query, key, value, label: str, dims) -> str:
    """PyTorch's words (its asserts, in its order) for a key or value of the wrong rank or last
    dim: the ranks, then with one packed projection (kdim = vdim = E) key against value, else
    the projection weight the given size would need against the one there is."""
    e, kdim, vdim = dims
    if key.ndim != query.ndim or value.ndim != query.ndim:
        kind = "batched (3-D)" if query.ndim == 3 else "unbatched (2-D)"
        return (
            f"For {kind} `query`, expected `key` and `value` to be {query.ndim}-D but found "
            f"{key.ndim}-D and {value.ndim}-D tensors respectively"
        )
    if kdim == e and vdim == e:
        if key.shape != value.shape:
            return f"key shape {key.shape} does not match value shape {value.shape}"
        return f"expected {label} embedding dimension of {e}, but got {key.shape[-1]}"
    t, dim = (key, kdim) if label == "key" else (value, vdim)
    wanted = type(t.shape)((e, dim))
    return f"expecting {label} weights shape of ({e}, {t.shape[-1]}), but got {wanted}"


def _static(t, label: str, rows: int, head_dim: int, name: str):
    """A static key or value: (N·num_heads, S, E / num_heads), checked."""
    if t is not None and (t.ndim != 3 or t.shape[0] != rows or t.shape[2] != head_dim):
        raise RuntimeError(
            f"{name}: expected {label} of shape [{rows}, S, {head_dim}] (N·num_heads, S, "
            f"E / num_heads), got {list(t.shape)}"
        )
    return t


def _check_mask(mask, label: str, valid: list, name: str) -> None:
    if mask is None:
        return
    if not (mask.dtype is dtypes.bool or mask.dtype.is_floating_point):
        raise TypeError(f"{name}: only bool and floating {label} are supported, got {mask.dtype}")
    if tuple(mask.shape) not in valid:
        shapes = " or ".join(str(list(s)) for s in valid)
        raise RuntimeError(f"{name}: expected {label} of shape {shapes}, got {list(mask.shape)}")


def _project(q, k, v, projections, bias, same: bool, static_k, static_v, e: int):
    """The input projections (none for a static key or value). Self-attention with the packed
    weight is one GEMM, split into three views (as PyTorch packs it); otherwise one each."""
    if isinstance(projections, (tuple, list)):
        wq, wk, wv = projections
    else:
        if same and static_k is None and static_v is None:
            return linear(q, projections, bias).split(e, -1)
        wq, wk, wv = projections[:e], projections[e : 2 * e], projections[2 * e :]
    bq, bk, bv = (None, None, None) if bias is None else (bias[:e], bias[e : 2 * e], bias[2 * e :])
    q = linear(q, wq, bq)
    k = linear(k, wk, bk) if static_k is None else None
    v = linear(v, wv, bv) if static_v is None else None
    return q, k, v


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
