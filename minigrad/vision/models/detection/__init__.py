"""``torchvision.models.detection`` on minigrad: Faster R-CNN, Mask R-CNN, Keypoint R-CNN, RetinaNet, FCOS, SSD and SSDlite
(ResNet-50-FPN and MobileNetV3-FPN builders, or any backbone with ``out_channels``) and their
parts (anchor generator, RPN, RoI heads, one-stage heads, transform), as torchvision 0.28
builds them, in the v1 and v2 recipes."""

from .faster_rcnn import *  # noqa: F403
from .faster_rcnn import __all__ as _faster_all
from .fcos import *  # noqa: F403
from .fcos import __all__ as _fcos_all
from .keypoint_rcnn import *  # noqa: F403
from .keypoint_rcnn import __all__ as _keypoint_all
from .mask_rcnn import *  # noqa: F403
from .mask_rcnn import __all__ as _mask_all
from .retinanet import *  # noqa: F403
from .retinanet import __all__ as _retina_all
from .ssd import *  # noqa: F403
from .ssd import __all__ as _ssd_all
from .ssdlite import *  # noqa: F403
from .ssdlite import __all__ as _ssdlite_all

__all__ = [
    *_faster_all,
    *_fcos_all,
    *_keypoint_all,
    *_mask_all,
    *_retina_all,
    *_ssd_all,
    *_ssdlite_all,
]
