"""Margin and embedding losses: ranking, triplet, cosine embedding, multi-label soft margin.
Each is a short composition of differentiable primitives, with PyTorch's formulas."""

from __future__ import annotations

from ... import ops
from ._utils import reduce as reduce_
from ._utils import resolve_reduction
from .activation import logsigmoid
from .distance import pairwise_distance

__all__ = [
    "cosine_embedding_loss",
    "margin_ranking_loss",
    "multilabel_soft_margin_loss",
    "triplet_margin_loss",
]


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
    return reduce_((-target * (input1 - input2) + margin).clamp(min=0), reduction)


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
    if not (anchor.ndim == positive.ndim == negative.ndim) or anchor.ndim not in (1, 2):
        raise RuntimeError(
            f"triplet_margin_loss: the anchor, positive and negative must all be 1-D or all 2-D, "
            f"got {anchor.ndim}-D, {positive.ndim}-D and {negative.ndim}-D"
        )
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = ops.minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return reduce_((margin + d_pos - d_neg).clamp(min=0), reduction)


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
