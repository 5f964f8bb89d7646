"""torchvision's Lite R-ASPP (Howard et al. 2019, "Searching for MobileNetV3") with a dilated
MobileNetV3-Large backbone: a gated 1×1 head on the output-stride-16 features plus a linear
classifier on the stride-8 features."""

from __future__ import annotations

from collections import OrderedDict

from minigrad import nn
from minigrad.nn import functional as F

from .._api import register_model
from .._utils import IntermediateLayerGetter
from .._weights import check_no_backbone_weights, check_no_weights, weights_enum
from ..mobilenetv3 import MobileNet_V3_Large_Weights, MobileNetV3, mobilenet_v3_large
from .deeplabv3 import _mobilenetv3_stages

__all__ = ["LRASPP", "LRASPP_MobileNet_V3_Large_Weights", "lraspp_mobilenet_v3_large"]


class LRASPP(nn.Module):
    """``backbone`` returns ``"low"`` and ``"high"`` features; :class:`LRASPPHead` combines
    them; the result is upsampled to the input's size as ``{"out": ...}``."""

    def __init__(
        self,
        backbone: nn.Module,
        low_channels: int,
        high_channels: int,
        num_classes: int,
        inter_channels: int = 128,
    ) -> None:
        super().__init__()
        self.backbone = backbone
        self.classifier = LRASPPHead(low_channels, high_channels, num_classes, inter_channels)

    def forward(self, input) -> OrderedDict:
        out = self.classifier(self.backbone(input))
        out = F.interpolate(out, size=input.shape[-2:], mode="bilinear", align_corners=False)
        return OrderedDict(out=out)


class LRASPPHead(nn.Module):
    """``cbr(high) · scale(high)`` (a sigmoid gate from pooled features), upsampled to the low
    features' size and classified, plus a 1×1 classifier of the low features."""

    def __init__(
        self, low_channels: int, high_channels: int, num_classes: int, inter_channels: int
    ) -> None:
        super().__init__()
        self.cbr = nn.Sequential(
            nn.Conv2d(high_channels, inter_channels, 1, bias=False),
            nn.BatchNorm2d(inter_channels),
            nn.ReLU(inplace=True),
        )
        self.scale = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Conv2d(high_channels, inter_channels, 1, bias=False),
            nn.Sigmoid(),
        )
        self.low_classifier = nn.Conv2d(low_channels, num_classes, 1)
        self.high_classifier = nn.Conv2d(inter_channels, num_classes, 1)

    def forward(self, input: dict):
        low, high = input["low"], input["high"]
        x = self.cbr(high) * self.scale(high)
        x = F.interpolate(x, size=low.shape[-2:], mode="bilinear", align_corners=False)
        return self.low_classifier(low) + self.high_classifier(x)


def _lraspp_mobilenetv3(backbone: MobileNetV3, num_classes: int) -> LRASPP:
    features = backbone.features
    stages = _mobilenetv3_stages(features)
    low_pos, high_pos = stages[-4], stages[-1]  # C2 (output stride 8) and C5 (stride 16)
    getter = IntermediateLayerGetter(
        features, return_layers={str(low_pos): "low", str(high_pos): "high"}
    )
    return LRASPP(
        getter, features[low_pos].out_channels, features[high_pos].out_channels, num_classes
    )


LRASPP_MobileNet_V3_Large_Weights = weights_enum(
    "LRASPP_MobileNet_V3_Large_Weights", ("COCO_WITH_VOC_LABELS_V1",)
)


@register_model(LRASPP_MobileNet_V3_Large_Weights)
def lraspp_mobilenet_v3_large(
    *,
    weights=None,
    progress: bool = True,
    num_classes: int | None = None,
    weights_backbone=MobileNet_V3_Large_Weights.IMAGENET1K_V1,
    **kwargs,
) -> LRASPP:
    """Lite R-ASPP with a dilated MobileNetV3-Large backbone (3.2 M parameters);
    ``num_classes`` 21 by default. No auxiliary loss."""
    if kwargs.pop("aux_loss", False):
        raise NotImplementedError("This model does not use auxiliary loss")
    check_no_weights("lraspp_mobilenet_v3_large", weights, kwargs)
    check_no_backbone_weights("lraspp_mobilenet_v3_large", weights_backbone, kwargs)
    backbone = mobilenet_v3_large(weights=None, dilated=True)
    return _lraspp_mobilenetv3(backbone, 21 if num_classes is None else num_classes)
