"""The image operations behind the transforms (``torchvision.transforms.functional``).

Each works on a PIL image (through PIL) or on a tensor of shape ``[..., C, H, W]`` (through
minigrad's ops, so tensor inputs stay differentiable where the op is), as torchvision's do.
Tensors of uint8 hold 0..255; floating tensors hold 0..1.
"""

from __future__ import annotations

import enum
import numbers

import numpy as np

from ... import dtypes
from ...creation import as_tensor, from_numpy, tensor
from ...nn import functional as nnf
from ...tensor import Tensor

try:
    from PIL import Image, ImageEnhance, ImageOps
except ImportError:  # PIL is optional: only PIL images need it
    Image = ImageEnhance = ImageOps = None


class InterpolationMode(enum.Enum):
    """How resizing fills pixels (torchvision's names; PIL's filters for PIL images)."""

    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


_PIL_CONSTANTS = {
    0: InterpolationMode.NEAREST, 2: InterpolationMode.BILINEAR, 3: InterpolationMode.BICUBIC,
    4: InterpolationMode.BOX, 5: InterpolationMode.HAMMING, 1: InterpolationMode.LANCZOS,
}  # fmt: skip


def _interpolation_modes_from_int(i: int) -> InterpolationMode:
    """The mode of Pillow's integer constant (``Image.BILINEAR`` is 2), as torchvision maps it
    (another integer: its ``KeyError``)."""
    return _PIL_CONSTANTS[i]


def _as_interpolation(interpolation):
    """An :class:`InterpolationMode` from a mode, its string value or Pillow's integer constant
    (``Image.BILINEAR``), as torchvision's transforms take them; anything else is returned for
    the caller to check."""
    if isinstance(interpolation, str):
        return InterpolationMode(interpolation)
    if isinstance(interpolation, int) and not isinstance(interpolation, bool):
        return _interpolation_modes_from_int(interpolation)
    return interpolation


def _pil_filter(mode: InterpolationMode):
    names = {"nearest-exact": "NEAREST"}
    return getattr(Image.Resampling, names.get(mode.value, mode.name))


def _is_pil_image(img) -> bool:
    return Image is not None and isinstance(img, Image.Image)


def _need_pil(what: str) -> None:
    if Image is None:
        raise ImportError(f"{what} needs PIL: pip install pillow")


def _check_image(img, op: str) -> None:
    if not (_is_pil_image(img) or isinstance(img, Tensor)):
        raise TypeError(f"{op}: img should be PIL Image or Tensor. Got {type(img)}")
    if isinstance(img, Tensor) and img.ndim < 2:
        raise TypeError(f"{op}: tensor is not a torch image: expected at least 2 dimensions")


def get_dimensions(img) -> list[int]:
    """``[channels, height, width]`` of a PIL image or an image tensor."""
    _check_image(img, "get_dimensions")
    if isinstance(img, Tensor):
        channels = 1 if img.ndim == 2 else img.shape[-3]
        return [channels, img.shape[-2], img.shape[-1]]
    width, height = img.size
    return [len(img.getbands()), height, width]


def get_image_size(img) -> list[int]:
    """``[width, height]`` (torchvision's order)."""
    _, height, width = get_dimensions(img)
    return [width, height]


def get_image_num_channels(img) -> int:
    return get_dimensions(img)[0]


_PIL_INTEGER_MODES = {"I": np.int32, "I;16": np.int16, "F": np.float32}


def to_tensor(pic) -> Tensor:
    """A PIL image or an ``H×W×C`` ndarray as a ``C×H×W`` tensor: 8-bit data scaled to float
    in [0, 1] (the default dtype), other data kept as it is (torchvision's ``ToTensor``)."""
    if isinstance(pic, np.ndarray):
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        array = pic[:, :, None] if pic.ndim == 2 else pic
        return _scaled_if_bytes(from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1))))
    if not _is_pil_image(pic):
        raise TypeError(f"pic should be PIL Image or ndarray. Got {type(pic)}")
    array = np.array(pic, _PIL_INTEGER_MODES.get(pic.mode, np.uint8), copy=True)
    if pic.mode == "1":
        array = array * np.uint8(255)
    array = array.reshape(pic.size[1], pic.size[0], len(pic.getbands()))
    return _scaled_if_bytes(from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1))))


def _scaled_if_bytes(img: Tensor) -> Tensor:
    if img.dtype is dtypes.uint8:
        return img.to(dtypes.get_default_dtype()).div(255)
    return img


def pil_to_tensor(pic) -> Tensor:
    """A PIL image as a ``C×H×W`` tensor of its own dtype (uint8 for 8-bit modes), unscaled."""
    if not _is_pil_image(pic):
        raise TypeError(f"pic should be PIL Image. Got {type(pic)}")
    array = np.array(pic, _PIL_INTEGER_MODES.get(pic.mode, np.uint8), copy=True)
    array = array.reshape(pic.size[1], pic.size[0], len(pic.getbands()))
    return from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1)))


def to_pil_image(pic, mode=None):
    """A ``C×H×W`` tensor or ``H×W×C`` ndarray as a PIL image: floats are scaled by 255 and
    truncated to bytes, as torchvision does; 1 channel gives ``L``, 3 ``RGB``, 4 ``RGBA``."""
    _need_pil("to_pil_image")
    if isinstance(pic, Tensor):
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        pic = pic.unsqueeze(0) if pic.ndim == 2 else pic
        if pic.dtype.is_floating_point and mode != "F":
            pic = pic.mul(255).to(dtypes.uint8)
        array = pic.detach().permute(1, 2, 0).numpy()
    elif isinstance(pic, np.ndarray):
        array = pic[:, :, None] if pic.ndim == 2 else pic
    else:
        raise TypeError(f"pic should be Tensor or ndarray. Got {type(pic)}.")
    if array.shape[2] == 1:
        array = array[:, :, 0]
        mode = mode or {np.uint8: "L", np.int16: "I;16", np.int32: "I", np.float32: "F"}.get(
            array.dtype.type
        )
    image = Image.fromarray(np.ascontiguousarray(array))
    return image.convert(mode) if mode and image.mode != mode else image


def normalize(tensor: Tensor, mean, std, inplace: bool = False) -> Tensor:
    """``(tensor - mean) / std`` per channel of a float image tensor ``[..., C, H, W]``."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"img should be Tensor Image. Got {type(tensor)}")
    if not tensor.dtype.is_floating_point:
        raise TypeError(f"Input tensor should be a float tensor. Got {tensor.dtype}.")
    if tensor.ndim < 3:
        raise ValueError(
            "Expected tensor to be a tensor image of size (..., C, H, W). Got tensor.size() = "
            f"{tensor.size()}"
        )
    mean = as_tensor(mean, dtype=tensor.dtype, device=tensor.device)
    std = as_tensor(std, dtype=tensor.dtype, device=tensor.device)
    if bool((std == 0).any()):
        raise ValueError(
            f"std evaluated to zero after conversion to {tensor.dtype}, leading to division by "
            "zero."
        )
    mean = mean.view(-1, 1, 1) if mean.ndim == 1 else mean
    std = std.view(-1, 1, 1) if std.ndim == 1 else std
    if inplace:
        return tensor.sub_(mean).div_(std)
    return tensor.sub(mean).div(std)


def hflip(img):
    """Mirror left to right."""
    _check_image(img, "hflip")
    if isinstance(img, Tensor):
        return img.flip(-1)
    return img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)


def vflip(img):
    """Mirror top to bottom."""
    _check_image(img, "vflip")
    if isinstance(img, Tensor):
        return img.flip(-2)
    return img.transpose(Image.Transpose.FLIP_TOP_BOTTOM)


def crop(img, top: int, left: int, height: int, width: int):
    """The ``height×width`` window at ``(top, left)``; parts outside the image are zeros."""
    _check_image(img, "crop")
    if not isinstance(img, Tensor):
        return img.crop((left, top, left + width, top + height))
    _, h, w = get_dimensions(img)
    right, bottom = left + width, top + height
    if left < 0 or top < 0 or right > w or bottom > h:
        widths = [max(-left, 0), max(right - w, 0), max(-top, 0), max(bottom - h, 0)]
        window = img[..., max(top, 0) : min(bottom, h), max(left, 0) : min(right, w)]
        return nnf.pad(window, widths, value=0)
    return img[..., top:bottom, left:right]


def _pair(size, what: str) -> tuple[int, int]:
    """``size`` as (h, w): a number or a one-element sequence is square."""
    if isinstance(size, numbers.Number):
        return int(size), int(size)
    if isinstance(size, (list, tuple)) and len(size) == 1:
        return int(size[0]), int(size[0])
    if isinstance(size, (list, tuple)) and len(size) == 2:
        return int(size[0]), int(size[1])
    raise ValueError(f"{what}: Please provide only two dimensions (h, w) for size.")


def center_crop(img, output_size):
    """The central ``output_size`` window (padded with zeros where the image is smaller)."""
    crop_h, crop_w = _pair(output_size, "center_crop")
    _, h, w = get_dimensions(img)
    if crop_w > w or crop_h > h:
        widths = [
            (crop_w - w) // 2,
            (crop_h - h) // 2,
            (crop_w - w + 1) // 2,
            (crop_h - h + 1) // 2,
        ]
        img = pad(img, [max(p, 0) for p in widths], fill=0)
        _, h, w = get_dimensions(img)
        if crop_w == w and crop_h == h:
            return img
    top, left = int(round((h - crop_h) / 2.0)), int(round((w - crop_w) / 2.0))
    return crop(img, top, left, crop_h, crop_w)


def _padding_ltrb(padding) -> list[int]:
    if isinstance(padding, numbers.Number):
        return [int(padding)] * 4
    padding = list(padding)
    if len(padding) == 1:
        return padding * 4
    if len(padding) == 2:
        return [padding[0], padding[1], padding[0], padding[1]]
    if len(padding) == 4:
        return padding
    raise ValueError(
        f"Padding must be an int or a 1, 2, or 4 element tuple, not a {len(padding)} element tuple"
    )


_PAD_MODES = {"constant": "constant", "edge": "replicate", "reflect": "reflect", "symmetric": None}


def pad(img, padding, fill=0, padding_mode: str = "constant"):
    """Pad the borders: ``padding`` is one width, (left/right, top/bottom) or (left, top,
    right, bottom); ``padding_mode`` constant (``fill``), edge, reflect or symmetric."""
    if padding_mode not in _PAD_MODES:
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
    left, top, right, bottom = _padding_ltrb(padding)
    if not isinstance(img, Tensor):
        _check_image(img, "pad")
        array = np.asarray(img)
        widths = [(top, bottom), (left, right)] + [(0, 0)] * (array.ndim - 2)
        numpy_mode = {"edge": "edge", "reflect": "reflect", "symmetric": "symmetric"}
        if padding_mode == "constant":
            padded = np.pad(array, widths, constant_values=fill)
        else:
            padded = np.pad(array, widths, mode=numpy_mode[padding_mode])
        out = Image.fromarray(padded)
        return out.convert(img.mode) if out.mode != img.mode else out
    if padding_mode == "symmetric":
        array = np.pad(
            img.numpy(), [(0, 0)] * (img.ndim - 2) + [(top, bottom), (left, right)], "symmetric"
        )
        return tensor(array)
    mode = _PAD_MODES[padding_mode]
    if mode == "constant":
        return nnf.pad(img, [left, right, top, bottom], value=float(fill))
    flat = img.reshape(1, -1, *img.shape[-2:])  # 4-D, as F.pad's non-constant modes take
    out = nnf.pad(
        flat.float() if not flat.dtype.is_floating_point else flat,
        [left, right, top, bottom],
        mode=mode,
    )
    return out.to(img.dtype).reshape(*img.shape[:-2], *out.shape[-2:])


def _resized_size(height: int, width: int, size, max_size) -> tuple[int, int]:
    """torchvision's output size: an int (or 1-list) sets the shorter side, keeping the
    aspect ratio (the longer side capped at ``max_size``); a pair is (h, w)."""
    if isinstance(size, (list, tuple)) and len(size) == 2:
        if max_size is not None:
            raise ValueError(
                "max_size should only be passed if size specifies the length of the smaller "
                "edge, i.e. size should be an int or a sequence of length 1 in torchscript mode."
            )
        return int(size[0]), int(size[1])
    if isinstance(size, (list, tuple)):
        if len(size) != 1:
            raise ValueError(
                f"Size must be an int or a 1 or 2 element tuple/list, not a {len(size)} element "
                "tuple/list"
            )
        size = size[0]
    short, long = (width, height) if width <= height else (height, width)
    new_short, new_long = int(size), int(int(size) * long / short)
    if max_size is not None:
        if max_size <= size:
            raise ValueError(
                f"max_size = {max_size} must be strictly greater than the requested size for "
                f"the smaller edge size = {size}"
            )
        if new_long > max_size:
            new_short, new_long = int(max_size * new_short / new_long), max_size
    new_w, new_h = (new_short, new_long) if width <= height else (new_long, new_short)
    return new_h, new_w


def resize(img, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
    """Resize to ``size`` (see :func:`_resized_size`); tensors through
    :func:`minigrad.nn.functional.interpolate` (antialiased when shrinking, as torchvision's
    default), integer tensors rounded back to their dtype; PIL images through PIL's filters."""
    interpolation = _as_interpolation(interpolation)
    _, height, width = get_dimensions(img)
    new_h, new_w = _resized_size(height, width, size, max_size)
    if (new_h, new_w) == (height, width):
        return img
    if not isinstance(img, Tensor):
        return img.resize((new_w, new_h), _pil_filter(interpolation))
    if interpolation not in (InterpolationMode.NEAREST, InterpolationMode.NEAREST_EXACT,
                             InterpolationMode.BILINEAR, InterpolationMode.BICUBIC):  # fmt: skip
        raise ValueError(f"Input interpolation mode {interpolation} is not supported for tensors")
    batched = img.reshape(-1, *img.shape[-3:]) if img.ndim >= 3 else img[None, None]
    floating = batched if batched.dtype.is_floating_point else batched.float()
    smooth = interpolation in (InterpolationMode.BILINEAR, InterpolationMode.BICUBIC)
    out = nnf.interpolate(
        floating, size=(new_h, new_w), mode=interpolation.value,
        align_corners=False if smooth else None, antialias=bool(antialias) and smooth,
    )  # fmt: skip
    if not batched.dtype.is_floating_point:  # back to the integers, within the dtype's range
        limits = np.iinfo(batched.dtype.numpy)
        out = out.round().clamp(float(limits.min), float(limits.max)).to(batched.dtype)
    return out.reshape(*img.shape[:-2], new_h, new_w)


def resized_crop(
    img,
    top: int,
    left: int,
    height: int,
    width: int,
    size,
    interpolation=InterpolationMode.BILINEAR,
    antialias=True,
):
    """:func:`crop` then :func:`resize` to ``size`` (``RandomResizedCrop``'s two steps)."""
    return resize(crop(img, top, left, height, width), size, interpolation, antialias=antialias)


def convert_image_dtype(image: Tensor, dtype=dtypes.float32) -> Tensor:
    """Convert an image tensor's dtype, rescaling values (uint8 0..255 ↔ float 0..1)."""
    if not isinstance(image, Tensor):
        raise TypeError("Input img should be Tensor Image")
    return scale_image_dtype(image, dtype, v2=False)


def scale_image_dtype(image: Tensor, dtype, *, v2: bool) -> Tensor:
    """``image`` as ``dtype`` with its values rescaled, as torchvision's v1 ``convert_image_dtype``
    or (``v2``) v2's ``to_dtype(scale=True)``: integers become floats by a division by the
    integer dtype's maximum in v1, by a product with its reciprocal in v2 (so the last bit
    differs, as it does between torchvision's two), and v2 words its refusal differently."""
    if image.dtype is dtype:
        return image
    if image.dtype.is_floating_point:
        if dtype.is_floating_point:
            return image.to(dtype)
        if (image.dtype, dtype) in ((dtypes.float32, dtypes.int32), (dtypes.float32, dtypes.int64),
                                    (dtypes.float64, dtypes.int64)):  # fmt: skip
            verb = "conversion" if v2 else "cast"
            raise RuntimeError(
                f"The {verb} from {image.dtype} to {dtype} cannot be performed safely."
            )
        eps = 1e-3
        top = float(np.iinfo(dtype.numpy).max)
        return image.mul(top + 1.0 - eps).to(dtype)
    top_in = float(np.iinfo(image.dtype.numpy).max)
    if dtype.is_floating_point:
        return image.to(dtype).mul(1.0 / top_in) if v2 else image.to(dtype).div(top_in)
    top_out = float(np.iinfo(dtype.numpy).max)
    if top_in > top_out:
        factor = int((top_in + 1) // (top_out + 1))
        return image.div(factor, rounding_mode="floor").to(dtype)
    factor = int((top_out + 1) // (top_in + 1))
    return image.to(dtype).mul(factor)


def rgb_to_grayscale(img, num_output_channels: int = 1):
    """ITU-R 601-2 luma (0.2989 R + 0.587 G + 0.114 B), repeated to ``num_output_channels``."""
    if num_output_channels not in (1, 3):
        raise ValueError("num_output_channels should be either 1 or 3")
    if not isinstance(img, Tensor):
        _check_image(img, "rgb_to_grayscale")
        grey = img.convert("L")
        return Image.merge("RGB", [grey] * 3) if num_output_channels == 3 else grey
    if img.shape[-3] == 1:
        grey = img
    else:
        r, g, b = img.unbind(dim=-3)
        grey = (0.2989 * r + 0.587 * g + 0.114 * b).to(img.dtype).unsqueeze(-3)
    return (
        grey.expand(*img.shape[:-3], num_output_channels, *img.shape[-2:]).clone()
        if num_output_channels == 3
        else grey
    )


def _blend(img1: Tensor, img2, ratio: float) -> Tensor:
    bound = 1.0 if img1.dtype.is_floating_point else 255.0
    return (ratio * img1 + (1.0 - ratio) * img2).clamp(0, bound).to(img1.dtype)


def adjust_brightness(img, brightness_factor: float):
    """Scale brightness: 0 gives black, 1 the image, 2 twice as bright."""
    if brightness_factor < 0:
        raise ValueError(f"brightness_factor ({brightness_factor}) is not non-negative.")
    if not isinstance(img, Tensor):
        return ImageEnhance.Brightness(img).enhance(brightness_factor)
    return _blend(img, 0.0, brightness_factor)


def adjust_contrast(img, contrast_factor: float):
    """Blend with the mean grey level: 0 gives a solid grey image, 1 the image."""
    if contrast_factor < 0:
        raise ValueError(f"contrast_factor ({contrast_factor}) is not non-negative.")
    if not isinstance(img, Tensor):
        return ImageEnhance.Contrast(img).enhance(contrast_factor)
    grey = rgb_to_grayscale(img) if img.shape[-3] == 3 else img
    mean = grey.float().mean(dim=(-3, -2, -1), keepdim=True)
    return _blend(img, mean, contrast_factor)


def adjust_saturation(img, saturation_factor: float):
    """Blend with the grey image: 0 gives black and white, 1 the image."""
    if saturation_factor < 0:
        raise ValueError(f"saturation_factor ({saturation_factor}) is not non-negative.")
    if not isinstance(img, Tensor):
        return ImageEnhance.Color(img).enhance(saturation_factor)
    if img.shape[-3] == 1:
        return img
    return _blend(img, rgb_to_grayscale(img), saturation_factor)


def _rgb_to_hsv(img: Tensor) -> Tensor:
    """Float RGB ``[..., 3, H, W]`` in [0, 1] → HSV, hue in [0, 1) (grey pixels get hue 0)."""
    from ...ops.elementwise import where
    from ...ops.joining import stack

    r, g, b = img.unbind(dim=-3)
    maxc, minc = img.amax(dim=-3), img.amin(dim=-3)
    delta = maxc - minc
    grey = delta == 0
    safe = where(grey, 1.0, delta)
    s = delta / where(grey, 1.0, maxc)
    rc, gc, bc = (maxc - r) / safe, (maxc - g) / safe, (maxc - b) / safe
    h = where(maxc == r, bc - gc, where(maxc == g, 2.0 + rc - bc, 4.0 + gc - rc))
    return stack(((h / 6.0 + 1.0).fmod(1.0), s, maxc), dim=-3)


def _hsv_to_rgb(img: Tensor) -> Tensor:
    """HSV ``[..., 3, H, W]`` → RGB: the sextant ``i`` of the hue picks which of v, p, q, t each
    channel takes."""
    from ...ops.elementwise import where
    from ...ops.joining import stack

    h, s, v = img.unbind(dim=-3)
    i = (h * 6).floor()
    f = h * 6 - i
    i = i.to(dtypes.int32).remainder(6)
    p = (v * (1.0 - s)).clamp(0.0, 1.0)
    q = (v * (1.0 - s * f)).clamp(0.0, 1.0)
    t = (v * (1.0 - s * (1.0 - f))).clamp(0.0, 1.0)
    r = where((i == 0) | (i == 5), v, where(i == 1, q, where(i == 4, t, p)))
    g = where(i == 0, t, where((i == 1) | (i == 2), v, where(i == 3, q, p)))
    b = where(i == 2, t, where((i == 3) | (i == 4), v, where(i == 5, q, p)))
    return stack((r, g, b), dim=-3)


def adjust_hue(img, hue_factor: float):
    """Rotate the hue by ``hue_factor`` of a turn (in [-0.5, 0.5]) in HSV space; one-channel
    images are returned as they are (as PIL does)."""
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    if not isinstance(img, Tensor):
        _check_image(img, "adjust_hue")
        if img.mode in ("L", "1", "I", "F"):
            return img
        h, s, v = img.convert("HSV").split()
        hue = np.array(h, dtype=np.uint8)
        hue += np.int32(hue_factor * 255).astype(np.uint8)  # wraps around, as a hue should
        return Image.merge("HSV", (Image.fromarray(hue, "L"), s, v)).convert(img.mode)
    channels = img.shape[-3]
    if channels not in (1, 3):
        raise TypeError(
            f"Input image tensor permitted channel values are 1 or 3, but found {channels}"
        )
    if channels == 1 or img.numel() == 0:
        return img
    hsv = _rgb_to_hsv(convert_image_dtype(img, dtypes.float32))
    from ...ops.joining import stack

    h, s, v = hsv.unbind(dim=-3)
    rotated = stack(((h + hue_factor).remainder(1.0), s, v), dim=-3)
    return convert_image_dtype(_hsv_to_rgb(rotated), img.dtype)


from ._color import (  # noqa: E402, F401 - the colour operations use the above
    adjust_sharpness,
    autocontrast,
    equalize,
    invert,
    posterize,
    solarize,
)
from ._elastic import elastic_transform  # noqa: E402, F401 - uses the warps above
from ._warp import (  # noqa: E402, F401 - the warps use the above
    affine,
    erase,
    gaussian_blur,
    perspective,
    rotate,
)
