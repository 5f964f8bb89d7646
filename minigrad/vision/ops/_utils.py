"""Shared checks of the RoI operations: the two ways torchvision accepts boxes (a ``[K, 5]``
tensor of ``(batch_index, x1, y1, x2, y2)`` rows, or one ``[L, 4]`` tensor per image) and
their conversion to the first — and ``gather_rows``, the differentiable row gather they pool
with."""

from __future__ import annotations

import numpy as np

import minigrad


def check_roi_boxes_shape(boxes) -> None:
    """torchvision's check, with its messages."""
    if isinstance(boxes, (list, tuple)):
        for b in boxes:
            if b.dim() != 2 or b.shape[1] != 4:
                raise RuntimeError(
                    "The shape of the tensor in the boxes list is not correct as List[Tensor[L, 4]]"
                )
    elif isinstance(boxes, minigrad.Tensor):
        if boxes.dim() != 2 or boxes.shape[1] != 5:
            raise RuntimeError("The boxes tensor shape is not correct as Tensor[K, 5]")
    else:
        raise RuntimeError("boxes is expected to be a Tensor[L, 5] or a List[Tensor[K, 4]]")


def convert_boxes_to_roi_format(boxes) -> minigrad.Tensor:
    """One ``[K, 5]`` tensor from a list of per-image ``[L, 4]`` boxes: each row prefixed by
    the index of its image."""
    ids = [minigrad.full_like(b[:, :1], i) for i, b in enumerate(boxes)]
    return minigrad.cat([minigrad.cat(ids, dim=0), minigrad.cat(list(boxes), dim=0)], dim=1)


def host_rois(input, boxes) -> np.ndarray:
    """The rois as a float64 host array ``[K, 5]`` (checked; converted from a list), for the
    index and weight arithmetic that carries no gradient (torchvision's RoI ops give none to
    the boxes)."""
    check_roi_boxes_shape(boxes)
    if isinstance(boxes, (list, tuple)):
        boxes = convert_boxes_to_roi_format(boxes)
    if boxes.device != input.device:
        raise RuntimeError(
            f"Expected all tensors to be on the same device, but found input on {input.device} "
            f"and rois on {boxes.device}"
        )
    if boxes.dtype != input.dtype:  # the kernels' checkAllSameType, in its words
        raise RuntimeError(
            "Expected tensor for argument #1 'input' to have the same type as tensor for "
            f"argument #2 'rois'; but type {input.dtype} does not equal {boxes.dtype}"
        )
    if input.dim() != 4:
        raise RuntimeError(f"input should be a 4d tensor [N, C, H, W], got {input.dim()}D")
    return boxes.detach().cpu().numpy().astype(np.float64)


def pair(value, name: str) -> tuple[int, int]:
    """``output_size`` as ``(height, width)`` from an int or a pair."""
    if isinstance(value, int):
        return value, value
    value = tuple(value)
    if len(value) == 1:
        return int(value[0]), int(value[0])
    if len(value) != 2:
        raise ValueError(f"{name} must be an int or a pair (height, width), got {value}")
    return int(value[0]), int(value[1])


def gather_rows(x, index: np.ndarray):
    """``x[index]`` for a 2-D tensor ``x`` and a host integer row index of any shape: rows of
    ``x`` in ``index``'s shape plus ``x``'s last dim; differentiable (to any order). Indexes
    the flattened ``x`` with the rows' element positions (one 1-D index), so that its
    backward adds repeated rows by one flat ``np.add.at``, the CPU backend's fast path
    (``backend.scatter_add``)."""
    width = x.shape[-1]
    rows = np.ascontiguousarray(index, dtype=np.int64).reshape(-1, 1)
    positions = (rows * width + np.arange(width, dtype=np.int64)).reshape(-1)
    picked = x.reshape(-1)[minigrad.from_numpy(positions).to(x.device)]
    return picked.reshape(*index.shape, width)
