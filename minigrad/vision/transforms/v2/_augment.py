"""The v2 RandomRotation, RandomAffine, GaussianBlur and RandomErasing: v1's parameter
draws (same order, same generator), applied to every input of the sample, so boxes and
masks rotate and shift with the image."""

from __future__ import annotations

from collections.abc import Sequence

from ...._warnings import warn_user
from ...tv_tensors import BoundingBoxes, Mask
from .. import _augment as _v1
from .. import _warp
from .._elastic import elastic_displacement
from .._random_color import bind_args as _bind_args
from ..functional import InterpolationMode
from . import functional as F
from ._geometry import _fill_for, _interpolation
from ._transform import Transform, _RandomApplyTransform, query_chw, query_size

__all__ = [
    "ElasticTransform",
    "GaussianBlur",
    "RandomAdjustSharpness",
    "RandomAffine",
    "RandomAutocontrast",
    "RandomEqualize",
    "RandomErasing",
    "RandomInvert",
    "RandomPerspective",
    "RandomPosterize",
    "RandomRotation",
    "RandomSolarize",
]


class RandomRotation(Transform):
    """Rotate every image, mask and box set by one angle drawn from ``degrees``."""

    def __init__(self, degrees, interpolation=InterpolationMode.NEAREST, expand=False,
                 center=None, fill=0) -> None:  # fmt: skip
        super().__init__()
        self.degrees = _v1.setup_angle(degrees, "degrees")
        self.interpolation, self.expand, self.fill = _interpolation(interpolation), expand, fill
        if center is not None:
            _v1.check_sequence(center, "center", req_sizes=(2,))
        self.center = center

    def make_params(self, flat_inputs):
        return dict(angle=_v1._uniform(self.degrees[0], self.degrees[1]))

    def transform(self, inpt, params):
        return self._call_kernel(F.rotate, inpt, **params, interpolation=self.interpolation,
                                 expand=self.expand, center=self.center,
                                 fill=_fill_for(self.fill, inpt))  # fmt: skip


class RandomAffine(Transform):
    """One random affine warp (see v1's ``RandomAffine``) for every image, mask and box set."""

    def __init__(self, degrees, translate=None, scale=None, shear=None,
                 interpolation=InterpolationMode.NEAREST, fill=0, center=None) -> None:  # fmt: skip
        super().__init__()
        self.degrees = _v1.setup_angle(degrees, "degrees")
        _v1.check_affine_ranges(translate, scale)
        self.translate, self.scale = translate, scale
        self.shear = _v1.setup_angle(shear, "shear", (2, 4)) if shear is not None else None
        self.interpolation, self.fill = _interpolation(interpolation), fill
        if center is not None:
            _v1.check_sequence(center, "center", req_sizes=(2,))
        self.center = center

    def make_params(self, flat_inputs):
        height, width = query_size(flat_inputs)
        angle, translate, scale, shear = _v1.draw_affine(self.degrees, self.translate, self.scale,
                                                         self.shear, width, height)  # fmt: skip
        return dict(angle=angle, translate=translate, scale=scale, shear=shear)

    def transform(self, inpt, params):
        return self._call_kernel(F.affine, inpt, **params, interpolation=self.interpolation,
                                 fill=_fill_for(self.fill, inpt), center=self.center)  # fmt: skip


class GaussianBlur(Transform):
    """Blur images and videos with one sigma drawn from ``sigma`` (min, max)."""

    def __init__(self, kernel_size, sigma=(0.1, 2.0)) -> None:
        super().__init__()
        self.kernel_size, self.sigma = _v1.setup_blur(kernel_size, sigma)

    def make_params(self, flat_inputs):
        sigma = _v1._uniform(self.sigma[0], self.sigma[1])
        return dict(sigma=[sigma, sigma])

    def transform(self, inpt, params):
        return self._call_kernel(F.gaussian_blur, inpt, list(self.kernel_size), **params)


class RandomErasing(_RandomApplyTransform):
    """With probability ``p``, erase one random window of every image and video (masks and
    boxes pass through, with torchvision's warning)."""

    def __init__(self, p=0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0.0,
                 inplace=False) -> None:  # fmt: skip
        super().__init__(p=p)
        _v1.check_erasing(p, scale, ratio, value)
        self.scale, self.ratio, self.inplace = scale, ratio, inplace
        self.value = _v1.erase_values(value, None)

    def make_params(self, flat_inputs):
        channels, height, width = query_chw(flat_inputs)
        if self.value is not None and len(self.value) not in (1, channels):
            raise ValueError(
                "If value is a sequence, it should have either a single value or "
                f"{channels} (number of inpt channels)"
            )
        top, left, h, w, v = _v1.draw_erase_window(channels, height, width, self.scale,
                                                   self.ratio, self.value)  # fmt: skip
        return dict(i=top, j=left, h=h, w=w, v=v)

    def transform(self, inpt, params):
        if params["v"] is None:
            return inpt
        if isinstance(inpt, (BoundingBoxes, Mask)):
            warn_user(
                f"{type(self).__name__}() is currently passing through inputs of type "
                f"tv_tensors.{type(inpt).__name__}. This will likely change in the future."
            )
        return self._call_kernel(F.erase, inpt, **params, inplace=self.inplace)


class RandomPerspective(_RandomApplyTransform):
    """With probability ``p``, one perspective warp (v1's corner draws) for every image,
    mask and box set."""

    def __init__(self, distortion_scale=0.5, p=0.5, interpolation=InterpolationMode.BILINEAR,
                 fill=0) -> None:  # fmt: skip
        super().__init__(p=p)
        if not 0 <= distortion_scale <= 1:
            raise ValueError("Argument distortion_scale value should be between 0 and 1")
        self.distortion_scale, self.fill = distortion_scale, fill
        self.interpolation = _interpolation(interpolation)

    def make_params(self, flat_inputs):
        height, width = query_size(flat_inputs)
        start, end = _v1.draw_perspective_points(width, height, self.distortion_scale)
        return dict(coefficients=_warp.perspective_coeffs(start, end))

    def transform(self, inpt, params):
        return self._call_kernel(F.perspective, inpt, None, None, fill=_fill_for(self.fill, inpt),
                                 interpolation=self.interpolation, **params)  # fmt: skip


class _RandomColorOp(_RandomApplyTransform):
    """Apply ``v2.functional.<op>`` to every image and video with probability ``p``."""

    op = ""
    arg_names: tuple = ()

    def __init__(self, *args, **kwargs) -> None:
        bound = _bind_args(type(self).__name__, self.arg_names, args, kwargs)
        super().__init__(p=bound.pop("p"))
        for name, value in bound.items():
            setattr(self, name, value)

    def transform(self, inpt, params):
        args = [getattr(self, n) for n in self.arg_names]
        return self._call_kernel(getattr(F, self.op), inpt, *args)


def _color_op(name: str, op: str, arg_names=(), doc: str = ""):
    return type(name, (_RandomColorOp,), {"op": op, "arg_names": arg_names, "__doc__": doc,
                                          "__module__": __name__})  # fmt: skip


RandomInvert = _color_op("RandomInvert", "invert", doc="Invert with probability ``p``.")
RandomPosterize = _color_op("RandomPosterize", "posterize", ("bits",), "Posterize to ``bits``.")
RandomSolarize = _color_op(
    "RandomSolarize", "solarize", ("threshold",), "Solarize above ``threshold``."
)
RandomAdjustSharpness = _color_op("RandomAdjustSharpness", "adjust_sharpness",
                                  ("sharpness_factor",), "Sharpen by ``sharpness_factor``.")  # fmt: skip
RandomAutocontrast = _color_op("RandomAutocontrast", "autocontrast", doc="Autocontrast.")
RandomEqualize = _color_op("RandomEqualize", "equalize", doc="Equalise the histogram.")


def _number_or_seq(value, name: str) -> list[float]:
    """v2's ``alpha``/``sigma``: a number or a sequence of 1 or 2 numbers, as ``[x, y]``
    (torchvision's checks and messages)."""
    if not isinstance(value, (int, float, Sequence)):
        raise TypeError(f"{name} should be a number or a sequence of numbers. Got {type(value)}")
    if isinstance(value, Sequence) and len(value) not in (1, 2):
        raise ValueError(f"If {name} is a sequence its length should be 1 or 2. Got {len(value)}")
    if isinstance(value, Sequence):
        for element in value:
            if not isinstance(element, (int, float)):
                raise ValueError(f"{name} should be a sequence of numbers. Got {type(element)}")
        return [float(value[0]), float(value[-1])]
    return [float(value), float(value)]


class ElasticTransform(Transform):
    """Deform images, videos, masks and boxes by one random displacement field (v1's
    :func:`~minigrad.vision.transforms._elastic.elastic_displacement`, the same draws as
    torchvision's for the same seed); boxes follow approximately (see ``F.elastic``)."""

    def __init__(self, alpha=50.0, sigma=5.0, interpolation=InterpolationMode.BILINEAR,
                 fill=0) -> None:  # fmt: skip
        super().__init__()
        self.alpha = _number_or_seq(alpha, "alpha")
        self.sigma = _number_or_seq(sigma, "sigma")
        self.interpolation, self.fill = _interpolation(interpolation), fill

    def make_params(self, flat_inputs):
        height, width = query_size(flat_inputs)
        return dict(displacement=elastic_displacement(self.alpha, self.sigma, (height, width)))

    def transform(self, inpt, params):
        return self._call_kernel(F.elastic, inpt, **params, fill=_fill_for(self.fill, inpt),
                                 interpolation=self.interpolation)  # fmt: skip
