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


def scores_softmax(xp, q, k, mask, scale, mask_is_bool, causal=False, normalize=True):
    """softmax(q·kᵀ·scale + mask) over the last axis, computed in place in one buffer.

    Rows whose every score is masked out get all-zero weights, as PyTorch's SDPA does.
    ``normalize=False`` gives (exp(s - max), its sum over the last axis) instead.
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
    if not normalize:
        return s, z
    s /= z
    return s


def dense_forward(xp, q, k, v, mask, mask_is_bool, causal, dropout, scale):
    """(y, P): the output and the weights (kept for backward)."""
    if dropout is None and v.dtype.itemsize < 4 and xp.__name__ == "numpy":
        # (on a GPU the half-precision products keep their speed: PyTorch's CUDA kernels differ)
        return _half_forward(xp, q, k, v, mask, mask_is_bool, causal, scale)
    p = scores_softmax(xp, q, k, mask, scale, mask_is_bool, causal)
    if dropout is not None:
        dropped = p * dropout.mask()
        dropped *= dropout.scale
        return xp.matmul(dropped, v).astype(v.dtype, copy=False), p
    return xp.matmul(p, v).astype(v.dtype, copy=False), p  # bfloat16: NumPy gives float32


def _half_forward(xp, q, k, v, mask, mask_is_bool, causal, scale):
    """float16/bfloat16 as PyTorch's fused CPU kernel (and FlashAttention) computes them: scores
    and softmax in float32, the numerators exp(s - max) rounded to the input dtype for the
    product with v (accumulated in float32), times the reciprocal of their float32 sum, rounded
    once. Bit for bit below 16 keys; from 16 on PyTorch's vectorized path (a faster ``exp``,
    lane-wise sums) differs by a rounding in ~5% (bfloat16) to ~25% (float16) of the outputs."""
    f32 = xp.float32
    e, z = scores_softmax(
        xp, q.astype(f32), k.astype(f32), mask, scale, mask_is_bool, causal, normalize=False
    )
    y = xp.matmul(e.astype(v.dtype).astype(f32), v.astype(f32))
    y *= f32(1.0) / z  # the kernel multiplies by the reciprocal of the sum
    e /= z  # the weights kept for backward, in the dtype q·kᵀ had before (float16 stays)
    return y.astype(v.dtype), e.astype(q.dtype if q.dtype == xp.float16 else f32, copy=False)


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
        q, k, _, p = self.saved_tensors
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
