"""The dense attention kernel on arrays, and the attention-weights op.

Forward forms the (..., L, S) weights ``P = softmax(q·kᵀ·scale + mask)`` in one buffer (matrix
product, then an in-place, max-subtracted softmax) and keeps it for backward. Backward works in
one more (..., L, S) buffer: dP = dy·vᵀ is turned into dS = P ⊙ (dP − Σⱼ dP ⊙ P) in place.
Masking (additive, boolean, causal) is shared with the block-wise kernel: :func:`mask_scores`.
"""

from __future__ import annotations

import math

from ...autograd import grad_mode
from ...ops import Op
from ...ops.base import constant


def mask_scores(xp, s, mask, mask_is_bool, causal, rows: slice, cols: slice):
    """Apply the masks to scores ``s`` (..., r, c) of query ``rows`` and key ``cols``, in place.

    ``mask`` is broadcastable to (..., L, S) (its size-1 dims are not sliced); ``causal``
    forbids keys after each query (upper-left aligned ``tril``). Forbidden scores become -inf.
    Returns whether anything can be -inf (so that callers guard rows with no allowed key).
    """
    masked = False
    if mask is not None:
        r = rows if mask.shape[-2] != 1 else slice(None)
        c = cols if mask.shape[-1] != 1 else slice(None)
        tile = mask[..., r, c]
        if mask_is_bool:
            xp.copyto(s, -math.inf, where=~tile)
        else:
            s += tile
        masked = True
    if causal and cols.stop - 1 > rows.start:  # some key of the tile follows some query
        later = (
            xp.arange(cols.start, cols.stop)[None, :] > xp.arange(rows.start, rows.stop)[:, None]
        )
        xp.copyto(s, -math.inf, where=later)
        masked = True
    return masked


def scores_softmax(xp, q, k, mask, scale, mask_is_bool, causal=False):
    """softmax(q·kᵀ·scale + mask) over the last axis, computed in place in one buffer.

    Rows whose every score is masked out get all-zero weights, as PyTorch's SDPA does.
    """
    s = xp.matmul(q, xp.swapaxes(k, -1, -2))
    s *= scale
    rows, cols = slice(0, s.shape[-2]), slice(0, s.shape[-1])
    masked = mask_scores(xp, s, mask, mask_is_bool, causal, rows, cols)
    m = s.max(axis=-1, keepdims=True)
    if masked:  # a row with no allowed key: avoid -inf - (-inf), give zeros
        m = xp.where(xp.isfinite(m), m, 0)
    s -= m
    xp.exp(s, out=s)
    z = s.sum(axis=-1, keepdims=True)
    if masked:
        z = xp.where(z == 0, 1, z)
    s /= z
    return s


def fused_half(xp, v, dropout, mask_grad: bool) -> bool:
    """Whether PyTorch would run its fused CPU kernel on float16/bfloat16 inputs (not with
    dropout, nor with a mask that needs a gradient), whose roundings :func:`_half_forward` and
    :func:`half_backward` follow (on a GPU the half-precision products keep their speed:
    PyTorch's CUDA kernels differ anyway)."""
    return dropout is None and not mask_grad and v.dtype.itemsize < 4 and xp.__name__ == "numpy"


def dense_forward(xp, q, k, v, mask, mask_is_bool, causal, dropout, scale, half=False):
    """(y, P): the output and the weights (kept for backward); ``half``: see
    :func:`fused_half`."""
    if half:
        return _half_forward(xp, q, k, v, mask, mask_is_bool, causal, scale)
    p = scores_softmax(xp, q, k, mask, scale, mask_is_bool, causal)
    if dropout is not None:
        dropped = p * dropout.mask()
        dropped *= dropout.scale
        return xp.matmul(dropped, v).astype(v.dtype, copy=False), p
    return xp.matmul(p, v).astype(v.dtype, copy=False), p  # bfloat16: NumPy gives float32


def _half_forward(xp, q, k, v, mask, mask_is_bool, causal, scale):
    """float16/bfloat16 as PyTorch's fused CPU kernel computes them: scores and softmax in
    float32, the numerators exp(s - max) rounded to the input dtype for the product with v
    (accumulated in float32), times the reciprocal of their float32 sum, rounded once; the
    weights for backward recomputed as exp(s - lse), as its backward does. Bit for bit below 16
    keys; from 16 on PyTorch's vectorized path (a faster ``exp``, lane-wise sums) differs by a
    rounding in ~5% (bfloat16) to ~25% (float16) of the outputs."""
    f32 = xp.float32
    s = xp.matmul(q.astype(f32), xp.swapaxes(k.astype(f32), -1, -2))
    s *= f32(scale)
    rows, cols = slice(0, s.shape[-2]), slice(0, s.shape[-1])
    masked = mask_scores(xp, s, mask, mask_is_bool, causal, rows, cols)
    m = s.max(axis=-1, keepdims=True)
    if masked:  # a row with no allowed key: zeros, as PyTorch's
        m = xp.where(xp.isfinite(m), m, f32(0))
    e = xp.exp(s - m)
    z = e.sum(axis=-1, keepdims=True)
    if masked:
        z = xp.where(z == 0, f32(1), z)
    y = xp.matmul(e.astype(v.dtype).astype(f32), v.astype(f32))
    y *= f32(1.0) / z  # the kernel multiplies by the reciprocal of the sum
    del e
    s -= m + xp.log(z)  # log-sum-exp per query
    return y.astype(v.dtype), xp.exp(s, out=s)


def half_backward(xp, gy, q, k, v, p, y, scale, needs):
    """Gradients of (q, k, v) for float16/bfloat16 as PyTorch's fused CPU kernel computes them:
    dS = P ⊙ (dy·vᵀ − Σ dy ⊙ y) in float32 with the output y as rounded; P and dS rounded to
    the input dtype for the products; each gradient rounded once."""
    f32, dtype = xp.float32, q.dtype
    gy32 = gy.astype(f32)
    gq = gk = gv = None
    if needs[2]:
        gv = xp.matmul(xp.swapaxes(p.astype(dtype).astype(f32), -1, -2), gy32).astype(dtype)
    if needs[0] or needs[1]:
        # both sums in one order, so that a query seeing one key gets exactly 0 (as PyTorch)
        rowsum = xp.einsum("...id,...id->...i", gy32, y.astype(f32))
        gs = xp.einsum("...id,...jd->...ij", gy32, v.astype(f32))
        gs -= rowsum[..., None]
        gs *= p
        gs = gs.astype(dtype).astype(f32)
        if needs[0]:
            gq = (xp.matmul(gs, k.astype(f32)) * f32(scale)).astype(dtype)
        if needs[1]:
            gk = (xp.matmul(xp.swapaxes(gs, -1, -2), q.astype(f32)) * f32(scale)).astype(dtype)
    return gq, gk, gv, None


def dense_backward(xp, gy, q, k, v, p, dropout, scale, needs):
    """Gradients of (q, k, v, additive mask) from dy and the kept weights P, with at most one
    (..., L, S) temporary besides P (the dropped weights for dv, then dS)."""
    need_q, need_k, need_v, need_mask = needs
    gv = gq = gk = gs = None
    keep, keep_scale = (None, 1.0) if dropout is None else (dropout.mask(), dropout.scale)
    if need_v:
        dropped = p if keep is None else xp.multiply(p, keep)
        if keep is not None:
            dropped *= keep_scale
        gv = xp.matmul(xp.swapaxes(dropped, -1, -2), gy)
        del dropped
    if need_q or need_k or need_mask:
        gs = xp.matmul(gy, xp.swapaxes(v, -1, -2))  # dP
        if keep is not None:
            gs *= keep
            gs *= keep_scale
        softmax_backward_(xp, gs, p)
        if need_q:
            gq = xp.matmul(gs, k)
            gq *= scale
        if need_k:
            gk = xp.matmul(xp.swapaxes(gs, -1, -2), q)
            gk *= scale
    return gq, gk, gv, (gs if need_mask else None)


def softmax_backward_(xp, gp, p):
    """dP → dS = P ⊙ (dP − Σⱼ dP ⊙ P) in place in ``gp`` (no other (L, S) temporary)."""
    rowsum = xp.einsum("...ij,...ij->...i", gp, p)
    gp -= rowsum[..., None]
    gp *= p
    return gp


def weights_backward(p, gp, q, k, scale, needs):
    """Gradients of (q, k, additive mask) from dP, on tensors (differentiable again):
    dS = P ⊙ (dP − Σⱼ dP ⊙ P), dq = dS·k·scale, dk = dSᵀ·q·scale, dmask = dS."""
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

    def __init__(self, scale: float, mask_is_bool: bool, causal: bool = False):
        self.scale, self.mask_is_bool, self.causal = scale, mask_is_bool, causal

    def forward(self, q, k, mask):
        return scores_softmax(self.xp, q, k, mask, self.scale, self.mask_is_bool, self.causal)

    def backward(self, gp):
        q, k, _, p = self.saved
        needs = self.needs_input_grad
        if grad_mode.is_grad_enabled():  # create_graph: a differentiable backward
            return weights_backward(p, gp, q, k, self.scale, needs)
        xp, dev = self.xp, self.device
        gs = softmax_backward_(xp, gp._data.copy(), p._data)
        gq = gk = None
        if needs[0]:
            gq = constant(xp.matmul(gs, k._data) * self.scale, dev)
        if needs[1]:
            gk = constant(xp.matmul(xp.swapaxes(gs, -1, -2), q._data) * self.scale, dev)
        return gq, gk, (constant(gs, dev) if needs[2] else None)
