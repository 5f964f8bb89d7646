"""torchaudio.functional.rnnt_loss (Graves, 2012): the RNN-Transducer loss over a joint
lattice ``logits (batch, time, target + 1, class)``. As torchaudio's CPU kernel: the forward
variables alpha and backward variables beta are computed over anti-diagonals (vectorized over
the batch and the cells of a diagonal), the cost is ``-log P(targets)``, and the gradient with
respect to the logits is formed in the forward pass (through the log-softmax when
``fused_log_softmax``, else treating the logits as log-probabilities), clamped to
``[-clamp, clamp]`` when ``clamp > 0`` and zero past each sequence's lengths."""

from __future__ import annotations

import minigrad as torch
from minigrad.autograd import Function
from minigrad.tensor import Tensor


def _log_softmax(xp, x):
    """Log-softmax over the last axis of an array."""
    m = x.max(-1, keepdims=True)
    return x - (m + xp.log(xp.exp(x - m).sum(-1, keepdims=True)))


def _lattice(xp, lp, targets, blank):
    """Blank and emission log-probabilities ``(B, T, U)`` (emission padded with -inf at the
    last target position)."""
    b, _, u, _ = lp.shape
    blank_lp = lp[..., blank]
    emit = xp.full(blank_lp.shape, -xp.inf, dtype=lp.dtype)
    if u > 1:
        idx = xp.broadcast_to(targets[:, None, :, None], (b, lp.shape[1], u - 1, 1))
        emit[:, :, :-1] = xp.take_along_axis(lp[:, :, :-1], idx.astype(xp.int64), 3)[..., 0]
    return blank_lp, emit


def _diagonals(t_max, u_max):
    """Per anti-diagonal ``n = t + u``, the cells' ``t`` and ``u`` index lists."""
    for n in range(t_max + u_max - 1):
        t = list(range(max(0, n - u_max + 1), min(n, t_max - 1) + 1))
        yield n, t, [n - i for i in t]


def _alpha_beta(xp, blank_lp, emit, t_len, u_len):
    """alpha (B, T, U), beta (B, T, U) (-inf outside each sequence) and the costs (B,)."""
    b, t_max, u_max = blank_lp.shape
    neg = -xp.inf
    alpha = xp.full((b, t_max + 1, u_max + 1), neg, dtype=blank_lp.dtype)  # row/col 0: padding
    beta = xp.full((b, t_max + 1, u_max + 1), neg, dtype=blank_lp.dtype)  # last row/col: padding
    alpha[:, 1, 1] = 0.0
    tt = xp.arange(t_max)[None, :, None]
    uu = xp.arange(u_max)[None, None, :]
    valid = (tt < t_len[:, None, None]) & (uu < u_len[:, None, None])
    last = (tt == t_len[:, None, None] - 1) & (uu == u_len[:, None, None] - 1)
    for n, t, u in _diagonals(t_max, u_max):
        if n == 0:
            continue
        t, u = xp.asarray(t), xp.asarray(u)
        from_blank = alpha[:, t, u + 1] + blank_lp[:, xp.maximum(t - 1, 0), u]
        from_emit = alpha[:, t + 1, u] + emit[:, t, xp.maximum(u - 1, 0)]
        alpha[:, t + 1, u + 1] = xp.logaddexp(from_blank, from_emit)
    end = xp.where(last, blank_lp, neg)
    for _, t, u in reversed(list(_diagonals(t_max, u_max))):
        t, u = xp.asarray(t), xp.asarray(u)
        step = xp.logaddexp(
            beta[:, t + 1, u] + blank_lp[:, t, u], beta[:, t, u + 1] + emit[:, t, u]
        )
        beta[:, t, u] = xp.where(valid[:, t, u], xp.logaddexp(step, end[:, t, u]), neg)
    alpha, beta = alpha[:, 1:, 1:], beta[:, :-1, :-1]
    alpha = xp.where(valid, alpha, neg)
    return alpha, beta, -beta[:, 0, 0], valid, last


def _gradients(xp, logits, lp, targets, t_len, u_len, blank, clamp, fused):
    """d cost / d logits ``(B, T, U, D)``, torchaudio's formulas."""
    blank_lp, emit = _lattice(xp, lp, targets, blank)
    alpha, beta, costs, valid, last = _alpha_beta(xp, blank_lp, emit, t_len, u_len)
    neg = -xp.inf
    b, t_max, u_max, d = lp.shape
    beta_t = xp.concatenate([beta[:, 1:], xp.full((b, 1, u_max), neg, beta.dtype)], 1)
    beta_t = xp.where(last, 0.0, beta_t)  # the final blank leaves the lattice
    beta_u = xp.concatenate([beta[:, :, 1:], xp.full((b, t_max, 1), neg, beta.dtype)], 2)
    base = alpha + costs[:, None, None]
    padded = xp.concatenate([targets.astype(xp.int64), xp.full((b, 1), -1, xp.int64)], 1)
    onehot = xp.arange(d)[None, None, None, :] == padded[:, None, :, None]  # (B, 1, U, D)
    # the occupancy of each cell (through the log-softmax) less the transitions out of it
    out = xp.exp(lp + (base + beta)[..., None]) if fused else xp.zeros(lp.shape, lp.dtype)
    out[..., blank] -= xp.exp(base + blank_lp + beta_t)
    out -= xp.where(onehot, xp.exp(base + emit + beta_u)[..., None], 0.0)
    out = xp.where(valid[..., None], xp.nan_to_num(out, nan=0.0), 0.0)
    if clamp > 0:
        out = xp.clip(out, -clamp, clamp)
    return costs, out.astype(logits.dtype)


class _RNNTLoss(Function):
    """Per-sequence costs; the gradient formed in forward, scaled by each cost's gradient."""

    @staticmethod
    def forward(ctx, logits, targets, logit_lengths, target_lengths, blank, clamp, fused):
        xp = logits.device.xp
        x = logits._data.astype(xp.float32) if logits.dtype.itemsize < 4 else logits._data
        lp = _log_softmax(xp, x) if fused else x
        costs, grad = _gradients(
            xp, x, lp, targets._data, logit_lengths._data, target_lengths._data + 1, blank,
            clamp, fused,
        )  # fmt: skip
        ctx.save_for_backward(Tensor._make(grad.astype(logits._data.dtype), logits.device))
        return Tensor._make(costs.astype(logits._data.dtype), logits.device)

    @staticmethod
    def backward(ctx, dy):
        (grad,) = ctx.saved_tensors
        return grad * dy.view(-1, 1, 1, 1), None, None, None, None, None, None


def _check(logits, targets, logit_lengths, target_lengths, blank):
    """torchaudio's argument checks (its messages)."""
    if logits.dtype not in (torch.float32, torch.float16):
        raise RuntimeError("logits must be float32 or float16 (half) type")
    for name, t in (("targets", targets), ("logit_lengths", logit_lengths)):
        if t.dtype != torch.int32:
            raise RuntimeError(f"{name} must be int32 type")
    if target_lengths.dtype != torch.int32:
        raise RuntimeError("target_lengths must be int32 type")
    if logits.ndim != 4:
        raise RuntimeError("logits must be 4-D (batch, time, target, class)")
    if targets.ndim != 2:
        raise RuntimeError("targets must be 2-D (batch, max target length)")
    for name, t in (("logit_lengths", logit_lengths), ("target_lengths", target_lengths)):
        if t.ndim != 1:
            raise RuntimeError(f"{name} must be 1-D")
    for name, t in (("logit_lengths", logit_lengths), ("target_lengths", target_lengths)):
        if t.shape[0] != logits.shape[0]:
            raise RuntimeError(f"batch dimension mismatch between logits and {name}")
    if targets.shape[0] != logits.shape[0]:
        raise RuntimeError("batch dimension mismatch between logits and targets")
    if not 0 <= blank < logits.shape[-1]:
        raise RuntimeError("blank must be within [0, logits.shape[-1])")
    if logits.shape[1] != int(logit_lengths.max()):
        raise RuntimeError("input length mismatch")
    if logits.shape[2] != int(target_lengths.max()) + 1:
        raise RuntimeError("output length mismatch")
    if targets.shape[1] + 1 != logits.shape[2]:
        raise RuntimeError("target length mismatch")


def rnnt_loss(
    logits, targets, logit_lengths, target_lengths, blank=-1, clamp=-1.0, reduction="mean",
    fused_log_softmax=True,
):  # fmt: skip
    """The RNN-T loss of ``logits (batch, max time, max target + 1, class)`` (float32/16) for
    ``targets (batch, max target)`` with int32 lengths; ``blank < 0`` counts from the end,
    ``clamp > 0`` clamps the gradient, ``reduction`` is ``"none"``, ``"mean"`` or ``"sum"``."""
    if reduction not in ["none", "mean", "sum"]:
        raise ValueError('reduction should be one of "none", "mean", or "sum"')
    if blank < 0:
        blank = logits.shape[-1] + blank
    _check(logits, targets, logit_lengths, target_lengths, blank)
    costs = _RNNTLoss.apply(
        logits, targets, logit_lengths, target_lengths, blank, float(clamp), fused_log_softmax
    )
    if reduction == "mean":
        return costs.mean()
    if reduction == "sum":
        return costs.sum()
    return costs
