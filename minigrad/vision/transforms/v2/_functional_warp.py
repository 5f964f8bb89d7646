"""The v2 rotate, affine, gaussian_blur and erase functionals for every input kind.

Images and videos are warped by v1's code (:mod:`minigrad.vision.transforms._warp`); masks
the same way with nearest sampling, so labels stay labels; bounding boxes move with the
pixels: their four corners go through the forward affine matrix and the box becomes the
enclosing box of the moved corners, clamped to the (possibly enlarged) canvas, as
torchvision does.
"""

from __future__ import annotations

import numpy as np

from ....creation import from_numpy
from ....ops.joining import cat
from ....tensor import Tensor
from ... import tv_tensors
from ...tv_tensors import BoundingBoxes, BoundingBoxFormat, Image, Mask, Video
from .. import _warp
from ..functional import Image as _PIL  # noqa: N814 - PIL.Image, or None without PIL
from ..functional import InterpolationMode
from ._functional_meta import _clamp, _convert_format
from .functional import _dispatch, _pure, _register

_PIL_IMAGE = _PIL.Image if _PIL is not None else None


def rotate(inpt, angle, interpolation=InterpolationMode.NEAREST, expand=False, center=None,
           fill=None):  # fmt: skip
    """Rotate by ``angle`` degrees counter-clockwise about ``center`` (``expand``: a canvas
    holding the whole result); boxes become the enclosing box of their rotated corners."""
    return _dispatch(rotate, inpt, angle, interpolation=interpolation, expand=expand,
                     center=center, fill=fill)  # fmt: skip


def affine(inpt, angle, translate, scale, shear, interpolation=InterpolationMode.NEAREST,
           fill=None, center=None):  # fmt: skip
    """Rotate (clockwise), scale and shear about ``center``, then translate; boxes become the
    enclosing box of their moved corners."""
    return _dispatch(affine, inpt, angle, translate, scale, shear, interpolation=interpolation,
                     fill=fill, center=center)  # fmt: skip


def perspective(inpt, startpoints, endpoints, interpolation=InterpolationMode.BILINEAR,
                fill=None, coefficients=None):  # fmt: skip
    """Move the corners ``startpoints`` to ``endpoints`` (or warp by ``coefficients``); boxes
    become the enclosing box of their corners through the inverse map."""
    return _dispatch(perspective, inpt, startpoints, endpoints, interpolation=interpolation,
                     fill=fill, coefficients=coefficients)  # fmt: skip


def gaussian_blur(inpt, kernel_size, sigma=None):
    """Blur images and videos with a Gaussian kernel (masks and boxes pass through)."""
    return _dispatch(gaussian_blur, inpt, kernel_size, sigma)


def erase(inpt, i: int, j: int, h: int, w: int, v, inplace: bool = False):
    """Images and videos with the ``h×w`` window at ``(i, j)`` set to ``v``."""
    return _dispatch(erase, inpt, i, j, h, w, v, inplace)


def _rotate_image(img, angle, interpolation=InterpolationMode.NEAREST, expand=False,
                  center=None, fill=None):  # fmt: skip
    """v2's rotation: quarter turns about the centre are exact ``rot90`` (when the canvas
    allows), other angles the v1 warp."""
    if _warp.Image is not None and isinstance(img, _warp.Image.Image):
        return _warp.rotate(img, angle, interpolation, expand, center, fill)
    angle = angle % 360
    if center is None and (angle in (0, 180) or (angle in (90, 270) and
                                                 (expand or img.shape[-1] == img.shape[-2]))):  # fmt: skip
        return img.clone() if angle == 0 else img.rot90(angle // 90, dims=(-2, -1))
    return _warp.rotate(img, angle, interpolation, expand, center, fill)


def _image_kernel(op):
    def kernel(inpt, *args, **kwargs):
        out = op(_pure(inpt), *args, **kwargs)
        return tv_tensors.wrap(out, like=inpt) if isinstance(inpt, tv_tensors.TVTensor) else out

    return kernel


def _mask_kernel(op):
    """A mask kernel: ``op`` on the mask as a one-channel image, nearest sampling."""

    def kernel(mask, *args, interpolation=None, **kwargs):
        plain = _pure(mask)
        flat = plain.unsqueeze(0) if plain.ndim < 3 else plain
        out = op(flat, *args, interpolation=InterpolationMode.NEAREST, **kwargs)
        return tv_tensors.wrap(out.squeeze(0) if plain.ndim < 3 else out, like=mask)

    return kernel


for _functional, _op in ((rotate, _rotate_image), (affine, _warp.affine),
                         (perspective, _warp.perspective),
                         (gaussian_blur, _warp.gaussian_blur), (erase, _warp.erase)):  # fmt: skip
    kinds = (Tensor, Image, Video, _PIL_IMAGE if _functional is not erase else None)
    _register(_functional, *kinds)(_image_kernel(_op))
_register(rotate, Mask)(_mask_kernel(_rotate_image))
_register(affine, Mask)(_mask_kernel(_warp.affine))
_register(perspective, Mask)(_mask_kernel(_warp.perspective))


def affine_boxes(boxes, format: BoundingBoxFormat, canvas_size, angle, translate, scale, shear,
                 center=None, expand=False, clamping_mode="soft"):  # fmt: skip
    """Plain boxes through the forward affine warp: the enclosing XYXY box of the four moved
    corners, shifted onto the enlarged canvas with ``expand``, clamped. Returns (boxes,
    canvas)."""
    if boxes.numel() == 0:
        return boxes, canvas_size
    angle, translate, shear = _warp.affine_args(angle, translate, scale, shear, center)
    height, width = canvas_size
    center = [width * 0.5, height * 0.5] if center is None else center
    work = boxes.float() if not boxes.is_floating_point() else boxes
    xyxy = _convert_format(work, format, BoundingBoxFormat.XYXY).reshape(-1, 4)
    matrix = _warp.inverse_affine_matrix(center, angle, translate, scale, shear, inverted=False)
    transposed = from_numpy(np.asarray(matrix, work.dtype.numpy).reshape(2, 3).T.copy())
    corners = xyxy[:, [0, 1, 2, 1, 2, 3, 0, 3]].reshape(-1, 2)
    points = cat((corners, corners.new_ones(corners.shape[0], 1)), -1).matmul(transposed)
    points = points.reshape(-1, 4, 2)
    out = cat((points.amin(1), points.amax(1)), 1)
    if expand:
        canvas = np.array([[0, 0, 1], [0, height, 1], [width, height, 1], [width, 0, 1]])
        shift = (canvas.astype(work.dtype.numpy) @ transposed.numpy()).min(0)
        out = out - from_numpy(np.tile(shift, 2))
        inverse = _warp.inverse_affine_matrix(center, angle, translate, scale, shear)
        new_w, new_h = _warp.affine_output_size(inverse, width, height)
        canvas_size = (new_h, new_w)
    out = _clamp(out, BoundingBoxFormat.XYXY, canvas_size, clamping_mode)
    out = _convert_format(out, BoundingBoxFormat.XYXY, format).reshape(boxes.shape)
    return out.to(boxes.dtype), canvas_size


def _rotate_boxes(boxes, angle, interpolation=None, expand=False, center=None, fill=None):
    out, canvas = affine_boxes(_pure(boxes), boxes.format, boxes.canvas_size, -angle, [0, 0], 1.0,
                               [0.0, 0.0], center, expand, boxes.clamping_mode)  # fmt: skip
    return tv_tensors.wrap(out, like=boxes, canvas_size=canvas)


def _affine_boxes(boxes, angle, translate, scale, shear, interpolation=None, fill=None,
                  center=None):  # fmt: skip
    out, _ = affine_boxes(_pure(boxes), boxes.format, boxes.canvas_size, angle, translate, scale,
                          shear, center, False, boxes.clamping_mode)  # fmt: skip
    return tv_tensors.wrap(out, like=boxes)


_register(rotate, BoundingBoxes)(_rotate_boxes)
_register(affine, BoundingBoxes)(_affine_boxes)


def _perspective_boxes(boxes, startpoints, endpoints, interpolation=None, fill=None,
                       coefficients=None):  # fmt: skip
    """Boxes through a perspective warp: the corners through the inverse of the (output →
    input) map ``coefficients``, then their enclosing box, clamped."""
    plain = _pure(boxes)
    if plain.numel() == 0:
        return boxes
    a, b, c, d, e, f, g, h = _warp._perspective_args(startpoints, endpoints, coefficients)
    denom = a * e - b * d
    if denom == 0:
        raise RuntimeError(
            f"Provided perspective_coeffs {[a, b, c, d, e, f, g, h]} can not be inverted to "
            f"transform bounding boxes. Denominator is zero, denom={denom}"
        )
    inverse = [(e - f * h) / denom, (-b + c * h) / denom, (b * f - c * e) / denom,
               (-d + f * g) / denom, (a - c * g) / denom, (-a * f + c * d) / denom,
               (-e * g + d * h) / denom, (-a * h + b * g) / denom]  # fmt: skip
    work = plain if plain.is_floating_point() else plain.float()
    npdtype = work.dtype.numpy
    numer = from_numpy(np.array([inverse[0:3], inverse[3:6]], npdtype).T.copy())
    below = from_numpy(np.array([[inverse[6], inverse[7], 1.0]] * 2, npdtype).T.copy())
    xyxy = _convert_format(work, boxes.format, BoundingBoxFormat.XYXY).reshape(-1, 4)
    corners = xyxy[:, [0, 1, 2, 1, 2, 3, 0, 3]].reshape(-1, 2)
    points = cat((corners, corners.new_ones(corners.shape[0], 1)), -1)
    moved = (points.matmul(numer) / points.matmul(below)).reshape(-1, 4, 2)
    out = cat((moved.amin(1), moved.amax(1)), 1)
    out = _clamp(out, BoundingBoxFormat.XYXY, boxes.canvas_size, boxes.clamping_mode)
    out = _convert_format(out, BoundingBoxFormat.XYXY, boxes.format).reshape(plain.shape)
    return tv_tensors.wrap(out.to(plain.dtype), like=boxes)


_register(perspective, BoundingBoxes)(_perspective_boxes)
