"""The bounding-box functionals of v2: format conversion, clamping to the canvas, and the
validity test behind ``SanitizeBoundingBoxes`` (boxes as plain tensors or BoundingBoxes)."""

from __future__ import annotations

from ....ops.joining import stack
from ....tensor import Tensor
from ... import tv_tensors
from ...ops import boxes as box_ops
from ...tv_tensors import BoundingBoxes, BoundingBoxFormat
from .functional import _pure, is_pure_tensor


# -- bounding-box formats -------------------------------------------------------------------------
def _convert_format(boxes: Tensor, old: BoundingBoxFormat, new: BoundingBoxFormat) -> Tensor:
    """Plain boxes from ``old`` to ``new`` (ops.box_convert's arithmetic, in float for integer
    boxes, cast back: non-negative coordinates round down as torchvision's)."""
    if old is new:
        return boxes
    work = boxes if boxes.is_floating_point() else boxes.float()
    out = box_ops.box_convert(work, old.value.lower(), new.value.lower())
    return out.to(boxes.dtype)


def convert_bounding_box_format(inpt, old_format=None, new_format=None, inplace: bool = False):
    """Boxes in ``new_format``; a plain tensor needs ``old_format``, BoundingBoxes carry it."""
    if new_format is None:
        raise TypeError("convert_bounding_box_format() missing 1 required argument: 'new_format'")
    new_format = tv_tensors._parse_format(new_format)
    if is_pure_tensor(inpt):
        if old_format is None:
            raise ValueError("For pure tensor inputs, `old_format` has to be passed.")
        return _convert_format(inpt, tv_tensors._parse_format(old_format), new_format)
    if isinstance(inpt, BoundingBoxes):
        if old_format is not None:
            raise ValueError("For bounding box tv_tensor inputs, `old_format` must not be passed.")
        out = _convert_format(_pure(inpt), inpt.format, new_format)
        return tv_tensors.wrap(out, like=inpt, format=new_format)
    raise TypeError(
        "Input can either be a plain tensor or a bounding box tv_tensor, but got "
        f"{type(inpt)} instead."
    )


def _clamp(boxes: Tensor, format: BoundingBoxFormat, canvas_size, clamping_mode="soft"):
    """Plain boxes with their corners clamped to the canvas ``(H, W)`` (``None``: unclamped)."""
    if clamping_mode is None:
        return boxes.clone()
    work = boxes if boxes.is_floating_point() else boxes.float()
    xyxy = _convert_format(work, format, BoundingBoxFormat.XYXY)
    height, width = canvas_size
    x1, y1, x2, y2 = xyxy.unbind(-1)
    x1, x2 = x1.clamp(0, width), x2.clamp(0, width)
    y1, y2 = y1.clamp(0, height), y2.clamp(0, height)
    clamped = stack((x1, y1, x2, y2), dim=-1)
    return _convert_format(clamped, BoundingBoxFormat.XYXY, format).to(boxes.dtype)


def clamp_bounding_boxes(inpt, format=None, canvas_size=None, clamping_mode="auto"):
    """Boxes clamped to their canvas (a plain tensor needs ``format`` and ``canvas_size``)."""
    if clamping_mode is not None and clamping_mode not in ("soft", "hard", "auto"):
        raise ValueError(f"clamping_mode must be soft, hard, auto or None, got {clamping_mode}")
    if is_pure_tensor(inpt):
        if format is None or canvas_size is None or clamping_mode == "auto":
            raise ValueError(
                "For pure tensor inputs, `format`, `canvas_size` and `clamping_mode` have to be "
                "passed."
            )
        return _clamp(inpt, tv_tensors._parse_format(format), canvas_size, clamping_mode)
    if isinstance(inpt, BoundingBoxes):
        if format is not None or canvas_size is not None:
            raise ValueError(
                "For bounding box tv_tensor inputs, `format` and `canvas_size` must not be passed."
            )
        mode = inpt.clamping_mode if clamping_mode == "auto" else clamping_mode
        return tv_tensors.wrap(_clamp(_pure(inpt), inpt.format, inpt.canvas_size, mode), like=inpt)
    raise TypeError(
        "Input can either be a plain tensor or a bounding box tv_tensor, but got "
        f"{type(inpt)} instead."
    )


def _sanitize_mask(boxes, format, canvas_size, min_size=1.0, min_area=1.0) -> Tensor:
    """Which boxes are kept: at least ``min_size`` wide and high, ``min_area`` in area, and
    inside the canvas."""
    xyxy = _convert_format(_pure(boxes), format, BoundingBoxFormat.XYXY)
    x1, y1, x2, y2 = xyxy.unbind(-1)
    ws, hs = x2 - x1, y2 - y1
    height, width = canvas_size
    valid = (ws >= min_size) & (hs >= min_size) & (xyxy >= 0).all(dim=-1) & (ws * hs >= min_area)
    return valid & (x1 <= width) & (x2 <= width) & (y1 <= height) & (y2 <= height)


def sanitize_bounding_boxes(bounding_boxes, format=None, canvas_size=None, min_size=1.0,
                            min_area=1.0):  # fmt: skip
    """``(kept boxes, valid mask)``: boxes too small or outside the canvas removed."""
    if is_pure_tensor(bounding_boxes):
        if format is None or canvas_size is None:
            raise ValueError(
                "format and canvas_size cannot be None if bounding_boxes is a pure tensor. "
                f"Got format={format} and canvas_size={canvas_size}."
                "Set those to appropriate values or pass bounding_boxes as a "
                "tv_tensors.BoundingBoxes object."
            )
        fmt = tv_tensors._parse_format(format)
        valid = _sanitize_mask(bounding_boxes, fmt, canvas_size, min_size, min_area)
        return bounding_boxes[valid], valid
    if not isinstance(bounding_boxes, BoundingBoxes):
        raise ValueError(
            "bounding_boxes must be a tv_tensors.BoundingBoxes instance or a pure tensor."
        )
    if format is not None or canvas_size is not None:
        raise ValueError(
            "format and canvas_size must be None when bounding_boxes is a tv_tensors.BoundingBoxes. "
            f"Got format={format} and canvas_size={canvas_size}."
        )
    valid = _sanitize_mask(bounding_boxes, bounding_boxes.format, bounding_boxes.canvas_size,
                           min_size, min_area)  # fmt: skip
    return tv_tensors.wrap(_pure(bounding_boxes)[valid], like=bounding_boxes), valid
