"""The colour operations of the auto-augment policies: invert, posterize, solarize,
sharpness, autocontrast and equalize (v1 functionals, reused by v2).

Tensors follow torchvision's tensor arithmetic (the bound is 255 for uint8, 1 for floats);
PIL images go through ``PIL.ImageOps`` and ``ImageEnhance``, as torchvision's do.
"""

from __future__ import annotations

import numpy as np

from ... import dtypes
from ...creation import from_numpy, ones
from ...nn import functional as nnf
from ...ops.elementwise import where
from ...tensor import Tensor
from .functional import _blend, _check_image

try:
    from PIL import ImageEnhance, ImageOps
except ImportError:  # PIL is optional: only PIL images need it
    ImageEnhance = ImageOps = None


def max_value(dtype) -> float:
    """The brightest value of an image of ``dtype``: the integer maximum, 1 for floats."""
    return 1.0 if dtype.is_floating_point else int(np.iinfo(dtype.numpy).max)


def _need_image_tensor(img: Tensor, op: str, uint8: bool = False) -> None:
    if img.ndim < 3:
        raise TypeError(
            f"Input image tensor should have at least 3 dimensions, but found {img.ndim}"
        )
    if uint8 and img.dtype is not dtypes.uint8:
        raise TypeError(f"Only torch.uint8 image tensors are supported, but found {img.dtype}")


def invert(img):
    """The negative: ``bound - img``."""
    _check_image(img, "invert")
    if not isinstance(img, Tensor):
        return ImageOps.invert(img)
    _need_image_tensor(img, "invert")
    return max_value(img.dtype) - img


def posterize(img, bits: int):
    """Keep the ``bits`` highest bits of each uint8 channel value."""
    _check_image(img, "posterize")
    if not isinstance(img, Tensor):
        return ImageOps.posterize(img, bits)
    _need_image_tensor(img, "posterize", uint8=True)
    return img & (-int(2 ** (8 - bits)) & 0xFF)


def posterize_float(img: Tensor, bits: int) -> Tensor:
    """v2's posterize of a float image: ``2**bits`` levels, ``floor(x * levels) / levels``."""
    levels = 1 << bits
    return (img * levels).floor().clamp(0, levels - 1) * (1.0 / levels)


def solarize(img, threshold: float):
    """Invert the values at or above ``threshold``."""
    _check_image(img, "solarize")
    if not isinstance(img, Tensor):
        return ImageOps.solarize(img, threshold)
    _need_image_tensor(img, "solarize")
    if threshold > max_value(img.dtype):
        raise TypeError("Threshold should be less than bound of img.")
    return where(img >= threshold, invert(img), img)


def adjust_sharpness(img, sharpness_factor: float):
    """Blend with a smoothed copy (3×3, centre weight 5; borders kept): 0 smooths, 1 is the
    image, 2 sharpens."""
    if sharpness_factor < 0:
        raise ValueError(f"sharpness_factor ({sharpness_factor}) is not non-negative.")
    _check_image(img, "adjust_sharpness")
    if not isinstance(img, Tensor):
        return ImageEnhance.Sharpness(img).enhance(sharpness_factor)
    if img.shape[-1] <= 2 or img.shape[-2] <= 2:
        return img
    return _blend(img, _smoothed(img), sharpness_factor)


def _smoothed(img: Tensor) -> Tensor:
    dtype = img.dtype if img.dtype.is_floating_point else dtypes.float32
    channels = img.shape[-3]
    kernel = ones(3, 3, dtype=dtype, device=img.device)
    kernel[1, 1] = 5.0
    kernel = (kernel / 13.0).expand(channels, 1, 3, 3)
    flat = img.reshape(-1, channels, *img.shape[-2:])
    inner = nnf.conv2d(flat.to(dtype), kernel, groups=channels)
    if not img.dtype.is_floating_point:
        inner = inner.round().to(img.dtype)
    out = img.clone()
    out[..., 1:-1, 1:-1] = inner.reshape(*img.shape[:-2], *inner.shape[-2:])
    return out


def autocontrast(img):
    """Stretch each channel to span 0..bound (constant channels are left as they are)."""
    _check_image(img, "autocontrast")
    if not isinstance(img, Tensor):
        return ImageOps.autocontrast(img)
    _need_image_tensor(img, "autocontrast")
    bound = max_value(img.dtype)
    dtype = img.dtype if img.dtype.is_floating_point else dtypes.float32
    low = img.amin(dim=(-2, -1), keepdim=True).to(dtype)
    high = img.amax(dim=(-2, -1), keepdim=True).to(dtype)
    flat = high == low
    low = where(flat, 0.0, low)
    scale = where(flat, 1.0, bound / where(flat, 1.0, high - low))
    return ((img - low) * scale).clamp(0, bound).to(img.dtype)


def _equalize_channel(channel: np.ndarray) -> np.ndarray:
    """torchvision's histogram equalisation of one uint8 plane (PIL's lookup table)."""
    hist = np.bincount(channel.reshape(-1), minlength=256)
    nonzero = hist[hist != 0]
    step = int(nonzero[:-1].sum()) // 255
    if step == 0:
        return channel
    lut = (np.cumsum(hist) + step // 2) // step
    lut = np.clip(np.concatenate(([0], lut[:-1])), 0, 255)
    return lut[channel].astype(np.uint8)


def equalize(img):
    """Equalise each channel's histogram (uint8 tensors of 3 or 4 dimensions)."""
    _check_image(img, "equalize")
    if not isinstance(img, Tensor):
        return ImageOps.equalize(img)
    if not 3 <= img.ndim <= 4:
        raise TypeError(f"Input image tensor should have 3 or 4 dimensions, but found {img.ndim}")
    _need_image_tensor(img, "equalize", uint8=True)
    return equalize_planes(img)


def equalize_planes(img: Tensor) -> Tensor:
    """Equalise every ``H×W`` plane of a uint8 tensor of any rank."""
    planes = img.detach().cpu().numpy().reshape(-1, *img.shape[-2:])
    out = np.stack([_equalize_channel(plane) for plane in planes]).reshape(img.shape)
    return from_numpy(out).to(img.device)
