"""Loss functions. Cross-entropy is a fused op (``_cross_entropy.py``); the others are short
compositions of differentiable primitives, written in their numerically stable forms."""

from __future__ import annotations

import math

import numpy as np

from ... import backend, dtypes, ops
from ..._warnings import warn_user
from ...autograd.graph import named_as
from ...ops import Op
from ...ops.base import autocast_inputs, kernel_dtypes, linked_to, refuse_cast, refuse_dtype
from ...ops.complex import real_only
from ._bce_logits import binary_cross_entropy_with_logits
from ._cross_entropy import _as_rows, _check_shapes, _poison, cross_entropy, nll_node
from ._utils import (
    check_class_targets,
    check_reduction,
    check_target_dtype,
    reduction_from_legacy,
    resolve_reduction,
)
from ._utils import reduce as reduce_  # the losses' parameter ``reduce`` shadows the name

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "gaussian_nll_loss",
    "huber_loss",
    "kl_div",
    "l1_loss",
    "mse_loss",
    "nll_loss",
    "poisson_nll_loss",
    "smooth_l1_loss",
]


def _broadcast_pair(input, target):
    if tuple(target.shape) != tuple(input.shape):
        warn_user(
            f"Using a target size ({target.shape}) that is different to the input size "
            f"({input.shape}). This will likely lead to incorrect results due to broadcasting. "
            f"Please ensure they have the same size.",
            UserWarning,
        )
    return ops.broadcast_tensors(input, target)


def _promoted(input, target):
    """Both in the dtype they promote to, as PyTorch's loss kernels compute (a bool input with
    a float target is a float difference, not a bool subtraction)."""
    d = dtypes.result_type(input, target)
    return input.to(d), target.to(d)


def _weighted(loss, weight, reduction: str):
    """PyTorch's weighted regression losses: 'mean' divides by the sum of the weights."""
    if weight is None:
        return reduce_(loss, reduction)
    if tuple(weight.shape) != tuple(loss.shape):
        raise ValueError(
            f"Weights and input must have the same size, got {list(weight.shape)} and "
            f"{list(loss.shape)}"
        )
    loss = loss * weight
    if reduction == "mean":
        return loss.sum() / weight.sum()
    return reduce_(loss, reduction)


@real_only
@kernel_dtypes("mse_cpu", pair=True)
def mse_loss(
    input,
    target,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
    weight=None,
):
    """Mean squared error: (input - target)², reduced.

    Example:
        >>> F.mse_loss(minigrad.tensor([1.0, 2.0]), minigrad.tensor([1.0, 4.0]))
        tensor(2.)
    """
    input, target = autocast_inputs("mse_loss", input, target)
    reduction = resolve_reduction(size_average, reduce, reduction, "mse_loss")
    input, target = _promoted(*_broadcast_pair(input, target))  # (0-d widens, broadcast)
    diff = input - target
    return named_as(_weighted(diff * diff, weight, reduction), "MseLossBackward0")


def l1_loss(
    input,
    target,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
    weight=None,
):
    """Mean absolute error: |input - target|, reduced."""
    input, target = autocast_inputs("l1_loss", input, target)
    reduction = resolve_reduction(size_average, reduce, reduction, "l1_loss")
    input, target = _broadcast_pair(input, target)
    return _weighted((input - target).abs(), weight, reduction)


def _smooth(diff, beta: float):
    """0.5·d²/β where |d| < β, else |d| - 0.5·β."""
    absolute = diff.abs()
    return ops.where(absolute < beta, (0.5 / beta) * diff * diff, absolute - 0.5 * beta)


@real_only
@kernel_dtypes("smooth_l1_cpu", pair=True)
def smooth_l1_loss(
    input,
    target,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
    beta: float = 1.0,
):
    """Smooth L1: quadratic for |d| < beta, linear beyond (L1 when beta = 0)."""
    input, target = autocast_inputs("smooth_l1_loss", input, target)
    reduction = resolve_reduction(size_average, reduce, reduction, "smooth_l1_loss")
    if beta < 0:
        raise RuntimeError(f"smooth_l1_loss does not support negative values for beta, got {beta}")
    input, target = _promoted(*_broadcast_pair(input, target))  # (0-d widens, broadcast)
    diff = input - target
    return named_as(
        reduce_(diff.abs() if beta == 0 else _smooth(diff, beta), reduction),
        "SmoothL1LossBackward0",
    )


@real_only
@kernel_dtypes("huber_cpu", pair=True)
def huber_loss(
    input,
    target,
    reduction: str = "mean",
    delta: float = 1.0,
    weight=None,
):
    """Huber: 0.5·d² for |d| ≤ delta, delta·(|d| - 0.5·delta) beyond (= delta·smooth_l1(beta=delta))."""
    input, target = autocast_inputs("huber_loss", input, target)
    check_reduction(reduction, "huber_loss")
    if delta <= 0:
        raise RuntimeError(
            f"huber_loss does not support non-positive values for delta. (got {delta})"
        )
    out_dtype = input.dtype  # (PyTorch's output has the input's dtype)
    refuse_cast(dtypes.result_type(input, target), out_dtype, "huber_loss")
    # (promoted before broadcasting: a 0-d target does not widen)
    input, target = _broadcast_pair(*_promoted(input, target))
    loss = _weighted(_smooth(input - target, delta) * delta, weight, reduction)
    return named_as(loss.to(out_dtype), "HuberLossBackward0")


@real_only
def nll_loss(
    input,
    target,
    weight=None,
    size_average=None,
    ignore_index: int = -100,
    reduce=None,
    reduction: str = "mean",
):
    """Negative log-likelihood of class indices, given log-probabilities.

    Args:
        input: log-probabilities of shape (C,), (N, C) or (N, C, d1, ...).
        target: class indices of shape (), (N,) or (N, d1, ...).
        weight: optional per-class weights (C,).
        ignore_index: targets equal to it contribute nothing.
        reduction: 'mean' (divided by the summed weights of the counted targets), 'sum', 'none'.

    Example:
        >>> F.nll_loss(F.log_softmax(logits, dim=1), labels)
    """
    input, target = autocast_inputs("nll_loss", input, target)
    reduction = resolve_reduction(size_average, reduce, reduction, "nll_loss")
    if input.ndim == 0:  # (PyTorch checks the rank before the dtype)
        _check_shapes(input, target, False, "nll_loss")
    refuse_dtype(input.dtype, "nll_loss_out_frame", "nll_loss")
    _check_shapes(input, target, False, "nll_loss")  # (PyTorch: the shapes before the dtype)
    check_target_dtype(target, "nll_loss")
    rows, flat, out_shape = _as_rows(input, target, False)
    c = rows.shape[1]
    if weight is not None and weight.numel() != c:
        raise RuntimeError(
            f"nll_loss: weight tensor should be defined either for all {c} classes or no "
            f"classes but got weight tensor of shape: {list(weight.shape)}"
        )
    bad = check_class_targets(flat, c, ignore_index, "nll_loss")
    valid = flat != ignore_index
    safe = ops.where(valid, flat.long(), 0).clamp(0, c - 1)
    w_t = valid.to(rows.dtype)
    if weight is not None:
        w_t = weight.detach().to(rows.dtype)[safe] * w_t
    per = -rows.gather(1, safe.unsqueeze(1)).squeeze(1) * w_t
    if reduction == "mean":
        with np.errstate(invalid="ignore"):  # every target ignored: 0/0 = nan, as PyTorch
            loss = per.sum() / w_t.sum()
    else:
        loss = reduce_(per, reduction)
    if bad is not None:
        loss = _poison(loss, bad, reduction)
    loss = loss.reshape(out_shape) if reduction == "none" else loss
    # (linked_to: the input stays in a recorded backward's graph, as PyTorch's)
    return named_as(linked_to(loss, input), nll_node(input.ndim, reduction))


@kernel_dtypes("binary_cross_entropy", bools_only=True)
def binary_cross_entropy(
    input,
    target,
    weight=None,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
):
    """-[t·log(x) + (1 - t)·log(1 - x)] for probabilities x; each log is clamped at -100, as
    PyTorch does, so x = 0 or 1 gives a finite loss.

    Example:
        >>> F.binary_cross_entropy(minigrad.tensor([0.9, 0.2]), minigrad.tensor([1.0, 0.0]))
    """
    input, target = autocast_inputs("binary_cross_entropy", input, target)
    reduction = resolve_reduction(size_average, reduce, reduction, "binary_cross_entropy")
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(
            f"Using a target size ({target.shape}) that is different to the input size "
            f"({input.shape}) is deprecated. Please ensure they have the same size."
        )
    if target.dtype is not input.dtype:  # (before the input's own dtype, as PyTorch)
        names = dtypes.scalar_type_name(target.dtype), dtypes.scalar_type_name(input.dtype)
        raise RuntimeError("Found dtype {} but expected {}".format(*names))
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        refuse_dtype(input.dtype, "binary_cross_entropy", "binary_cross_entropy")
    if input.device.type == "cpu" and input.numel() and _outside_unit(input._all_elements()):
        raise RuntimeError(
            "binary_cross_entropy: all elements of input should be between 0 and 1 "
            "(use binary_cross_entropy_with_logits for logits)"
        )
    if target.device.type == "cpu" and target.numel() and _outside_unit(target._all_elements()):
        raise RuntimeError("binary_cross_entropy: all elements of target should be between 0 and 1")
    weight = None if weight is None else weight.detach()  # not differentiated, as PyTorch
    return named_as(
        reduce_(BinaryCrossEntropy()(input, target.to(input.dtype), weight), reduction),
        "BinaryCrossEntropyBackward0",
    )


class BinaryCrossEntropy(Op):
    """loss = -w·[t·log(x) + (1 - t)·log(1 - x)], each log clamped at -100;
    dloss/dx = w·(x - t) / max(x(1 - x), 1e-12), dloss/dt = w·(log(1 - x) - log(x)) (as PyTorch)"""

    save_inputs = True

    def forward(self, x, t, w):
        xp = self.xp
        # log(max(x, 1e-44)) never warns about log(0); the clamp at -100 is PyTorch's
        log_x = xp.maximum(xp.log(xp.maximum(x, 1e-44)), -100.0)
        log_1mx = xp.maximum(xp.log(xp.maximum(1.0 - x, 1e-44)), -100.0)
        loss = -(t * log_x + (1.0 - t) * log_1mx)
        return loss if w is None else loss * w

    def backward(self, g):
        x, t, w = self.saved
        if w is not None:
            g = g * w
        need_x, need_t, _ = self.needs_input_grad
        gx = g * (x - t) / (x * (1.0 - x)).clamp(min=1e-12) if need_x else None
        gt = None
        if need_t:
            gt = g * ((1.0 - x).log().clamp(min=-100.0) - x.log().clamp(min=-100.0))
        return gx, gt, None


@kernel_dtypes("log_sigmoid_cpu")
@real_only
def kl_div(
    input,
    target,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
    log_target: bool = False,
):
    """Kullback-Leibler divergence KL(target ‖ exp(input)) with ``input`` log-probabilities:
    xlogy(target, target) - target·input (0 where target = 0, where the gradient with respect
    to a target that requires grad is NaN, as PyTorch's), or exp(t)·(t - input) with
    ``log_target``.

    ``reduction='batchmean'`` divides the sum by the batch size (the mathematically correct
    KL); 'mean' divides by the number of elements, as PyTorch.

    Example:
        >>> F.kl_div(F.log_softmax(logits, 1), probs, reduction="batchmean")
    """
    input, target = autocast_inputs("kl_div", input, target)
    if not all(t.dtype.is_floating_point or t.dtype.is_complex for t in (input, target)):
        raise RuntimeError("kl_div: Integral inputs not supported.")  # (PyTorch's words)
    if reduction == "batchmean":
        reduction = reduction_from_legacy(size_average, reduce, "sum")
        batch = input.shape[0] if input.ndim else 1
    else:
        reduction = resolve_reduction(size_average, reduce, reduction, "kl_div")
        batch = None
    if log_target:
        loss = target.exp() * (target - input)
    else:
        # PyTorch's formula: 0 where target = 0, but there the target's gradient is NaN
        # (xlogy's t/t), and a negative target gives NaN, as in PyTorch
        loss = ops.xlogy(target, target) - target * input
    if reduction == "mean":
        warn_user(
            # PyTorch's text, spacing included, so that filters written for it match
            "reduction: 'mean' divides the total loss by both the batch size and the support "
            "size.'batchmean' divides only by the batch size, and aligns with the KL div math "
            "definition.'mean' will be changed to behave the same as 'batchmean' in the next "
            "major release.",
            UserWarning,
        )
    out = reduce_(loss, reduction)
    return out / batch if batch is not None else out


def gaussian_nll_loss(
    input,
    target,
    var,
    full: bool = False,
    eps: float = 1e-6,
    reduction: str = "mean",
):
    """Gaussian negative log-likelihood: ½(log max(var, eps) + (input - target)² / max(var, eps))
    (+ ½ log 2π with ``full``). ``var`` may have one entry per sample (one dim fewer, or last
    dim 1); the clamp at ``eps`` is invisible to the gradient, as in PyTorch."""
    check_reduction(reduction, "gaussian_nll_loss")
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif not (tuple(input.shape[:-1]) == tuple(var.shape[:-1]) and var.shape[-1] == 1):
            raise ValueError(
                f"gaussian_nll_loss: var of shape {list(var.shape)} is incompatible with input "
                f"of shape {list(input.shape)}"
            )
    with backend.on(var.device):  # every element (of a batch, under vmap), on var's own GPU
        negative = bool((var._all_elements() < 0).any())
    if negative:
        raise ValueError("var has negative entry/entries")
    # (PyTorch clamps a copy of var in place, which an integer var cannot hold)
    refuse_cast(dtypes.get_default_dtype(), var.dtype, "gaussian_nll_loss")
    floor = var.detach().clamp(min=eps) - var.detach()  # clamp the value, not the gradient
    var = var + floor
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return reduce_(loss, reduction)


def poisson_nll_loss(
    input,
    target,
    log_input: bool = True,
    full: bool = False,
    size_average=None,
    eps: float = 1e-8,
    reduce=None,
    reduction: str = "mean",
):
    """Poisson negative log-likelihood: exp(x) - y·x with ``log_input`` (x = log rate), else
    x - y·log(x + eps); ``full`` adds Stirling's term y·log y - y + ½ log(2πy) where y > 1."""
    input, target = autocast_inputs("poisson_nll_loss", input, target)
    reduction = resolve_reduction(size_average, reduce, reduction, "poisson_nll_loss")
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        safe = ops.where(target > 1, target, target * 0 + 2)  # log() only where it is used
        stirling = safe * safe.log() - safe + 0.5 * (2 * math.pi * safe).log()
        loss = loss + ops.where(target > 1, stirling, stirling * 0)
    return reduce_(loss, reduction)


def _outside_unit(data) -> bool:
    """True if any probability lies outside [0, 1] or is NaN, as PyTorch's check ``0 <= x <= 1``
    (a host check, CPU arrays only)."""
    return not bool(((data >= 0) & (data <= 1)).all())
