"""The v2 ``elastic`` functional (``elastic_transform``) for every input kind, as
torchvision's: images and videos sampled at the identity grid plus the displacement (in the
image's floating dtype, float32 for integer images), masks with nearest sampling, and boxes
moved by the approximate inverse grid ``identity - displacement`` read at their corners (an
approximation for small displacements, as torchvision documents)."""

from __future__ import annotations

from .... import dtypes
from ....creation import tensor
from ....ops.joining import cat
from ....tensor import Tensor
from ... import tv_tensors
from ...tv_tensors import BoundingBoxes, BoundingBoxFormat, Image, Mask, Video
from .._elastic import check_displacement, identity_grid
from .._warp import apply_grid
from ..functional import Image as _PIL  # noqa: N814 - PIL.Image, or None without PIL
from ..functional import InterpolationMode, _as_interpolation, pil_to_tensor, to_pil_image
from ._functional_meta import _clamp, _convert_format
from .functional import _dispatch, _pure, _register


def elastic(inpt, displacement, interpolation=InterpolationMode.BILINEAR, fill=None):
    """Deform ``inpt`` by ``displacement`` (``[1, H, W, 2]``, from ``ElasticTransform``)."""
    return _dispatch(elastic, inpt, displacement, interpolation=interpolation, fill=fill)


elastic_transform = elastic


def elastic_image(image, displacement, interpolation=InterpolationMode.BILINEAR, fill=None):
    """An image or video tensor ``[..., C, H, W]`` (or a PIL image) deformed; CPU float16
    images are computed in float32, as torchvision's."""
    if _PIL is not None and isinstance(image, _PIL.Image):
        out = elastic_image(pil_to_tensor(image), displacement, interpolation, fill)
        return to_pil_image(out, mode=image.mode)
    if not isinstance(displacement, Tensor):
        raise TypeError("Argument displacement should be a Tensor")
    interpolation = _as_interpolation(interpolation)
    height, width = image.shape[-2:]
    half = image.dtype is dtypes.float16 and image.device.type == "cpu"
    if half:
        image = image.float()
    dtype = image.dtype if image.dtype.is_floating_point else dtypes.float32
    check_displacement(displacement, (1, height, width, 2))
    grid = identity_grid(height, width, dtype, image.device)
    grid = grid + displacement.to(device=image.device, dtype=dtype)
    out = apply_grid(image, grid, interpolation.value, fill)
    return out.to(dtypes.float16) if half else out


def _image_kernel(inpt, displacement, interpolation=InterpolationMode.BILINEAR, fill=None):
    out = elastic_image(_pure(inpt), displacement, interpolation, fill)
    return tv_tensors.wrap(out, like=inpt) if isinstance(inpt, tv_tensors.TVTensor) else out


def elastic_mask(mask, displacement, fill=None):
    """A mask ``[..., H, W]`` deformed with nearest sampling (labels stay labels)."""
    flat = mask.unsqueeze(0) if mask.ndim < 3 else mask
    out = elastic_image(flat, displacement, InterpolationMode.NEAREST, fill)
    return out.squeeze(0) if mask.ndim < 3 else out


def elastic_bounding_boxes(boxes, format, canvas_size, displacement, clamping_mode="soft"):
    """Plain boxes through the approximate inverse grid: each corner (rounded up, clamped to
    the canvas) reads ``identity - displacement`` there, back in pixels; the box becomes the
    enclosing box of its moved corners, clamped."""
    height, width = canvas_size
    check_displacement(displacement, (1, height, width, 2))
    if boxes.numel() == 0:
        return boxes
    dtype = boxes.dtype if boxes.is_floating_point() else dtypes.float32
    displacement = displacement.to(device=boxes.device, dtype=dtype)
    xyxy = _convert_format(boxes.clone(), format, BoundingBoxFormat.XYXY).reshape(-1, 4)
    inverse = identity_grid(height, width, dtype, boxes.device) - displacement
    points = xyxy[:, [0, 1, 2, 1, 2, 3, 0, 3]].reshape(-1, 2)
    if points.is_floating_point():
        points = points.ceil()
    index = points.long()
    xs, ys = index[:, 0].clamp(0, width - 1), index[:, 1].clamp(0, height - 1)
    size = tensor([width, height], dtype=dtype, device=boxes.device)
    moved = ((inverse[0, ys, xs, :] + 1) * (0.5 * size) - 0.5).reshape(-1, 4, 2)
    out = cat((moved.amin(1), moved.amax(1)), 1).to(boxes.dtype)
    out = _clamp(out, BoundingBoxFormat.XYXY, canvas_size, clamping_mode)
    return _convert_format(out, BoundingBoxFormat.XYXY, format).reshape(boxes.shape)


def _mask_kernel(mask, displacement, interpolation=None, fill=None):
    return tv_tensors.wrap(elastic_mask(_pure(mask), displacement, fill), like=mask)


def _boxes_kernel(boxes, displacement, interpolation=None, fill=None):
    out = elastic_bounding_boxes(_pure(boxes), boxes.format, boxes.canvas_size, displacement,
                                 boxes.clamping_mode)  # fmt: skip
    return tv_tensors.wrap(out, like=boxes)


_register(elastic, Tensor, Image, Video, _PIL.Image if _PIL is not None else None)(_image_kernel)
_register(elastic, Mask)(_mask_kernel)
_register(elastic, BoundingBoxes)(_boxes_kernel)
