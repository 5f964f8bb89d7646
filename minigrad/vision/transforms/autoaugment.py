"""Learned and random augmentation policies (``torchvision.transforms.autoaugment``):
AutoAugment (the ImageNet, CIFAR-10 and SVHN policies), RandAugment, TrivialAugmentWide and
AugMix.

Each picks operations and magnitudes from minigrad's global generator exactly as
torchvision's v1 classes draw from PyTorch's; :func:`apply_op` and :func:`augmentation_space`
are shared with the v2 classes, which draw in v2's own order.
"""

from __future__ import annotations

import enum
import math

from ... import _sample_dirichlet
from ...creation import arange, linspace, rand, randint, tensor
from ...nn.modules.module import Module
from ...tensor import Tensor
from . import functional as F
from ._color import max_value
from ._warp import _interpolation_mode
from .functional import InterpolationMode

__all__ = ["AugMix", "AutoAugment", "AutoAugmentPolicy", "RandAugment", "TrivialAugmentWide"]


class AutoAugmentPolicy(enum.Enum):
    """The learned policies of the AutoAugment paper, by the data set they were learned on."""

    IMAGENET = "imagenet"
    CIFAR10 = "cifar10"
    SVHN = "svhn"


def _policy(text: str):
    """``"Op p m, Op p m; ..."`` → ``[((op, p, m or None), (op, p, m or None)), ...]``."""
    pairs = []
    for pair in text.split(";"):
        ops = []
        for op in pair.split(","):
            name, p, m = op.split()
            ops.append((name, float(p), None if m == "-" else int(m)))
        pairs.append(tuple(ops))
    return pairs


# The sub-policies of the AutoAugment paper (Cubuk et al., 2019), appendix tables, in the order
# torchvision lists them: (operation, probability, magnitude bin), "-" for no magnitude.
_POLICIES = {
    AutoAugmentPolicy.IMAGENET: _policy(
        "Posterize .4 8, Rotate .6 9; Solarize .6 5, AutoContrast .6 -; Equalize .8 -, "
        "Equalize .6 -; Posterize .6 7, Posterize .6 6; Equalize .4 -, Solarize .2 4; "
        "Equalize .4 -, Rotate .8 8; Solarize .6 3, Equalize .6 -; Posterize .8 5, Equalize 1 -; "
        "Rotate .2 3, Solarize .6 8; Equalize .6 -, Posterize .4 6; Rotate .8 8, Color .4 0; "
        "Rotate .4 9, Equalize .6 -; Equalize 0 -, Equalize .8 -; Invert .6 -, Equalize 1 -; "
        "Color .6 4, Contrast 1 8; Rotate .8 8, Color 1 2; Color .8 8, Solarize .8 7; "
        "Sharpness .4 7, Invert .6 -; ShearX .6 5, Equalize 1 -; Color .4 0, Equalize .6 -; "
        "Equalize .4 -, Solarize .2 4; Solarize .6 5, AutoContrast .6 -; Invert .6 -, "
        "Equalize 1 -; Color .6 4, Contrast 1 8; Equalize .8 -, Equalize .6 -"
    ),
    AutoAugmentPolicy.CIFAR10: _policy(
        "Invert .1 -, Contrast .2 6; Rotate .7 2, TranslateX .3 9; Sharpness .8 1, Sharpness .9 3; "
        "ShearY .5 8, TranslateY .7 9; AutoContrast .5 -, Equalize .9 -; ShearY .2 7, "
        "Posterize .3 7; Color .4 3, Brightness .6 7; Sharpness .3 9, Brightness .7 9; "
        "Equalize .6 -, Equalize .5 -; Contrast .6 7, Sharpness .6 5; Color .7 7, TranslateX .5 8; "
        "Equalize .3 -, AutoContrast .4 -; TranslateY .4 3, Sharpness .2 6; Brightness .9 6, "
        "Color .2 8; Solarize .5 2, Invert 0 -; Equalize .2 -, AutoContrast .6 -; Equalize .2 -, "
        "Equalize .6 -; Color .9 9, Equalize .6 -; AutoContrast .8 -, Solarize .2 8; "
        "Brightness .1 3, Color .7 0; Solarize .4 5, AutoContrast .9 -; TranslateY .9 9, "
        "TranslateY .7 9; AutoContrast .9 -, Solarize .8 3; Equalize .8 -, Invert .1 -; "
        "TranslateY .7 9, AutoContrast .9 -"
    ),
    AutoAugmentPolicy.SVHN: _policy(
        "ShearX .9 4, Invert .2 -; ShearY .9 8, Invert .7 -; Equalize .6 -, Solarize .6 6; "
        "Invert .9 -, Equalize .6 -; Equalize .6 -, Rotate .9 3; ShearX .9 4, AutoContrast .8 -; "
        "ShearY .9 8, Invert .4 -; ShearY .9 5, Solarize .2 6; Invert .9 -, AutoContrast .8 -; "
        "Equalize .6 -, Rotate .9 3; ShearX .9 4, Solarize .3 3; ShearY .8 8, Invert .7 -; "
        "Equalize .9 -, TranslateY .6 6; Invert .9 -, Equalize .6 -; Contrast .3 3, Rotate .8 4; "
        "Invert .8 -, TranslateY 0 2; ShearY .7 6, Solarize .4 8; Invert .6 -, Rotate .8 4; "
        "ShearY .3 7, TranslateX .9 3; ShearX .1 6, Invert .6 -; Solarize .7 2, TranslateY .6 7; "
        "ShearY .8 4, Invert .8 -; ShearX .7 9, TranslateY .8 3; ShearY .8 5, AutoContrast .7 -; "
        "ShearX .7 2, Invert .1 -"
    ),
}


def augmentation_space(kind: str, num_bins: int, height: int, width: int, *, v2: bool) -> dict:
    """``{operation: (magnitudes or None, signed)}`` in torchvision's order (the order the
    random pick indexes): ``kind`` is "auto", "rand", "trivial", "augmix" or "augmix-all";
    v2's solarize thresholds are fractions of the image's bound, v1's are 0..255."""
    if kind.startswith("augmix"):
        return _augmix_space(num_bins, height, width, kind == "augmix-all", v2)
    wide = kind == "trivial"
    top, shift = (0.99, 32.0) if wide else (0.9, None)
    space = {} if kind == "auto" else {"Identity": (None, False)}
    space["ShearX"] = space["ShearY"] = (linspace(0.0, 0.99 if wide else 0.3, num_bins), True)
    space["TranslateX"] = (linspace(0.0, shift or 150.0 / 331.0 * width, num_bins), True)
    space["TranslateY"] = (linspace(0.0, shift or 150.0 / 331.0 * height, num_bins), True)
    space["Rotate"] = (linspace(0.0, 135.0 if wide else 30.0, num_bins), True)
    for name in ("Brightness", "Color", "Contrast", "Sharpness"):
        space[name] = (linspace(0.0, top, num_bins), True)
    steps = arange(num_bins) / ((num_bins - 1) / (6 if wide else 4))
    space["Posterize"] = ((8 - steps).round().int() if v2 else 8 - steps.round().int(), False)
    space["Solarize"] = (linspace(1.0, 0.0, num_bins) if v2 else linspace(255.0, 0.0, num_bins),
                         False)  # fmt: skip
    space["AutoContrast"] = space["Equalize"] = (None, False)
    if kind == "auto":
        space["Invert"] = (None, False)
    return space


def _augmix_space(num_bins: int, height: int, width: int, all_ops: bool, v2: bool) -> dict:
    """AugMix's operations: the geometric ones scaled to a third of the image, posterize to
    4..0 bits, then (``all_ops``) the four colour enhancements."""
    space = {name: (linspace(0.0, 0.3, num_bins), True) for name in ("ShearX", "ShearY")}
    space["TranslateX"] = (linspace(0.0, width / 3.0, num_bins), True)
    space["TranslateY"] = (linspace(0.0, height / 3.0, num_bins), True)
    space["Rotate"] = (linspace(0.0, 30.0, num_bins), True)
    steps = arange(num_bins) / ((num_bins - 1) / 4)
    space["Posterize"] = ((4 - steps).round().int() if v2 else 4 - steps.round().int(), False)
    space["Solarize"] = (linspace(1.0, 0.0, num_bins) if v2 else linspace(255.0, 0.0, num_bins),
                         False)  # fmt: skip
    space["AutoContrast"] = space["Equalize"] = (None, False)
    if all_ops:
        for name in ("Brightness", "Color", "Contrast", "Sharpness"):
            space[name] = (linspace(0.0, 0.9, num_bins), True)
    return space


def apply_op(functional, img, name: str, magnitude: float, interpolation, fill, *, v2=False):
    """One auto-augment operation with its magnitude, through ``functional`` (v1's or v2's
    functional module, so v2 inputs keep their kind)."""
    if name in ("ShearX", "ShearY"):
        angle = math.degrees(math.atan(magnitude))
        shear = [angle, 0.0] if name == "ShearX" else [0.0, angle]
        return functional.affine(img, angle=0.0, translate=[0, 0], scale=1.0, shear=shear,
                                 interpolation=interpolation, fill=fill, center=[0, 0])  # fmt: skip
    if name in ("TranslateX", "TranslateY"):
        shift = [int(magnitude), 0] if name == "TranslateX" else [0, int(magnitude)]
        return functional.affine(img, angle=0.0, translate=shift, scale=1.0, shear=[0.0, 0.0],
                                 interpolation=interpolation, fill=fill)  # fmt: skip
    if name == "Rotate":
        return functional.rotate(img, magnitude, interpolation=interpolation, fill=fill)
    adjust = {"Brightness": "adjust_brightness", "Color": "adjust_saturation",
              "Contrast": "adjust_contrast", "Sharpness": "adjust_sharpness"}  # fmt: skip
    if name in adjust:
        return getattr(functional, adjust[name])(img, 1.0 + magnitude)
    if name == "Posterize":
        return functional.posterize(img, int(magnitude))
    if name == "Solarize":
        if v2:
            magnitude *= max_value(img.dtype) if isinstance(img, Tensor) else 255.0
        return functional.solarize(img, magnitude)
    if name in ("AutoContrast", "Equalize", "Invert"):
        return getattr(functional, name.lower())(img)
    if name == "Identity":
        return img
    raise ValueError(f"The provided operator {name} is not recognized.")


def _v1_fill(img, fill):
    if not isinstance(img, Tensor) or fill is None:
        return fill
    channels = F.get_dimensions(img)[0]
    return [float(fill)] * channels if isinstance(fill, (int, float)) else [float(f) for f in fill]


class AutoAugment(Module):
    """One of the ``policy``'s 25 learned sub-policies, picked at random: two operations,
    each applied with its probability at its magnitude (signed ones get a random sign)."""

    def __init__(self, policy=AutoAugmentPolicy.IMAGENET, interpolation=InterpolationMode.NEAREST,
                 fill=None):  # fmt: skip
        super().__init__()
        if policy not in _POLICIES:
            raise ValueError(f"The provided policy {policy} is not recognized.")
        self.policy, self.interpolation, self.fill = (
            policy,
            _interpolation_mode(interpolation),
            fill,
        )
        self.policies = _POLICIES[policy]

    @staticmethod
    def get_params(transform_num: int):
        """(sub-policy index, the two probabilities drawn, the two signs drawn)."""
        policy_id = int(randint(transform_num, (1,)).item())
        return policy_id, rand((2,)), randint(2, (2,))

    def forward(self, img):
        fill = _v1_fill(img, self.fill)
        _, height, width = F.get_dimensions(img)
        policy_id, probs, signs = self.get_params(len(self.policies))
        space = augmentation_space("auto", 10, height, width, v2=False)
        for i, (name, p, bin_) in enumerate(self.policies[policy_id]):
            if probs[i] <= p:
                magnitudes, signed = space[name]
                magnitude = float(magnitudes[bin_].item()) if bin_ is not None else 0.0
                if signed and signs[i] == 0:
                    magnitude *= -1.0
                img = apply_op(F, img, name, magnitude, self.interpolation, fill)
        return img

    def __repr__(self) -> str:
        return f"{type(self).__name__}(policy={self.policy}, fill={self.fill})"


class RandAugment(Module):
    """``num_ops`` operations picked uniformly, each at the one ``magnitude`` (a bin of
    ``num_magnitude_bins``) with a random sign."""

    def __init__(self, num_ops=2, magnitude=9, num_magnitude_bins=31,
                 interpolation=InterpolationMode.NEAREST, fill=None):  # fmt: skip
        super().__init__()
        self.num_ops, self.magnitude, self.num_magnitude_bins = (
            num_ops,
            magnitude,
            num_magnitude_bins,
        )
        self.interpolation, self.fill = _interpolation_mode(interpolation), fill

    def forward(self, img):
        fill = _v1_fill(img, self.fill)
        _, height, width = F.get_dimensions(img)
        space = augmentation_space("rand", self.num_magnitude_bins, height, width, v2=False)
        for _ in range(self.num_ops):
            name = list(space)[int(randint(len(space), (1,)).item())]
            magnitudes, signed = space[name]
            magnitude = float(magnitudes[self.magnitude].item()) if magnitudes is not None else 0.0
            if signed and bool(randint(2, (1,))):
                magnitude *= -1.0
            img = apply_op(F, img, name, magnitude, self.interpolation, fill)
        return img

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(num_ops={self.num_ops}, magnitude={self.magnitude}, "
            f"num_magnitude_bins={self.num_magnitude_bins}, interpolation={self.interpolation}, "
            f"fill={self.fill})"
        )


class TrivialAugmentWide(Module):
    """One operation picked uniformly, at a magnitude bin picked uniformly, random sign."""

    def __init__(self, num_magnitude_bins=31, interpolation=InterpolationMode.NEAREST, fill=None):
        super().__init__()
        self.num_magnitude_bins = num_magnitude_bins
        self.interpolation, self.fill = _interpolation_mode(interpolation), fill

    def forward(self, img):
        fill = _v1_fill(img, self.fill)
        space = augmentation_space("trivial", self.num_magnitude_bins, 0, 0, v2=False)
        name = list(space)[int(randint(len(space), (1,)).item())]
        magnitudes, signed = space[name]
        magnitude = 0.0
        if magnitudes is not None:
            magnitude = float(magnitudes[int(randint(len(magnitudes), (1,)).item())].item())
        if signed and bool(randint(2, (1,))):
            magnitude *= -1.0
        return apply_op(F, img, name, magnitude, self.interpolation, fill)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(num_magnitude_bins={self.num_magnitude_bins}, "
            f"interpolation={self.interpolation}, fill={self.fill})"
        )


def augmix(img, alpha, mixture_width, chain_depth, draw_op, apply):
    """AugMix on a tensor: ``mixture_width`` chains of 1..3 (or ``chain_depth``) random
    operations, mixed with Dirichlet(``alpha``) weights, then blended with the image by a
    Beta(``alpha``, ``alpha``) weight (both through ``_sample_dirichlet``, as torchvision).
    ``draw_op()`` gives (name, magnitude) in the caller's draw order; ``apply`` applies it."""
    dims = list(img.shape)
    batch = img.reshape([1] * max(4 - img.ndim, 0) + dims)
    count = batch.shape[0]
    ones = [count] + [1] * (batch.ndim - 1)
    m = _sample_dirichlet(tensor([alpha, alpha], device=batch.device).expand(count, -1))
    weights = _sample_dirichlet(
        tensor([alpha] * mixture_width, device=batch.device).expand(count, -1)
    )
    weights = weights * m[:, 1].reshape(count, -1)
    mix = m[:, 0].reshape(ones) * batch
    for i in range(mixture_width):
        aug = batch
        depth = chain_depth if chain_depth > 0 else int(randint(low=1, high=4, size=(1,)).item())
        for _ in range(depth):
            aug = apply(aug, *draw_op())
        mix = mix + weights[:, i].reshape(ones) * aug
    return mix.reshape(dims).to(img.dtype)


class AugMix(Module):
    """AugMix (Hendrycks et al., 2020): blend the image with a Dirichlet mixture of
    ``mixture_width`` chains of random operations of strength up to ``severity`` (1..10)."""

    _PARAMETER_MAX = 10

    def __init__(self, severity=3, mixture_width=3, chain_depth=-1, alpha=1.0, all_ops=True,
                 interpolation=InterpolationMode.BILINEAR, fill=None):  # fmt: skip
        super().__init__()
        if not 1 <= severity <= self._PARAMETER_MAX:
            raise ValueError(
                f"The severity must be between [1, {self._PARAMETER_MAX}]. Got {severity} instead."
            )
        self.severity, self.mixture_width, self.chain_depth = severity, mixture_width, chain_depth
        self.alpha, self.all_ops, self.fill = alpha, all_ops, fill
        self.interpolation = _interpolation_mode(interpolation)

    def forward(self, orig_img):
        fill = _v1_fill(orig_img, self.fill)
        _, height, width = F.get_dimensions(orig_img)
        img = orig_img if isinstance(orig_img, Tensor) else F.pil_to_tensor(orig_img)
        kind = "augmix-all" if self.all_ops else "augmix"
        space = augmentation_space(kind, self._PARAMETER_MAX, height, width, v2=False)

        def draw_op():
            name = list(space)[int(randint(len(space), (1,)).item())]
            magnitudes, signed = space[name]
            magnitude = 0.0
            if magnitudes is not None:
                magnitude = float(magnitudes[int(randint(self.severity, (1,)).item())].item())
            if signed and bool(randint(2, (1,))):
                magnitude *= -1.0
            return name, magnitude

        def apply(aug, name, magnitude):
            return apply_op(F, aug, name, magnitude, self.interpolation, fill)

        mix = augmix(img, self.alpha, self.mixture_width, self.chain_depth, draw_op, apply)
        return mix if isinstance(orig_img, Tensor) else F.to_pil_image(mix)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(severity={self.severity}, mixture_width={self.mixture_width}, "
            f"chain_depth={self.chain_depth}, alpha={self.alpha}, all_ops={self.all_ops}, "
            f"interpolation={self.interpolation}, fill={self.fill})"
        )
