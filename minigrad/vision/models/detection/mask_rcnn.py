"""Mask R-CNN (He et al., 2017) as torchvision builds it: ``MaskRCNN`` (Faster R-CNN plus a
mask branch of 14×14 RoI Align, four 3×3 convolutions and a 2× transposed convolution),
``MaskRCNNHeads``, ``MaskRCNNPredictor`` (the tutorial replaces it) and
``maskrcnn_resnet50_fpn``. No pretrained weights."""

from __future__ import annotations

from collections import OrderedDict

from minigrad import nn

from ...ops import MultiScaleRoIAlign
from ...ops import misc as misc_nn_ops
from .._api import register_model
from .._weights import weights_enum
from ..resnet import ResNet50_Weights
from .faster_rcnn import (
    FasterRCNN,
    _resnet50_fpn_backbone,
    _v2_parts,
    check_detection_weights,
    init_head_convs,
)

__all__ = [
    "MaskRCNN",
    "MaskRCNN_ResNet50_FPN_Weights",
    "MaskRCNN_ResNet50_FPN_V2_Weights",
    "maskrcnn_resnet50_fpn",
    "maskrcnn_resnet50_fpn_v2",
]


class MaskRCNN(FasterRCNN):
    """:class:`FasterRCNN` with a mask branch; targets also carry ``masks [N, H, W]``
    (uint8) and detections ``masks [K, 1, H, W]`` (probabilities)."""

    def __init__(
        self,
        backbone,
        num_classes=None,
        *args,
        mask_roi_pool=None,
        mask_head=None,
        mask_predictor=None,
        **kwargs,
    ) -> None:
        if not isinstance(mask_roi_pool, (MultiScaleRoIAlign, type(None))):
            raise TypeError(
                "mask_roi_pool should be of type MultiScaleRoIAlign or None instead of "
                f"{type(mask_roi_pool)}"
            )
        if num_classes is not None and mask_predictor is not None:
            raise ValueError("num_classes should be None when mask_predictor is specified")
        out_channels = backbone.out_channels
        if mask_roi_pool is None:
            mask_roi_pool = MultiScaleRoIAlign(
                ["0", "1", "2", "3"], output_size=14, sampling_ratio=2
            )
        if mask_head is None:
            mask_head = MaskRCNNHeads(out_channels, (256, 256, 256, 256), 1)
        if mask_predictor is None:
            mask_predictor = MaskRCNNPredictor(256, 256, num_classes)
        super().__init__(backbone, num_classes, *args, **kwargs)
        self.roi_heads.mask_roi_pool = mask_roi_pool
        self.roi_heads.mask_head = mask_head
        self.roi_heads.mask_predictor = mask_predictor


class MaskRCNNHeads(nn.Sequential):
    """3×3 convolutions with ReLU (``layers`` gives their widths), He-normal initialised."""

    def __init__(self, in_channels: int, layers, dilation: int, norm_layer=None) -> None:
        blocks, width = [], in_channels
        for features in layers:
            blocks.append(
                misc_nn_ops.Conv2dNormActivation(
                    width, features, kernel_size=3, stride=1, padding=dilation,
                    dilation=dilation, norm_layer=norm_layer,
                )
            )  # fmt: skip
            width = features
        super().__init__(*blocks)
        init_head_convs(self)


class MaskRCNNPredictor(nn.Sequential):
    """``conv5_mask`` (2× transposed convolution), ReLU, ``mask_fcn_logits`` (1×1, one mask
    logit map per class)."""

    def __init__(self, in_channels: int, dim_reduced: int, num_classes: int) -> None:
        super().__init__(
            OrderedDict(
                [
                    ("conv5_mask", nn.ConvTranspose2d(in_channels, dim_reduced, 2, 2, 0)),
                    ("relu", nn.ReLU(inplace=True)),
                    ("mask_fcn_logits", nn.Conv2d(dim_reduced, num_classes, 1, 1, 0)),
                ]
            )
        )
        for name, param in self.named_parameters():
            if "weight" in name:
                nn.init.kaiming_normal_(param, mode="fan_out", nonlinearity="relu")


MaskRCNN_ResNet50_FPN_Weights = weights_enum("MaskRCNN_ResNet50_FPN_Weights", ("COCO_V1",))
MaskRCNN_ResNet50_FPN_V2_Weights = weights_enum("MaskRCNN_ResNet50_FPN_V2_Weights", ("COCO_V1",))


@register_model(MaskRCNN_ResNet50_FPN_Weights)
def maskrcnn_resnet50_fpn(
    *,
    weights=None,
    progress: bool = True,
    num_classes: int | None = None,
    weights_backbone=ResNet50_Weights.IMAGENET1K_V1,
    trainable_backbone_layers: int | None = None,
    **kwargs,
) -> MaskRCNN:
    """Mask R-CNN with a ResNet-50-FPN backbone (91 COCO classes unless ``num_classes``)."""
    check_detection_weights("maskrcnn_resnet50_fpn", weights, weights_backbone, kwargs)
    backbone = _resnet50_fpn_backbone(None, trainable_backbone_layers)
    return MaskRCNN(backbone, num_classes=91 if num_classes is None else num_classes, **kwargs)


@register_model(MaskRCNN_ResNet50_FPN_V2_Weights)
def maskrcnn_resnet50_fpn_v2(
    *,
    weights=None,
    progress: bool = True,
    num_classes: int | None = None,
    weights_backbone=None,
    trainable_backbone_layers: int | None = None,
    **kwargs,
) -> MaskRCNN:
    """Mask R-CNN v2: the v2 Faster R-CNN parts and a mask head with batch norms."""
    check_detection_weights("maskrcnn_resnet50_fpn_v2", weights, weights_backbone, kwargs)
    backbone, parts = _v2_parts(trainable_backbone_layers)
    mask_head = MaskRCNNHeads(
        backbone.out_channels, [256, 256, 256, 256], 1, norm_layer=nn.BatchNorm2d
    )
    num_classes = 91 if num_classes is None else num_classes
    return MaskRCNN(backbone, num_classes=num_classes, mask_head=mask_head, **parts, **kwargs)
