"""``torchvision.models`` on minigrad: the classification architectures (ResNet, ResNeXt,
Wide ResNet, VGG, AlexNet, MobileNetV2/V3, DenseNet, EfficientNet/V2, ConvNeXt, ShuffleNetV2,
SqueezeNet, RegNet, ViT, Swin/V2, GoogLeNet, Inception v3, MNASNet, MaxViT) and, in
:mod:`.segmentation`, FCN, DeepLabV3 and LR-ASPP, with torchvision's module names, shapes and
initialisation, so a state dict saved by PyTorch (``minigrad.load('resnet18.pth')``) loads into
them. No pretrained weights are shipped or downloaded: ``weights=`` other than ``None`` and
``pretrained=True`` raise ``RuntimeError``. ``list_models()`` / ``get_model(name, **config)``
pick them by name, as torchvision's registry does. :mod:`.detection` holds the detectors,
:mod:`.video` the video classifiers and :mod:`.optical_flow` RAFT."""

from . import detection, optical_flow, quantization, segmentation, video
from ._api import get_model, get_model_builder, get_model_weights, list_models
from .alexnet import *  # noqa: F403
from .alexnet import __all__ as _alexnet_all
from .convnext import *  # noqa: F403
from .convnext import __all__ as _convnext_all
from .densenet import *  # noqa: F403
from .densenet import __all__ as _densenet_all
from .efficientnet import *  # noqa: F403
from .efficientnet import __all__ as _efficientnet_all
from .googlenet import *  # noqa: F403
from .googlenet import __all__ as _googlenet_all
from .inception import *  # noqa: F403
from .inception import __all__ as _inception_all
from .maxvit import *  # noqa: F403
from .maxvit import __all__ as _maxvit_all
from .mnasnet import *  # noqa: F403
from .mnasnet import __all__ as _mnasnet_all
from .mobilenetv2 import *  # noqa: F403
from .mobilenetv2 import __all__ as _mobilenetv2_all
from .mobilenetv3 import *  # noqa: F403
from .mobilenetv3 import __all__ as _mobilenetv3_all
from .regnet import *  # noqa: F403
from .regnet import __all__ as _regnet_all
from .resnet import *  # noqa: F403
from .resnet import __all__ as _resnet_all
from .shufflenetv2 import *  # noqa: F403
from .shufflenetv2 import __all__ as _shufflenetv2_all
from .squeezenet import *  # noqa: F403
from .squeezenet import __all__ as _squeezenet_all
from .swin_transformer import *  # noqa: F403
from .swin_transformer import __all__ as _swin_transformer_all
from .vgg import *  # noqa: F403
from .vgg import __all__ as _vgg_all
from .vision_transformer import *  # noqa: F403
from .vision_transformer import __all__ as _vision_transformer_all

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
    *_mobilenetv3_all,
    *_efficientnet_all,
    *_convnext_all,
    *_shufflenetv2_all,
    *_squeezenet_all,
    *_vision_transformer_all,
    *_swin_transformer_all,
    *_regnet_all,
    *_googlenet_all,
    *_inception_all,
    *_mnasnet_all,
    *_maxvit_all,
]
