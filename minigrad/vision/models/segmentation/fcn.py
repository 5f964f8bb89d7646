"""torchvision's FCN (Long et al. 2015) with a dilated ResNet-50/101 backbone (output stride 8)
and a 3×3 convolutional head; optionally an auxiliary head on ``layer3``."""

from __future__ import annotations

from minigrad import nn

from .._api import register_model
from .._utils import IntermediateLayerGetter
from .._weights import check_no_backbone_weights, check_no_weights, weights_enum
from ..resnet import ResNet, ResNet50_Weights, ResNet101_Weights, resnet50, resnet101
from ._utils import _SimpleSegmentationModel

__all__ = ["FCN", "FCN_ResNet50_Weights", "FCN_ResNet101_Weights", "fcn_resnet50", "fcn_resnet101"]


class FCN(_SimpleSegmentationModel):
    """Fully Convolutional Network: backbone features → :class:`FCNHead`, upsampled."""


class FCNHead(nn.Sequential):
    """3×3 convolution to a quarter of the channels, BatchNorm, ReLU, dropout 0.1, 1×1
    convolution to ``channels``."""

    def __init__(self, in_channels: int, channels: int) -> None:
        inter = in_channels // 4
        super().__init__(
            nn.Conv2d(in_channels, inter, 3, padding=1, bias=False),
            nn.BatchNorm2d(inter),
            nn.ReLU(),
            nn.Dropout(0.1),
            nn.Conv2d(inter, channels, 1),
        )


def _resnet_features(backbone: ResNet, aux: bool | None) -> IntermediateLayerGetter:
    """``layer4`` as ``"out"`` (and ``layer3`` as ``"aux"``)."""
    return_layers = {"layer4": "out"}
    if aux:
        return_layers["layer3"] = "aux"
    return IntermediateLayerGetter(backbone, return_layers=return_layers)


def _fcn_resnet(backbone: ResNet, num_classes: int, aux: bool | None) -> FCN:
    aux_classifier = FCNHead(1024, num_classes) if aux else None
    return FCN(_resnet_features(backbone, aux), FCNHead(2048, num_classes), aux_classifier)


def _dilated(resnet, name, weights, weights_backbone, kwargs):
    """The checks every segmentation builder makes, then ``resnet`` with strides 2 of layers 3
    and 4 replaced by dilation."""
    check_no_weights(name, weights, kwargs)
    check_no_backbone_weights(name, weights_backbone, kwargs)
    return resnet(weights=None, replace_stride_with_dilation=[False, True, True])


FCN_ResNet50_Weights = weights_enum("FCN_ResNet50_Weights", ("COCO_WITH_VOC_LABELS_V1",))
FCN_ResNet101_Weights = weights_enum("FCN_ResNet101_Weights", ("COCO_WITH_VOC_LABELS_V1",))


@register_model(FCN_ResNet50_Weights)
def fcn_resnet50(
    *,
    weights=None,
    progress: bool = True,
    num_classes: int | None = None,
    aux_loss: bool | None = None,
    weights_backbone=ResNet50_Weights.IMAGENET1K_V1,
    **kwargs,
) -> FCN:
    """FCN with a ResNet-50 backbone (32.9 M parameters, 35.3 M with ``aux_loss=True``);
    ``num_classes`` 21 (Pascal VOC) by default."""
    backbone = _dilated(resnet50, "fcn_resnet50", weights, weights_backbone, kwargs)
    return _fcn_resnet(backbone, 21 if num_classes is None else num_classes, aux_loss)


@register_model(FCN_ResNet101_Weights)
def fcn_resnet101(
    *,
    weights=None,
    progress: bool = True,
    num_classes: int | None = None,
    aux_loss: bool | None = None,
    weights_backbone=ResNet101_Weights.IMAGENET1K_V1,
    **kwargs,
) -> FCN:
    """FCN with a ResNet-101 backbone (51.9 M parameters, 54.3 M with ``aux_loss=True``)."""
    backbone = _dilated(resnet101, "fcn_resnet101", weights, weights_backbone, kwargs)
    return _fcn_resnet(backbone, 21 if num_classes is None else num_classes, aux_loss)
