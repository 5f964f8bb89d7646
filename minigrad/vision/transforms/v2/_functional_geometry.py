"""The geometric v2 functionals (flips, crops, pads, resizes) for every input kind.

Images go through v1's functional code; masks reuse it on their ``[..., H, W]`` planes
(nearest-neighbour resizing, so labels stay labels); bounding boxes move with the pixels:
a flip mirrors them across the canvas, a crop or pad shifts them and clamps them to the new
canvas, a resize scales them.
"""

from __future__ import annotations

from ....creation import tensor
from ....tensor import Tensor
from ... import tv_tensors
from ...tv_tensors import BoundingBoxes, BoundingBoxFormat, Image, Mask, Video
from .. import functional as _F
from ..functional import Image as _PIL  # noqa: N814 - PIL.Image, or None without PIL
from ..functional import InterpolationMode
from ._functional_meta import _clamp
from .functional import _KERNELS, _dispatch, _image_kernels, _pure, _register, get_size

_PIL_IMAGE = _PIL.Image if _PIL is not None else None


def horizontal_flip(inpt):
    """Mirror left to right (boxes: ``x → W - x``)."""
    return _dispatch(horizontal_flip, inpt)


def vertical_flip(inpt):
    """Mirror top to bottom (boxes: ``y → H - y``)."""
    return _dispatch(vertical_flip, inpt)


hflip, vflip = horizontal_flip, vertical_flip


def _flip_boxes(boxes, format: BoundingBoxFormat, extent: int, axis: int):
    """Mirror plain boxes ``[N, 4]`` along ``axis`` (0: x, 1: y) of a canvas ``extent`` long."""
    out = boxes.clone().reshape(-1, 4)
    if format is BoundingBoxFormat.XYXY:  # the corners swap: x1' = W - x2, x2' = W - x1
        out[:, [axis, axis + 2]] = extent - boxes.reshape(-1, 4)[:, [axis + 2, axis]]
    elif format is BoundingBoxFormat.XYWH:  # the corner moves to the far side
        out[:, axis] = extent - out[:, axis] - out[:, axis + 2]
    else:  # CXCYWH: the centre mirrors
        out[:, axis] = extent - out[:, axis]
    return out.reshape(boxes.shape)


def _boxes_kernel(move):
    """A BoundingBoxes kernel from ``move(plain boxes, boxes, *args) -> (boxes, canvas)``."""

    def kernel(boxes, *args, **kwargs):
        out, canvas = move(_pure(boxes), boxes, *args, **kwargs)
        return tv_tensors.wrap(out, like=boxes, canvas_size=canvas)

    return kernel


_image_kernels(horizontal_flip, _F.hflip)
_image_kernels(vertical_flip, _F.vflip)
_register(horizontal_flip, Mask)(lambda mask: tv_tensors.wrap(_pure(mask).flip(-1), like=mask))
_register(vertical_flip, Mask)(lambda mask: tv_tensors.wrap(_pure(mask).flip(-2), like=mask))
_register(horizontal_flip, BoundingBoxes)(
    _boxes_kernel(
        lambda b, like: (_flip_boxes(b, like.format, like.canvas_size[1], 0), like.canvas_size)
    )  # fmt: skip
)
_register(vertical_flip, BoundingBoxes)(
    _boxes_kernel(
        lambda b, like: (_flip_boxes(b, like.format, like.canvas_size[0], 1), like.canvas_size)
    )  # fmt: skip
)


def _shift(boxes, format: BoundingBoxFormat, dx: int, dy: int):
    """Plain boxes moved by ``(dx, dy)``: both corners for XYXY, the first point otherwise."""
    step = [dx, dy, dx, dy] if format is BoundingBoxFormat.XYXY else [dx, dy, 0, 0]
    return boxes + tensor(step, dtype=boxes.dtype, device=boxes.device)


# -- crop -----------------------------------------------------------------------------------------
def crop(inpt, top: int, left: int, height: int, width: int):
    """The ``height×width`` window at ``(top, left)`` (zeros outside the image)."""
    return _dispatch(crop, inpt, top, left, height, width)


def _crop_boxes(boxes, like, top, left, height, width):
    moved = _shift(boxes, like.format, -left, -top)
    return _clamp(moved, like.format, (height, width), like.clamping_mode), (height, width)


_image_kernels(crop, _F.crop)
_register(crop, Mask)(lambda m, *a: tv_tensors.wrap(_F.crop(_pure(m), *a), like=m))
_register(crop, BoundingBoxes)(_boxes_kernel(_crop_boxes))


def center_crop(inpt, output_size):
    """The central ``output_size`` window (padded with zeros where the image is smaller)."""
    return _dispatch(center_crop, inpt, output_size)


def _center_offset(size: int, crop: int) -> int:
    """Where the central window starts along a side: inside the image as v1's ``center_crop``
    rounds it; for a larger window, minus the padding ``center_crop`` puts before the image
    (torchvision rounds ``(size - crop) / 2`` there too, which puts boxes a pixel off the
    padded image when ``crop - size`` is 3, 7, 11, ...)."""
    return -((crop - size) // 2) if crop > size else int(round((size - crop) / 2.0))


def _center_crop_boxes(boxes, like, output_size):
    crop_h, crop_w = _F._pair(output_size, "center_crop")
    height, width = like.canvas_size
    top, left = _center_offset(height, crop_h), _center_offset(width, crop_w)
    return _crop_boxes(boxes, like, top, left, crop_h, crop_w)


_image_kernels(center_crop, _F.center_crop)
_register(center_crop, Mask)(
    lambda m, size: tv_tensors.wrap(_F.center_crop(_pure(m), size), like=m)
)
_register(center_crop, BoundingBoxes)(_boxes_kernel(_center_crop_boxes))


# -- pad ------------------------------------------------------------------------------------------
def pad(inpt, padding, fill=0, padding_mode: str = "constant"):
    """Pad the borders (``padding``: one width, (left/right, top/bottom), or (left, top,
    right, bottom)); boxes shift by the left and top widths onto the larger canvas."""
    return _dispatch(pad, inpt, padding, fill=fill, padding_mode=padding_mode)


def _pad_boxes(boxes, like, padding, fill=0, padding_mode="constant"):
    if padding_mode != "constant":
        raise ValueError(f"Padding mode '{padding_mode}' is not supported with bounding boxes")
    left, top, right, bottom = _F._padding_ltrb(padding)
    height, width = like.canvas_size
    canvas = (height + top + bottom, width + left + right)
    moved = _shift(boxes, like.format, left, top)
    return _clamp(moved, like.format, canvas, like.clamping_mode), canvas


def _pad_mask(mask, padding, fill=0, padding_mode="constant"):
    plain = _pure(mask)
    flat = plain.unsqueeze(0) if plain.ndim == 2 else plain
    out = _F.pad(flat, padding, 0 if fill is None else fill, padding_mode)
    return tv_tensors.wrap(out.squeeze(0) if plain.ndim == 2 else out, like=mask)


_image_kernels(pad, _F.pad)
_register(pad, Mask)(_pad_mask)
_register(pad, BoundingBoxes)(_boxes_kernel(_pad_boxes))


# -- resize ---------------------------------------------------------------------------------------
def resize(inpt, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
    """Resize to ``size`` (an int or 1-list sets the shorter side; ``None`` sets the longer
    side to ``max_size``); masks resize with nearest neighbours, boxes scale by the same
    factors as the image."""
    return _dispatch(resize, inpt, size, interpolation=interpolation, max_size=max_size,
                     antialias=antialias)  # fmt: skip


def _longer_side_to(size, max_size) -> list[int]:
    """``[H, W]`` scaled so that the longer side is ``max_size`` (``Resize(None, max_size)``)."""
    if not isinstance(max_size, int):
        raise ValueError(
            f"max_size must be an integer when size is None, but got {max_size} instead."
        )
    height, width = size
    short, long = sorted((height, width))
    new_short = int(max_size * short / long)
    return [max_size, new_short] if height > width else [new_short, max_size]


def _resize_boxes(boxes, like, size, interpolation=None, max_size=None, antialias=None):
    height, width = like.canvas_size
    new_h, new_w = _F._resized_size(height, width, size, max_size)
    if (new_h, new_w) == (height, width):
        return boxes, (height, width)
    ratios = [new_w / width, new_h / height, new_w / width, new_h / height]
    scaled = boxes.mul(tensor(ratios, device=boxes.device)).to(boxes.dtype)
    return scaled, (new_h, new_w)


def _resize_mask(mask, size, interpolation=None, max_size=None, antialias=None):
    interpolation = _F._as_interpolation(interpolation)
    if interpolation is not InterpolationMode.NEAREST_EXACT:
        interpolation = InterpolationMode.NEAREST  # masks hold labels: never blended
    plain = _pure(mask)
    flat = plain.unsqueeze(0) if plain.ndim == 2 else plain
    out = _F.resize(flat, size, interpolation, max_size, antialias=False)
    return tv_tensors.wrap(out.squeeze(0) if plain.ndim == 2 else out, like=mask)


_image_kernels(resize, _F.resize)
_register(resize, Mask)(_resize_mask)
_register(resize, BoundingBoxes)(_boxes_kernel(_resize_boxes))


def _size_none_resolved(kernel):
    """``kernel`` with ``size=None`` turned into the size whose longer side is ``max_size``."""

    def resolved(inpt, size, *args, max_size=None, **kwargs):
        if size is None:
            size, max_size = _longer_side_to(get_size(inpt), max_size), None
        return kernel(inpt, size, *args, max_size=max_size, **kwargs)

    return resolved


for _cls, _kernel in list(_KERNELS[resize].items()):
    _KERNELS[resize][_cls] = _size_none_resolved(_kernel)


def resized_crop(inpt, top: int, left: int, height: int, width: int, size,
                 interpolation=InterpolationMode.BILINEAR, antialias=True):  # fmt: skip
    """:func:`crop`, then :func:`resize` to ``size``."""
    return _dispatch(resized_crop, inpt, top, left, height, width, size,
                     interpolation=interpolation, antialias=antialias)  # fmt: skip


def _resized_crop(inpt, top, left, height, width, size, interpolation, antialias):
    window = crop(inpt, top, left, height, width)
    return resize(window, size, interpolation=interpolation, antialias=antialias)


_register(resized_crop, Tensor, Image, Video, Mask, BoundingBoxes, _PIL_IMAGE)(_resized_crop)
