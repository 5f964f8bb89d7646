"""SSDlite (Sandler et al., 2018; Howard et al., 2019) as torchvision 0.28 builds it: SSD
with depthwise-separable prediction blocks (``SSDLiteHead``) on a MobileNetV3-Large cut at its
last stride-2 block's expansion (C4) plus four extra depthwise blocks — six maps of a 320×320
input — and ``ssdlite320_mobilenet_v3_large``. Module names as torchvision's. No pretrained
weights."""

from __future__ import annotations

from collections import OrderedDict
from functools import partial

from minigrad import nn

from ...._warnings import warn_user
from ...ops.misc import Conv2dNormActivation
from .._api import register_model
from .._weights import weights_enum
from ..mobilenetv3 import MobileNet_V3_Large_Weights, mobilenet_v3_large
from . import _utils as det_utils
from .anchor_utils import DefaultBoxGenerator
from .backbone_utils import _validate_trainable_layers, freeze_mobilenet_stages
from .faster_rcnn import check_detection_weights
from .ssd import SSD, SSDScoringHead

__all__ = ["SSDLite320_MobileNet_V3_Large_Weights", "ssdlite320_mobilenet_v3_large"]


def _prediction_block(in_channels: int, out_channels: int, kernel_size: int, norm_layer):
    """A depthwise ``kernel_size`` convolution (norm, ReLU6) then a 1×1 convolution."""
    return nn.Sequential(
        Conv2dNormActivation(in_channels, in_channels, kernel_size=kernel_size,
                             groups=in_channels, norm_layer=norm_layer,
                             activation_layer=nn.ReLU6),
        nn.Conv2d(in_channels, out_channels, 1),
    )  # fmt: skip


def _extra_block(in_channels: int, out_channels: int, norm_layer):
    """1×1 to half width, depthwise 3×3 stride 2, 1×1 to ``out_channels`` (norm, ReLU6)."""
    mid = out_channels // 2
    return nn.Sequential(
        Conv2dNormActivation(in_channels, mid, kernel_size=1, norm_layer=norm_layer,
                             activation_layer=nn.ReLU6),
        Conv2dNormActivation(mid, mid, kernel_size=3, stride=2, groups=mid,
                             norm_layer=norm_layer, activation_layer=nn.ReLU6),
        Conv2dNormActivation(mid, out_channels, kernel_size=1, norm_layer=norm_layer,
                             activation_layer=nn.ReLU6),
    )  # fmt: skip


def _normal_init(module: nn.Module) -> None:
    """N(0, 0.03) convolution weights, zero biases."""
    for layer in module.modules():
        if isinstance(layer, nn.Conv2d):
            nn.init.normal_(layer.weight, mean=0.0, std=0.03)
            if layer.bias is not None:
                nn.init.constant_(layer.bias, 0.0)


class SSDLiteClassificationHead(SSDScoringHead):
    """A prediction block per map to ``num_classes`` logits per default box."""

    def __init__(self, in_channels, num_anchors, num_classes: int, norm_layer) -> None:
        blocks = nn.ModuleList(
            _prediction_block(c, num_classes * a, 3, norm_layer)
            for c, a in zip(in_channels, num_anchors, strict=True)
        )
        _normal_init(blocks)
        super().__init__(blocks, num_classes)


class SSDLiteRegressionHead(SSDScoringHead):
    """A prediction block per map to 4 box codes per default box."""

    def __init__(self, in_channels, num_anchors, norm_layer) -> None:
        blocks = nn.ModuleList(
            _prediction_block(c, 4 * a, 3, norm_layer)
            for c, a in zip(in_channels, num_anchors, strict=True)
        )
        _normal_init(blocks)
        super().__init__(blocks, 4)


class SSDLiteHead(nn.Module):
    """Classification and regression heads of depthwise-separable blocks."""

    def __init__(self, in_channels, num_anchors, num_classes: int, norm_layer) -> None:
        super().__init__()
        self.classification_head = SSDLiteClassificationHead(
            in_channels, num_anchors, num_classes, norm_layer
        )
        self.regression_head = SSDLiteRegressionHead(in_channels, num_anchors, norm_layer)

    def forward(self, x):
        return {
            "bbox_regression": self.regression_head(x),
            "cls_logits": self.classification_head(x),
        }


class SSDLiteFeatureExtractorMobileNet(nn.Module):
    """MobileNet ``features`` split inside block ``c4_pos`` (after its expansion: the C4 map)
    and at the end (C5), then four extra blocks of widths 512, 256, 256, 128 (times
    ``width_mult``, at least ``min_depth``): six maps."""

    def __init__(self, backbone, c4_pos: int, norm_layer, width_mult=1.0, min_depth=16):
        super().__init__()
        if backbone[c4_pos].use_res_connect:
            raise ValueError("backbone[c4_pos].use_res_connect should be False")
        self.features = nn.Sequential(
            nn.Sequential(*backbone[:c4_pos], backbone[c4_pos].block[0]),
            nn.Sequential(backbone[c4_pos].block[1:], *backbone[c4_pos + 1 :]),
        )

        def depth(d):
            return max(min_depth, int(d * width_mult))

        widths = [backbone[-1].out_channels, depth(512), depth(256), depth(256), depth(128)]
        self.extra = nn.ModuleList(
            _extra_block(a, b, norm_layer) for a, b in zip(widths[:-1], widths[1:], strict=True)
        )
        _normal_init(self.extra)

    def forward(self, x):
        output = []
        for block in (*self.features, *self.extra):
            x = block(x)
            output.append(x)
        return OrderedDict([(str(i), v) for i, v in enumerate(output)])


def _mobilenet_extractor(backbone, trainable_layers: int, norm_layer):
    """MobileNet's ``features`` with the stages before the last ``trainable_layers`` frozen."""
    stage_indices = freeze_mobilenet_stages(backbone.features, trainable_layers)
    return SSDLiteFeatureExtractorMobileNet(backbone.features, stage_indices[-2], norm_layer)


SSDLite320_MobileNet_V3_Large_Weights = weights_enum(
    "SSDLite320_MobileNet_V3_Large_Weights", ("COCO_V1",)
)


@register_model(SSDLite320_MobileNet_V3_Large_Weights)
def ssdlite320_mobilenet_v3_large(
    *,
    weights=None,
    progress: bool = True,
    num_classes: int | None = None,
    weights_backbone=MobileNet_V3_Large_Weights.IMAGENET1K_V1,
    trainable_backbone_layers: int | None = None,
    norm_layer=None,
    **kwargs,
) -> SSD:
    """SSDlite320 on MobileNetV3-Large (reduced tail, BatchNorm eps 0.001 momentum 0.03, 91
    COCO classes unless ``num_classes``); inputs normalised to [-1, 1]."""
    check_detection_weights("ssdlite320_mobilenet_v3_large", weights, weights_backbone, kwargs)
    if "size" in kwargs:
        warn_user("The size of the model is already fixed; ignoring the parameter.")
        kwargs.pop("size")
    trainable = _validate_trainable_layers(False, trainable_backbone_layers, 6, 6)
    if norm_layer is None:
        norm_layer = partial(nn.BatchNorm2d, eps=0.001, momentum=0.03)
    backbone = mobilenet_v3_large(weights=None, norm_layer=norm_layer, reduced_tail=True)
    _normal_init(backbone)
    backbone = _mobilenet_extractor(backbone, trainable, norm_layer)
    size = (320, 320)
    anchor_generator = DefaultBoxGenerator(
        [[2, 3] for _ in range(6)], min_ratio=0.2, max_ratio=0.95
    )
    out_channels = det_utils.retrieve_out_channels(backbone, size)
    num_anchors = anchor_generator.num_anchors_per_location()
    num_classes = 91 if num_classes is None else num_classes
    defaults = {
        "score_thresh": 0.001,
        "nms_thresh": 0.55,
        "detections_per_img": 300,
        "topk_candidates": 300,
        "image_mean": [0.5, 0.5, 0.5],
        "image_std": [0.5, 0.5, 0.5],
    }
    head = SSDLiteHead(out_channels, num_anchors, num_classes, norm_layer)
    return SSD(backbone, anchor_generator, size, num_classes, head=head, **{**defaults, **kwargs})
