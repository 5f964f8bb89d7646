"""Connectionist temporal classification (CTC) loss as one fused op: the forward (alpha)
recursion in log space, and the backward (beta) recursion for the closed-form gradient, as
PyTorch's CPU kernel computes them (Graves et al., 2006)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from ... import ops
from ...autograd import forward_ad, grad_mode
from ...backend import DimensionError
from ...ops.base import Op, autocast_op, constant, on_input_device
from ._utils import check_reduction

__all__ = ["ctc_loss"]

# The tensor (create_graph) path stands -inf in with a finite number: a log-sum-exp of -inf
# values has a nan derivative, while exp(NEG - anything finite) is an exact 0.
NEG = -1e30


@dataclass(frozen=True)
class _Plan:
    """Host arrays describing the extended label sequences (a blank around every label).

    ext (N, S): extended labels, S = 2·max(target_lengths) + 1; valid (N, S): s < 2·len + 1;
    skip (N, S): state s may be entered from s - 2 (a label unlike the one two back);
    input_lengths, target_lengths (N,).
    """

    ext: np.ndarray
    valid: np.ndarray
    skip: np.ndarray
    input_lengths: np.ndarray
    target_lengths: np.ndarray

    def tiled(self, size: int) -> _Plan:
        """The plan for ``size`` copies of the batch side by side (vmap folds them into N)."""
        return replace(self, **{k: np.concatenate([v] * size) for k, v in vars(self).items()})


class _OnArrays:
    """The few functions the recursions need, on backend arrays (forward, plain backward)."""

    neg = -math.inf

    def __init__(self, xp, dtype):
        self.xp, self.dtype = xp, dtype

    def const(self, array):
        return self.xp.asarray(array)

    def full(self, shape):
        return self.xp.full(shape, self.neg, dtype=self.dtype)

    def cat(self, parts, dim):
        return self.xp.concatenate(parts, axis=dim)

    def stack(self, parts):
        return self.xp.stack(parts)

    def take(self, x, dim, index):
        return self.xp.take_along_axis(x, self.const(index), axis=dim)

    def where(self, mask, a, b):
        return self.xp.where(mask, a, b)

    def logaddexp(self, a, b):
        return self.xp.logaddexp(a, b)

    def exp(self, x):
        return self.xp.exp(x)

    def per_class(self, p, onehot):
        """(T, N, S) state posteriors summed into (T, N, C) class posteriors."""
        return self.xp.matmul(p.transpose(1, 0, 2), self.const(onehot)).transpose(1, 0, 2)


class _OnTensors(_OnArrays):
    """The same functions on tensors, so that the gradient is differentiable (create_graph)."""

    neg = NEG

    def __init__(self, xp, dtype, device):
        super().__init__(xp, dtype)
        self.device = device

    def const(self, array):
        return constant(self.xp.asarray(array), self.device)

    def full(self, shape):
        return constant(self.xp.full(shape, self.neg, dtype=self.dtype), self.device)

    def cat(self, parts, dim):
        return ops.cat(parts, dim)

    def stack(self, parts):
        return ops.stack(parts, 0)

    def take(self, x, dim, index):
        return ops.gather(x, dim, self.const(index))

    def where(self, mask, a, b):
        return ops.where(mask, a, b)

    def logaddexp(self, a, b):
        return ops.logaddexp(a, b)

    def exp(self, x):
        return x.exp()

    def per_class(self, p, onehot):
        return ops.matmul(p.permute(1, 0, 2), self.const(onehot)).permute(1, 0, 2)


def _shift(ns, a, k: int):
    """a[:, s - k] along the states (``NEG`` where s < k); a[:, s + |k|] for negative k."""
    n, s = a.shape
    if abs(k) >= s:
        return ns.full((n, s))
    pad = ns.full((n, abs(k)))
    return ns.cat([pad, a[:, : s - k]], 1) if k > 0 else ns.cat([a[:, -k:], pad], 1)


def _emissions(ns, lp, plan):
    """lpe[t, n, s] = log_probs[t, n, ext[n, s]]: (T, N, S)."""
    t = lp.shape[0]
    index = np.broadcast_to(plan.ext[None], (t,) + plan.ext.shape)
    return ns.take(lp, 2, np.ascontiguousarray(index))


def _alpha(ns, lpe, plan):
    """log alpha (T, N, S): log-probability of the prefixes ending in state s at time t; frozen
    after each sequence's last frame (t >= input length)."""
    n_states = plan.ext.shape[1]
    valid, skip = ns.const(plan.valid), ns.const(plan.skip)
    first = ns.const(plan.valid & (np.arange(n_states) < 2))
    lengths = plan.input_lengths[:, None]
    a = ns.where(first, lpe[0], ns.neg)
    rows = [a]
    for t in range(1, lpe.shape[0]):
        step = ns.logaddexp(
            ns.logaddexp(a, _shift(ns, a, 1)), ns.where(skip, _shift(ns, a, 2), ns.neg)
        )
        new = ns.where(valid, step + lpe[t], ns.neg)
        a = ns.where(ns.const(lengths > t), new, a)
        rows.append(a)
    return ns.stack(rows)


def _beta(ns, lpe, plan):
    """log beta (T, N, S): log-probability of the suffixes from state s at time t (both alpha
    and beta include frame t's emission, as PyTorch's kernel)."""
    n, n_states = plan.ext.shape
    states = np.arange(n_states)
    ends = 2 * plan.target_lengths[:, None]
    last = ns.const(plan.valid & ((states == ends) | (states == ends - 1)))
    valid = ns.const(plan.valid)
    skip_next = ns.const(
        np.concatenate([plan.skip[:, 2:], np.zeros((n, 2), bool)], 1)[:, :n_states]
    )
    lengths = plan.input_lengths[:, None]
    b = ns.full((n, n_states))
    rows = [None] * lpe.shape[0]
    for t in reversed(range(lpe.shape[0])):
        step = ns.logaddexp(
            ns.logaddexp(b, _shift(ns, b, -1)), ns.where(skip_next, _shift(ns, b, -2), ns.neg)
        )
        inner = ns.where(ns.const(lengths - 1 > t), ns.where(valid, step + lpe[t], ns.neg), ns.neg)
        b = ns.where(ns.const(lengths - 1 == t), ns.where(last, lpe[t], ns.neg), inner)
        rows[t] = b
    return ns.stack(rows)


def _log_likelihood(ns, log_alpha, plan):
    """log p(target | input) (N,): the last alpha row summed over the two final states."""
    final = log_alpha[-1]
    ends = 2 * plan.target_lengths[:, None]
    at_end = ns.take(final, 1, ends)[:, 0]
    before = ns.take(final, 1, np.maximum(ends - 1, 0))[:, 0]
    return ns.logaddexp(at_end, ns.where(ns.const(plan.target_lengths > 0), before, ns.neg))


def _nll(xp, lp, plan):
    """(log alpha, nll) on arrays; an empty input is certain to give an empty target."""
    ns = _OnArrays(xp, lp.dtype)
    log_alpha = _alpha(ns, _emissions(ns, lp, plan), plan)
    nll = -_log_likelihood(ns, log_alpha, plan)
    empty = xp.asarray(plan.input_lengths == 0)
    none = xp.asarray(plan.target_lengths == 0)
    return log_alpha, xp.where(empty, xp.where(none, 0.0, math.inf), nll).astype(lp.dtype)


def _posteriors(ns, lp, log_alpha, nll, plan):
    """gamma (T, N, C): the probability that frame t emits class c on an alignment, given the
    target; -gamma is d nll / d log_probs."""
    lpe = _emissions(ns, lp, plan)
    log_beta = _beta(ns, lpe, plan)
    frames = np.arange(lp.shape[0])[:, None, None] < plan.input_lengths[None, :, None]
    inside = ns.const(frames & plan.valid[None])
    log_gamma = log_alpha + log_beta - lpe + nll.reshape(1, -1, 1)
    p = ns.where(inside, ns.exp(log_gamma), 0.0)
    onehot = (plan.ext[:, :, None] == np.arange(lp.shape[2])).astype(ns.dtype)
    return ns.per_class(p, onehot)


class CTCLossOp(Op):
    """nll_n = -log Σ_π Π_t p_t(π_t) over the alignments π of target n (blanks and repeats
    collapsed); d nll_n / d log_probs[t, n, c] = -gamma_tnc, the posterior of emitting c at t.

    PyTorch's kernel returns exp(log_probs) - gamma: the same gradient once it passes back
    through the log_softmax that produces log_probs (softmax rows sum to one), but not the
    derivative of the loss itself; minigrad returns the exact derivative, so that gradcheck
    holds for any input. Input (T, N, C) log-probabilities; output nll (N,).
    """

    backward_name = "CtcLossBackward0"
    save_inputs = True

    def __init__(self, plan: _Plan, zero_infinity: bool):
        self.plan, self.zero_infinity = plan, zero_infinity

    def forward(self, lp):
        log_alpha, nll = _nll(self.xp, lp, self.plan)
        self.keep(log_alpha=log_alpha, nll=nll)
        if self.zero_infinity:
            return self.xp.where(self.xp.isinf(nll), 0.0, nll).astype(nll.dtype)
        return nll

    def backward(self, g):
        (lp,) = self.saved
        kept, xp = self.kept_arrays, self.xp
        infeasible = xp.isinf(kept["nll"])
        if grad_mode.is_grad_enabled() or forward_ad.active:  # a differentiable gradient
            ns = _OnTensors(xp, lp._data.dtype, lp.device)
            log_alpha = _alpha(ns, _emissions(ns, lp, self.plan), self.plan)
            ll = _log_likelihood(ns, log_alpha, self.plan)
            nll = ns.where(ns.const(infeasible), 0.0, -ll)  # keeps exp() finite; masked below
            gamma = _posteriors(ns, lp, log_alpha, nll, self.plan)
        else:
            ns = _OnArrays(xp, lp._data.dtype)
            with np.errstate(invalid="ignore"):  # -inf + inf where no alignment fits: nan
                gamma = _posteriors(ns, lp._data, kept["log_alpha"], kept["nll"], self.plan)
            gamma = constant(gamma, lp.device)
        fill = 0.0 if self.zero_infinity else math.nan  # PyTorch: nan, or 0 with zero_infinity
        gamma = ops.where(constant(infeasible.reshape(1, -1, 1), lp.device), fill, gamma)
        return -g.reshape(1, -1, 1) * gamma


def _host_ints(value, name: str) -> np.ndarray:
    """Lengths or targets as a host int64 array (from a tensor, a list or an int)."""
    if hasattr(value, "_data"):
        if value.dtype.is_floating_point and name.endswith("lengths"):
            raise RuntimeError(f"ctc_loss: {name} must be integral, got {value.dtype}")
        value = value.tolist()  # (a list: a captured step guards its values)
    elif not isinstance(value, (list, tuple)):
        raise TypeError(
            f"ctc_loss: {name} must be a tensor or a tuple of ints, got {type(value).__name__}"
        )
    return np.asarray(value).astype(np.int64)


def _check_lengths(lengths, n: int, bound: int, name: str) -> None:
    if lengths.size != n:
        raise RuntimeError(f"{name} must be of size batch_size")
    for length in lengths:
        if length < 0:
            raise RuntimeError(
                f"ctc_loss: Expected {name} to have value at least 0, but got value {length}"
            )
        if bound is not None and length > bound:
            raise RuntimeError(
                f"ctc_loss: Expected {name} to have value at most {bound}, but got value {length}"
            )


def _plan(targets, input_lengths, target_lengths, n: int, t: int, c: int, blank: int) -> _Plan:
    """Check the targets and lengths as PyTorch does (and target classes, which it does not)
    and lay out the extended label sequences."""
    _check_lengths(input_lengths, n, t, "input_lengths")
    _check_lengths(target_lengths, n, None, "target_lengths")
    if targets.ndim == 2:
        if targets.shape[0] != n:
            raise RuntimeError(
                f"ctc_loss: padded targets need one row per sequence: expected {n} rows, got "
                f"{targets.shape[0]}"
            )
        longest = int(target_lengths.max(initial=0))
        if targets.shape[1] < longest:
            raise RuntimeError(
                f"ctc_loss: Expected tensor to have size at least {longest} at dimension 1, but "
                f"got size {targets.shape[1]} for argument #2 'targets'"
            )
        rows = [targets[i, : target_lengths[i]] for i in range(n)]
    elif targets.ndim == 1:
        total = int(target_lengths.sum())
        if targets.shape[0] != total:
            raise RuntimeError(
                f"ctc_loss: Expected tensor to have size {total} at dimension 0, but got size "
                f"{targets.shape[0]} for argument #2 'targets' (concatenated targets hold "
                f"sum(target_lengths) labels)"
            )
        rows = np.split(targets, np.cumsum(target_lengths)[:-1])
    else:
        raise RuntimeError(
            f"ctc_loss: targets must be 2-D (N, S) padded or 1-D concatenated, got {targets.ndim}-D"
        )
    labels = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    if labels.size and (labels.min() < 0 or labels.max() >= c):
        raise RuntimeError(
            f"ctc_loss: target classes must be in [0, {c}), got {int(labels.min())} .. "
            f"{int(labels.max())}"
        )
    n_states = 2 * int(target_lengths.max(initial=0)) + 1
    ext = np.full((n, n_states), blank, np.int64)
    for i, row in enumerate(rows):
        ext[i, 1 : 2 * len(row) : 2] = row
    valid = np.arange(n_states) < 2 * target_lengths[:, None] + 1
    skip = np.zeros((n, n_states), bool)
    skip[:, 3::2] = ext[:, 3::2] != ext[:, 1:-2:2]
    return _Plan(ext, valid, skip & valid, input_lengths, target_lengths)


@autocast_op("ctc_loss")
@on_input_device  # the mean's divisor is made on log_probs' GPU
def ctc_loss(
    log_probs,
    targets,
    input_lengths,
    target_lengths,
    blank: int = 0,
    reduction: str = "mean",
    zero_infinity: bool = False,
):
    """The connectionist temporal classification loss: -log p(target | input), summed over
    every alignment of the target to the input frames (with blanks and repeats).

    Args:
        log_probs: (T, N, C) or unbatched (T, C) log-probabilities (e.g. ``log_softmax``).
        targets: (N, S) padded class indices, or 1-D (sum(target_lengths),) concatenated;
            unbatched: (S,).
        input_lengths, target_lengths: (N,) tensors or tuples of ints ((1,) if unbatched).
        blank: the blank class. reduction: 'mean' (each loss divided by its target length,
            then the batch mean, as PyTorch), 'sum' or 'none'.
        zero_infinity: infinite losses (no alignment fits) and their gradients become 0.

    The gradient is the exact derivative of the loss (see :class:`CTCLossOp`).

    Example:
        >>> lp = minigrad.randn(50, 2, 20).log_softmax(2)
        >>> F.ctc_loss(lp, minigrad.randint(1, 20, (2, 10)), [50, 40], [10, 7])
    """
    check_reduction(reduction, "ctc_loss")
    from ...func import _array_fns

    if _array_fns.is_batched(targets, input_lengths, target_lengths):  # per-sample labels
        return _array_fns.ctc_loss(
            log_probs, targets, input_lengths, target_lengths, blank, reduction, zero_infinity
        )
    if log_probs.ndim not in (2, 3):
        raise DimensionError(
            f"ctc_loss: expected log_probs of shape (T, N, C) or (T, C), got "
            f"{list(log_probs.shape)}"
        )
    if log_probs.dtype.itemsize == 2:
        raise NotImplementedError(
            f'"ctc_loss" not implemented for {log_probs.dtype} (as in PyTorch); use float32'
        )
    unbatched = log_probs.ndim == 2
    if unbatched:
        log_probs, targets = log_probs.unsqueeze(1), targets.reshape(1, -1)
    t, n, c = log_probs.shape
    if not 0 <= blank < c:
        raise RuntimeError(f"blank must be in label range (ctc_loss: blank={blank}, classes={c})")
    lengths = _host_ints(target_lengths, "target_lengths").reshape(-1)
    plan = _plan(
        _host_ints(targets, "targets"),
        _host_ints(input_lengths, "input_lengths").reshape(-1),
        lengths,
        n,
        t,
        c,
        blank,
    )
    loss = CTCLossOp(plan, zero_infinity)(log_probs)
    if reduction == "mean":
        divisor = constant(log_probs.device.xp.asarray(np.maximum(lengths, 1)), log_probs.device)
        return (loss / divisor.to(loss.dtype)).mean()
    if reduction == "sum":
        return loss.sum()
    return loss.squeeze(0) if unbatched else loss  # (PyTorch squeezes the batch dim away)
