"""Cross-entropy as one fused op: log-softmax and negative log-likelihood with the closed-form
backward softmax(x)·Σq - q, for class-index and class-probability targets."""

from __future__ import annotations

import math

import numpy as np

from ... import dtypes
from ...autograd import forward_ad, grad_mode
from ...autograd.graph import named_as
from ...backend import DimensionError
from ...ops.base import Op, autocast_inputs, constant, kernel_dtypes, on_input_device
from ...ops.nn import LogSoftmaxOp, SoftmaxOp
from ._utils import (
    check_class_targets,
    check_reduction,
    check_target_dtype,
    check_tensor_input,
    reduction_from_legacy,
    targets_in_range,
)


class CrossEntropy(Op):
    """loss_i = Σ_c q_ic·(logsumexp(x_i) - x_ic), with q_i the target distribution (one-hot or
    given probabilities, label-smoothed, class-weighted); dloss_i/dx_i = softmax(x_i)·Σ_c q_ic - q_i

    Works on logits x of shape (M, C); the target is class indices (M,) or probabilities (M, C).
    Forward keeps the softmax for backward (recomputed under ``create_graph``).
    """

    save_inputs = True

    def __init__(
        self,
        reduction: str,
        ignore_index: int,
        smoothing: float,
        probs: bool,
        all_kept: bool = False,
    ):
        self.reduction, self.ignore_index = reduction, ignore_index
        self.smoothing, self.probs = smoothing, probs
        self.all_kept = all_kept  # every class index is in range and none is ignore_index

    # -- forward ---------------------------------------------------------------------------------
    @dtypes.computed_in_float32  # log-sum-exp of bfloat16 logits in float32, as PyTorch
    def forward(self, x, target, weight):
        kit = self.device.backend.fused
        if kit is not None and not self.probs and target.dtype == np.int64:
            if kit.supports(x, weight):
                return self._forward_fused(kit, x, target, weight)
        xp = self.xp
        shifted = x - x.max(axis=1, keepdims=True)  # subtract the max: exp never overflows
        p = xp.exp(shifted)
        total = p.sum(axis=1, keepdims=True)
        lse = xp.log(total)[:, 0]
        p /= total  # the softmax, kept for backward
        if self.probs:
            q = _target_distribution(target, weight, self.smoothing, x.shape[1])
            per = lse * q.sum(axis=1) - (q * shifted).sum(axis=1)
            denom, indices = float(x.shape[0]), None
        else:
            per, denom, indices = self._forward_indices(shifted, lse, target, weight)
        self.keep(softmax=p, denom=denom, indices=indices)
        return self._reduce(per, denom)

    def _forward_fused(self, kit, x, target, weight):
        """Class-index targets as one GPU kernel (``minigrad._fused``): forward keeps each row's
        max and log Σ exp instead of the softmax, and backward's kernel recomputes the softmax."""
        per, mx, ls, w_t = kit.cross_entropy(x, target, weight, self.ignore_index, self.smoothing)
        denom = w_t.sum()
        self.keep(row_max=mx, row_logsum=ls, denom=denom, indices=None)
        return self._reduce(per, denom)

    def _reduce(self, per, denom):
        if self.reduction == "none":
            return per
        loss = per.sum()
        if self.reduction == "sum":
            return loss
        if type(denom) in _HOST_FLOATS and denom != 0:
            return loss / denom  # a host number: no 0/0 to silence (errstate costs µs)
        with np.errstate(invalid="ignore"):  # every target ignored: 0/0 = nan, as PyTorch
            return loss / denom

    def _forward_indices(self, shifted, lse, target, weight):
        n = target.shape[0]
        if self.all_kept and weight is None and not self.smoothing and n <= _EXACT_COUNT:
            # every row kept with weight 1: the losses are the nll itself (x·1 is x) and the
            # denominator the row count (a float sum of n ones is exactly n)
            rows = self.xp.arange(n)
            return lse - shifted[rows, target], shifted.dtype.type(n), (rows, target, None, None)
        indices = self._row_targets(target, weight, shifted.dtype, shifted.shape[1])
        rows, safe, valid, w_t = indices
        nll = lse - shifted[rows, safe]
        per = nll * w_t
        if self.smoothing:
            eps, c = self.smoothing, shifted.shape[1]
            if weight is None:
                smooth = lse * c - shifted.sum(axis=1)
            else:
                smooth = lse * weight.sum() - shifted @ weight
            per = (1.0 - eps) * per + (eps / c) * (smooth * valid)
        return per, w_t.sum(), indices

    def _row_targets(self, target, weight, dtype, c: int) -> tuple:
        """(rows, safe target, valid, w_t): each row's class clipped into range, 1.0/0.0 for
        kept/ignored rows, and its target weight (0 where ignored)."""
        xp = self.xp
        keep = target != self.ignore_index
        # bad targets were checked before (clipped here: NumPy's clip costs a few µs more)
        safe = xp.minimum(xp.maximum(xp.where(keep, target, 0), 0), c - 1)
        valid = keep.astype(dtype)  # 1.0 / 0.0 in the logits' dtype: no float64 upcasts
        w_t = valid if weight is None else weight[safe] * valid
        return xp.arange(target.shape[0]), safe, valid, w_t

    # -- backward --------------------------------------------------------------------------------
    def backward(self, g):
        x, target, weight = self.saved
        fast = self._class_index_backward(x, g)
        if fast is not None:
            return fast, None, None
        denom = self.kept_arrays["denom"]
        if self.reduction == "mean":
            # Every target ignored: the loss is nan (0/0) but the gradient is 0, as in PyTorch.
            if isinstance(denom, float):  # a host number (NumPy's float64 is a float too)
                denom = float(denom) or 1.0
            else:  # a 0-d device array: no host sync
                denom = constant(g.device.xp.where(denom == 0, 1, denom), g.device)
            scale = g / denom
        else:
            scale = g.unsqueeze(1) if self.reduction == "none" else g
        gx = gt = None
        if self.needs_input_grad[0]:
            gx = self._fused_backward(x, target, weight, scale)
            if gx is None:
                gx = self._class_index_backward(x, g, scale)
            if gx is None:
                if self.probs:
                    q = _target_distribution(target, weight, self.smoothing, x.shape[1])
                else:
                    q = constant(self._index_distribution(x, target, weight), x.device)
                p = self.reuse("softmax", lambda: SoftmaxOp(1)(x), x)
                gx = self.formula(_cross_entropy_vjp, p, q, scale)
        if self.probs and self.needs_input_grad[1]:
            w = 1.0 if weight is None else weight
            gt = -(1.0 - self.smoothing) * w * LogSoftmaxOp(1)(x) * scale
        return gx, gt, None

    def _fused_backward(self, x, target, weight, scale):
        """_cross_entropy_vjp as one GPU kernel, in a plain backward after a fused forward;
        None otherwise (the formula then runs on arrays, or on tensors under create_graph)."""
        kit, kept = self.device.backend.fused, self.kept_arrays
        if kit is None or "row_max" not in kept or grad_mode.is_grad_enabled():
            return None
        w = None if weight is None else weight._data
        if not kit.supports(x._data, w, scale._data):
            return None
        gx = kit.cross_entropy_backward(
            x._data,
            kept["row_max"],
            kept["row_logsum"],
            target._data,
            w,
            self.ignore_index,
            self.smoothing,
            scale._data,
        )
        return constant(gx, x.device)

    def _class_index_backward(self, x, g, scale=None):
        """(softmax(x) - onehot(target))·w_t·scale on the arrays forward kept, for class-index
        targets without label smoothing in a plain backward (the common case: a few array
        ops, the scale among them, instead of tensor ops and the target distribution); None
        otherwise. The scale is computed here on arrays unless given (a tensor)."""
        kept = self.kept_arrays
        if self.probs or self.smoothing or grad_mode.is_grad_enabled() or forward_ad.active:
            return None
        indices, p = kept.get("indices"), kept.get("softmax")
        if indices is None or p is None or not self.needs_input_grad[0]:
            return None
        if scale is not None:
            scale = scale._data
        else:
            scale = self._array_scale(g._data, kept["denom"])
            if scale is None:
                return None
        rows, safe, _, w_t = indices
        if w_t is None:  # every row kept with weight 1 (see _forward_indices)
            gx = p.copy()
            gx[rows, safe] -= 1
        else:
            gx = p * w_t[:, None]
            gx[rows, safe] -= w_t
        gx *= scale  # 0-d, or (M, 1) with reduction='none'
        return constant(gx.astype(x._data.dtype, copy=False), x.device)

    def _array_scale(self, g, denom):
        """The gradient's factor g/denom (mean), g (sum) or g[:, None] (none) on arrays, as the
        tensor ops of :meth:`backward` compute it; None where those would round or promote
        (16-bit or mixed dtypes), which the tensor path then does."""
        if self.reduction == "sum":
            return g
        if self.reduction == "none":
            return g[:, None]
        if g.dtype.itemsize == 2:
            return None
        if isinstance(denom, float):  # a host number: g / number, as Div computes it
            return g / (float(denom) or 1.0)
        if getattr(denom, "dtype", None) != g.dtype:
            return None
        if isinstance(denom, np.generic):  # a host scalar: a test, not where() (µs on scalars)
            return g / (denom if denom != 0 else denom.dtype.type(1))
        return g / self.xp.where(denom == 0, 1, denom)  # every target ignored: 0, not nan

    def _index_distribution(self, x, target, weight):
        """The (M, C) array q for class-index targets: (1-ε)·w_t·onehot + ε/C·w; 0 if ignored."""
        xp, c, eps = self.xp, x.shape[1], self.smoothing
        w_data = None if weight is None else weight._data
        indices = self.kept_arrays["indices"]
        if indices is None:  # the fused forward keeps none
            indices = self._row_targets(target._data, w_data, x._data.dtype, c)
        rows, safe, valid, w_t = indices
        if valid is None:  # every row kept with weight 1 (see _forward_indices)
            valid = w_t = xp.ones(target.shape[0], dtype=x._data.dtype)
        w_row = xp.ones(c, dtype=x._data.dtype) if weight is None else weight._data
        q = (valid[:, None] * (eps / c)) * w_row
        q[rows, safe] += (1.0 - eps) * w_t
        return q.astype(x._data.dtype, copy=False)


_HOST_FLOATS = (float, np.float32, np.float64)  # denominators on the host: no errstate
_EXACT_COUNT = 2**24  # up to here a float32 sum of ones counts exactly


def _cross_entropy_vjp(ns, p, q, scale):
    """dloss/dx = (softmax(x)·Σ_c q - q)·scale, for p = softmax(x) and the target distribution q."""
    return (p * q.sum(1)[:, None] - q) * scale


def _target_distribution(target, weight, eps: float, c: int):
    """q = target·(1 - ε) + ε/C, times the class weights (for arrays and tensors alike)."""
    q = target * (1.0 - eps) + eps / c if eps else target
    return q if weight is None else q * weight


def _as_rows(input, target, probs: bool):
    """Logits as (M, C) with the class dim last, the target to match, and the output shape."""
    if input.ndim == 1:
        return input.unsqueeze(0), target.reshape(1, -1) if probs else target.reshape(1), ()
    if input.ndim == 2:
        return input, target, (input.shape[0],)
    c = input.shape[1]
    rows = input.movedim(1, -1).reshape(-1, c)
    target = target.movedim(1, -1).reshape(-1, c) if probs else target.reshape(-1)
    return rows, target, (input.shape[0],) + tuple(input.shape[2:])


def _check_shapes(input, target, probs: bool, op: str):
    if input.ndim == 0:  # (nll_loss: PyTorch's ValueError and words)
        raise (ValueError if op == "nll_loss" else DimensionError)(
            f"{op}: Expected 1 or more dimensions (got 0): an input is (C) or (N, C, ...)"
        )
    if probs:
        if tuple(target.shape) != tuple(input.shape) and target.ndim == input.ndim:
            raise RuntimeError(
                _target_shape_words(input.shape, target.shape)
                + f" ({op}: expected class probabilities of the input's shape "
                f"{list(input.shape)}, got target of shape {list(target.shape)})"
            )
        if tuple(target.shape) != tuple(input.shape):
            # (read as class indices, as PyTorch: their batch size is checked first)
            batch = target.shape[0] if target.ndim else 0
            if input.ndim >= 2 and batch != input.shape[0]:
                raise ValueError(
                    f"{op}: Expected input batch_size ({input.shape[0]}) to match target "
                    f"batch_size ({batch})."
                )
            raise RuntimeError(
                f"{op}: expected target dtype to be Long or Byte, but got "
                f"{dtypes.scalar_type_name(target.dtype)}: a target of "
                f"shape {list(target.shape)} holds class indices (class probabilities would "
                f"have the input's shape {list(input.shape)})"
            )
        return
    shape, t_shape = tuple(input.shape), tuple(target.shape)  # (plain tuples index faster)
    expected = () if len(shape) == 1 else (shape[0],) + shape[2:]
    if len(shape) >= 2 and (not t_shape or t_shape[0] != shape[0]):
        got = t_shape[0] if t_shape else "a scalar"
        raise ValueError(
            f"{op}: expected input batch_size ({shape[0]}) to match target batch_size ({got})"
        )
    if t_shape != expected:
        words = _target_shape_words(shape, t_shape)
        if t_shape == shape and len(shape) <= 2 and op == "cross_entropy":
            words = (
                f"Expected floating point type for target with class probabilities, got "
                f"{dtypes.scalar_type_name(target.dtype)}"
            )
        raise RuntimeError(
            f"{words} ({op}: expected target of shape {list(expected)} for input of shape "
            f"{list(input.shape)}, got {list(target.shape)})"
        )


def _target_shape_words(shape, t_shape) -> str:
    """PyTorch's words for class-index targets of the wrong shape: an (N, C) input takes only
    one class per row; a (N, C, d1, ...) input a target of shape (N, d1, ...)."""
    if len(shape) <= 2:
        return "0D or 1D target tensor expected, multi-target not supported"
    expected = [shape[0], *shape[2:]]
    return f"Expected target size {expected}, got {list(t_shape)}"


@kernel_dtypes("log_softmax_lastdim_kernel_impl", min_ndim=1)
def cross_entropy(
    input,
    target,
    weight=None,
    size_average=None,
    ignore_index: int = -100,
    reduce=None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
):
    """Cross-entropy between logits and class indices or class probabilities (fused, stable).

    Args:
        input: logits of shape (C,), (N, C) or (N, C, d1, ...).
        target: class indices of shape (), (N,) or (N, d1, ...) (integers in [0, C), or
            ``ignore_index``), or class probabilities of the input's shape.
        weight: optional per-class weights of shape (C,) (not differentiated).
        ignore_index: targets equal to it contribute nothing (indices only).
        reduction: 'mean' (divided by the summed weights of non-ignored targets; by the number
            of samples for probabilities), 'sum' or 'none'.
        label_smoothing: ε in [0, 1]: the target becomes (1 - ε)·target + ε/C.

    Example:
        >>> logits = minigrad.randn(4, 3, requires_grad=True)
        >>> loss = F.cross_entropy(logits, minigrad.tensor([0, 2, 1, 2]))
        >>> loss.backward()   # logits.grad = (softmax(logits) - one_hot) / 4
    """
    check_tensor_input(input, "cross_entropy_loss")
    reduction = reduction_from_legacy(size_average, reduce, reduction)
    check_reduction(reduction, "cross_entropy")
    input, target = autocast_inputs("cross_entropy", input, target)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    probs = target.dtype.is_floating_point
    _check_shapes(input, target, probs, "cross_entropy")
    if probs and ignore_index >= 0:
        raise RuntimeError("ignore_index is not supported for floating point target")
    rows, flat_target, out_shape = _as_rows(input, target, probs)
    c = rows.shape[1]
    if weight is not None:
        if tuple(weight.shape) != (c,):
            raise RuntimeError(
                f"cross_entropy: weight tensor should be defined either for all {c} classes or "
                f"no classes but got weight tensor of shape: {list(weight.shape)}"
            )
        weight = weight.detach().to(rows.dtype)
    bad, all_kept = None, False
    if not probs:
        check_target_dtype(flat_target, "cross_entropy")
        if targets_in_range(flat_target, c):
            all_kept = not 0 <= ignore_index < c
        else:
            bad = check_class_targets(flat_target, c, ignore_index, "cross_entropy")
    else:
        flat_target = flat_target.to(rows.dtype)
    if probs and c == 0:  # no classes: each loss is -0, and 'mean' divides by 0/0 (NaN)
        loss = -(rows * flat_target).sum(1)
        loss = (
            loss if reduction == "none" else loss.sum() * (math.nan if reduction == "mean" else 1)
        )
        loss = loss.reshape(out_shape) if reduction == "none" else loss
        return named_as(loss, _cross_entropy_node(input.ndim, probs, label_smoothing, reduction))
    op = CrossEntropy(reduction, ignore_index, label_smoothing, probs, all_kept)
    loss = op(rows, flat_target, weight)
    if bad is not None:
        loss = _poison(loss, bad, reduction)
    loss = loss.reshape(out_shape) if reduction == "none" else loss
    return named_as(loss, _cross_entropy_node(input.ndim, probs, label_smoothing, reduction))


def _cross_entropy_node(ndim: int, probs: bool, smoothing: float, reduction: str) -> str:
    """The last node of PyTorch's cross_entropy, which composes it: nll_loss of log_softmax
    for class indices; arithmetic ending in a division (mean) or a negation for
    probabilities, and in an addition for label smoothing."""
    if probs:
        return "DivBackward1" if reduction == "mean" else "NegBackward0"
    return "AddBackward0" if smoothing else nll_node(ndim, reduction)


def nll_node(ndim: int, reduction: str) -> str:
    """The last node of PyTorch's nll_loss of an input with ``ndim`` dims: nll_loss2d past 2
    dims (on 4-D views of the input), unreduced 3-D or 5-D+ results viewed back."""
    if ndim <= 2:
        return "NllLossBackward0"
    return "ViewBackward0" if reduction == "none" and ndim != 4 else "NllLoss2DBackward0"


@on_input_device
def _poison(loss, bad, reduction: str):
    """NaN where a target was out of range (on devices where raising would need a host copy)."""
    mask = constant(bad if reduction == "none" else bad.any(), loss.device)
    return loss.masked_fill(mask, float("nan"))
