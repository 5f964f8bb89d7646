"""The v2 AutoAugment, RandAugment, TrivialAugmentWide and AugMix: v1's policies, operations and
magnitude tables, drawn in v2's order (``randint(n, ())``, ``rand(()) <= p``, a sign from
``rand(()) <= 0.5``) and applied to the sample's one image or video."""

from __future__ import annotations

from ....creation import rand, randint
from ....tensor import Tensor
from ....utils._pytree import tree_flatten, tree_unflatten
from ... import tv_tensors
from ...tv_tensors import BoundingBoxes, Image, Mask, Video
from .. import autoaugment as _v1
from ..autoaugment import AutoAugmentPolicy
from ..functional import InterpolationMode
from . import functional as F
from ._geometry import _fill_for, _interpolation
from ._transform import _PIL_IMAGE, Transform, check_type
from .functional import get_size, is_pure_tensor, pil_to_tensor, to_pil_image

__all__ = ["AugMix", "AutoAugment", "AutoAugmentPolicy", "RandAugment", "TrivialAugmentWide"]


class _AutoAugmentBase(Transform):
    def __init__(self, *, interpolation=InterpolationMode.NEAREST, fill=None) -> None:
        super().__init__()
        self.interpolation, self.fill = _interpolation(interpolation), fill

    def forward(self, *inputs):
        flat_inputs, spec = tree_flatten(inputs if len(inputs) > 1 else inputs[0])
        found = []
        for index, (inpt, needs) in enumerate(
            zip(flat_inputs, self._needs_transform_list(flat_inputs))
        ):
            if needs and check_type(inpt, (Image, _PIL_IMAGE, is_pure_tensor, Video)):
                found.append(index)
            elif isinstance(inpt, (BoundingBoxes, Mask)):
                raise TypeError(
                    f"Inputs of type {type(inpt).__name__} are not supported by {type(self).__name__}()"
                )
        if not found:
            raise TypeError("Found no image in the sample.")
        if len(found) > 1:
            raise TypeError(
                "Auto augment transformations are only properly defined for a single image or "
                f"video, but found {len(found)}."
            )
        image = flat_inputs[found[0]]
        flat_inputs[found[0]] = self._augment(image, *get_size(image))
        return tree_unflatten(flat_inputs, spec)

    def _apply(self, image, name, magnitude):
        fill = _fill_for(self.fill, image)
        return _v1.apply_op(F, image, name, magnitude, self.interpolation, fill, v2=True)

    @staticmethod
    def _signed(magnitudes, index, signed) -> float:
        if magnitudes is None:
            return 0.0
        magnitude = float(magnitudes[index])
        return -magnitude if signed and bool(rand(()) <= 0.5) else magnitude


class AutoAugment(_AutoAugmentBase):
    """One of the ``policy``'s learned sub-policies, picked at random (v2's draws)."""

    def __init__(self, policy=AutoAugmentPolicy.IMAGENET, interpolation=InterpolationMode.NEAREST,
                 fill=None) -> None:  # fmt: skip
        super().__init__(interpolation=interpolation, fill=fill)
        if policy not in _v1._POLICIES:
            raise ValueError(f"The provided policy {policy} is not recognized.")
        self.policy, self._policies = policy, _v1._POLICIES[policy]

    def _augment(self, image, height, width):
        policy = self._policies[int(randint(len(self._policies), ()))]
        space = _v1.augmentation_space("auto", 10, height, width, v2=True)
        for name, probability, bin_ in policy:
            if not bool(rand(()) <= probability):
                continue
            magnitudes, signed = space[name]
            image = self._apply(image, name, self._signed(magnitudes, bin_, signed))
        return image


class RandAugment(_AutoAugmentBase):
    """``num_ops`` operations picked uniformly at the one ``magnitude`` bin (v2's draws)."""

    def __init__(self, num_ops=2, magnitude=9, num_magnitude_bins=31,
                 interpolation=InterpolationMode.NEAREST, fill=None) -> None:  # fmt: skip
        super().__init__(interpolation=interpolation, fill=fill)
        self.num_ops, self.magnitude, self.num_magnitude_bins = (
            num_ops,
            magnitude,
            num_magnitude_bins,
        )

    def _augment(self, image, height, width):
        space = _v1.augmentation_space("rand", self.num_magnitude_bins, height, width, v2=True)
        for _ in range(self.num_ops):
            name = list(space)[int(randint(len(space), ()))]
            magnitudes, signed = space[name]
            image = self._apply(image, name, self._signed(magnitudes, self.magnitude, signed))
        return image


class TrivialAugmentWide(_AutoAugmentBase):
    """One operation and one magnitude bin picked uniformly (v2's draws)."""

    def __init__(self, num_magnitude_bins=31, interpolation=InterpolationMode.NEAREST,
                 fill=None) -> None:  # fmt: skip
        super().__init__(interpolation=interpolation, fill=fill)
        self.num_magnitude_bins = num_magnitude_bins

    def _augment(self, image, height, width):
        space = _v1.augmentation_space("trivial", self.num_magnitude_bins, height, width, v2=True)
        name = list(space)[int(randint(len(space), ()))]
        magnitudes, signed = space[name]
        index = int(randint(self.num_magnitude_bins, ())) if magnitudes is not None else 0
        return self._apply(image, name, self._signed(magnitudes, index, signed))


class AugMix(_AutoAugmentBase):
    """AugMix (see v1's): chains of random operations mixed by Dirichlet weights (v2's
    draws: the operation by ``randint(n, ())``, its strength by ``randint(severity, ())``, its
    sign by ``rand(()) <= 0.5``)."""

    _PARAMETER_MAX = 10

    def __init__(self, severity=3, mixture_width=3, chain_depth=-1, alpha=1.0, all_ops=True,
                 interpolation=InterpolationMode.BILINEAR, fill=None) -> None:  # fmt: skip
        super().__init__(interpolation=interpolation, fill=fill)
        if not 1 <= severity <= self._PARAMETER_MAX:
            raise ValueError(
                f"The severity must be between [1, {self._PARAMETER_MAX}]. Got {severity} instead."
            )
        self.severity, self.mixture_width, self.chain_depth = severity, mixture_width, chain_depth
        self.alpha, self.all_ops = alpha, all_ops

    def _augment(self, image, height, width):
        kind = "augmix-all" if self.all_ops else "augmix"
        space = _v1.augmentation_space(kind, self._PARAMETER_MAX, height, width, v2=True)
        tensor_image = pil_to_tensor(image) if isinstance(image, _PIL_IMAGE) else image
        plain = (
            tensor_image.as_subclass(Tensor) if isinstance(image, (Image, Video)) else tensor_image
        )

        def draw_op():
            name = list(space)[int(randint(len(space), ()))]
            magnitudes, signed = space[name]
            index = int(randint(self.severity, ())) if magnitudes is not None else 0
            return name, self._signed(magnitudes, index, signed)

        mix = _v1.augmix(plain, self.alpha, self.mixture_width, self.chain_depth, draw_op,
                         lambda aug, name, magnitude: self._apply(aug, name, magnitude))  # fmt: skip
        if isinstance(image, (Image, Video)):
            return tv_tensors.wrap(mix, like=image)
        return to_pil_image(mix) if isinstance(image, _PIL_IMAGE) else mix
