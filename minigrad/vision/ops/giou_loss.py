"""torchvision's ``generalized_box_iou_loss``: ``1 - GIoU`` of paired boxes, a regression loss
with a gradient even when the boxes do not overlap."""

from __future__ import annotations

import minigrad

from ._loss_utils import paired_inter_union, reduce_loss, upcast_non_float

__all__ = ["generalized_box_iou_loss"]


def generalized_box_iou_loss(boxes1, boxes2, reduction: str = "none", eps: float = 1e-7):
    """``1 - GIoU(boxes1[i], boxes2[i])`` for ``xyxy`` boxes of the same shape (``[N, 4]`` or
    ``[4]``), reduced by ``reduction``; ``eps`` guards the divisions."""
    boxes1, boxes2 = upcast_non_float(boxes1), upcast_non_float(boxes2)
    inter, union = paired_inter_union(boxes1, boxes2)
    iou = inter / (union + eps)
    x1, y1, x2, y2 = boxes1.unbind(dim=-1)
    x1g, y1g, x2g, y2g = boxes2.unbind(dim=-1)
    hull_w = minigrad.maximum(x2, x2g) - minigrad.minimum(x1, x1g)
    hull_h = minigrad.maximum(y2, y2g) - minigrad.minimum(y1, y1g)
    hull = hull_w * hull_h
    return reduce_loss(1 - (iou - (hull - union) / (hull + eps)), reduction)
