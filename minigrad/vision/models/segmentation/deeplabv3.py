"""torchvision's DeepLabV3 (Chen et al. 2017, "Rethinking Atrous Convolution") with a dilated
ResNet-50/101 or MobileNetV3-Large backbone and the ASPP head (parallel atrous convolutions at
rates 12/24/36 and image pooling); optionally an auxiliary FCN head."""

from __future__ import annotations

from collections.abc import Sequence

import minigrad
from minigrad import nn
from minigrad.nn import functional as F

from .._api import register_model
from .._utils import IntermediateLayerGetter
from .._weights import check_no_backbone_weights, check_no_weights, weights_enum
from ..mobilenetv3 import MobileNet_V3_Large_Weights, MobileNetV3, mobilenet_v3_large
from ..resnet import ResNet, ResNet50_Weights, ResNet101_Weights, resnet50, resnet101
from ._utils import _SimpleSegmentationModel
from .fcn import FCNHead, _dilated, _resnet_features

__all__ = [
    "DeepLabV3",
    "DeepLabV3_ResNet50_Weights",
    "DeepLabV3_ResNet101_Weights",
    "DeepLabV3_MobileNet_V3_Large_Weights",
    "deeplabv3_mobilenet_v3_large",
    "deeplabv3_resnet50",
    "deeplabv3_resnet101",
]


class DeepLabV3(_SimpleSegmentationModel):
    """DeepLabV3: backbone features → :class:`DeepLabHead`, upsampled."""


class DeepLabHead(nn.Sequential):
    """ASPP to 256 channels, 3×3 convolution, BatchNorm, ReLU, 1×1 convolution to classes."""

    def __init__(
        self, in_channels: int, num_classes: int, atrous_rates: Sequence[int] = (12, 24, 36)
    ) -> None:
        super().__init__(
            ASPP(in_channels, atrous_rates),
            nn.Conv2d(256, 256, 3, padding=1, bias=False),
            nn.BatchNorm2d(256),
            nn.ReLU(),
            nn.Conv2d(256, num_classes, 1),
        )


class ASPPConv(nn.Sequential):
    """3×3 convolution at ``dilation``, BatchNorm, ReLU."""

    def __init__(self, in_channels: int, out_channels: int, dilation: int) -> None:
        super().__init__(
            nn.Conv2d(
                in_channels, out_channels, 3, padding=dilation, dilation=dilation, bias=False
            ),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
        )


class ASPPPooling(nn.Sequential):
    """Image-level features: global average pooling, 1×1 convolution, BatchNorm, ReLU,
    upsampled back to the input's size."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(
            nn.AdaptiveAvgPool2d(1),
            nn.Conv2d(in_channels, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
        )

    def forward(self, x):
        size = x.shape[-2:]
        for module in self:
            x = module(x)
        return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


class ASPP(nn.Module):
    """Atrous Spatial Pyramid Pooling: a 1×1 branch, one :class:`ASPPConv` per rate and
    :class:`ASPPPooling`, concatenated and projected (1×1, BatchNorm, ReLU, dropout 0.5)."""

    def __init__(
        self, in_channels: int, atrous_rates: Sequence[int], out_channels: int = 256
    ) -> None:
        super().__init__()
        branches: list[nn.Module] = [
            nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, bias=False),
                nn.BatchNorm2d(out_channels),
                nn.ReLU(),
            )
        ]
        branches += [ASPPConv(in_channels, out_channels, rate) for rate in tuple(atrous_rates)]
        branches.append(ASPPPooling(in_channels, out_channels))
        self.convs = nn.ModuleList(branches)
        self.project = nn.Sequential(
            nn.Conv2d(len(self.convs) * out_channels, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
            nn.Dropout(0.5),
        )

    def forward(self, x):
        return self.project(minigrad.cat([conv(x) for conv in self.convs], dim=1))


def _deeplabv3_resnet(backbone: ResNet, num_classes: int, aux: bool | None) -> DeepLabV3:
    aux_classifier = FCNHead(1024, num_classes) if aux else None
    features = _resnet_features(backbone, aux)
    return DeepLabV3(features, DeepLabHead(2048, num_classes), aux_classifier)


def _mobilenetv3_stages(features: nn.Sequential) -> list[int]:
    """Indices of the first block, the strided (``_is_cn``) blocks and the last block: the
    C0…C5 feature levels of a MobileNetV3."""
    strided = [i for i, b in enumerate(features) if getattr(b, "_is_cn", False)]
    return [0, *strided, len(features) - 1]


def _deeplabv3_mobilenetv3(backbone: MobileNetV3, num_classes: int, aux: bool | None) -> DeepLabV3:
    features = backbone.features
    stages = _mobilenetv3_stages(features)
    out_pos, aux_pos = stages[-1], stages[-4]  # C5 (output stride 16) and C2 (stride 8)
    return_layers = {str(out_pos): "out"}
    if aux:
        return_layers[str(aux_pos)] = "aux"
    aux_classifier = FCNHead(features[aux_pos].out_channels, num_classes) if aux else None
    classifier = DeepLabHead(features[out_pos].out_channels, num_classes)
    return DeepLabV3(IntermediateLayerGetter(features, return_layers), classifier, aux_classifier)


_COCO_VOC = ("COCO_WITH_VOC_LABELS_V1",)
DeepLabV3_ResNet50_Weights = weights_enum("DeepLabV3_ResNet50_Weights", _COCO_VOC)
DeepLabV3_ResNet101_Weights = weights_enum("DeepLabV3_ResNet101_Weights", _COCO_VOC)
DeepLabV3_MobileNet_V3_Large_Weights = weights_enum(
    "DeepLabV3_MobileNet_V3_Large_Weights", _COCO_VOC
)


@register_model(DeepLabV3_ResNet50_Weights)
def deeplabv3_resnet50(
    *,
    weights=None,
    progress: bool = True,
    num_classes: int | None = None,
    aux_loss: bool | None = None,
    weights_backbone=ResNet50_Weights.IMAGENET1K_V1,
    **kwargs,
) -> DeepLabV3:
    """DeepLabV3 with a ResNet-50 backbone (39.6 M parameters, 42.0 M with ``aux_loss``);
    ``num_classes`` 21 by default."""
    backbone = _dilated(resnet50, "deeplabv3_resnet50", weights, weights_backbone, kwargs)
    return _deeplabv3_resnet(backbone, 21 if num_classes is None else num_classes, aux_loss)


@register_model(DeepLabV3_ResNet101_Weights)
def deeplabv3_resnet101(
    *,
    weights=None,
    progress: bool = True,
    num_classes: int | None = None,
    aux_loss: bool | None = None,
    weights_backbone=ResNet101_Weights.IMAGENET1K_V1,
    **kwargs,
) -> DeepLabV3:
    """DeepLabV3 with a ResNet-101 backbone (58.6 M parameters, 61.0 M with ``aux_loss``)."""
    backbone = _dilated(resnet101, "deeplabv3_resnet101", weights, weights_backbone, kwargs)
    return _deeplabv3_resnet(backbone, 21 if num_classes is None else num_classes, aux_loss)


@register_model(DeepLabV3_MobileNet_V3_Large_Weights)
def deeplabv3_mobilenet_v3_large(
    *,
    weights=None,
    progress: bool = True,
    num_classes: int | None = None,
    aux_loss: bool | None = None,
    weights_backbone=MobileNet_V3_Large_Weights.IMAGENET1K_V1,
    **kwargs,
) -> DeepLabV3:
    """DeepLabV3 with a dilated MobileNetV3-Large backbone (11.0 M parameters with
    ``aux_loss``)."""
    check_no_weights("deeplabv3_mobilenet_v3_large", weights, kwargs)
    check_no_backbone_weights("deeplabv3_mobilenet_v3_large", weights_backbone, kwargs)
    backbone = mobilenet_v3_large(weights=None, dilated=True)
    return _deeplabv3_mobilenetv3(backbone, 21 if num_classes is None else num_classes, aux_loss)
