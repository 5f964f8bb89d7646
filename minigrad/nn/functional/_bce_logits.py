"""Binary cross-entropy with logits as one node, as PyTorch records it: the loss with its
reduction in one op (``BinaryCrossEntropyWithLogitsBackward0``), whose inputs are the logits and
the targets themselves, and whose backward is written with tensor ops (differentiable again)."""

from __future__ import annotations

from ... import dtypes, ops
from ...autograd import grad_mode
from ...ops import Op
from ...ops.base import autocast_inputs, constant
from ...ops.movement import _broadcast_shape
from ._utils import reduce as reduce_
from ._utils import resolve_reduction

_NAME = "binary_cross_entropy_with_logits"


class BinaryCrossEntropyWithLogits(Op):
    """l = w·((1 - t)·x + (1 + (p - 1)·t)·softplus(-x)), reduced;
    dl/dx = w·((p·t + 1 - t)·σ(x) - p·t), dl/dt = w·(p·softplus(-x) - softplus(x)) (p = 1 and
    w = 1 when not given: dl/dx = w·(σ(x) - t), dl/dt = -w·x); weight and pos_weight take no
    gradient (PyTorch refuses them when they require it)"""

    save_inputs = True

    def __init__(self, reduction: str, weight=None, pos_weight=None):
        # the weights are settings, not inputs: PyTorch's node has edges to x and t only
        self.reduction, self.weight, self.pos_weight = reduction, weight, pos_weight

    def forward(self, x, t):
        device = self.device
        with grad_mode.no_grad():  # the formula on constants: PyTorch's rounding steps, once
            loss = _loss(constant(x, device), constant(t, device), self.weight, self.pos_weight)
            return reduce_(loss, self.reduction)._data

    def backward(self, g):
        x, t = self.saved
        w, p = self.weight, self.pos_weight
        need_x, need_t = self.needs_input_grad
        if self.reduction == "mean":
            g = g / max(x.numel(), 1)
        gx = gt = None
        if need_x:
            s = x.sigmoid()
            if p is None:
                gx = s - t
            else:
                pt = p * t
                gx = (pt + 1.0 - t) * s - pt
            gx = _weighted(gx, w, g).to(x.dtype)
        if need_t:  # (the stable form of PyTorch's log(1 - σ(x)) - p·log σ(x))
            gt = -x if p is None else p * ops.softplus(-x) - ops.softplus(x)
            gt = _weighted(gt, w, g).to(t.dtype)
        return gx, gt


def _weighted(grad, w, g):
    return (grad if w is None else grad * w) * g


def _loss(x, t, w, p):
    """The elementwise loss in the target's dtype, rounded as PyTorch's in-place steps."""
    out_dtype = _bce_logits_dtype(x, t)
    softplus_neg = ops.softplus(-x)  # log(1 + e^-x), stable at both ends
    if p is not None:
        softplus_neg = _as_dtype((1.0 + (p - 1.0) * t) * softplus_neg, x.dtype)
    # PyTorch computes (1 - t)·x in place in 1 - t, then the sum and the weighting in it: each
    # step rounds to the target's dtype
    loss = _as_dtype(_as_dtype((1.0 - t) * x, out_dtype) + softplus_neg, out_dtype)
    return loss if w is None else _as_dtype(loss * w, out_dtype)


def _as_dtype(t, dtype):
    """``t`` in ``dtype`` (itself when it has it already)."""
    return t if t.dtype == dtype else t.to(dtype)


def _bce_logits_dtype(input, target):
    """The loss's dtype: PyTorch computes it in place in ``1 - target``, so it has the target's
    dtype (float32 for float64 logits and float32 targets); floating logits with an integer
    target raise as that in-place product does, and integer logits as log_sigmoid does."""
    if not (target.dtype.is_floating_point or target.dtype is dtypes.bool):
        result = dtypes.promote_types(input.dtype, target.dtype)
        if result.is_floating_point:
            raise RuntimeError(
                f"result type {dtypes.scalar_type_name(result)} can't be cast to the desired "
                f"output type {dtypes.scalar_type_name(target.dtype)}"
            )
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        name = dtypes.scalar_type_name(input.dtype)
        raise NotImplementedError(f"\"log_sigmoid_cpu\" not implemented for '{name}'")
    return target.dtype


def binary_cross_entropy_with_logits(
    input,
    target,
    weight=None,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
    pos_weight=None,
):
    """Sigmoid and binary cross-entropy in one stable expression:
    loss = (1 - t)·x + (1 + (pos_weight - 1)·t)·softplus(-x), finite for |x| of any size.

    One graph node, as PyTorch's (``BinaryCrossEntropyWithLogitsBackward0``).

    Args:
        input: logits of any shape.
        target: targets in [0, 1] of the same shape, floating: the loss has its dtype, as in
            PyTorch (float64 logits with float32 targets give a float32 loss).
        weight: optional rescaling weight, broadcast against the loss.
        pos_weight: optional weight of positive examples, broadcast along the last dim (C,).
            Neither weight may require grad while grad mode is on (PyTorch's rule).

    Example:
        >>> F.binary_cross_entropy_with_logits(minigrad.tensor([1000.0, -3.0]), minigrad.tensor([1.0, 0.0]))
    """
    input, target = autocast_inputs(_NAME, input, target)
    reduction = resolve_reduction(size_average, reduce, reduction, _NAME)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(
            f"Target size ({target.shape}) must be the same as input size ({input.shape})"
        )
    _bce_logits_dtype(input, target)  # (an integer target raises before anything runs)
    if any(getattr(type(w), "_methods_batch", False) for w in (weight, pos_weight)):
        return reduce_(_loss(input, target, weight, pos_weight), reduction)  # (vmap: batched)
    weights = [tuple(w.shape) for w in (weight, pos_weight) if w is not None]
    broadcast = _broadcast_shape(tuple(target.shape), *weights)  # (PyTorch's error if not)
    if broadcast != tuple(target.shape):
        raise RuntimeError(  # (PyTorch computes in place in 1 - target: the target's shape)
            f"{_NAME}: output with shape {list(target.shape)} doesn't match the broadcast shape "
            f"{list(broadcast)}"
        )
    if grad_mode.is_grad_enabled():
        for name, value in (("weight", weight), ("pos_weight", pos_weight)):
            if value is not None and value.requires_grad:
                raise RuntimeError(
                    f"The function '{_NAME}' is not differentiable with respect to argument "
                    f"'{name}'. This input cannot have requires_grad True."
                )
    return BinaryCrossEntropyWithLogits(reduction, weight, pos_weight)(input, target)
