"""Elastic deformation, as torchvision's ``ElasticTransform`` and ``elastic_transform`` (v1;
v2 reuses the pieces): a random displacement per pixel (uniform in [-1, 1], smoothed by a
Gaussian blur, scaled by ``alpha`` over the image size) added to the identity sampling grid,
which :func:`~minigrad.vision.transforms._warp.apply_grid` then reads the image at. The same
seed gives torchvision's displacement field (the same draws, in the same order)."""

from __future__ import annotations

from collections.abc import Sequence

from ..._warnings import warn_user
from ...creation import linspace, rand
from ...nn.modules.module import Module
from ...ops.joining import cat, stack
from ...tensor import Tensor
from ._warp import apply_grid, gaussian_blur
from .functional import (
    InterpolationMode,
    _as_interpolation,
    _is_pil_image,
    get_dimensions,
    pil_to_tensor,
    to_pil_image,
)


def elastic_displacement(alpha, sigma, size) -> Tensor:
    """The ``[1, H, W, 2]`` displacement field for an image of ``size`` ``(H, W)``: x then y,
    each drawn uniform in [-1, 1], blurred with a kernel of ``int(8 * sigma + 1)`` (made odd)
    and ``sigma`` (x, y) where sigma > 0, times ``alpha`` over the width (x) or height (y)."""
    height, width = size
    parts = []
    for a, s, extent in ((alpha[0], sigma[0], width), (alpha[1], sigma[1], height)):
        d = rand(1, 1, height, width) * 2 - 1
        if s > 0.0:
            k = int(8 * s + 1)
            k += 1 - k % 2  # an odd kernel
            d = gaussian_blur(d, [k, k], list(sigma))
        parts.append(d * a / extent)
    return cat(parts, 1).permute(0, 2, 3, 1)


def identity_grid(height: int, width: int, dtype=None, device=None) -> Tensor:
    """The ``[1, H, W, 2]`` grid of pixel centres in [-1, 1] (x, y): ``grid_sample`` of it
    (``align_corners=False``) returns the image unchanged."""
    xs = linspace((1 - width) / width, (width - 1) / width, width, dtype=dtype, device=device)
    ys = linspace((1 - height) / height, (height - 1) / height, height, dtype=dtype, device=device)
    shape = (height, width)
    return stack((xs.expand(shape), ys.unsqueeze(-1).expand(shape)), -1).unsqueeze(0)


def check_displacement(displacement, expected: tuple) -> None:
    """torchvision's errors for a displacement that is no tensor or not ``expected``
    (``[1, H, W, 2]``: a Size in v1's message, a tuple in v2's)."""
    if not isinstance(displacement, Tensor):
        raise TypeError("Argument displacement should be a Tensor")
    if tuple(displacement.shape) != tuple(expected):
        raise ValueError(
            f"Argument displacement shape should be {expected}, but given {displacement.shape}"
        )


def elastic_transform(img, displacement, interpolation=InterpolationMode.BILINEAR, fill=None):
    """``img`` (a tensor ``[..., C, H, W]`` or a PIL image) sampled at the identity grid plus
    ``displacement`` (``[1, H, W, 2]``, e.g. from :class:`ElasticTransform`); outside pixels
    are zeros or ``fill``. Pillow's integer interpolation constants warn, as torchvision's."""
    if isinstance(interpolation, int) and not isinstance(interpolation, bool):
        warn_user(
            "Argument interpolation should be of type InterpolationMode instead of int. "
            "Please, use InterpolationMode enum."
        )
    interpolation = _as_interpolation(interpolation)
    if not isinstance(displacement, Tensor):
        raise TypeError("Argument displacement should be a Tensor")
    t_img = img
    if not isinstance(img, Tensor):
        if not _is_pil_image(img):
            raise TypeError(f"img should be PIL Image or Tensor. Got {type(img)}")
        t_img = pil_to_tensor(img)
    height, width = t_img.shape[-2:]
    check_displacement(displacement, (1,) + t_img.shape[-2:] + (2,))
    grid = identity_grid(height, width, device=t_img.device) + displacement.to(t_img.device)
    out = apply_grid(t_img, grid, interpolation.value, fill)
    return out if isinstance(img, Tensor) else to_pil_image(out, mode=img.mode)


def _pair_of_floats(value, name: str):
    """v1's ``alpha``/``sigma``: a float or a sequence of 1 or 2 floats (torchvision's
    checks: ints are refused), as ``[x, y]``."""
    if not isinstance(value, (float, Sequence)):
        raise TypeError(f"{name} should be float or a sequence of floats. Got {type(value)}")
    if isinstance(value, Sequence) and len(value) != 2:
        raise ValueError(f"If {name} is a sequence its length should be 2. Got {len(value)}")
    if isinstance(value, Sequence):
        for element in value:
            if not isinstance(element, float):
                raise TypeError(f"{name} should be a sequence of floats. Got {type(element)}")
        return value  # (kept as given, as torchvision keeps it)
    return [float(value), float(value)]


class ElasticTransform(Module):
    """Deform images like water (torchvision's ``ElasticTransform``): a new displacement field
    per call from ``alpha`` (magnitude, x and y) and ``sigma`` (smoothness), see
    :func:`elastic_displacement`; ``fill`` colours what comes from outside the image.

    Example:
        >>> out = ElasticTransform(alpha=50.0, sigma=5.0)(image)  # [C, H, W]
    """

    def __init__(self, alpha=50.0, sigma=5.0, interpolation=InterpolationMode.BILINEAR, fill=0):
        super().__init__()
        self.alpha = _pair_of_floats(alpha, "alpha")
        self.sigma = _pair_of_floats(sigma, "sigma")
        self.interpolation = _as_interpolation(interpolation)
        if isinstance(fill, (int, float)):
            fill = [float(fill)]
        elif isinstance(fill, (list, tuple)):
            fill = [float(f) for f in fill]
        else:
            raise TypeError(
                f"fill should be int or float or a list or tuple of them. Got {type(fill)}"
            )
        self.fill = fill

    @staticmethod
    def get_params(alpha: list[float], sigma: list[float], size: list[int]) -> Tensor:
        """The ``[1, H, W, 2]`` displacement for an image of ``size`` ``[H, W]``."""
        return elastic_displacement(alpha, sigma, size)

    def forward(self, tensor):
        _, height, width = get_dimensions(tensor)
        displacement = self.get_params(self.alpha, self.sigma, [height, width])
        return elastic_transform(tensor, displacement, self.interpolation, self.fill)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(alpha={self.alpha}, sigma={self.sigma}, "
            f"interpolation={self.interpolation}, fill={self.fill})"
        )
