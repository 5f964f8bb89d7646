"""The block-wise (FlashAttention-style) attention kernel on arrays: memory O(L + S).

Forward walks the key blocks of each query block with an online softmax: per query it keeps a
running maximum m and sum l of exp(s − m), rescaling the partial output when m grows, so only
one (..., bq, bk) tile of scores exists at a time. It returns the output y and, per query, the
log-sum-exp ``lse = m + log l`` of its scores (0 for a query with no allowed key: its output is
zeros, as PyTorch's, and its scores all -inf, so that backward's P is 0 too). Backward
recomputes each tile's weights as ``P = exp(s − lse)`` and uses ``Σⱼ dP ⊙ P = dy · y`` per
query (FlashAttention's D), so it needs no (L, S) array either.

Causal attention skips the tiles above the diagonal. Dropout uses the dense kernel's keep-mask
(:class:`AttentionDropout`: bool, one byte per weight, the one (L, S) array kept then). float16
and bfloat16 inputs are computed in float32 and the results cast back.
"""

from __future__ import annotations

import math

import numpy as np

from ._attention_dense import mask_scores


def _work_dtype(dtype):
    """float32 for half-precision inputs (the running sums need it), else the input dtype."""
    return np.dtype(np.float32) if dtype.itemsize < 4 else dtype


def _key_stop(causal: bool, stop: int, source: int) -> int:
    """Keys a query block [.., stop) can see: with causal masks none past the block's last query."""
    return min(source, stop) if causal else source


def _batch_shape(*arrays) -> tuple:
    """The broadcast of the arrays' leading (batch) dims; None entries are skipped."""
    shapes = [a.shape[:-2] for a in arrays if a is not None]
    return tuple(np.broadcast_shapes(*shapes))


class _Scratch:
    """One buffer reused for every tile, instead of a fresh (batch, bq, bk) array per tile (an
    allocation each, and page faults where the allocator returns large blocks to the OS)."""

    def __init__(self, xp, size: int, dtype):
        self.flat = xp.empty(size, dtype=dtype)

    def take(self, shape):
        """A C-contiguous array of ``shape`` over the start of the buffer."""
        return self.flat[: math.prod(shape)].reshape(shape)


def _tile_scores(xp, out, qb, kb, mask, mask_is_bool, causal, rows, cols):
    """Masked scores (q·scale)·kᵀ of one tile, into ``out`` (a :class:`_Scratch`), and whether
    any may be -inf."""
    s = xp.matmul(qb, xp.swapaxes(kb, -1, -2), out=out.take(qb.shape[:-1] + kb.shape[-2:-1]))
    return s, mask_scores(xp, s, mask, mask_is_bool, causal, rows, cols)


def _inputs(xp, q, k, v, scale, work, batch):
    """q·scale, k and v in the working dtype, broadcast (as views) to the full batch shape, so
    that every tile has that shape whichever input or mask a batch dim comes from."""
    if q.dtype == work:
        qs = q * work.type(scale)  # the scale is folded into the queries once
    else:
        qs = q.astype(work)
        qs *= work.type(scale)
    k, v = k.astype(work, copy=False), v.astype(work, copy=False)
    return tuple(xp.broadcast_to(a, batch + a.shape[-2:]) for a in (qs, k, v))


def block_forward(xp, q, k, v, mask, mask_is_bool, causal, dropout, scale, blocks):
    """(y, lse): the attention output (..., L, Ev) and the log-sum-exp of each query (..., L, 1).

    ``blocks`` = (query block, key block) sizes.
    """
    dtype, work = q.dtype, _work_dtype(q.dtype)
    length, source = q.shape[-2], k.shape[-2]
    batch = _batch_shape(q, k, v, mask)
    qs, k, v = _inputs(xp, q, k, v, scale, work, batch)
    y = xp.empty(batch + (length, v.shape[-1]), dtype=work)
    lse = xp.empty(batch + (length, 1), dtype=work)
    bq, bk = blocks
    scores = _Scratch(xp, math.prod(batch) * min(bq, length) * min(bk, source), work)
    for q0 in range(0, length, bq):
        rows = slice(q0, min(length, q0 + bq))
        qb = qs[..., rows, :]
        n = rows.stop - q0
        m = xp.full(batch + (n, 1), -math.inf, dtype=work)
        total = xp.zeros(batch + (n, 1), dtype=work)
        acc = xp.zeros(batch + (n, v.shape[-1]), dtype=work)
        keep = dropout.rows(q0, rows.stop) if dropout is not None else None
        for k0 in range(0, _key_stop(causal, rows.stop, source), bk):
            cols = slice(k0, min(source, k0 + bk))
            s, masked = _tile_scores(
                xp, scores, qb, k[..., cols, :], mask, mask_is_bool, causal, rows, cols
            )
            m_new = xp.maximum(m, s.max(axis=-1, keepdims=True))
            shift = xp.where(xp.isfinite(m_new), m_new, 0) if masked else m_new
            s -= shift
            xp.exp(s, out=s)
            alpha = xp.exp(m - shift)  # rescales what earlier key blocks summed
            total *= alpha
            total += s.sum(axis=-1, keepdims=True)
            if keep is not None:
                s *= keep[..., cols]
            acc *= alpha
            acc += xp.matmul(s, v[..., cols, :])
            m = m_new
        empty = total == 0  # no allowed key: output zeros (and lse 0: every score is -inf)
        total = xp.where(empty, 1, total)
        acc /= total
        if dropout is not None:
            acc *= dropout.scale
        y[..., rows, :] = acc
        lse[..., rows, :] = xp.where(empty, 0, xp.log(total) + xp.where(empty, 0, m))
    return y.astype(dtype, copy=False), lse


def block_backward(xp, gy, q, k, v, mask, mask_is_bool, causal, dropout, scale, blocks, y, lse,
                   needs):  # fmt: skip
    """Gradients of (q, k, v, additive mask) from dy, the output y and the saved log-sum-exp.

    Per tile: P = exp(s − lse), dv += (P ⊙ keep)ᵀ·dy, dS = P ⊙ (dP ⊙ keep − D) with
    dP = dy·vᵀ and D = Σ dy ⊙ y per query, dq += dS·k·scale, dk += dSᵀ·q·scale, dmask = dS.
    The mask's gradient has the mask's shape (summed over the dims it broadcasts along).
    """
    need_q, need_k, need_v, need_mask = needs
    dtype, work = q.dtype, _work_dtype(q.dtype)
    length, source = q.shape[-2], k.shape[-2]
    batch = _batch_shape(q, k, v, mask)
    qs, k, v = _inputs(xp, q, k, v, scale, work, batch)
    gy, y = gy.astype(work, copy=False), y.astype(work, copy=False)
    d = (gy * y).sum(axis=-1, keepdims=True)  # Σⱼ dP ⊙ P per query
    gq = xp.zeros(batch + q.shape[-2:], dtype=work) if need_q else None
    gk = xp.zeros(batch + k.shape[-2:], dtype=work) if need_k else None
    gv = xp.zeros(batch + v.shape[-2:], dtype=work) if need_v else None
    gmask = xp.zeros(mask.shape, dtype=work) if need_mask else None
    bq, bk = blocks
    size = math.prod(batch) * min(bq, length) * min(bk, source)
    weights, grads = _Scratch(xp, size, work), _Scratch(xp, size, work)
    for q0 in range(0, length, bq):
        rows = slice(q0, min(length, q0 + bq))
        qb, gyb = qs[..., rows, :], gy[..., rows, :]
        keep = dropout.rows(q0, rows.stop) if dropout is not None else None
        for k0 in range(0, _key_stop(causal, rows.stop, source), bk):
            cols = slice(k0, min(source, k0 + bk))
            kb, vb = k[..., cols, :], v[..., cols, :]
            p, _ = _tile_scores(xp, weights, qb, kb, mask, mask_is_bool, causal, rows, cols)
            p -= lse[..., rows, :]
            xp.exp(p, out=p)
            if need_q or need_k or need_mask:
                gs = xp.matmul(gyb, xp.swapaxes(vb, -1, -2), out=grads.take(p.shape))  # dP
                if keep is not None:
                    gs *= keep[..., cols]
                    gs *= dropout.scale
                gs -= d[..., rows, :]
                gs *= p  # dS
                if need_q:
                    gq[..., rows, :] += xp.matmul(gs, kb)
                if need_k:
                    gk[..., cols, :] += xp.matmul(xp.swapaxes(gs, -1, -2), qb)
                if need_mask:
                    _add_mask_tile(gmask, gs, rows, cols)
            if need_v:  # P is no longer needed: drop its weights in place
                if keep is not None:
                    p *= keep[..., cols]
                    p *= dropout.scale
                gv[..., cols, :] += xp.matmul(xp.swapaxes(p, -1, -2), gyb)
    if need_q:
        gq *= scale
    return tuple(None if g is None else g.astype(dtype, copy=False) for g in (gq, gk, gv, gmask))


def _add_mask_tile(gmask, gs, rows, cols):
    """Add the tile's dS into the mask gradient, summed over the dims the mask broadcasts along."""
    r = rows if gmask.shape[-2] != 1 else slice(None)
    c = cols if gmask.shape[-1] != 1 else slice(None)
    target = gmask[..., r, c]
    lead = gs.ndim - target.ndim
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(target.shape) if n == 1 and gs.shape[lead + i] != 1
    )
    target += gs.sum(axis=axes, keepdims=True).reshape(target.shape) if axes else gs
