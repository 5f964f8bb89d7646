"""``torchvision.models.segmentation`` on minigrad: FCN (ResNet-50/101), DeepLabV3 (ResNet-50/101,
MobileNetV3-Large) and LR-ASPP (MobileNetV3-Large) with torchvision's module names, so a state
dict saved by PyTorch loads. No pretrained weights: ``weights=`` and ``weights_backbone=`` other
than None raise (torchvision's ``weights_backbone`` default is ImageNet's, so pass None)."""

from .deeplabv3 import *  # noqa: F403
from .deeplabv3 import __all__ as _deeplabv3_all
from .fcn import *  # noqa: F403
from .fcn import __all__ as _fcn_all
from .lraspp import *  # noqa: F403
from .lraspp import __all__ as _lraspp_all

__all__ = [*_fcn_all, *_deeplabv3_all, *_lraspp_all]
