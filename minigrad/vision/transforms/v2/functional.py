"""``torchvision.transforms.v2.functional``: each operation dispatched on its input's kind.

A functional looks up the kernel registered for the input's class (along its MRO): images
(a plain tensor, :class:`~minigrad.vision.tv_tensors.Image`, a PIL image), videos, masks and
bounding boxes each get the right one, and TVTensor inputs come back as the same TVTensor
(boxes with their new ``canvas_size``). The pixel work is v1's
(:mod:`minigrad.vision.transforms.functional`); what is here is the dispatch and the
mask and box geometry (boxes follow the image's flips, crops, pads and resizes).
"""

from __future__ import annotations

import numpy as np

from .... import dtypes
from ....creation import from_numpy
from ....tensor import Tensor
from ... import tv_tensors
from ..._missing import missing_names as _missing_names
from ...tv_tensors import BoundingBoxes, Image, Mask, TVTensor, Video
from .. import _color
from .. import functional as _F
from ..functional import Image as _PIL  # noqa: N814 - PIL.Image, or None without PIL
from ..functional import (
    InterpolationMode,
    get_image_num_channels,
    get_image_size,
    pil_to_tensor,
    to_pil_image,
    to_tensor,
)

_KERNELS: dict = {}  # functional -> {input class -> kernel}


def _register(functional, *classes):
    """Decorator: the kernel of ``functional`` for inputs of ``classes``."""

    def decorate(kernel):
        for cls in classes:
            if cls is not None:
                _KERNELS.setdefault(functional, {})[cls] = kernel
        return kernel

    return decorate


def _get_kernel(functional, input_type, allow_passthrough: bool = False):
    """The kernel for ``input_type`` (its own or the nearest base class's); with
    ``allow_passthrough`` an identity for kinds the functional does not touch."""
    registry = _KERNELS.get(functional, {})
    for cls in input_type.__mro__:
        if cls in registry:
            return registry[cls]
        if cls is TVTensor:
            break
    if allow_passthrough:
        return lambda inpt, *args, **kwargs: inpt
    raise TypeError(
        f"Functional F.{functional.__name__} supports inputs of type {registry.keys()}, "
        f"but got {input_type} instead."
    )


def register_kernel(functional, tv_tensor_cls):
    """Decorator: ``kernel(inpt, *args)`` runs ``functional`` (a functional of this module or
    its name) on inputs of ``tv_tensor_cls``, a TVTensor subclass of your own. The kernel gets
    the TVTensor itself and returns what the functional should::

        @register_kernel(functional="hflip", tv_tensor_cls=MyTVTensor)
        def hflip_my_tv_tensor(my_tv_tensor, *args, **kwargs): ...
    """
    if isinstance(functional, str):
        found = globals().get(functional)
        if found is None:
            raise ValueError(
                f"Could not find functional with name '{functional}' in "
                "torchvision.transforms.v2.functional."
            )
        functional = found
    if functional not in _KERNELS:
        raise ValueError(
            "Kernels can only be registered on functionals from the "
            f"torchvision.transforms.v2.functional namespace, but got {functional}."
        )
    if not (isinstance(tv_tensor_cls, type) and issubclass(tv_tensor_cls, TVTensor)):
        raise ValueError(
            "Kernels can only be registered for subclasses of torchvision.tv_tensors.TVTensor, "
            f"but got {tv_tensor_cls}."
        )
    if tv_tensor_cls in (Image, Video, Mask, BoundingBoxes):
        raise ValueError(
            f"Kernels cannot be registered for the builtin tv_tensor classes, but got {tv_tensor_cls}"
        )
    if tv_tensor_cls in _KERNELS[functional]:
        raise ValueError(
            f"Functional {functional} already has a kernel registered for type {tv_tensor_cls}."
        )
    return _register(functional, tv_tensor_cls)


def _dispatch(functional, inpt, *args, **kwargs):
    return _get_kernel(functional, type(inpt))(inpt, *args, **kwargs)


def is_pure_tensor(inpt) -> bool:
    """A Tensor that is not a TVTensor (what the transforms treat as an image)."""
    return isinstance(inpt, Tensor) and not isinstance(inpt, TVTensor)


def _pure(inpt):
    return inpt.as_subclass(Tensor) if isinstance(inpt, TVTensor) else inpt


def _image_kernels(functional, v1_op, *, video: bool = True, pil: bool = True):
    """Register v1's ``v1_op`` as the kernel for plain tensors, Images, Videos and PIL images;
    TVTensor inputs are unwrapped for the op and rewrapped after."""

    def kernel(inpt, *args, **kwargs):
        out = v1_op(_pure(inpt), *args, **kwargs)
        return tv_tensors.wrap(out, like=inpt) if isinstance(inpt, TVTensor) else out

    _register(
        functional, Tensor, Image, Video if video else None, _PIL.Image if pil and _PIL else None
    )(kernel)


# -- sizes ----------------------------------------------------------------------------------------
def get_dimensions(inpt) -> list[int]:
    """``[C, H, W]`` of an image or video."""
    return _dispatch(get_dimensions, inpt)


def get_size(inpt) -> list[int]:
    """``[H, W]`` of an image, video, mask, or the canvas of bounding boxes."""
    return _dispatch(get_size, inpt)


def get_num_channels(inpt) -> int:
    return get_dimensions(inpt)[0]


_register(get_dimensions, Tensor, Image, Video, _PIL.Image if _PIL else None)(
    lambda inpt: _F.get_dimensions(_pure(inpt))
)
_register(get_size, Tensor, Image, Video, _PIL.Image if _PIL else None)(
    lambda inpt: _F.get_dimensions(_pure(inpt))[1:]
)
_register(get_size, Mask)(lambda mask: list(mask.shape[-2:]))
_register(get_size, BoundingBoxes)(lambda boxes: list(boxes.canvas_size))


# -- type conversion ------------------------------------------------------------------------------
def to_image(inpt) -> Image:
    """A PIL image, an ``H×W×C`` ndarray or a tensor as an :class:`Image` (values unscaled)."""
    if isinstance(inpt, np.ndarray):
        array = np.atleast_3d(inpt)
        return Image(from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1))))
    if _F._is_pil_image(inpt):
        return Image(pil_to_tensor(inpt))
    if isinstance(inpt, Tensor):
        return Image(inpt)
    raise TypeError(
        "Input can either be a pure Tensor, a numpy array, or a PIL image, but got "
        f"{type(inpt)} instead."
    )


def to_dtype(inpt, dtype=None, scale: bool = False):
    """``inpt`` as ``dtype``; with ``scale`` images and videos rescale their values (uint8
    0..255 ↔ float 0..1, as v1's ``convert_image_dtype``); masks and boxes never scale."""
    dtype = dtypes.float32 if dtype is None else dtype
    return _dispatch(to_dtype, inpt, dtype=dtype, scale=scale)


def _to_dtype_image(image, dtype, scale=False):
    if image.dtype is dtype:
        return image
    return _F.scale_image_dtype(image, dtype, v2=True) if scale else image.to(dtype)


def _to_dtype_image_kernel(inpt, dtype=None, scale=False):
    out = _to_dtype_image(_pure(inpt), dtype, scale)
    return tv_tensors.wrap(out, like=inpt) if isinstance(inpt, TVTensor) else out


_register(to_dtype, Tensor, Image, Video)(_to_dtype_image_kernel)
_register(to_dtype, Mask, BoundingBoxes)(lambda inpt, dtype=None, scale=False: inpt.to(dtype))


def convert_image_dtype(image, dtype=None):
    """Deprecated in torchvision for :func:`to_dtype` with ``scale=True``."""
    return to_dtype(image, dtype, scale=True)


# -- colour ---------------------------------------------------------------------------------------
def normalize(inpt, mean, std, inplace: bool = False):
    """``(x - mean) / std`` per channel of a float image or video."""
    return _dispatch(normalize, inpt, mean, std, inplace)


def rgb_to_grayscale(inpt, num_output_channels: int = 1):
    return _dispatch(rgb_to_grayscale, inpt, num_output_channels)


def adjust_brightness(inpt, brightness_factor: float):
    return _dispatch(adjust_brightness, inpt, brightness_factor)


def adjust_contrast(inpt, contrast_factor: float):
    return _dispatch(adjust_contrast, inpt, contrast_factor)


def adjust_saturation(inpt, saturation_factor: float):
    return _dispatch(adjust_saturation, inpt, saturation_factor)


def adjust_hue(inpt, hue_factor: float):
    return _dispatch(adjust_hue, inpt, hue_factor)


def permute_channels(inpt, permutation):
    """The channels reordered: output channel ``i`` is input channel ``permutation[i]``."""
    return _dispatch(permute_channels, inpt, permutation)


def _permute_channels(img, permutation):
    if _F._is_pil_image(img):
        return to_pil_image(_permute_channels(pil_to_tensor(img), permutation))
    return img[..., list(permutation.tolist() if isinstance(permutation, Tensor) else permutation),
               :, :]  # fmt: skip


_image_kernels(normalize, _F.normalize, pil=False)
_image_kernels(adjust_hue, _F.adjust_hue)
_image_kernels(permute_channels, _permute_channels)
_image_kernels(rgb_to_grayscale, _F.rgb_to_grayscale)
_image_kernels(adjust_brightness, _F.adjust_brightness)
_image_kernels(adjust_contrast, _F.adjust_contrast)
_image_kernels(adjust_saturation, _F.adjust_saturation)


def adjust_sharpness(inpt, sharpness_factor: float):
    return _dispatch(adjust_sharpness, inpt, sharpness_factor)


def invert(inpt):
    return _dispatch(invert, inpt)


def posterize(inpt, bits: int):
    return _dispatch(posterize, inpt, bits)


def solarize(inpt, threshold: float):
    return _dispatch(solarize, inpt, threshold)


def autocontrast(inpt):
    return _dispatch(autocontrast, inpt)


def equalize(inpt):
    """Equalise each channel's histogram (uint8 images, as v1's)."""
    return _dispatch(equalize, inpt)


def _posterize_v2(img, bits: int):
    """v2's posterize: float images too (``2**bits`` levels)."""
    if not isinstance(bits, int) or not 0 <= bits <= 8:
        raise TypeError(f"bits must be a positive integer in the range [0, 8], got {bits} instead.")
    if isinstance(img, Tensor) and img.dtype.is_floating_point:
        return _color.posterize_float(img, bits)
    return _F.posterize(img, bits)


def _equalize_v2(img):
    """v2's equalize: any dtype (floats through uint8, scaled), any number of leading dims."""
    if not isinstance(img, Tensor):
        return _F.equalize(img)
    if img.numel() == 0:
        return img
    as_bytes = _F.scale_image_dtype(img, dtypes.uint8, v2=True)
    return _F.scale_image_dtype(_color.equalize_planes(as_bytes), img.dtype, v2=True)


for _name in ("adjust_sharpness", "invert", "solarize", "autocontrast"):
    _image_kernels(globals()[_name], getattr(_F, _name))
_image_kernels(posterize, _posterize_v2)
_image_kernels(equalize, _equalize_v2)
to_grayscale = rgb_to_grayscale


__getattr__ = _missing_names(
    __name__,
    "adjust_gamma clamp_keypoints "
    "five_crop gaussian_noise grayscale_to_rgb jpeg "
    "sanitize_keypoints ten_crop "
    "uniform_temporal_subsample",
)


from ._functional_elastic import elastic, elastic_transform  # noqa: E402
from ._functional_geometry import (  # noqa: E402 - the geometry registers on the dispatch above
    center_crop,
    crop,
    hflip,
    horizontal_flip,
    pad,
    resize,
    resized_crop,
    vertical_flip,
    vflip,
)
from ._functional_meta import (  # noqa: E402 - the box functionals use the helpers above
    clamp_bounding_boxes,
    convert_bounding_box_format,
    sanitize_bounding_boxes,
)
from ._functional_warp import (  # noqa: E402
    affine,
    erase,
    gaussian_blur,
    perspective,
    rotate,
)

__all__ = [
    "InterpolationMode",
    "adjust_brightness",
    "adjust_contrast",
    "adjust_hue",
    "adjust_saturation",
    "adjust_sharpness",
    "autocontrast",
    "affine",
    "center_crop",
    "clamp_bounding_boxes",
    "convert_bounding_box_format",
    "convert_image_dtype",
    "crop",
    "elastic",
    "elastic_transform",
    "equalize",
    "erase",
    "gaussian_blur",
    "get_dimensions",
    "get_image_num_channels",
    "get_image_size",
    "get_num_channels",
    "get_size",
    "hflip",
    "invert",
    "horizontal_flip",
    "normalize",
    "pad",
    "permute_channels",
    "perspective",
    "posterize",
    "pil_to_tensor",
    "register_kernel",
    "resize",
    "resized_crop",
    "rgb_to_grayscale",
    "rotate",
    "sanitize_bounding_boxes",
    "solarize",
    "to_dtype",
    "to_grayscale",
    "to_image",
    "to_tensor",
    "to_pil_image",
    "vertical_flip",
    "vflip",
]
