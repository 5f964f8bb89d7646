"""``torchvision.models`` on minigrad: the classification architectures (ResNet, ResNeXt,
Wide ResNet, VGG, AlexNet, MobileNetV2, DenseNet) with torchvision's module names, shapes and
initialisation, so a state dict saved by PyTorch (``minigrad.load('resnet18.pth')``) loads into
them. No pretrained weights are shipped or downloaded: ``weights=`` other than ``None`` and
``pretrained=True`` raise ``RuntimeError``. ``list_models()`` / ``get_model(name, **config)``
pick them by name, as torchvision's registry does. :mod:`.detection` holds Faster R-CNN and
Mask R-CNN."""

from . import detection
from ._api import get_model, get_model_builder, get_model_weights, list_models
from .alexnet import *  # noqa: F403
from .alexnet import __all__ as _alexnet_all
from .densenet import *  # noqa: F403
from .densenet import __all__ as _densenet_all
from .mobilenetv2 import *  # noqa: F403
from .mobilenetv2 import __all__ as _mobilenetv2_all
from .resnet import *  # noqa: F403
from .resnet import __all__ as _resnet_all
from .vgg import *  # noqa: F403
from .vgg import __all__ as _vgg_all

__all__ = [
    "get_model",
    "get_model_builder",
    "get_model_weights",
    "list_models",
    *_resnet_all,
    *_vgg_all,
    *_alexnet_all,
    *_mobilenetv2_all,
    *_densenet_all,
]
