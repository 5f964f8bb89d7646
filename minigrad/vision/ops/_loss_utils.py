"""What torchvision's box and focal losses share: the elementwise intersection/union of paired
boxes and the ``reduction`` argument."""

from __future__ import annotations

import minigrad


def upcast_non_float(t):
    """Losses compute in float32 at least: integer and half boxes are widened."""
    return t if t.dtype in (minigrad.float32, minigrad.float64) else t.float()


def paired_inter_union(boxes1, boxes2):
    """Intersection and union of ``boxes1[i]`` with ``boxes2[i]`` (``xyxy``, same shape); the
    intersection is 0 (with no gradient) unless both overlaps are positive."""
    x1, y1, x2, y2 = boxes1.unbind(dim=-1)
    x1g, y1g, x2g, y2g = boxes2.unbind(dim=-1)
    xk1, yk1 = minigrad.maximum(x1, x1g), minigrad.maximum(y1, y1g)
    xk2, yk2 = minigrad.minimum(x2, x2g), minigrad.minimum(y2, y2g)
    overlap = (yk2 > yk1) & (xk2 > xk1)
    inter = minigrad.where(overlap, (xk2 - xk1) * (yk2 - yk1), minigrad.zeros_like(x1))
    union = (x2 - x1) * (y2 - y1) + (x2g - x1g) * (y2g - y1g) - inter
    return inter, union


def reduce_loss(loss, reduction: str):
    """``'none'`` | ``'mean'`` | ``'sum'``, with torchvision's message for anything else."""
    if reduction == "none":
        return loss
    if reduction == "mean":
        return loss.mean() if loss.numel() > 0 else 0.0 * loss.sum()
    if reduction == "sum":
        return loss.sum()
    raise ValueError(
        f"Invalid Value for arg 'reduction': '{reduction} \\n Supported reduction modes: "
        "'none', 'mean', 'sum'"
    )
