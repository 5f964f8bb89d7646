"""FCOS (Tian et al., 2019) as torchvision 0.28 builds it: an anchor-free one-stage detector
that predicts, at every location of an FPN (P3–P7), class scores, the distances to the four
edges of a box (``BoxLinearCoder``) and a centre-ness logit. Locations inside a ground-truth
box's centre region (``center_sampling_radius`` strides) and in the level's size range are
positives (the smallest box wins); the losses are focal (classes), GIoU (boxes) and binary
cross-entropy (centre-ness). ``FCOS``, ``FCOSHead`` and ``fcos_resnet50_fpn``; module names as
torchvision's. No pretrained weights."""

from __future__ import annotations

import math
from functools import partial

import minigrad
from minigrad import nn
from minigrad.nn import functional as F

from ...ops import boxes as box_ops
from ...ops import generalized_box_iou_loss, sigmoid_focal_loss
from ...ops.feature_pyramid_network import LastLevelP6P7
from .._api import register_model
from .._weights import weights_enum
from ..resnet import ResNet50_Weights, resnet50
from . import _utils as det_utils
from .anchor_utils import AnchorGenerator
from .backbone_utils import _resnet_fpn_extractor, _validate_trainable_layers
from .faster_rcnn import check_detection_weights
from .retinanet import (
    DenseDetector,
    _flatten_level,
    _nms_detections,
    _split_per_level,
    _top_candidates,
)
from .transform import GeneralizedRCNNTransform

__all__ = ["FCOS", "FCOS_ResNet50_FPN_Weights", "fcos_resnet50_fpn"]


def _fcos_tower(in_channels: int, num_convs: int, norm_layer) -> nn.Sequential:
    """``num_convs`` × (3×3 Conv2d, norm (GroupNorm(32) by default), ReLU), the convolutions
    N(0, 0.01) with zero biases; children numbered as torchvision's plain ``Sequential``."""
    norm_layer = norm_layer if norm_layer is not None else partial(nn.GroupNorm, 32)
    layers: list[nn.Module] = []
    for _ in range(num_convs):
        layers += [nn.Conv2d(in_channels, in_channels, 3, 1, 1), norm_layer(in_channels), nn.ReLU()]
    tower = nn.Sequential(*layers)
    for layer in tower.children():
        if isinstance(layer, nn.Conv2d):
            nn.init.normal_(layer.weight, std=0.01)
            nn.init.constant_(layer.bias, 0)
    return tower


class FCOSClassificationHead(nn.Module):
    """Class logits ``[N, ΣHW·A, num_classes]``, starting at probability
    ``prior_probability``."""

    def __init__(
        self,
        in_channels: int,
        num_anchors: int,
        num_classes: int,
        num_convs: int = 4,
        prior_probability: float = 0.01,
        norm_layer=None,
    ) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.num_anchors = num_anchors
        self.conv = _fcos_tower(in_channels, num_convs, norm_layer)
        self.cls_logits = nn.Conv2d(in_channels, num_anchors * num_classes, 3, 1, 1)
        nn.init.normal_(self.cls_logits.weight, std=0.01)
        nn.init.constant_(
            self.cls_logits.bias,
            -math.log((1 - prior_probability) / prior_probability),
        )

    def forward(self, x):
        return minigrad.cat(
            [_flatten_level(self.cls_logits(self.conv(f)), self.num_classes) for f in x], dim=1
        )


class FCOSRegressionHead(nn.Module):
    """Edge distances ``[N, ΣHW·A, 4]`` (ReLU: never negative) and centre-ness logits
    ``[N, ΣHW·A, 1]`` from one shared tower."""

    def __init__(self, in_channels: int, num_anchors: int, num_convs: int = 4, norm_layer=None):
        super().__init__()
        self.conv = _fcos_tower(in_channels, num_convs, norm_layer)
        self.bbox_reg = nn.Conv2d(in_channels, num_anchors * 4, 3, 1, 1)
        self.bbox_ctrness = nn.Conv2d(in_channels, num_anchors, 3, 1, 1)
        for layer in (self.bbox_reg, self.bbox_ctrness):
            nn.init.normal_(layer.weight, std=0.01)
            nn.init.zeros_(layer.bias)

    def forward(self, x):
        regression, ctrness = [], []
        for features in x:
            tower = self.conv(features)
            regression.append(_flatten_level(F.relu(self.bbox_reg(tower)), 4))
            ctrness.append(_flatten_level(self.bbox_ctrness(tower), 1))
        return minigrad.cat(regression, dim=1), minigrad.cat(ctrness, dim=1)


def _centerness(reg_targets):
    """``sqrt(min(l, r)/max(l, r) · min(t, b)/max(t, b))`` of ``[..., 4]`` edge distances."""
    left_right, top_bottom = reg_targets[..., [0, 2]], reg_targets[..., [1, 3]]
    return minigrad.sqrt(
        (left_right.min(dim=-1)[0] / left_right.max(dim=-1)[0])
        * (top_bottom.min(dim=-1)[0] / top_bottom.max(dim=-1)[0])
    )


class FCOSHead(nn.Module):
    """Classification and regression/centre-ness branches; ``forward`` returns
    ``{'cls_logits', 'bbox_regression', 'bbox_ctrness'}``."""

    def __init__(self, in_channels: int, num_anchors: int, num_classes: int, num_convs=4):
        super().__init__()
        self.box_coder = det_utils.BoxLinearCoder(normalize_by_size=True)
        self.classification_head = FCOSClassificationHead(
            in_channels, num_anchors, num_classes, num_convs
        )
        self.regression_head = FCOSRegressionHead(in_channels, num_anchors, num_convs)

    def compute_loss(self, targets, head_outputs, anchors, matched_idxs):
        """Focal, GIoU and centre-ness losses summed over the batch's positives and divided
        by their count (at least 1)."""
        gt_classes, gt_boxes = [], []
        for target, matched in zip(targets, matched_idxs, strict=True):
            if len(target["labels"]) == 0:
                classes = target["labels"].new_zeros((len(matched),))
                boxes = target["boxes"].new_zeros((len(matched), 4))
            else:
                classes = target["labels"][matched.clip(min=0)]
                boxes = target["boxes"][matched.clip(min=0)]
            classes[matched < 0] = -1  # background
            gt_classes.append(classes)
            gt_boxes.append(boxes)
        gt_boxes, gt_classes = minigrad.stack(gt_boxes), minigrad.stack(gt_classes)
        anchors = minigrad.stack(anchors)
        foreground = gt_classes >= 0
        num_foreground = max(1, int(foreground.sum().item()))
        cls_logits = head_outputs["cls_logits"]
        image_idx, anchor_idx = minigrad.where(foreground)
        class_targets = minigrad.zeros_like(cls_logits)
        class_targets[image_idx, anchor_idx, gt_classes[image_idx, anchor_idx]] = 1.0
        loss_cls = sigmoid_focal_loss(cls_logits, class_targets, reduction="sum")
        pred_boxes = self.box_coder.decode(head_outputs["bbox_regression"], anchors)
        loss_reg = generalized_box_iou_loss(
            pred_boxes[image_idx, anchor_idx], gt_boxes[image_idx, anchor_idx], reduction="sum"
        )
        ctrness_targets = _centerness(self.box_coder.encode(anchors[image_idx, anchor_idx],
                                                            gt_boxes[image_idx, anchor_idx]))  # fmt: skip
        pred_ctrness = head_outputs["bbox_ctrness"].squeeze(dim=2)[image_idx, anchor_idx]
        loss_ctrness = F.binary_cross_entropy_with_logits(
            pred_ctrness, ctrness_targets, reduction="sum"
        )
        return {
            "classification": loss_cls / num_foreground,
            "bbox_regression": loss_reg / num_foreground,
            "bbox_ctrness": loss_ctrness / num_foreground,
        }

    def forward(self, x):
        regression, ctrness = self.regression_head(x)
        return {
            "cls_logits": self.classification_head(x),
            "bbox_regression": regression,
            "bbox_ctrness": ctrness,
        }


class FCOS(DenseDetector):
    """``forward(images, targets=None)`` as RetinaNet's: training returns
    ``{'classification', 'bbox_regression', 'bbox_ctrness'}``, evaluation per image
    ``boxes``, ``scores`` (``sqrt(class prob · centre-ness)``), ``labels``. The anchor
    generator must give one anchor per location (a square of the level's stride)."""

    def __init__(
        self,
        backbone,
        num_classes: int,
        min_size: int = 800,
        max_size: int = 1333,
        image_mean=None,
        image_std=None,
        anchor_generator=None,
        head=None,
        center_sampling_radius: float = 1.5,
        score_thresh: float = 0.2,
        nms_thresh: float = 0.6,
        detections_per_img: int = 100,
        topk_candidates: int = 1000,
        **kwargs,
    ) -> None:
        super().__init__()
        if not hasattr(backbone, "out_channels"):
            raise ValueError(
                "backbone should contain an attribute out_channels specifying the number of "
                "output channels (assumed to be the same for all the levels)"
            )
        if not isinstance(anchor_generator, (AnchorGenerator, type(None))):
            raise TypeError(
                "anchor_generator should be of type AnchorGenerator or None, instead  got "
                f"{type(anchor_generator)}"
            )
        self.backbone = backbone
        if anchor_generator is None:
            sizes = ((8,), (16,), (32,), (64,), (128,))  # the levels' strides
            anchor_generator = AnchorGenerator(sizes, ((1.0,),) * len(sizes))
        self.anchor_generator = anchor_generator
        per_location = anchor_generator.num_anchors_per_location()[0]
        if per_location != 1:
            raise ValueError(
                "anchor_generator.num_anchors_per_location()[0] should be 1 instead of "
                f"{per_location}"
            )
        self.head = head if head is not None else FCOSHead(backbone.out_channels, 1, num_classes)
        self.box_coder = det_utils.BoxLinearCoder(normalize_by_size=True)
        self.transform = GeneralizedRCNNTransform(
            min_size,
            max_size,
            image_mean if image_mean is not None else [0.485, 0.456, 0.406],
            image_std if image_std is not None else [0.229, 0.224, 0.225],
            **kwargs,
        )
        self.center_sampling_radius = center_sampling_radius
        self.score_thresh = score_thresh
        self.nms_thresh = nms_thresh
        self.detections_per_img = detections_per_img
        self.topk_candidates = topk_candidates

    def match(self, anchors, gt_boxes, num_anchors_per_level):
        """Each location's ground-truth index (-1: background): its centre within
        ``center_sampling_radius`` strides of the box's centre and inside the box, its largest
        edge distance in the level's range (4–8 strides; open-ended at the first and last
        levels); of several boxes the smallest."""
        gt_centers = (gt_boxes[:, :2] + gt_boxes[:, 2:]) / 2
        centers = (anchors[:, :2] + anchors[:, 2:]) / 2
        sizes = anchors[:, 2] - anchors[:, 0]
        offsets = (centers[:, None, :] - gt_centers[None, :, :]).abs().max(dim=2)[0]
        match = offsets < self.center_sampling_radius * sizes[:, None]
        x, y = centers[:, :, None].unbind(dim=1)
        x0, y0, x1, y1 = gt_boxes[None].unbind(dim=2)
        distances = minigrad.stack([x - x0, y - y0, x1 - x, y1 - y], dim=2)
        match = match & (distances.min(dim=2)[0] > 0)
        lower, upper = sizes * 4, sizes * 8
        lower[: num_anchors_per_level[0]] = 0
        upper[-num_anchors_per_level[-1] :] = float("inf")
        largest = distances.max(dim=2)[0]
        match = match & (largest > lower[:, None]) & (largest < upper[:, None])
        areas = (gt_boxes[:, 2] - gt_boxes[:, 0]) * (gt_boxes[:, 3] - gt_boxes[:, 1])
        weighted = match.to(minigrad.float32) * (1e8 - areas[None, :])
        best, matched = weighted.max(dim=1)
        matched[best < 1e-5] = -1
        return matched

    def compute_loss(self, targets, head_outputs, anchors, num_anchors_per_level):
        matched_idxs = []
        for anchors_i, target in zip(anchors, targets, strict=True):
            if target["boxes"].numel() == 0:
                matched_idxs.append(
                    minigrad.full(
                        (anchors_i.shape[0],), -1, dtype=minigrad.int64, device=anchors_i.device
                    )
                )
            else:
                matched_idxs.append(self.match(anchors_i, target["boxes"], num_anchors_per_level))
        return self.head.compute_loss(targets, head_outputs, anchors, matched_idxs)

    def postprocess_detections(self, head_outputs, anchors, image_shapes):
        """Per image, per level the ``topk_candidates`` best scores above ``score_thresh``,
        decoded and clipped; class-wise NMS; the ``detections_per_img`` best."""
        detections = []
        for index, image_shape in enumerate(image_shapes):
            boxes_all, scores_all, labels_all = [], [], []
            for regression, logits, ctrness, anchors_l in zip(
                (br[index] for br in head_outputs["bbox_regression"]),
                (cl[index] for cl in head_outputs["cls_logits"]),
                (bc[index] for bc in head_outputs["bbox_ctrness"]),
                anchors[index],
                strict=True,
            ):
                scores = minigrad.sqrt(minigrad.sigmoid(logits) * minigrad.sigmoid(ctrness))
                scores, anchor_idxs, labels = _top_candidates(
                    scores, self.score_thresh, self.topk_candidates
                )
                boxes = self.box_coder.decode(regression[anchor_idxs], anchors_l[anchor_idxs])
                boxes_all.append(box_ops.clip_boxes_to_image(boxes, image_shape))
                scores_all.append(scores)
                labels_all.append(labels)
            detections.append(
                _nms_detections(
                    boxes_all, scores_all, labels_all, self.nms_thresh, self.detections_per_img
                )
            )
        return detections

    def training_losses(self, targets, head_outputs, anchors, features) -> dict:
        per_level = [f.shape[2] * f.shape[3] for f in features]
        return self.compute_loss(targets, head_outputs, anchors, per_level)

    def detections(self, head_outputs, anchors, features, image_sizes) -> list:
        split_outputs, split_anchors = _split_per_level(features, head_outputs, anchors)
        return self.postprocess_detections(split_outputs, split_anchors, image_sizes)


FCOS_ResNet50_FPN_Weights = weights_enum("FCOS_ResNet50_FPN_Weights", ("COCO_V1",))


@register_model(FCOS_ResNet50_FPN_Weights)
def fcos_resnet50_fpn(
    *,
    weights=None,
    progress: bool = True,
    num_classes: int | None = None,
    weights_backbone=ResNet50_Weights.IMAGENET1K_V1,
    trainable_backbone_layers: int | None = None,
    **kwargs,
) -> FCOS:
    """FCOS with a ResNet-50-FPN backbone on C3–C5 plus P6/P7 from P5 (91 COCO classes
    unless ``num_classes``); ``kwargs`` go to :class:`FCOS`."""
    check_detection_weights("fcos_resnet50_fpn", weights, weights_backbone, kwargs)
    trainable = _validate_trainable_layers(False, trainable_backbone_layers, 5, 3)
    backbone = _resnet_fpn_extractor(
        resnet50(weights=None, norm_layer=nn.BatchNorm2d),
        trainable,
        returned_layers=[2, 3, 4],
        extra_blocks=LastLevelP6P7(256, 256),
    )
    return FCOS(backbone, 91 if num_classes is None else num_classes, **kwargs)
