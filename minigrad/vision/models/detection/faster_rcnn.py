"""Faster R-CNN (Ren et al., 2015) as torchvision builds it: ``FasterRCNN`` (any backbone with
an ``out_channels`` attribute), its box head ``TwoMLPHead`` and ``FastRCNNPredictor`` (the
layer the fine-tuning tutorial replaces), ``fasterrcnn_resnet50_fpn`` (and ``_v2``) and the
MobileNetV3-Large FPN builders (``fasterrcnn_mobilenet_v3_large_fpn``, ``..._320_fpn``). No pretrained
weights: ``weights`` and ``weights_backbone`` other than None raise."""

from __future__ import annotations

from minigrad import nn
from minigrad.nn import functional as F

from ...ops import MultiScaleRoIAlign
from ...ops import misc as misc_nn_ops
from .._api import register_model
from .._weights import check_no_backbone_weights, check_no_weights, weights_enum
from ..mobilenetv3 import MobileNet_V3_Large_Weights, mobilenet_v3_large
from ..resnet import ResNet50_Weights, resnet50
from .anchor_utils import AnchorGenerator
from .backbone_utils import (
    _mobilenet_extractor,
    _resnet_fpn_extractor,
    _validate_trainable_layers,
)
from .generalized_rcnn import GeneralizedRCNN
from .roi_heads import RoIHeads
from .rpn import RegionProposalNetwork, RPNHead
from .transform import GeneralizedRCNNTransform

# torchvision's public names of this module (its heads are importable from here, unlisted).
__all__ = [
    "FasterRCNN",
    "FasterRCNN_ResNet50_FPN_Weights",
    "FasterRCNN_ResNet50_FPN_V2_Weights",
    "FasterRCNN_MobileNet_V3_Large_FPN_Weights",
    "FasterRCNN_MobileNet_V3_Large_320_FPN_Weights",
    "fasterrcnn_resnet50_fpn",
    "fasterrcnn_resnet50_fpn_v2",
    "fasterrcnn_mobilenet_v3_large_fpn",
    "fasterrcnn_mobilenet_v3_large_320_fpn",
]


def _default_anchorgen() -> AnchorGenerator:
    """One anchor size per FPN level (32 … 512), three aspect ratios each."""
    sizes = ((32,), (64,), (128,), (256,), (512,))
    return AnchorGenerator(sizes, ((0.5, 1.0, 2.0),) * len(sizes))


class FasterRCNN(GeneralizedRCNN):
    """Faster R-CNN with torchvision's arguments and defaults (``min_size=800``,
    ``max_size=1333``, 2000/1000 proposals, 512 sampled RoIs per image, ...). Pass
    ``num_classes`` (background included) or a ``box_predictor``, not both."""

    def __init__(
        self,
        backbone,
        num_classes=None,
        min_size=800,
        max_size=1333,
        image_mean=None,
        image_std=None,
        rpn_anchor_generator=None,
        rpn_head=None,
        rpn_pre_nms_top_n_train=2000,
        rpn_pre_nms_top_n_test=1000,
        rpn_post_nms_top_n_train=2000,
        rpn_post_nms_top_n_test=1000,
        rpn_nms_thresh=0.7,
        rpn_fg_iou_thresh=0.7,
        rpn_bg_iou_thresh=0.3,
        rpn_batch_size_per_image=256,
        rpn_positive_fraction=0.5,
        rpn_score_thresh=0.0,
        box_roi_pool=None,
        box_head=None,
        box_predictor=None,
        box_score_thresh=0.05,
        box_nms_thresh=0.5,
        box_detections_per_img=100,
        box_fg_iou_thresh=0.5,
        box_bg_iou_thresh=0.5,
        box_batch_size_per_image=512,
        box_positive_fraction=0.25,
        bbox_reg_weights=None,
        **kwargs,
    ) -> None:
        if not hasattr(backbone, "out_channels"):
            raise ValueError(
                "backbone should contain an attribute out_channels specifying the number of "
                "output channels (assumed to be the same for all the levels)"
            )
        if not isinstance(rpn_anchor_generator, (AnchorGenerator, type(None))):
            raise TypeError(
                "rpn_anchor_generator should be of type AnchorGenerator or None instead of "
                f"{type(rpn_anchor_generator)}"
            )
        if not isinstance(box_roi_pool, (MultiScaleRoIAlign, type(None))):
            raise TypeError(
                "box_roi_pool should be of type MultiScaleRoIAlign or None instead of "
                f"{type(box_roi_pool)}"
            )
        if num_classes is not None and box_predictor is not None:
            raise ValueError("num_classes should be None when box_predictor is specified")
        if num_classes is None and box_predictor is None:
            raise ValueError("num_classes should not be None when box_predictor is not specified")
        out_channels = backbone.out_channels
        if rpn_anchor_generator is None:
            rpn_anchor_generator = _default_anchorgen()
        if rpn_head is None:
            rpn_head = RPNHead(out_channels, rpn_anchor_generator.num_anchors_per_location()[0])
        rpn = RegionProposalNetwork(
            rpn_anchor_generator,
            rpn_head,
            rpn_fg_iou_thresh,
            rpn_bg_iou_thresh,
            rpn_batch_size_per_image,
            rpn_positive_fraction,
            {"training": rpn_pre_nms_top_n_train, "testing": rpn_pre_nms_top_n_test},
            {"training": rpn_post_nms_top_n_train, "testing": rpn_post_nms_top_n_test},
            rpn_nms_thresh,
            score_thresh=rpn_score_thresh,
        )
        if box_roi_pool is None:
            box_roi_pool = MultiScaleRoIAlign(["0", "1", "2", "3"], output_size=7, sampling_ratio=2)
        if box_head is None:
            resolution = box_roi_pool.output_size[0]
            box_head = TwoMLPHead(out_channels * resolution**2, 1024)
        if box_predictor is None:
            box_predictor = FastRCNNPredictor(1024, num_classes)
        roi_heads = RoIHeads(
            box_roi_pool,
            box_head,
            box_predictor,
            box_fg_iou_thresh,
            box_bg_iou_thresh,
            box_batch_size_per_image,
            box_positive_fraction,
            bbox_reg_weights,
            box_score_thresh,
            box_nms_thresh,
            box_detections_per_img,
        )
        transform = GeneralizedRCNNTransform(
            min_size,
            max_size,
            image_mean if image_mean is not None else [0.485, 0.456, 0.406],
            image_std if image_std is not None else [0.229, 0.224, 0.225],
            **kwargs,
        )
        super().__init__(backbone, rpn, roi_heads, transform)


class TwoMLPHead(nn.Module):
    """Two fully connected layers with ReLU on the flattened pooled features (FPN's box
    head)."""

    def __init__(self, in_channels: int, representation_size: int) -> None:
        super().__init__()
        self.fc6 = nn.Linear(in_channels, representation_size)
        self.fc7 = nn.Linear(representation_size, representation_size)

    def forward(self, x):
        return F.relu(self.fc7(F.relu(self.fc6(x.flatten(start_dim=1)))))


class FastRCNNConvFCHead(nn.Sequential):
    """The v2 box head: 3×3 convolutions (with ``norm_layer``) on the pooled ``input_size =
    (C, H, W)`` features, flattened, then fully connected layers with ReLU."""

    def __init__(self, input_size, conv_layers, fc_layers, norm_layer=None) -> None:
        channels, height, width = input_size
        blocks: list[nn.Module] = []
        for width_out in conv_layers:
            blocks.append(
                misc_nn_ops.Conv2dNormActivation(channels, width_out, norm_layer=norm_layer)
            )
            channels = width_out
        blocks.append(nn.Flatten())
        features = channels * height * width
        for width_out in fc_layers:
            blocks += [nn.Linear(features, width_out), nn.ReLU(inplace=True)]
            features = width_out
        super().__init__(*blocks)
        init_head_convs(self)


def init_head_convs(head: nn.Module) -> None:
    """The box and mask heads' init: He-normal (fan_out, ReLU) convolutions, zero biases."""
    for layer in head.modules():
        if isinstance(layer, nn.Conv2d):
            nn.init.kaiming_normal_(layer.weight, mode="fan_out", nonlinearity="relu")
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)


class FastRCNNPredictor(nn.Module):
    """Class logits (``cls_score``) and per-class box deltas (``bbox_pred``) from the box
    head's features; ``num_classes`` includes the background."""

    def __init__(self, in_channels: int, num_classes: int) -> None:
        super().__init__()
        self.cls_score = nn.Linear(in_channels, num_classes)
        self.bbox_pred = nn.Linear(in_channels, num_classes * 4)

    def forward(self, x):
        if x.dim() == 4 and list(x.shape[2:]) != [1, 1]:
            raise ValueError(
                f"x has the wrong shape, expecting the last two dimensions to be [1,1] instead "
                f"of {list(x.shape[2:])}"
            )
        x = x.flatten(1)
        return self.cls_score(x), self.bbox_pred(x)


FasterRCNN_ResNet50_FPN_Weights = weights_enum("FasterRCNN_ResNet50_FPN_Weights", ("COCO_V1",))
FasterRCNN_ResNet50_FPN_V2_Weights = weights_enum(
    "FasterRCNN_ResNet50_FPN_V2_Weights", ("COCO_V1",)
)
FasterRCNN_MobileNet_V3_Large_FPN_Weights = weights_enum(
    "FasterRCNN_MobileNet_V3_Large_FPN_Weights", ("COCO_V1",)
)
FasterRCNN_MobileNet_V3_Large_320_FPN_Weights = weights_enum(
    "FasterRCNN_MobileNet_V3_Large_320_FPN_Weights", ("COCO_V1",)
)


def check_detection_weights(builder: str, weights, weights_backbone, kwargs: dict) -> None:
    """Raise unless both the detector and its backbone are asked for without pretrained
    weights (``weights_backbone`` defaults to ImageNet weights in torchvision's v1 builders)."""
    check_no_weights(builder, weights, kwargs)
    check_no_backbone_weights(builder, weights_backbone, kwargs)


def _resnet50_fpn_backbone(weights_backbone, trainable_backbone_layers):
    """ResNet-50 + FPN as the R-CNN builders make it: ``BatchNorm2d`` and every layer trainable
    without pretrained weights (``FrozenBatchNorm2d`` is for pretrained backbones)."""
    is_trained = weights_backbone is not None
    trainable = _validate_trainable_layers(is_trained, trainable_backbone_layers, 5, 3)
    norm_layer = misc_nn_ops.FrozenBatchNorm2d if is_trained else nn.BatchNorm2d
    return _resnet_fpn_extractor(resnet50(weights=None, norm_layer=norm_layer), trainable)


@register_model(FasterRCNN_ResNet50_FPN_Weights)
def fasterrcnn_resnet50_fpn(
    *,
    weights=None,
    progress: bool = True,
    num_classes: int | None = None,
    weights_backbone=ResNet50_Weights.IMAGENET1K_V1,
    trainable_backbone_layers: int | None = None,
    **kwargs,
) -> FasterRCNN:
    """Faster R-CNN with a ResNet-50-FPN backbone (91 COCO classes unless ``num_classes``);
    ``kwargs`` go to :class:`FasterRCNN` (``min_size``, ``max_size``, ...)."""
    check_detection_weights("fasterrcnn_resnet50_fpn", weights, weights_backbone, kwargs)
    backbone = _resnet50_fpn_backbone(None, trainable_backbone_layers)
    return FasterRCNN(backbone, num_classes=91 if num_classes is None else num_classes, **kwargs)


def _v2_parts(trainable_backbone_layers):
    """The v2 recipe's backbone (BatchNorm2d in ResNet-50 and the FPN), two-convolution RPN
    head and four-convolution box head, as torchvision's ``*_resnet50_fpn_v2``."""
    trainable = _validate_trainable_layers(False, trainable_backbone_layers, 5, 3)
    backbone = _resnet_fpn_extractor(resnet50(weights=None), trainable, norm_layer=nn.BatchNorm2d)
    anchors = _default_anchorgen()
    rpn_head = RPNHead(backbone.out_channels, anchors.num_anchors_per_location()[0], conv_depth=2)
    box_head = FastRCNNConvFCHead(
        (backbone.out_channels, 7, 7), [256, 256, 256, 256], [1024], norm_layer=nn.BatchNorm2d
    )
    return backbone, {"rpn_anchor_generator": anchors, "rpn_head": rpn_head, "box_head": box_head}


@register_model(FasterRCNN_ResNet50_FPN_V2_Weights)
def fasterrcnn_resnet50_fpn_v2(
    *,
    weights=None,
    progress: bool = True,
    num_classes: int | None = None,
    weights_backbone=None,
    trainable_backbone_layers: int | None = None,
    **kwargs,
) -> FasterRCNN:
    """Faster R-CNN v2 (Li et al., 2021: batch norms in the FPN and heads, a convolutional
    box head); its ``weights_backbone`` defaults to None, as torchvision's."""
    check_detection_weights("fasterrcnn_resnet50_fpn_v2", weights, weights_backbone, kwargs)
    backbone, parts = _v2_parts(trainable_backbone_layers)
    num_classes = 91 if num_classes is None else num_classes
    return FasterRCNN(backbone, num_classes=num_classes, **parts, **kwargs)


def _fasterrcnn_mobilenet_v3_large_fpn(
    name, weights, num_classes, weights_backbone, trainable_backbone_layers, kwargs
) -> FasterRCNN:
    """MobileNetV3-Large (``BatchNorm2d``, all six stages trainable without pretrained
    weights) with an FPN on its last two stages and a max-pooled level; five anchor sizes
    (32 … 512) on each of the three maps."""
    check_detection_weights(name, weights, weights_backbone, kwargs)
    kwargs.pop("progress", None)
    trainable = _validate_trainable_layers(False, trainable_backbone_layers, 6, 3)
    backbone = mobilenet_v3_large(weights=None, norm_layer=nn.BatchNorm2d)
    backbone = _mobilenet_extractor(backbone, True, trainable)
    anchor_sizes = ((32, 64, 128, 256, 512),) * 3
    anchors = AnchorGenerator(anchor_sizes, ((0.5, 1.0, 2.0),) * len(anchor_sizes))
    num_classes = 91 if num_classes is None else num_classes
    return FasterRCNN(backbone, num_classes, rpn_anchor_generator=anchors, **kwargs)


@register_model(FasterRCNN_MobileNet_V3_Large_320_FPN_Weights)
def fasterrcnn_mobilenet_v3_large_320_fpn(
    *,
    weights=None,
    progress: bool = True,
    num_classes: int | None = None,
    weights_backbone=MobileNet_V3_Large_Weights.IMAGENET1K_V1,
    trainable_backbone_layers: int | None = None,
    **kwargs,
) -> FasterRCNN:
    """The low-resolution MobileNetV3-Large FPN Faster R-CNN: images resized to 320 (at most
    640), 150 proposals kept before and after NMS at test time, proposals scoring under 0.05
    dropped."""
    defaults = {
        "min_size": 320,
        "max_size": 640,
        "rpn_pre_nms_top_n_test": 150,
        "rpn_post_nms_top_n_test": 150,
        "rpn_score_thresh": 0.05,
    }
    return _fasterrcnn_mobilenet_v3_large_fpn(
        "fasterrcnn_mobilenet_v3_large_320_fpn", weights, num_classes, weights_backbone,
        trainable_backbone_layers, {**defaults, **kwargs},
    )  # fmt: skip


@register_model(FasterRCNN_MobileNet_V3_Large_FPN_Weights)
def fasterrcnn_mobilenet_v3_large_fpn(
    *,
    weights=None,
    progress: bool = True,
    num_classes: int | None = None,
    weights_backbone=MobileNet_V3_Large_Weights.IMAGENET1K_V1,
    trainable_backbone_layers: int | None = None,
    **kwargs,
) -> FasterRCNN:
    """The high-resolution MobileNetV3-Large FPN Faster R-CNN (``min_size=800``; 19.4 M
    parameters; the backbone's ImageNet default must be passed as ``weights_backbone=None``)."""
    defaults = {"rpn_score_thresh": 0.05}
    return _fasterrcnn_mobilenet_v3_large_fpn(
        "fasterrcnn_mobilenet_v3_large_fpn", weights, num_classes, weights_backbone,
        trainable_backbone_layers, {**defaults, **kwargs},
    )  # fmt: skip
