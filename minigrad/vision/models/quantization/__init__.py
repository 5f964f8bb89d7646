"""``torchvision.models.quantization`` on minigrad: the quantizable classifiers (ResNet-18/50,
ResNeXt-101, MobileNetV2, MobileNetV3-Large, ShuffleNetV2, GoogLeNet, Inception v3) with
QuantStub/DeQuantStub, ``FloatFunctional`` adds and ``fuse_model(is_qat=None)``, for minigrad's
eager-mode quantization (:mod:`minigrad.ao.quantization`); ``quantize=True`` returns the
converted int8 model (calibrated on one random image, as torchvision's; MobileNetV3 by
torchvision's QAT route, ``prepare_qat`` then ``convert``). No pretrained weights: ``weights=``
other than None raises."""

from .googlenet import *  # noqa: F403
from .googlenet import __all__ as _googlenet_all
from .inception import *  # noqa: F403
from .inception import __all__ as _inception_all
from .mobilenetv2 import *  # noqa: F403
from .mobilenetv2 import __all__ as _mobilenetv2_all
from .mobilenetv3 import *  # noqa: F403
from .mobilenetv3 import __all__ as _mobilenetv3_all
from .resnet import *  # noqa: F403
from .resnet import __all__ as _resnet_all
from .shufflenetv2 import *  # noqa: F403
from .shufflenetv2 import __all__ as _shufflenetv2_all

__all__ = [
    *_googlenet_all,
    *_inception_all,
    *_resnet_all,
    *_mobilenetv2_all,
    *_mobilenetv3_all,
    *_shufflenetv2_all,
]
