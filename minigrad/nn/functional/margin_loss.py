"""Margin and embedding losses: ranking, triplet, cosine embedding, hinge embedding, soft margin,
multi-class and multi-label margins. Each is a short composition of differentiable primitives,
with PyTorch's formulas."""

from __future__ import annotations

from ... import dtypes, ops
from ...autograd.graph import names_node
from ...creation import arange, zeros
from ...ops.base import (
    autocast_op,
    coefficient,
    first_order_only,
    kernel_dtypes,
    on_input_device,
    refuse_cast,
    refuse_dtype,
)
from ._cross_entropy import _poison
from ._utils import check_class_targets, resolve_reduction
from ._utils import reduce as reduce_
from .activation import logsigmoid, softplus
from .distance import pairwise_distance

__all__ = [
    "cosine_embedding_loss",
    "hinge_embedding_loss",
    "margin_ranking_loss",
    "multi_margin_loss",
    "multilabel_margin_loss",
    "multilabel_soft_margin_loss",
    "soft_margin_loss",
    "triplet_margin_loss",
    "triplet_margin_with_distance_loss",
]


@autocast_op("margin_ranking_loss")
def margin_ranking_loss(
    input1, input2, target, margin: float = 0.0, size_average=None, reduce=None, reduction="mean"
):
    """max(0, -y·(x1 - x2) + margin): rank x1 above x2 where y = 1, below where y = -1."""
    reduction = resolve_reduction(size_average, reduce, reduction, "margin_ranking_loss")
    if not (input1.ndim == input2.ndim == target.ndim):
        raise RuntimeError(
            f"margin_ranking_loss : All input tensors should have same dimension but got sizes: "
            f"input1: {list(input1.shape)}, input2: {list(input2.shape)}, target: "
            f"{list(target.shape)}"
        )
    return reduce_((-target * (input1 - input2) + margin).clamp_min(0), reduction)


@autocast_op("triplet_margin_loss")
def triplet_margin_loss(
    anchor,
    positive,
    negative,
    margin: float = 1.0,
    p: float = 2,
    eps: float = 1e-6,
    swap: bool = False,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
):
    """max(0, d(a, p) - d(a, n) + margin) with d the pairwise p-distance; ``swap`` uses
    min(d(a, n), d(p, n)) (Balntas et al., 2016)."""
    reduction = resolve_reduction(size_average, reduce, reduction, "triplet_margin_loss")
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise RuntimeError(
            f"triplet_margin_loss: The anchor, positive, and negative tensors are expected to "
            f"have the same number of dimensions, but got: anchor {anchor.ndim}D, positive "
            f"{positive.ndim}D, and negative {negative.ndim}D inputs"
        )
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = ops.minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return reduce_((margin + d_pos - d_neg).clamp_min(0), reduction)


@autocast_op("cosine_embedding_loss")
def cosine_embedding_loss(
    input1, input2, target, margin: float = 0.0, size_average=None, reduce=None, reduction="mean"
):
    """1 - cos(x1, x2) where y = 1; max(0, cos(x1, x2) - margin) where y = -1 (cos over the
    last dim, with 1e-12 added to each squared norm, as PyTorch)."""
    reduction = resolve_reduction(size_average, reduce, reduction, "cosine_embedding_loss")
    if input1.shape != input2.shape or input1.ndim not in (1, 2):
        raise RuntimeError(
            f"cosine_embedding_loss: expected two 1-D or 2-D inputs of one shape, got "
            f"{list(input1.shape)} and {list(input2.shape)}"
        )
    eps = 1e-12
    dot = (input1 * input2).sum(-1)
    denominator = (((input1 * input1).sum(-1) + eps) * ((input2 * input2).sum(-1) + eps)).sqrt()
    cos = dot / denominator
    zeros = cos * 0
    positive = ops.where(target == 1, 1 - cos, zeros)
    negative = ops.where(target == -1, (cos - margin).clamp(min=0), zeros)
    return reduce_(positive + negative, reduction)


@kernel_dtypes("log_sigmoid_cpu")
def multilabel_soft_margin_loss(
    input,
    target,
    weight=None,
    size_average=None,
    reduce=None,
    reduction="mean",
):
    """Per sample, the mean over classes of -[y·log σ(x) + (1 - y)·log σ(-x)] (times ``weight``)."""
    reduction = resolve_reduction(size_average, reduce, reduction, "multilabel_soft_margin_loss")
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    loss = loss.sum(input.ndim - 1) / input.shape[-1]
    return reduce_(loss, reduction)


# -- branch losses2 ------------------------------------------------------------------------------
@autocast_op("hinge_embedding_loss")
def hinge_embedding_loss(
    input, target, margin: float = 1.0, size_average=None, reduce=None, reduction="mean"
):
    """x where y != -1, plus max(0, margin - x) where y != 1 (PyTorch's exact masks: a target
    other than ±1 gets both terms)."""
    reduction = resolve_reduction(size_average, reduce, reduction, "hinge_embedding_loss")
    margin = coefficient(margin, input)  # integers: truncated (the result has input.dtype)
    zeros = input * 0
    margin_term = ops.where(target != 1, (margin - input).clamp(min=0), zeros)
    self_term = ops.where(target != -1, input, zeros)
    return reduce_(margin_term + self_term, reduction)


@autocast_op("soft_margin_loss")
@names_node("SoftMarginLossBackward0")
def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """log(1 + exp(-y·x)), the two-class logistic loss (as a softplus: no overflow).

    Differs on purpose: a target that requires grad gets its gradient -x·σ(-y·x), where PyTorch
    refuses one (it defines no derivative for the target)."""
    reduction = resolve_reduction(size_average, reduce, reduction, "soft_margin_loss")
    if input.dtype is not dtypes.bool:  # (PyTorch negates it first, which raises)
        refuse_cast(dtypes.get_default_dtype(), input.dtype, "soft_margin_loss")
    loss = reduce_(softplus(-input * target), reduction)
    return loss.to(input.dtype)  # (PyTorch's output has the input's dtype)


def _no_half(input, op: str) -> None:
    """PyTorch's CPU kernels of the margin losses have no 16-bit float version; neither do ours."""
    if input.dtype.is_floating_point and input.dtype.itemsize == 2:
        raise NotImplementedError(f'"{op}" not implemented for {input.dtype} (as in PyTorch)')


def _class_rows(input, target, op: str):
    """(input as (N, C), target as (N,)) for a 1-D/2-D input with one class index per row."""
    if input.ndim not in (1, 2) or input.numel() == 0 and input.ndim != 2:
        raise RuntimeError(
            f"{op}: expected a non-empty vector or matrix as input, got shape {list(input.shape)}"
        )
    rows = input.reshape(1, -1) if input.ndim == 1 else input
    n = rows.shape[0]
    if target.ndim > 1 or target.numel() != n:
        raise RuntimeError(
            f"{op}: target tensor should be 1-D with size equal to the number of input samples "
            f"(batch size). Expected target size [{n}], but got {list(target.shape)}. Input has "
            f"shape {list(input.shape)}."
        )
    return rows, target.reshape(n)


@autocast_op("multi_margin_loss")
@on_input_device  # target checks run on the input's GPU
@names_node("MultiMarginLossBackward0")
def multi_margin_loss(
    input,
    target,
    p: int = 1,
    margin: float = 1.0,
    weight=None,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
):
    """Multi-class hinge loss: per row, Σ_{i≠y} w_y·max(0, margin - x_y + x_i)^p / C, with
    p in {1, 2}.

    Shapes: input (N, C) or (C,); target (N,) or () class indices; weight (C,).
    Differs on purpose: a weight that requires grad gets its gradient, where PyTorch refuses.
    The input's gradient is not differentiable, as in PyTorch (``derivative for
    aten::multi_margin_loss_backward is not implemented``).
    """
    reduction = resolve_reduction(size_average, reduce, reduction, "multi_margin_loss")
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.ndim != 1:
        raise ValueError("weight must be one-dimensional")
    refuse_dtype(input.dtype, "multi_margin_loss_cpu_kernel", "multi_margin_loss")  # (after)
    _no_half(input, "multi_margin_loss")
    rows, labels = _class_rows(input, target, "multi_margin_loss")
    rows = first_order_only(rows, "multi_margin_loss_backward")
    c = rows.shape[1]
    if weight is not None and weight.numel() != c:
        raise RuntimeError(
            f"multi_margin_loss: inconsistent weight size, expected {c} but got "
            f"{list(weight.shape)}"
        )
    try:
        bad = check_class_targets(labels, c, None, "multi_margin_loss")
    except IndexError as e:  # PyTorch raises RuntimeError here
        raise RuntimeError(f"multi_margin_loss: target out of range ({e})") from None
    safe = labels.clamp(0, c - 1).unsqueeze(1)
    picked = ops.gather(rows, 1, safe)
    hinge = ops.relu(margin - picked + rows)  # gradient 0 where the margin is met exactly
    if p == 2:
        hinge = hinge * hinge
    others = arange(c, device=rows.device).unsqueeze(0) != safe  # i = y does not count
    per = ops.where(others, hinge, hinge * 0).sum(1) / c
    if weight is not None:
        per = per * weight[safe.reshape(-1)]
    if input.ndim == 1:
        per = per.reshape(())
    if bad is not None:
        per = _poison(per, bad.reshape(per.shape), "none")
    return reduce_(per, reduction)


@autocast_op("multilabel_margin_loss")
@on_input_device
@names_node("MultilabelMarginLossBackward0")
@kernel_dtypes("multilabel_margin_loss_forward_out_frame")
def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Multi-label hinge loss: per row, Σ_j Σ_{i ∉ targets} max(0, 1 - (x_{y_j} - x_i)) / C.

    ``target`` has input's shape and lists each row's classes first, then -1 (the rest of the
    row is ignored from the first -1 on), as PyTorch. Its gradient is not differentiable, as
    in PyTorch (``derivative for aten::multilabel_margin_loss_backward is not implemented``).
    """
    reduction = resolve_reduction(size_average, reduce, reduction, "multilabel_margin_loss")
    _no_half(input, "multilabel_margin_loss")
    if input.ndim > 2 or tuple(target.shape) != tuple(input.shape):
        raise RuntimeError(
            f"multilabel_margin_loss: inconsistent target size: {list(target.shape)} for input "
            f"of size: {list(input.shape)}"
        )
    rows = input.reshape(1, -1) if input.ndim < 2 else input
    rows = first_order_only(rows, "multilabel_margin_loss_backward")
    labels = target.reshape(tuple(rows.shape))
    c = rows.shape[1]
    try:
        bad = check_class_targets(labels, c, -1, "multilabel_margin_loss")
    except IndexError as e:
        raise RuntimeError(
            f"multilabel_margin_loss: argument #2 'target' is out of range ({e})"
        ) from None
    # a label counts until the row's first -1
    listed = (labels < 0).to(rows.dtype).cumsum(1) == 0
    slot = ops.where(listed, labels.clamp(0, c - 1), labels * 0 + c)  # c: a spare column
    is_target = zeros(rows.shape[0], c + 1, dtype=rows.dtype, device=rows.device).scatter(
        1, slot, 1.0
    )[:, :c]
    picked = ops.gather(rows, 1, slot.clamp(0, c - 1))  # (N, S)
    hinge = ops.relu(1 - picked.unsqueeze(2) + rows.unsqueeze(1))  # (N, S, C); 0-grad at 0
    pair = listed.unsqueeze(2) & (is_target == 0).unsqueeze(1)
    per = ops.where(pair, hinge, hinge * 0).sum((1, 2)) / c
    per = per.reshape(tuple(input.shape[:-1])) if input.ndim else per.reshape(())
    if bad is not None:
        per = _poison(per, bad.any(-1).reshape(per.shape), "none")
    return reduce_(per, reduction)


def triplet_margin_with_distance_loss(
    anchor,
    positive,
    negative,
    *,
    distance_function=None,
    margin: float = 1.0,
    swap: bool = False,
    reduction: str = "mean",
):
    """max(0, margin + d(a, p) - d(a, n)) with any distance ``d`` (default: pairwise_distance);
    ``swap`` uses min(d(a, n), d(p, n))."""
    reduction = resolve_reduction(None, None, reduction, "triplet_margin_with_distance_loss")
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    if not (anchor.ndim == positive.ndim == negative.ndim):
        raise RuntimeError(
            f"The anchor, positive, and negative tensors are expected to have the same number of "
            f"dimensions, but got: anchor {anchor.ndim}D, positive {positive.ndim}D, and "
            f"negative {negative.ndim}D inputs"
        )
    distance = pairwise_distance if distance_function is None else distance_function
    d_pos, d_neg = distance(anchor, positive), distance(anchor, negative)
    if swap:
        d_neg = ops.minimum(d_neg, distance(positive, negative))
    return reduce_((margin + d_pos - d_neg).clamp_min(0), reduction)
