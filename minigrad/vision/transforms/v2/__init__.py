"""``torchvision.transforms.v2``: transforms for images, videos, masks and bounding boxes.

A v2 transform takes any nested sample (``img``; ``(img, target)``; ``{"image": img, "boxes":
boxes, "masks": masks, "labels": labels}``) and transforms each
:mod:`~minigrad.vision.tv_tensors` input by its kind with the same random parameters, so boxes
and masks follow the image's flips, crops and resizes. Plain non-tensor values pass through; a
plain tensor is an image when the sample has no Image, Video or PIL image (the first one only).
"""

from ..._missing import missing_names as _missing_names
from ..functional import InterpolationMode
from . import functional
from ._augment import *  # noqa: F403 - the public names, listed in _augment.__all__
from ._augment import __all__ as _augment_names
from ._auto_augment import AugMix, AutoAugment, AutoAugmentPolicy, RandAugment, TrivialAugmentWide
from ._geometry import *  # noqa: F403 - the public names, listed in _geometry.__all__
from ._geometry import __all__ as _geometry_names
from ._mixing import CutMix, MixUp
from ._transform import Compose, RandomApply, RandomChoice, RandomOrder, Transform
from ._transforms import *  # noqa: F403 - the public names, listed in _transforms.__all__
from ._transforms import __all__ as _names

__all__ = [
    "AugMix",
    "AutoAugment",
    "AutoAugmentPolicy",
    "Compose",
    "CutMix",
    "InterpolationMode",
    "MixUp",
    "RandAugment",
    "RandomApply",
    "RandomChoice",
    "RandomOrder",
    "Transform",
    "TrivialAugmentWide",
    "functional",
    *_augment_names,
    *_geometry_names,
    *_names,
]

__getattr__ = _missing_names(
    __name__,
    "ClampKeyPoints FiveCrop "
    "GaussianNoise JPEG LinearTransformation RGB "
    "RandomChannelPermutation "
    "RandomResize "
    "RandomShortestSize RandomZoomOut SanitizeKeyPoints "
    "ScaleJitter SetClampingMode TenCrop UniformTemporalSubsample",
)
