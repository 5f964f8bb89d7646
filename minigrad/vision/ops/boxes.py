"""torchvision's box operations on minigrad tensors: format conversion, areas, pairwise
(generalised) IoU, clipping, filtering and non-maximum suppression.

The arithmetic ones are built from tensor ops, so they carry gradients (DETR's GIoU loss
differentiates ``generalized_box_iou``). ``nms`` runs torchvision's greedy kernel: boxes in
descending score order, equal scores in index order (a stable sort), and a box is dropped when its
IoU with a kept box is strictly greater than the threshold.
"""

from __future__ import annotations

import math

import numpy as np

import minigrad

__all__ = [
    "batched_nms",
    "box_area",
    "box_convert",
    "box_iou",
    "clip_boxes_to_image",
    "complete_box_iou",
    "distance_box_iou",
    "generalized_box_iou",
    "masks_to_boxes",
    "nms",
    "remove_small_boxes",
]

_AXIS_ALIGNED = ("xyxy", "xywh", "cxcywh")
_ROTATED = ("xywhr", "cxcywhr", "xyxyxyxy")


def _upcast(t):
    """Widen half floats to float32 and small integers to int32 before products, as torchvision
    does, so areas do not overflow."""
    if t.is_floating_point():
        return t if t.dtype in (minigrad.float32, minigrad.float64) else t.float()
    return t if t.dtype in (minigrad.int32, minigrad.int64) else t.int()


def _to_xyxy(boxes, fmt: str):
    """Corners from ``xywh`` (corner + size) or ``cxcywh`` (centre + size)."""
    a, b, w, h = boxes.unbind(-1)
    if fmt == "xywh":
        return minigrad.stack((a, b, a + w, b + h), dim=-1)
    return minigrad.stack((a - 0.5 * w, b - 0.5 * h, a + 0.5 * w, b + 0.5 * h), dim=-1)


def _from_xyxy(boxes, fmt: str):
    """``xywh`` or ``cxcywh`` from corners."""
    x1, y1, x2, y2 = boxes.unbind(-1)
    w, h = x2 - x1, y2 - y1
    if fmt == "xywh":
        return minigrad.stack((x1, y1, w, h), dim=-1)
    return minigrad.stack(((x1 + x2) / 2, (y1 + y2) / 2, w, h), dim=-1)


def box_convert(boxes, in_fmt: str, out_fmt: str):
    """Boxes ``[..., 4]`` from ``in_fmt`` to ``out_fmt``, each one of ``'xyxy'`` (corners),
    ``'xywh'`` (top-left corner, width, height) or ``'cxcywh'`` (centre, width, height)."""
    if in_fmt not in _AXIS_ALIGNED + _ROTATED or out_fmt not in _AXIS_ALIGNED + _ROTATED:
        raise ValueError(
            f"Unsupported Bounding Box Conversions for given in_fmt {in_fmt} and out_fmt {out_fmt}"
        )
    if in_fmt == out_fmt:
        return boxes.clone()
    if in_fmt in _ROTATED or out_fmt in _ROTATED:
        raise NotImplementedError(
            f"box_convert: rotated box formats {_ROTATED} are not implemented in minigrad.vision "
            f"(got in_fmt {in_fmt} and out_fmt {out_fmt}); axis-aligned ones are {_AXIS_ALIGNED}"
        )
    if in_fmt != "xyxy":
        boxes = _to_xyxy(boxes, in_fmt)
    return boxes if out_fmt == "xyxy" else _from_xyxy(boxes, out_fmt)


def box_area(boxes, fmt: str = "xyxy"):
    """The area of each box ``[..., 4]`` (no +1 pixel convention), in ``fmt``."""
    if fmt not in _AXIS_ALIGNED:
        raise ValueError(f"Unsupported Bounding Box area for given format {fmt}")
    boxes = _upcast(boxes)
    if fmt == "xyxy":
        return (boxes[..., 2] - boxes[..., 0]) * (boxes[..., 3] - boxes[..., 1])
    return boxes[..., 2] * boxes[..., 3]


def _inter_union(boxes1, boxes2, fmt: str = "xyxy"):
    """Pairwise intersection and union areas, ``[..., N, M]`` each."""
    if fmt not in _AXIS_ALIGNED:
        raise ValueError(f"Unsupported Box IoU Calculation for given fmt {fmt}.")
    area1, area2 = box_area(boxes1, fmt=fmt), box_area(boxes2, fmt=fmt)
    if fmt != "xyxy":
        boxes1, boxes2 = _to_xyxy(boxes1, fmt), _to_xyxy(boxes2, fmt)
    lt = minigrad.maximum(boxes1[..., :, None, :2], boxes2[..., None, :, :2])
    rb = minigrad.minimum(boxes1[..., :, None, 2:], boxes2[..., None, :, 2:])
    wh = _upcast(rb - lt).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    return inter, area1[..., :, None] + area2[..., None, :] - inter


def box_iou(boxes1, boxes2, fmt: str = "xyxy"):
    """Intersection over union of every pair: ``[..., N, 4]`` and ``[..., M, 4]`` give
    ``[..., N, M]``."""
    if fmt in _ROTATED:
        raise NotImplementedError(
            f"box_iou: rotated boxes (fmt={fmt!r}) are not implemented in minigrad.vision; "
            f"supported formats: {_AXIS_ALIGNED}"
        )
    if fmt not in _AXIS_ALIGNED:
        raise ValueError(
            f"Unsupported format '{fmt}'. Supported axis-aligned formats: {_AXIS_ALIGNED}. "
            f"Supported rotated formats: {_ROTATED}."
        )
    inter, union = _inter_union(boxes1, boxes2, fmt)
    return inter / union


def generalized_box_iou(boxes1, boxes2):
    """GIoU of every pair of ``xyxy`` boxes: IoU minus the share of the smallest enclosing box
    that the union leaves empty (in [-1, 1]; informative even for disjoint boxes)."""
    inter, union = _inter_union(boxes1, boxes2)
    lt = minigrad.minimum(boxes1[..., :, None, :2], boxes2[..., None, :, :2])
    rb = minigrad.maximum(boxes1[..., :, None, 2:], boxes2[..., None, :, 2:])
    wh = _upcast(rb - lt).clamp(min=0)
    enclosing = wh[..., 0] * wh[..., 1]
    return inter / union - (enclosing - union) / enclosing


def _diou_and_iou(boxes1, boxes2, eps: float):
    """DIoU (IoU less the squared centre distance over the squared diagonal of the enclosing
    box) and IoU, pairwise."""
    iou = box_iou(boxes1, boxes2)
    lt = minigrad.minimum(boxes1[..., :, None, :2], boxes2[..., None, :, :2])
    rb = minigrad.maximum(boxes1[..., :, None, 2:], boxes2[..., None, :, 2:])
    wh = _upcast(rb - lt).clamp(min=0)
    diagonal2 = wh[..., 0] ** 2 + wh[..., 1] ** 2 + eps
    cx1, cy1 = (boxes1[..., 0] + boxes1[..., 2]) / 2, (boxes1[..., 1] + boxes1[..., 3]) / 2
    cx2, cy2 = (boxes2[..., 0] + boxes2[..., 2]) / 2, (boxes2[..., 1] + boxes2[..., 3]) / 2
    dx = _upcast(cx1[..., :, None] - cx2[..., None, :])
    dy = _upcast(cy1[..., :, None] - cy2[..., None, :])
    return iou - (dx**2 + dy**2) / diagonal2, iou


def distance_box_iou(boxes1, boxes2, eps: float = 1e-7):
    """Distance IoU of every pair of ``xyxy`` boxes (Zheng et al., 2020)."""
    return _diou_and_iou(_upcast(boxes1), _upcast(boxes2), eps)[0]


def complete_box_iou(boxes1, boxes2, eps: float = 1e-7):
    """Complete IoU of every pair of ``xyxy`` boxes: DIoU less an aspect-ratio term whose
    weight ``alpha`` is held constant (no gradient), as in the paper and torchvision."""
    boxes1, boxes2 = _upcast(boxes1), _upcast(boxes2)
    diou, iou = _diou_and_iou(boxes1, boxes2, eps)
    w1 = boxes1[..., :, None, 2] - boxes1[..., :, None, 0]
    h1 = boxes1[..., :, None, 3] - boxes1[..., :, None, 1]
    w2 = boxes2[..., None, :, 2] - boxes2[..., None, :, 0]
    h2 = boxes2[..., None, :, 3] - boxes2[..., None, :, 1]
    v = (4 / math.pi**2) * (minigrad.atan(w1 / h1) - minigrad.atan(w2 / h2)) ** 2
    with minigrad.no_grad():
        alpha = v / (1 - iou + v + eps)
    return diou - alpha * v


def masks_to_boxes(masks):
    """The ``xyxy`` box (float32, inclusive pixel indices) around each nonzero mask of
    ``masks [N, H, W]``; an empty mask gives ``[0, 0, 0, 0]``."""
    if masks.numel() == 0:
        return minigrad.zeros((0, 4), device=masks.device, dtype=minigrad.float32)
    _, h, w = masks.shape
    rows = masks.bool().any(dim=2).float()
    cols = masks.bool().any(dim=1).float()
    y1, x1 = rows.argmax(dim=1), cols.argmax(dim=1)
    y2 = (h - 1) - rows.flip(dims=[1]).argmax(dim=1)
    x2 = (w - 1) - cols.flip(dims=[1]).argmax(dim=1)
    boxes = minigrad.stack([x1, y1, x2, y2], dim=1).float()
    return minigrad.where((rows.sum(dim=1) > 0)[:, None], boxes, minigrad.zeros_like(boxes))


def clip_boxes_to_image(boxes, size: tuple[int, int]):
    """``xyxy`` boxes ``[..., 4]`` clamped into an image of ``size = (height, width)``."""
    height, width = size
    xs = boxes[..., 0::2].clamp(min=0, max=width)
    ys = boxes[..., 1::2].clamp(min=0, max=height)
    return minigrad.stack((xs, ys), dim=boxes.dim()).reshape(boxes.shape)


def remove_small_boxes(boxes, min_size: float):
    """Indices of the ``xyxy`` boxes whose width and height are both at least ``min_size``."""
    ws, hs = boxes[..., 2] - boxes[..., 0], boxes[..., 3] - boxes[..., 1]
    return minigrad.where((ws >= min_size) & (hs >= min_size))[0]


def _check_nms_args(boxes, scores) -> None:
    """torchvision's kernel checks, with its messages."""
    if boxes.dim() != 2:
        raise RuntimeError(f"boxes should be a 2d tensor, got {boxes.dim()}D")
    if boxes.shape[1] != 4:
        raise RuntimeError(f"boxes should have 4 elements in dimension 1, got {boxes.shape[1]}")
    if scores.dim() != 1:
        raise RuntimeError(f"scores should be a 1d tensor, got {scores.dim()}D")
    if boxes.shape[0] != scores.shape[0]:
        raise RuntimeError(
            "boxes and scores should have same number of elements in dimension 0, "
            f"got {boxes.shape[0]} and {scores.shape[0]}"
        )


def _greedy_nms(boxes, scores, iou_threshold: float, groups=None):
    """Greedy suppression over the host copies: visit boxes by descending score (ties in index
    order), keep each one not yet suppressed and suppress every later box of its group whose IoU
    with it exceeds the threshold. Returns the kept indices (int64, on ``boxes``' device)."""
    _check_nms_args(boxes, scores)
    b = boxes.detach().cpu().numpy()
    s = scores.detach().cpu().numpy()
    order = np.argsort(-s, kind="stable")
    x1, y1, x2, y2 = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
    areas = (x2 - x1) * (y2 - y1)
    label = None if groups is None else groups.detach().cpu().numpy()
    suppressed = np.zeros(len(s), dtype=bool)
    keep = []
    for rank, i in enumerate(order):
        if suppressed[i]:
            continue
        keep.append(i)
        rest = order[rank + 1 :]
        w = np.maximum(np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]), 0)
        h = np.maximum(np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]), 0)
        inter = w * h
        with np.errstate(divide="ignore", invalid="ignore"):
            iou = inter / (areas[i] + areas[rest] - inter)
        # The kernel compares its IoU (in the boxes' dtype) with the threshold as a double.
        over = iou.astype(np.float64) > float(iou_threshold)
        if label is not None:
            over &= label[rest] == label[i]
        suppressed[rest[over]] = True
    return minigrad.tensor(np.asarray(keep, dtype=np.int64), device=boxes.device)


def nms(boxes, scores, iou_threshold: float):
    """Non-maximum suppression of ``xyxy`` boxes ``[N, 4]`` with ``scores [N]``: the indices
    (int64) of the boxes kept, in decreasing order of score."""
    return _greedy_nms(boxes, scores, iou_threshold)


def batched_nms(boxes, scores, idxs, iou_threshold: float):
    """NMS within each category ``idxs [N]`` (boxes of different categories never suppress each
    other): the indices kept, in decreasing order of score."""
    if idxs.dim() != 1 or idxs.shape[0] != boxes.shape[0]:
        raise RuntimeError(
            f"batched_nms: idxs should be a 1d tensor with one category per box, got shape "
            f"{tuple(idxs.shape)} for {boxes.shape[0]} boxes"
        )
    return _greedy_nms(boxes, scores, iou_threshold, groups=idxs)
