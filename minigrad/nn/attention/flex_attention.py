"""``minigrad.nn.attention.flex_attention``, as ``torch.nn.attention.flex_attention``: attention
whose scores a user function modifies (``score_mod``) and whose pattern a mask function or a
:class:`BlockMask` restricts.

minigrad evaluates ``score_mod(score, b, h, q_idx, kv_idx)`` once on the full (B, H, L, S)
score tensor with broadcast index grids (``b`` (B,1,1,1), ``h`` (1,H,1,1), ``q_idx`` (1,1,L,1),
``kv_idx`` (1,1,1,S), int64), so the scores, the output and every tensor the function captures
(bias tables, ALiBi slopes, ...) are differentiable through ordinary autograd, to any order.
Without a score_mod (and without lse/max_scores) it runs the fused
``scaled_dot_product_attention`` with the block mask made dense. Otherwise, where PyTorch's eager
(uncompiled) flex_attention materializes all (B, H, L, S) scores, minigrad does so per chunk of
queries past :data:`CHUNK_SCORES` scores, each chunk recomputed in backward. Unlike PyTorch on
CPU it has a backward. ``kernel_options`` (GPU kernel tuning) are accepted and ignored.

Example:
    >>> def causal(b, h, q_idx, kv_idx):
    ...     return q_idx >= kv_idx
    >>> def alibi(score, b, h, q_idx, kv_idx):
    ...     return score - slopes[h] * (q_idx - kv_idx)
    >>> bm = create_block_mask(causal, None, None, 128, 128)
    >>> out = flex_attention(q, k, v, score_mod=alibi, block_mask=bm)
"""

from __future__ import annotations

import math
from typing import NamedTuple, TypedDict

from ... import dtypes, ops
from ..._warnings import warn_user
from ...ops import cat
from ...ops.nn import softmax
from ...tensor import Tensor
from ..functional.attention import scaled_dot_product_attention
from ._block_mask import _DEFAULT_SPARSE_BLOCK_SIZE, BlockMask, create_block_mask
from ._flex_mask import (
    _expand,
    _mask_mod_signature,
    _score_mod_signature,
    and_masks,
    create_mask,
    eval_mask_mod,
    index_grids,
    noop_mask,
    or_masks,
)

__all__ = [
    "BlockMask",
    "flex_attention",
    "AuxOutput",
    "AuxRequest",
    "FlexKernelOptions",
    "create_block_mask",
    "create_mask",
    "or_masks",
    "and_masks",
    "noop_mask",
]
_ = (_mask_mod_signature, _score_mod_signature, _DEFAULT_SPARSE_BLOCK_SIZE)  # as PyTorch has


#: The dense path (a score_mod, or the lse asked for) runs over chunks of queries, each
#: recomputed in backward, once the scores pass this many elements: its memory stays
#: O(CHUNK_SCORES) per chunk (plus the inputs) instead of O(B·H·L·S).
CHUNK_SCORES = 1 << 24


class FlexKernelOptions(TypedDict, total=False):
    """GPU kernel tuning knobs of PyTorch's compiled flex_attention; minigrad ignores them."""

    num_warps: int
    num_stages: int
    BLOCK_M: int
    BLOCK_N: int
    PRESCALE_QK: bool
    ROWS_GUARANTEED_SAFE: bool
    BLOCKS_ARE_CONTIGUOUS: bool
    WRITE_DQ: bool
    FORCE_USE_FLEX_ATTENTION: bool
    BACKEND: str


class AuxRequest(NamedTuple):
    """Which extra outputs :func:`flex_attention` returns with ``return_aux``."""

    lse: bool = False
    max_scores: bool = False


class AuxOutput(NamedTuple):
    """The extra outputs: ``lse`` and ``max_scores`` (B, H, L), None where not requested."""

    lse: Tensor | None = None
    max_scores: Tensor | None = None


def flex_attention(
    query,
    key,
    value,
    score_mod=None,
    block_mask: BlockMask | None = None,
    scale: float | None = None,
    enable_gqa: bool = False,
    return_lse: bool = False,
    kernel_options: FlexKernelOptions | None = None,
    *,
    return_aux: AuxRequest | None = None,
):
    """``softmax(score_mod(q·kᵀ·scale) masked by block_mask)·v``, per batch and head.

    Args:
        query: (B, Hq, L, E).
        key: (B, Hkv, S, E).
        value: (B, Hkv, S, Ev).
        score_mod: ``(score, b, h, q_idx, kv_idx) -> score``, tensor ops only.
        block_mask: a :class:`BlockMask` from :func:`create_block_mask`; pairs it excludes get
            no weight, and a query with no allowed key outputs zeros (its lse is -inf).
        scale: defaults to 1/√E.
        enable_gqa: let Hkv divide Hq (query head h uses key/value head h // (Hq/Hkv)).
        return_lse: also return the log-sum-exp of the scores, (B, Hq, L) (deprecated in
            PyTorch for ``return_aux=AuxRequest(lse=True)``).
        kernel_options: ignored (GPU kernel tuning).
        return_aux: an :class:`AuxRequest`; returns ``(out, AuxOutput(...))``.

    Returns:
        (B, Hq, L, Ev), or a pair with the lse or the :class:`AuxOutput`.
    """
    if return_lse and return_aux is not None:
        raise ValueError(
            "flex_attention: cannot set both return_lse and return_aux; use "
            "return_aux=AuxRequest(lse=True)"
        )
    if kernel_options is not None and not isinstance(kernel_options, dict):
        raise TypeError(f"flex_attention: kernel_options must be a dict, got {kernel_options!r}")
    _check_inputs(query, key, value, block_mask, enable_gqa)
    if return_lse:
        warn_user(
            "flex_attention: return_lse is deprecated; use return_aux=AuxRequest(lse=True)",
            FutureWarning,
        )
    if score_mod is None and not return_lse and return_aux is None:
        return _sdpa(query, key, value, block_mask, scale, enable_gqa)
    need = (return_lse or (return_aux is not None and return_aux.lse),
            return_aux is not None and return_aux.max_scores)  # fmt: skip
    out, lse, max_scores = _attend_chunks(query, key, value, score_mod, block_mask, scale, need)
    if return_lse:
        return out, lse
    if return_aux is not None:
        return out, AuxOutput(
            lse if return_aux.lse else None, max_scores if return_aux.max_scores else None
        )
    return out


def _compute_dtype(dtype):
    """Half-precision inputs are computed in float32 (PyTorch's flex keeps its lse in float32)."""
    return dtypes.float32 if dtype in (dtypes.float16, dtypes.bfloat16) else dtype


def _attend(
    query, key, value, score_mod, block_mask, scale, keep=None, need=(False, False), q_offset=0
):
    """(out, lse, max_scores), the last two computed where ``need`` says so (else None); key
    and value are cast to the query's (compute) dtype. ``keep``: a bool mask broadcasting to
    the scores, used where there is no block_mask; ``q_offset``: the index of the first query
    (a chunk of them)."""
    nb, nh, q_len, e = query.shape
    kv_len = key.shape[-2]
    cdt = _compute_dtype(query.dtype)
    q, k, v = (t if t.dtype is cdt else t.to(cdt) for t in (query, key, value))
    k, v = _repeat_heads(k, nh), _repeat_heads(v, nh)
    scale = 1.0 / math.sqrt(e) if scale is None else float(scale)
    s = (q @ k.transpose(-2, -1)) * scale
    if score_mod is not None:
        s = _apply_score_mod(score_mod, s, (nb, nh, q_len, kv_len), q_offset)
    if block_mask is not None:
        keep = element_mask(block_mask, (nb, nh, q_len, kv_len), query.device, q_offset)
    if keep is not None:
        s = ops.where(keep, s, float("-inf"))
    row_max = s.detach().amax(-1, keepdim=True)
    empty = row_max == float("-inf")  # no allowed key: zeros out, -inf lse, no gradient
    p = softmax(ops.where(empty, 0.0, s), -1)
    out = ops.where(empty, 0.0, p) @ v
    out = out if out.dtype is query.dtype else out.to(query.dtype)
    lse = _lse(s, row_max, empty) if need[0] else None
    return out, lse, s.amax(-1) if need[1] else None


def _attend_chunks(query, key, value, score_mod, block_mask, scale, need):
    """:func:`_attend` over chunks of CHUNK_SCORES scores, each recomputed in backward."""
    nb, nh, q_len = query.shape[:3]
    per_row = nb * nh * key.shape[-2]
    if per_row * q_len <= CHUNK_SCORES:
        return _attend(query, key, value, score_mod, block_mask, scale, need=need)
    from ...utils.checkpoint import checkpoint  # above nn in the import graph: imported here

    rows = max(1, CHUNK_SCORES // per_row)

    def run(q, k, v, start):
        res = _attend(q, k, v, score_mod, block_mask, scale, need=need, q_offset=start)
        return tuple(t for t in res if t is not None)

    parts = [
        checkpoint(run, query[:, :, i : i + rows], key, value, i, use_reentrant=False)
        for i in range(0, q_len, rows)
    ]
    joined = iter([cat([p[j] for p in parts], 2) for j in range(len(parts[0]))])
    out = next(joined)
    return out, next(joined) if need[0] else None, next(joined) if need[1] else None


def _lse(s, row_max, empty):
    """log Σ exp of each score row (shifted by its max, a constant); -inf for empty rows."""
    shift = ops.where(empty, 0.0, row_max)
    total = (s - shift).exp().sum(-1, keepdim=True)
    return ops.where(empty, float("-inf"), ops.where(empty, 1.0, total).log() + shift).squeeze(-1)


def _sdpa(query, key, value, block_mask, scale, enable_gqa):
    """Without a score_mod only the mask remains: the fused scaled_dot_product_attention (closed
    form backward; block-wise from BLOCKWISE_FROM keys), whose masked rows are zeros too."""
    keep = None
    if block_mask is not None:
        nb, nh, q_len = query.shape[:3]
        keep = element_mask(block_mask, (nb, nh, q_len, key.shape[-2]), query.device)
    key, value = (t if t.dtype is query.dtype else t.to(query.dtype) for t in (key, value))
    return scaled_dot_product_attention(
        query, key, value, attn_mask=keep, scale=scale, enable_gqa=enable_gqa
    )


def _apply_score_mod(score_mod, s, shape, q_offset=0):
    out = score_mod(s, *index_grids(*shape, s.device, q_offset))
    if not isinstance(out, Tensor):
        raise TypeError(f"flex_attention: score_mod must return a tensor, got {type(out).__name__}")
    if out.dtype is not s.dtype:
        out = out.to(s.dtype)
    return _expand(out, tuple(shape), "score_mod")


def _repeat_heads(t, heads: int):
    """Each key/value head repeated for its group of query heads."""
    rep = heads // t.shape[1]
    if rep == 1:
        return t
    b, kv, s, e = t.shape
    return t.unsqueeze(2).expand(b, kv, rep, s, e).reshape(b, heads, s, e)


def element_mask(block_mask: BlockMask, shape: tuple, device, q_offset: int = 0):
    """The (B, H, L, S) = ``shape`` bool tensor of the pairs ``block_mask`` allows: those in
    full blocks, and those in partial blocks where its mask_mod allows them. The L queries
    start at ``q_offset`` (a chunk of them)."""
    nb, nh, q_len, kv_len = shape
    bq, bkv = block_mask.BLOCK_SIZE
    xp = device.xp
    first, skip = divmod(q_offset, bq)
    last = -(-(q_offset + q_len) // bq)

    def expand(blocks):
        blocks = _fit_batch_heads(blocks, nb, nh)[:, :, first:last]
        tiles = xp.repeat(xp.repeat(xp.asarray(blocks), bq, axis=2), bkv, axis=3)
        return tiles[:, :, skip : skip + q_len, :kv_len]

    partial = block_mask.to(device)._dense_blocks(False)
    full = block_mask.to(device)._dense_blocks(True)
    keep = None
    if partial.any():
        mod = eval_mask_mod(block_mask.mask_mod, *shape, device, q_offset)._data
        keep = expand(partial) & mod
    if full is not None:
        full = expand(full)
        keep = full if keep is None else keep | full
    if keep is None:
        keep = xp.zeros((1, 1, q_len, kv_len), dtype=bool)
    keep = xp.broadcast_to(keep, tuple(shape))
    return Tensor._make(keep, device)


def _fit_batch_heads(blocks, nb: int, nh: int):
    """Block arrays of a mask made for B (or H) = 1 broadcast; larger ones are cut to size."""
    return blocks[: nb if blocks.shape[0] != 1 else 1, : nh if blocks.shape[1] != 1 else 1]


def _check_inputs(q, k, v, block_mask, enable_gqa: bool) -> None:
    for name, t in (("query", q), ("key", k), ("value", v)):
        if not isinstance(t, Tensor):
            raise TypeError(f"flex_attention: {name} must be a Tensor, got {type(t).__name__}")
        if t.ndim != 4:
            raise NotImplementedError(
                f"flex_attention: query, key and value must be 4-D (B, H, seq, embed), got "
                f"{name} of shape {list(t.shape)}"
            )
        if not t.dtype.is_floating_point:
            raise ValueError(f"flex_attention: {name} must be floating point, got {t.dtype}")
    _check_shapes(q, k, v, block_mask, enable_gqa)


def _check_shapes(q, k, v, block_mask, enable_gqa: bool) -> None:
    (bq, hq, lq, eq), (bk, hk, sk, ek), (bv, hv, sv, _) = q.shape, k.shape, v.shape
    if q.shape[-1] != ek:
        raise ValueError(
            f"flex_attention: query and key must have the same embedding dimension, got E={eq} "
            f"and E={ek}"
        )
    if (bk, hk, sk) != (bv, hv, sv):
        raise ValueError(
            f"flex_attention: key {list(k.shape)} and value {list(v.shape)} must agree in batch, "
            f"heads and sequence length"
        )
    if bq != bk:
        raise ValueError(
            f"flex_attention: query and key/value must have the same batch size, got Bq={bq} "
            f"and Bkv={bk}"
        )
    if hq != hk and not (enable_gqa and hq % hk == 0):
        hint = "Try setting enable_gqa=True for GQA." if not enable_gqa else "Hkv must divide Hq."
        raise ValueError(
            f"flex_attention: expect query and key/value to have the same number of heads but "
            f"got Hq={hq} and Hkv={hk}. {hint}"
        )
    if block_mask is not None and tuple(block_mask.seq_lengths) != (lq, sk):
        raise ValueError(
            f"flex_attention: block_mask was created for block_mask.shape={block_mask.shape} but "
            f"got q_len={lq} and kv_len={sk}; create a new block mask, or crop this one with "
            f"block_mask._adjust(q_len, kv_len)"
        )
    if block_mask is not None:
        mb, mh = block_mask.shape[:2]
        if mb not in (1,) and mb < bq or mh not in (1,) and mh < hq:
            raise ValueError(
                f"flex_attention: block_mask of shape {block_mask.shape} does not cover batch "
                f"{bq} and heads {hq} (its B and H must be 1 or at least those)"
            )
