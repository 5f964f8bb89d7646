"""``torchvision.transforms``: the classic image transforms and their functional forms."""

from . import functional
from ._augment import *  # noqa: F403 - the public names, listed in _augment.__all__
from ._augment import __all__ as _augment_names
from ._elastic import ElasticTransform
from ._random_color import *  # noqa: F403 - the public names, listed in _random_color.__all__
from ._random_color import __all__ as _color_names
from .autoaugment import AugMix, AutoAugment, AutoAugmentPolicy, RandAugment, TrivialAugmentWide
from .functional import InterpolationMode
from .transforms import *  # noqa: F403 - the public names, listed in transforms.__all__
from .transforms import __all__ as _names

__all__ = [
    "functional",
    *_names,
    "AugMix",
    "ElasticTransform",
    "AutoAugment",
    "AutoAugmentPolicy",
    "RandAugment",
    "TrivialAugmentWide",
    *_augment_names,
    *_color_names,
]
