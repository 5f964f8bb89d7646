"""``minigrad.nn.attention.varlen``, as ``torch.nn.attention.varlen``: attention over sequences
of different lengths packed one after another (no padding), delimited by cumulative offsets.

PyTorch runs this only through CUDA FlashAttention; minigrad runs it anywhere, one sequence at a
time (a Python loop over sequences, each one dense), differentiable in query, key and value.
Sliding windows follow FlashAttention: with ``window_size=(left, right)`` query i of a sequence
with Lq queries and Lk keys sees keys j with ``i + Lk - Lq - left <= j <= i + Lk - Lq + right``
(-1: unbounded), so causal masks are aligned to the lower right when Lq != Lk.

Example:
    >>> cu = minigrad.tensor([0, 3, 7], dtype=minigrad.int32)   # two sequences: 3 and 4 tokens
    >>> out = varlen_attn(q, k, v, cu, cu, 4, 4, window_size=(-1, 0))   # causal
"""

from __future__ import annotations

from typing import NamedTuple

from ... import creation
from ...ops import cat
from ...tensor import Tensor
from .flex_attention import _attend

__all__ = ["AuxRequest", "varlen_attn", "varlen_attn_out"]


class AuxRequest(NamedTuple):
    """Which extra outputs :func:`varlen_attn` returns: ``lse`` (T_q, H_q)."""

    lse: bool = False


def varlen_attn(
    query,
    key,
    value,
    cu_seq_q,
    cu_seq_k,
    max_q: int,
    max_k: int,
    *,
    return_aux: AuxRequest | None = None,
    scale: float | None = None,
    window_size: tuple[int, int] = (-1, -1),
    enable_gqa: bool = False,
    seqused_k=None,
    block_table=None,
    num_splits: int | None = None,
):
    """Attention of each packed query sequence over its own key sequence.

    Args:
        query: (T_q, H_q, D), the sequences' queries one after another.
        key, value: (T_k, H_kv, D), or pages (total_pages, page_size, H_kv, D) with
            ``block_table``.
        cu_seq_q, cu_seq_k: (N + 1,) cumulative offsets (``cu_seq_k`` may be None with
            ``block_table``).
        max_q, max_k: the longest lengths (kernel sizing in PyTorch; unused here).
        return_aux: ``AuxRequest(lse=True)`` also returns the lse, (T_q, H_q).
        scale: defaults to 1/√D.
        window_size: (left, right) sliding window; (-1, -1) full, (-1, 0) causal.
        enable_gqa: let H_kv divide H_q.
        seqused_k: (N,) keys actually used per sequence (the first ones).
        block_table: (N, max_pages) int32 page indices of each sequence's keys (needs
            ``seqused_k``).
        num_splits: split-KV setting of the CUDA kernel; ignored.

    Returns:
        (T_q, H_q, D), or ``(out, lse)`` when the lse is requested.
    """
    out, lse = _varlen(query, key, value, cu_seq_q, cu_seq_k, scale, window_size, enable_gqa,
                       seqused_k, block_table)  # fmt: skip
    if return_aux is not None and return_aux.lse:
        return out, lse
    return out


def varlen_attn_out(out, query, key, value, cu_seq_q, cu_seq_k, max_q: int, max_k: int, **kwargs):
    """:func:`varlen_attn` written into ``out`` (T_q, H_q, D); returns ``out`` (and the lse)."""
    result = varlen_attn(query, key, value, cu_seq_q, cu_seq_k, max_q, max_k, **kwargs)
    values = result[0] if isinstance(result, tuple) else result
    if tuple(out.shape) != tuple(values.shape):
        raise RuntimeError(
            f"varlen_attn_out: out has shape {list(out.shape)}, expected {list(values.shape)}"
        )
    out.copy_(values)
    return (out, result[1]) if isinstance(result, tuple) else out


def _varlen(query, key, value, cu_seq_q, cu_seq_k, scale, window, gqa, seqused_k, block_table):
    _check(query, key, value, gqa, block_table, seqused_k, cu_seq_k)
    cu_q = [int(c) for c in cu_seq_q.tolist()]
    used = None if seqused_k is None else [int(u) for u in seqused_k.tolist()]
    outs, lses = [], []
    for i in range(len(cu_q) - 1):
        q = query[cu_q[i] : cu_q[i + 1]].permute(1, 0, 2).unsqueeze(0)  # (1, H, Lq, D)
        k, v = _keys(key, value, i, cu_seq_k, used, block_table)
        keep = _window(q.shape[2], k.shape[2], window, query.device)
        o, lse, _ = _attend(q, k, v, None, None, scale, keep, need=(True, False))
        outs.append(o[0].permute(1, 0, 2))
        lses.append(lse[0].transpose(0, 1))
    out, lse = cat(outs, 0), cat(lses, 0)
    missing = query.shape[0] - out.shape[0]  # tokens after the last offset: zeros
    if missing > 0:
        out = cat(
            [out, creation.zeros(missing, *out.shape[1:], dtype=out.dtype, device=out.device)]
        )
        pad = creation.full(
            (missing, lse.shape[1]), float("-inf"), dtype=lse.dtype, device=lse.device
        )
        lse = cat([lse, pad])
    return out, lse


def _keys(key, value, i: int, cu_seq_k, used, block_table):
    """Sequence i's keys and values as (1, H_kv, Lk, D)."""
    if block_table is None:
        start, end = int(cu_seq_k[i]), int(cu_seq_k[i + 1])
        if used is not None:
            end = min(end, start + used[i])
        k, v = key[start:end], value[start:end]
    else:
        page = key.shape[1]
        n_pages = -(-used[i] // page)
        pages = block_table[i, :n_pages].long()
        k = key[pages].reshape(-1, *key.shape[2:])[: used[i]]
        v = value[pages].reshape(-1, *value.shape[2:])[: used[i]]
    return k.permute(1, 0, 2).unsqueeze(0), v.permute(1, 0, 2).unsqueeze(0)


def _window(lq: int, lk: int, window, device):
    """The (Lq, Lk) bool mask of a FlashAttention window (lower-right aligned), or None."""
    left, right = (int(w) for w in window)
    if left < 0 and right < 0:
        return None
    shift = creation.arange(lq, device=device).reshape(lq, 1) + (lk - lq)
    j = creation.arange(lk, device=device)
    keep = creation.ones(lq, lk, dtype=j.dtype, device=device) > 0
    if right >= 0:
        keep = keep & (j <= shift + right)
    if left >= 0:
        keep = keep & (j >= shift - left)
    return keep


def _check(query, key, value, gqa: bool, block_table, seqused_k, cu_seq_k) -> None:
    kv_dims = 4 if block_table is not None else 3
    if query.ndim != 3 or key.ndim != kv_dims or value.ndim != kv_dims:
        raise RuntimeError(
            f"varlen_attn: expected query (T_q, H_q, D) and key/value with {kv_dims} dims, got "
            f"{list(query.shape)}, {list(key.shape)} and {list(value.shape)}"
        )
    if block_table is not None and seqused_k is None:
        raise ValueError("varlen_attn: block_table requires seqused_k")
    if block_table is None and cu_seq_k is None:
        raise ValueError("varlen_attn: cu_seq_k may be None only with block_table")
    hq, hk = query.shape[1], key.shape[-2]
    if hq != hk and not (gqa and hq % hk == 0):
        raise ValueError(
            f"varlen_attn: query has {hq} heads and key/value {hk}; with enable_gqa=True the "
            f"key/value heads must divide the query heads"
        )
    if not isinstance(query, Tensor) or query.shape[-1] != key.shape[-1]:
        raise ValueError(
            f"varlen_attn: query and key must have the same head dim, got {list(query.shape)} "
            f"and {list(key.shape)}"
        )
