"""Affine warps, rotations, Gaussian blur and erasing (v1 functionals, reused by v2).

Tensors are warped as torchvision warps them: the inverse affine matrix maps each output
pixel centre (coordinates about the image centre) to an input position, normalised to
[-1, 1] by the input size, and :func:`minigrad.nn.functional.grid_sample` reads the image
there (``align_corners=False``, zeros outside). A ``fill`` colour rides along as an extra
all-ones channel whose sampled value says how much of each output pixel came from inside
the image. PIL images go through PIL's own ``transform`` and ``rotate``.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ... import dtypes
from ...creation import from_numpy, ones, tensor
from ...nn import functional as nnf
from ...ops.elementwise import where
from ...ops.joining import cat
from ...tensor import Tensor
from .functional import (
    InterpolationMode,
    _as_interpolation,
    _check_image,
    _need_pil,
    get_dimensions,
)

try:
    from PIL import Image
except ImportError:  # PIL is optional: only PIL images need it
    Image = None


def inverse_affine_matrix(center, angle, translate, scale, shear, inverted=True) -> list[float]:
    """The 2×3 matrix (row-major, 6 floats) of rotation by ``angle`` degrees, ``scale``,
    ``shear`` (x, y degrees) about ``center`` then ``translate``; by default its inverse
    (output pixel → input pixel, what a warp samples and what PIL wants)."""
    rot, sx, sy = math.radians(angle), math.radians(shear[0]), math.radians(shear[1])
    (cx, cy), (tx, ty) = center, translate
    a = math.cos(rot - sy) / math.cos(sy)
    b = -math.cos(rot - sy) * math.tan(sx) / math.cos(sy) - math.sin(rot)
    c = math.sin(rot - sy) / math.cos(sy)
    d = -math.sin(rot - sy) * math.tan(sx) / math.cos(sy) + math.cos(rot)
    if inverted:  # the rotation-shear block has determinant 1
        m = [x / scale for x in (d, -b, 0.0, -c, a, 0.0)]
        m[2] += m[0] * (-cx - tx) + m[1] * (-cy - ty) + cx
        m[5] += m[3] * (-cx - tx) + m[4] * (-cy - ty) + cy
        return m
    m = [x * scale for x in (a, b, 0.0, c, d, 0.0)]
    m[2] += m[0] * (-cx) + m[1] * (-cy) + cx + tx
    m[5] += m[3] * (-cx) + m[4] * (-cy) + cy + ty
    return m


def affine_grid_for(matrix, w: int, h: int, ow: int, oh: int, dtype) -> Tensor:
    """The ``[1, oh, ow, 2]`` sampling grid: output pixel centres about the output's centre,
    through ``matrix``, divided by half the input size (torchvision's construction)."""
    npdtype = dtype.numpy
    xs = np.linspace((1.0 - ow) * 0.5, (ow - 1.0) * 0.5, ow, dtype=np.float32).astype(npdtype)
    ys = np.linspace((1.0 - oh) * 0.5, (oh - 1.0) * 0.5, oh, dtype=np.float32).astype(npdtype)
    base = np.ones((oh, ow, 3), npdtype)
    base[..., 0], base[..., 1] = xs[None, :], ys[:, None]
    theta = np.asarray(matrix, npdtype).reshape(2, 3).T / np.asarray([0.5 * w, 0.5 * h], npdtype)
    return from_numpy((base.reshape(-1, 3) @ theta).reshape(1, oh, ow, 2).astype(npdtype))


def apply_grid(img: Tensor, grid: Tensor, mode: str, fill) -> Tensor:
    """``img`` ``[..., C, H, W]`` sampled at ``grid``; outside pixels are zeros, or ``fill``
    (one value or one per channel) blended by how much of the pixel fell outside; integer
    images are rounded back to their dtype."""
    channels, height, width = img.shape[-3:]
    out_shape = (*img.shape[:-3], channels, grid.shape[1], grid.shape[2])
    if img.numel() == 0:
        return img.reshape(out_shape)
    flat = img.reshape(-1, channels, height, width)
    floating = flat if flat.dtype is grid.dtype else flat.to(grid.dtype)
    if flat.shape[0] > 1:
        grid = grid.expand(flat.shape[0], -1, -1, -1)
    if fill is not None:
        mask = ones(flat.shape[0], 1, height, width, dtype=grid.dtype, device=img.device)
        floating = cat((floating, mask), 1)
    out = nnf.grid_sample(floating, grid, mode=mode, padding_mode="zeros", align_corners=False)
    if fill is not None:
        out, mask = out[:, :-1], out[:, -1:]
        values = list(fill) if isinstance(fill, (list, tuple)) else [float(fill)]
        colour = tensor(values, dtype=out.dtype, device=out.device).view(1, -1, 1, 1)
        if mode == "nearest":
            out = where(mask < 0.5, colour.expand_as(out), out)
        else:
            out = (out - colour) * mask + colour
    if flat.dtype is not grid.dtype:  # (integer images rounded back, as torchvision's)
        out = (out if flat.dtype.is_floating_point else out.round()).to(flat.dtype)
    return out.reshape(out_shape)


def _check_grid_inputs(img: Tensor, interpolation: InterpolationMode, fill) -> None:
    if isinstance(fill, (list, tuple)) and len(fill) > 1 and len(fill) != img.shape[-3]:
        raise ValueError(
            "The number of elements in 'fill' cannot broadcast to match the number of channels "
            f"of the image ({len(fill)} != {img.shape[-3]})"
        )
    if fill is not None and not isinstance(fill, (list, tuple, int, float)):
        raise ValueError("Argument fill should be either int, float, tuple or list")
    if interpolation.value not in ("nearest", "bilinear"):
        raise ValueError(
            f"Interpolation mode '{interpolation.value}' is unsupported with Tensor input"
        )


def affine_output_size(matrix, w: int, h: int) -> tuple[int, int]:
    """``(w, h)`` of the canvas holding the whole warped image (``expand``), as PIL sizes it:
    the corners through ``matrix``, truncated to 1e-4 before the ceiling and floor."""
    corners = np.array([[-0.5 * w, -0.5 * h, 1], [-0.5 * w, 0.5 * h, 1], [0.5 * w, 0.5 * h, 1],
                        [0.5 * w, -0.5 * h, 1]], np.float32)  # fmt: skip
    points = corners @ np.asarray(matrix, np.float32).reshape(2, 3).T
    half = np.array([0.5 * w, 0.5 * h], np.float32)
    low, high = points.min(0) + half, points.max(0) + half
    size = np.ceil(np.trunc(high / 1e-4) * 1e-4) - np.floor(np.trunc(low / 1e-4) * 1e-4)
    return int(size[0]), int(size[1])


def _interpolation_mode(interpolation) -> InterpolationMode:
    interpolation = _as_interpolation(interpolation)
    if not isinstance(interpolation, InterpolationMode):
        raise TypeError(
            "Argument interpolation should be a InterpolationMode or a corresponding Pillow "
            "integer constant"
        )
    return interpolation


def _pil_fill(fill, img) -> dict:
    """PIL's ``fillcolor``: one value per band, integers unless the image is float."""
    bands = len(img.getbands())
    fill = 0 if fill is None else fill
    if isinstance(fill, (int, float)) and bands > 1:
        fill = (fill,) * bands
    if isinstance(fill, (list, tuple)):
        if len(fill) == 1:
            fill = tuple(fill) * bands
        elif len(fill) != bands:
            raise ValueError(
                "The number of elements in 'fill' does not match the number of channels of the "
                f"image ({len(fill)} != {bands})"
            )
        return {"fillcolor": tuple(fill) if img.mode == "F" else tuple(int(x) for x in fill)}
    return {"fillcolor": fill if img.mode == "F" else int(fill)}


def _pil_resample(interpolation: InterpolationMode):
    return getattr(Image.Resampling, interpolation.name)


def warp_tensor(img: Tensor, matrix, interpolation, fill, out_size=None) -> Tensor:
    """``img`` warped by the inverse ``matrix`` (about the image centre) onto ``out_size``
    ``(w, h)`` (the input's by default)."""
    _check_grid_inputs(img, interpolation, fill)
    height, width = img.shape[-2:]
    ow, oh = out_size or (width, height)
    dtype = img.dtype if img.dtype.is_floating_point else dtypes.float32
    grid = affine_grid_for(matrix, width, height, ow, oh, dtype).to(img.device)
    return apply_grid(img, grid, interpolation.value, fill)


def _shear_pair(shear) -> list[float]:
    if isinstance(shear, numbers.Number):
        return [float(shear), 0.0]
    if not isinstance(shear, (list, tuple)):
        raise TypeError("Shear should be either a single value or a sequence of two values")
    shear = [shear[0], shear[0]] if len(shear) == 1 else list(shear)
    if len(shear) != 2:
        raise ValueError(f"Shear should be a sequence containing two values. Got {shear}")
    return [float(s) for s in shear]


def affine_args(angle, translate, scale, shear, center):
    """torchvision's checks of ``affine``'s arguments; the shear as ``[x, y]``."""
    if not isinstance(angle, (int, float)):
        raise TypeError("Argument angle should be int or float")
    if not isinstance(translate, (list, tuple)):
        raise TypeError("Argument translate should be a sequence")
    if len(translate) != 2:
        raise ValueError("Argument translate should be a sequence of length 2")
    if scale <= 0.0:
        raise ValueError("Argument scale should be positive")
    if center is not None and not isinstance(center, (list, tuple)):
        raise TypeError("Argument center should be a sequence")
    return float(angle), [float(t) for t in translate], _shear_pair(shear)


def _centre_offset(center, width: int, height: int) -> list[float]:
    """``center`` in pixels from the top-left, as an offset from the image centre."""
    if center is None:
        return [0.0, 0.0]
    return [float(c) - s * 0.5 for c, s in zip(center, (width, height))]


def affine(img, angle, translate, scale, shear, interpolation=InterpolationMode.NEAREST,
           fill=None, center=None):  # fmt: skip
    """Rotate by ``angle`` degrees (clockwise), scale, shear (degrees, x then y) about
    ``center`` (the image centre by default), then translate by ``translate`` pixels."""
    _check_image(img, "affine")
    interpolation = _interpolation_mode(interpolation)
    angle, translate, shear = affine_args(angle, translate, scale, shear, center)
    _, height, width = get_dimensions(img)
    if not isinstance(img, Tensor):
        _need_pil("affine")
        pivot = center if center is not None else [width * 0.5, height * 0.5]
        matrix = inverse_affine_matrix(pivot, angle, translate, scale, shear)
        return img.transform(img.size, Image.Transform.AFFINE, matrix,
                             _pil_resample(interpolation), **_pil_fill(fill, img))  # fmt: skip
    matrix = inverse_affine_matrix(_centre_offset(center, width, height), angle, translate,
                                   scale, shear)  # fmt: skip
    return warp_tensor(img, matrix, interpolation, fill)


def rotate(img, angle, interpolation=InterpolationMode.NEAREST, expand=False, center=None,
           fill=None):  # fmt: skip
    """Rotate by ``angle`` degrees counter-clockwise about ``center``; ``expand`` enlarges the
    canvas to hold the whole rotated image."""
    _check_image(img, "rotate")
    interpolation = _interpolation_mode(interpolation)
    if not isinstance(angle, (int, float)):
        raise TypeError("Argument angle should be int or float")
    if center is not None and not isinstance(center, (list, tuple)):
        raise TypeError("Argument center should be a sequence")
    if not isinstance(img, Tensor):
        _need_pil("rotate")
        return img.rotate(angle, _pil_resample(interpolation), expand, center,
                          **_pil_fill(fill, img))  # fmt: skip
    height, width = img.shape[-2:]
    matrix = inverse_affine_matrix(_centre_offset(center, width, height), -angle, [0.0, 0.0],
                                   1.0, [0.0, 0.0])  # fmt: skip
    size = affine_output_size(matrix, width, height) if expand else None
    return warp_tensor(img, matrix, interpolation, fill, size)


def _gaussian_kernel1d(size: int, sigma: float, dtype) -> Tensor:
    half = (size - 1) * 0.5
    x = np.linspace(-half, half, size, dtype=np.float32).astype(dtype.numpy)
    pdf = np.exp(-0.5 * (x / np.asarray(sigma, dtype.numpy)) ** 2)
    return from_numpy(pdf / pdf.sum())


def _blur_args(kernel_size, sigma) -> tuple[list[int], list[float]]:
    if not isinstance(kernel_size, (int, list, tuple)):
        raise TypeError(
            f"kernel_size should be int or a sequence of integers. Got {type(kernel_size)}"
        )
    kernel_size = [kernel_size, kernel_size] if isinstance(kernel_size, int) else list(kernel_size)
    if len(kernel_size) != 2:
        raise ValueError(
            f"If kernel_size is a sequence its length should be 2. Got {len(kernel_size)}"
        )
    if any(k % 2 == 0 or k < 0 for k in kernel_size):
        raise ValueError(f"kernel_size should have odd and positive integers. Got {kernel_size}")
    if sigma is None:
        sigma = [k * 0.15 + 0.35 for k in kernel_size]
    if not isinstance(sigma, (int, float, list, tuple)):
        raise TypeError(f"sigma should be either float or sequence of floats. Got {type(sigma)}")
    sigma = [float(sigma)] * 2 if isinstance(sigma, (int, float)) else list(sigma)
    sigma = sigma * 2 if len(sigma) == 1 else sigma
    if len(sigma) != 2:
        raise ValueError(f"If sigma is a sequence, its length should be 2. Got {len(sigma)}")
    if any(s <= 0.0 for s in sigma):
        raise ValueError(f"sigma should have positive values. Got {sigma}")
    return kernel_size, [float(s) for s in sigma]


def gaussian_blur(img, kernel_size, sigma=None):
    """Blur with a Gaussian kernel of ``kernel_size`` (odd; x then y) and ``sigma`` (x, y;
    by default ``0.15 * size + 0.35``), borders reflected; PIL images through tensors."""
    _check_image(img, "gaussian_blur")
    kernel_size, sigma = _blur_args(kernel_size, sigma)
    if not isinstance(img, Tensor):
        from .functional import pil_to_tensor, to_pil_image

        return to_pil_image(gaussian_blur(pil_to_tensor(img), kernel_size, sigma), mode=img.mode)
    channels, height, width = img.shape[-3:] if img.ndim >= 3 else (1, *img.shape)
    dtype = img.dtype if img.dtype.is_floating_point else dtypes.float32
    kx = _gaussian_kernel1d(kernel_size[0], sigma[0], dtype)
    ky = _gaussian_kernel1d(kernel_size[1], sigma[1], dtype)
    kernel = (ky[:, None] * kx[None, :]).to(img.device)
    kernel = kernel.expand(channels, 1, kernel_size[1], kernel_size[0])
    flat = img.reshape(-1, channels, height, width)
    floating = flat if flat.dtype is dtype else flat.to(dtype)
    pads = [kernel_size[0] // 2] * 2 + [kernel_size[1] // 2] * 2
    out = nnf.conv2d(nnf.pad(floating, pads, mode="reflect"), kernel, groups=channels)
    if flat.dtype is not dtype:
        out = out.round().to(flat.dtype)
    return out.reshape(img.shape)


def erase(img: Tensor, i: int, j: int, h: int, w: int, v, inplace: bool = False) -> Tensor:
    """``img`` with the ``h×w`` window at ``(i, j)`` set to ``v`` (broadcast over it)."""
    if not isinstance(img, Tensor):
        raise TypeError(f"img should be Tensor Image. Got {type(img)}")
    out = img if inplace else img.clone()
    out[..., i : i + h, j : j + w] = v
    return out


def perspective_coeffs(startpoints, endpoints) -> list[float]:
    """The eight coefficients ``(a, b, c, d, e, f, g, h)`` mapping each output pixel
    ``(x, y)`` to the input at ``((ax + by + c) / (gx + hy + 1), (dx + ey + f) / (gx + hy +
    1))`` so that ``endpoints`` land on ``startpoints`` (four corners each; solved in float64,
    rounded to float32 as torchvision does)."""
    if len(startpoints) != 4 or len(endpoints) != 4:
        raise ValueError(
            f"Please provide exactly four corners, got {len(startpoints)} startpoints and "
            f"{len(endpoints)} endpoints."
        )
    rows = []
    for (x, y), (u, v) in zip(endpoints, startpoints):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    solution = np.linalg.lstsq(np.array(rows, np.float64),
                               np.array(startpoints, np.float64).reshape(8), rcond=None)[0]  # fmt: skip
    return solution.astype(np.float32).tolist()


def perspective_grid(coeffs, ow: int, oh: int, dtype) -> Tensor:
    """The ``[1, oh, ow, 2]`` grid of a perspective warp: pixel centres through ``coeffs``,
    normalised to [-1, 1] by the output size (torchvision's construction)."""
    npdtype = dtype.numpy
    base = np.ones((oh, ow, 3), npdtype)
    base[..., 0] = np.linspace(0.5, ow - 0.5, ow, dtype=np.float32)[None, :]
    base[..., 1] = np.linspace(0.5, oh - 0.5, oh, dtype=np.float32)[:, None]
    a, b, c, d, e, f, g, h = coeffs
    theta1 = np.array([[a, b, c], [d, e, f]], npdtype).T / np.array([0.5 * ow, 0.5 * oh], npdtype)
    theta2 = np.array([[g, h, 1.0], [g, h, 1.0]], npdtype).T
    flat = base.reshape(-1, 3)
    grid = (flat @ theta1) / (flat @ theta2) - 1.0
    return from_numpy(grid.reshape(1, oh, ow, 2).astype(npdtype))


def perspective(img, startpoints, endpoints, interpolation=InterpolationMode.BILINEAR, fill=None,
                coefficients=None):  # fmt: skip
    """Warp so that the four ``startpoints`` corners (top-left, top-right, bottom-right,
    bottom-left) move to ``endpoints``; ``coefficients`` may be given instead of the points."""
    _check_image(img, "perspective")
    interpolation = _interpolation_mode(interpolation)
    coeffs = _perspective_args(startpoints, endpoints, coefficients)
    if not isinstance(img, Tensor):
        _need_pil("perspective")
        return img.transform(img.size, Image.Transform.PERSPECTIVE, coeffs,
                             _pil_resample(interpolation), **_pil_fill(fill, img))  # fmt: skip
    _check_grid_inputs(img, interpolation, fill)
    height, width = img.shape[-2:]
    dtype = img.dtype if img.dtype.is_floating_point else dtypes.float32
    grid = perspective_grid(coeffs, width, height, dtype).to(img.device)
    return apply_grid(img, grid, interpolation.value, fill)


def _perspective_args(startpoints, endpoints, coefficients) -> list[float]:
    if coefficients is not None:
        if startpoints is not None or endpoints is not None:
            raise ValueError(
                "The startpoints/endpoints and the coefficients shouldn't be defined concurrently."
            )
        if len(coefficients) != 8:
            raise ValueError("Argument coefficients should have 8 float values")
        return list(coefficients)
    if startpoints is None or endpoints is None:
        raise ValueError(
            "The startpoints/endpoints or the coefficients must have non `None` values."
        )
    return perspective_coeffs(startpoints, endpoints)
