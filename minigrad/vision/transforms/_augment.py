"""The v1 augmentations tutorials use: RandomRotation, RandomAffine, GaussianBlur and
RandomErasing, and the parameter draws v2 shares with them.

Each draws from minigrad's global generator exactly as torchvision draws from PyTorch's
(``torch.empty(1).uniform_``, ``torch.randint``, ``normal_``, in its order), so under the
same seed they pick the same angles, shifts, sigmas and windows.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

from ... import dtypes
from ..._warnings import warn_user
from ...creation import empty, rand, randint, tensor
from ...nn.modules.module import Module
from ...ops.unary import exp, log
from ...tensor import Tensor
from . import functional as F
from ._warp import _interpolation_mode
from .functional import InterpolationMode

__all__ = [
    "GaussianBlur",
    "RandomAffine",
    "RandomErasing",
    "RandomPerspective",
    "RandomRotation",
]


def _uniform(low, high) -> float:
    return float(empty(1).uniform_(float(low), float(high)).item())


def check_sequence(x, name: str, req_sizes) -> None:
    """torchvision's check that ``x`` is a sequence of one of the lengths ``req_sizes``."""
    msg = req_sizes[0] if len(req_sizes) < 2 else " or ".join(str(s) for s in req_sizes)
    if not isinstance(x, Sequence):
        raise TypeError(f"{name} should be a sequence of length {msg}.")
    if len(x) not in req_sizes:
        raise ValueError(f"{name} should be a sequence of length {msg}.")


def setup_angle(x, name: str, req_sizes=(2,)) -> list[float]:
    """An angle range: ``d`` means ``[-d, d]``; a sequence is taken as it is."""
    if isinstance(x, numbers.Number):
        if x < 0:
            raise ValueError(f"If {name} is a single number, it must be positive.")
        x = [-x, x]
    else:
        check_sequence(x, name, req_sizes)
    return [float(d) for d in x]


def check_affine_ranges(translate, scale) -> None:
    if translate is not None:
        check_sequence(translate, "translate", req_sizes=(2,))
        if not all(0.0 <= t <= 1.0 for t in translate):
            raise ValueError("translation values should be between 0 and 1")
    if scale is not None:
        check_sequence(scale, "scale", req_sizes=(2,))
        if not all(s > 0 for s in scale):
            raise ValueError("scale values should be positive")


def draw_affine(degrees, translate, scale_ranges, shears, width: int, height: int):
    """(angle, (tx, ty), scale, (shear_x, shear_y)), drawn in torchvision's order."""
    angle = _uniform(degrees[0], degrees[1])
    translations = (0, 0)
    if translate is not None:
        max_dx, max_dy = float(translate[0] * width), float(translate[1] * height)
        translations = (
            int(round(_uniform(-max_dx, max_dx))),
            int(round(_uniform(-max_dy, max_dy))),
        )
    scale = _uniform(scale_ranges[0], scale_ranges[1]) if scale_ranges is not None else 1.0
    shear_x = shear_y = 0.0
    if shears is not None:
        shear_x = _uniform(shears[0], shears[1])
        if len(shears) == 4:
            shear_y = _uniform(shears[2], shears[3])
    return angle, translations, scale, (shear_x, shear_y)


def draw_erase_window(channels, height, width, scale, ratio, value):
    """(top, left, h, w, value) of a random window (area fraction ``scale``, aspect ratio
    ``ratio``, ten tries; the whole image and ``None`` when none fits); ``value`` None draws
    normal noise for it."""
    area = height * width
    log_ratio = log(tensor(ratio))
    for _ in range(10):
        erase_area = area * _uniform(scale[0], scale[1])
        aspect = exp(empty(1).uniform_(float(log_ratio[0]), float(log_ratio[1]))).item()
        h, w = (
            int(round(math.sqrt(erase_area * aspect))),
            int(round(math.sqrt(erase_area / aspect))),
        )
        if not (h < height and w < width):
            continue
        v = (
            empty(channels, h, w, dtype=dtypes.float32).normal_()
            if value is None
            else tensor(value)[:, None, None]
        )
        top = int(randint(0, height - h + 1, size=(1,)).item())
        left = int(randint(0, width - w + 1, size=(1,)).item())
        return top, left, h, w, v
    return 0, 0, height, width, None


def check_fill(fill):
    if fill is None:
        return 0
    if not isinstance(fill, (Sequence, numbers.Number)):
        raise TypeError("Fill should be either a sequence or a number.")
    return fill


def _tensor_fill(img, fill):
    """v1's fill for tensors: one float per channel."""
    if not isinstance(img, Tensor):
        return fill
    if isinstance(fill, (int, float)):
        return [float(fill)] * F.get_dimensions(img)[0]
    return [float(f) for f in fill]


class RandomRotation(Module):
    """Rotate by an angle drawn from ``degrees`` (``d``: ``[-d, d]``), counter-clockwise."""

    def __init__(self, degrees, interpolation=InterpolationMode.NEAREST, expand=False,
                 center=None, fill=0):  # fmt: skip
        super().__init__()
        self.degrees = setup_angle(degrees, "degrees")
        if center is not None:
            check_sequence(center, "center", req_sizes=(2,))
        self.interpolation = _interpolation_mode(interpolation)
        self.expand, self.center, self.fill = expand, center, check_fill(fill)

    @staticmethod
    def get_params(degrees) -> float:
        return _uniform(degrees[0], degrees[1])

    def forward(self, img):
        fill = _tensor_fill(img, self.fill)
        angle = self.get_params(self.degrees)
        return F.rotate(img, angle, self.interpolation, self.expand, self.center, fill)

    def __repr__(self) -> str:
        center = f", center={self.center}" if self.center is not None else ""
        return (
            f"{type(self).__name__}(degrees={self.degrees}, interpolation="
            f"{self.interpolation.value}, expand={self.expand}{center}, fill={self.fill})"
        )


class RandomAffine(Module):
    """A random affine warp keeping the centre: rotation from ``degrees``, shifts up to
    ``translate`` (fractions of width, height), a scale from ``scale``, shears from ``shear``
    (``s``: x shear in ``[-s, s]``; four values: x then y ranges)."""

    def __init__(self, degrees, translate=None, scale=None, shear=None,
                 interpolation=InterpolationMode.NEAREST, fill=0, center=None):  # fmt: skip
        super().__init__()
        self.degrees = setup_angle(degrees, "degrees")
        check_affine_ranges(translate, scale)
        self.translate, self.scale = translate, scale
        self.shear = setup_angle(shear, "shear", req_sizes=(2, 4)) if shear is not None else None
        self.interpolation = _interpolation_mode(interpolation)
        self.fill = check_fill(fill)
        if center is not None:
            check_sequence(center, "center", req_sizes=(2,))
        self.center = center

    @staticmethod
    def get_params(degrees, translate, scale_ranges, shears, img_size):
        """(angle, translations, scale, shear) for an image of ``img_size`` = (w, h)."""
        return draw_affine(degrees, translate, scale_ranges, shears, *img_size)

    def forward(self, img):
        fill = _tensor_fill(img, self.fill)
        _, height, width = F.get_dimensions(img)
        params = self.get_params(self.degrees, self.translate, self.scale, self.shear,
                                 [width, height])  # fmt: skip
        return F.affine(img, *params, interpolation=self.interpolation, fill=fill,
                        center=self.center)  # fmt: skip

    def __repr__(self) -> str:
        extra = "".join(
            f", {k}={v}" for k, v in (("translate", self.translate), ("scale", self.scale),
                                      ("shear", self.shear), ("center", self.center))
            if v is not None
        )  # fmt: skip
        return f"{type(self).__name__}(degrees={self.degrees}{extra})"


def setup_blur(kernel_size, sigma):
    """The (kx, ky) kernel size and the (min, max) sigma range, checked as torchvision does."""
    if isinstance(kernel_size, numbers.Number):
        kernel_size = (int(kernel_size), int(kernel_size))
    elif isinstance(kernel_size, Sequence) and len(kernel_size) == 1:
        kernel_size = (kernel_size[0], kernel_size[0])
    elif len(kernel_size) != 2:
        raise ValueError("Kernel size should be a tuple/list of two integers")
    if any(k <= 0 or k % 2 == 0 for k in kernel_size):
        raise ValueError("Kernel size value should be an odd and positive number.")
    if isinstance(sigma, numbers.Number):
        if sigma <= 0:
            raise ValueError("If sigma is a single number, it must be positive.")
        sigma = (float(sigma), float(sigma))
    elif isinstance(sigma, Sequence) and len(sigma) == 2:
        if not 0.0 < sigma[0] <= sigma[1]:
            raise ValueError("sigma values should be positive and of the form (min, max).")
    else:
        raise ValueError("sigma should be a single number or a list/tuple with length 2.")
    return tuple(kernel_size), sigma


class GaussianBlur(Module):
    """Blur with a ``kernel_size`` Gaussian whose sigma is drawn from ``sigma`` (min, max)."""

    def __init__(self, kernel_size, sigma=(0.1, 2.0)):
        super().__init__()
        self.kernel_size, self.sigma = setup_blur(kernel_size, sigma)

    @staticmethod
    def get_params(sigma_min: float, sigma_max: float) -> float:
        return _uniform(sigma_min, sigma_max)

    def forward(self, img):
        sigma = self.get_params(self.sigma[0], self.sigma[1])
        return F.gaussian_blur(img, list(self.kernel_size), [sigma, sigma])

    def __repr__(self) -> str:
        return f"{type(self).__name__}(kernel_size={self.kernel_size}, sigma={self.sigma})"


def check_erasing(p, scale, ratio, value) -> None:
    if not isinstance(value, (numbers.Number, str, tuple, list)):
        raise TypeError("Argument value should be either a number or str or a sequence")
    if isinstance(value, str) and value != "random":
        raise ValueError("If value is str, it should be 'random'")
    if not isinstance(scale, Sequence):
        raise TypeError("Scale should be a sequence")
    if not isinstance(ratio, Sequence):
        raise TypeError("Ratio should be a sequence")
    if scale[0] > scale[1] or ratio[0] > ratio[1]:
        warn_user("Scale and ratio should be of kind (min, max)")
    if scale[0] < 0 or scale[1] > 1:
        raise ValueError("Scale should be between 0 and 1")
    if p < 0 or p > 1:
        raise ValueError("Random erasing probability should be between 0 and 1")


def erase_values(value, channels):
    """``value`` as a list of floats (None for ``"random"``), checked against ``channels`` (when given)."""
    if isinstance(value, str):
        return None
    values = [float(value)] if isinstance(value, (int, float)) else [float(v) for v in value]
    if channels is not None and len(values) not in (1, channels):
        raise ValueError(
            "If value is a sequence, it should have either a single value or "
            f"{channels} (number of input channels)"
        )
    return values


class RandomErasing(Module):
    """With probability ``p``, erase a random window of a tensor image (area fraction
    ``scale``, aspect ratio ``ratio``) to ``value`` (a number, one per channel, or
    ``"random"`` normal noise). Cutout-style augmentation, after ``ToTensor``."""

    def __init__(self, p=0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0, inplace=False):
        super().__init__()
        check_erasing(p, scale, ratio, value)
        self.p, self.scale, self.ratio, self.value, self.inplace = p, scale, ratio, value, inplace

    @staticmethod
    def get_params(img, scale, ratio, value=None):
        top, left, h, w, v = draw_erase_window(*img.shape[-3:], scale, ratio, value)
        return top, left, h, w, img if v is None else v

    def forward(self, img):
        if rand(1) < self.p:
            value = erase_values(self.value, img.shape[-3])
            return F.erase(img, *self.get_params(img, self.scale, self.ratio, value), self.inplace)
        return img

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(p={self.p}, scale={self.scale}, ratio={self.ratio}, "
            f"value={self.value}, inplace={self.inplace})"
        )


def draw_perspective_points(width: int, height: int, distortion_scale: float):
    """(startpoints, endpoints): the image's corners, and each corner moved inwards by up to
    ``distortion_scale`` of half the size (torchvision's eight ``randint`` draws, in order)."""
    bound_w = int(distortion_scale * (width // 2)) + 1
    bound_h = int(distortion_scale * (height // 2)) + 1

    def draw(low, high):
        return int(randint(low, high, size=(1,)).item())

    topleft = [draw(0, bound_w), draw(0, bound_h)]
    topright = [draw(width - bound_w, width), draw(0, bound_h)]
    botright = [draw(width - bound_w, width), draw(height - bound_h, height)]
    botleft = [draw(0, bound_w), draw(height - bound_h, height)]
    startpoints = [[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]]
    return startpoints, [topleft, topright, botright, botleft]


class RandomPerspective(Module):
    """With probability ``p``, a perspective warp moving each corner inwards by up to
    ``distortion_scale`` of half the image."""

    def __init__(self, distortion_scale=0.5, p=0.5, interpolation=InterpolationMode.BILINEAR,
                 fill=0):  # fmt: skip
        super().__init__()
        self.p, self.distortion_scale = p, distortion_scale
        self.interpolation, self.fill = _interpolation_mode(interpolation), check_fill(fill)

    @staticmethod
    def get_params(width: int, height: int, distortion_scale: float):
        return draw_perspective_points(width, height, distortion_scale)

    def forward(self, img):
        fill = _tensor_fill(img, self.fill)
        _, height, width = F.get_dimensions(img)
        if rand(1) < self.p:
            start, end = self.get_params(width, height, self.distortion_scale)
            return F.perspective(img, start, end, self.interpolation, fill)
        return img

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p})"
