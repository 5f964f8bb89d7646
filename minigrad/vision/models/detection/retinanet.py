"""RetinaNet (Lin et al., 2017) as torchvision 0.28 builds it: a one-stage detector whose
classification head is trained with the focal loss over every anchor of an FPN (P3–P7).
``RetinaNet`` (any backbone with ``out_channels``), ``RetinaNetHead`` and its two branches, and
the builders ``retinanet_resnet50_fpn`` (L1 box loss) and ``retinanet_resnet50_fpn_v2``
(GroupNorm heads, GIoU loss, P6 from C5). Module names as torchvision's, so state dicts load
either way. No pretrained weights."""

from __future__ import annotations

import math
from collections import OrderedDict
from functools import partial

import minigrad
from minigrad import nn

from ...ops import boxes as box_ops
from ...ops import misc as misc_nn_ops
from ...ops import sigmoid_focal_loss
from ...ops.feature_pyramid_network import LastLevelP6P7
from .._api import register_model
from .._weights import weights_enum
from ..resnet import ResNet50_Weights, resnet50
from . import _utils as det_utils
from .anchor_utils import AnchorGenerator
from .backbone_utils import _resnet_fpn_extractor, _validate_trainable_layers
from .faster_rcnn import check_detection_weights
from .generalized_rcnn import _check_degenerate, _check_images, _check_targets
from .transform import GeneralizedRCNNTransform

__all__ = [
    "RetinaNet",
    "RetinaNet_ResNet50_FPN_Weights",
    "RetinaNet_ResNet50_FPN_V2_Weights",
    "retinanet_resnet50_fpn",
    "retinanet_resnet50_fpn_v2",
]


def _default_anchorgen() -> AnchorGenerator:
    """Three octave scales (``s``, ``s·2^(1/3)``, ``s·2^(2/3)``, truncated) of each level's
    size 32 … 512, three aspect ratios: nine anchors per location."""
    sizes = tuple(
        (s, int(s * 2 ** (1.0 / 3)), int(s * 2 ** (2.0 / 3))) for s in (32, 64, 128, 256, 512)
    )
    return AnchorGenerator(sizes, ((0.5, 1.0, 2.0),) * len(sizes))


def _head_tower(in_channels: int, norm_layer) -> nn.Sequential:
    """Four 3×3 ``Conv2dNormActivation`` blocks with N(0, 0.01) weights and zero biases."""
    tower = nn.Sequential(
        *(
            misc_nn_ops.Conv2dNormActivation(in_channels, in_channels, norm_layer=norm_layer)
            for _ in range(4)
        )
    )
    for layer in tower.modules():
        if isinstance(layer, nn.Conv2d):
            nn.init.normal_(layer.weight, std=0.01)
            if layer.bias is not None:
                nn.init.constant_(layer.bias, 0)
    return tower


def _flatten_level(x, per_anchor: int):
    """A head's ``[N, A·K, H, W]`` map as ``[N, H·W·A, K]`` (location-major, then anchor)."""
    n, _, h, w = x.shape
    return x.view(n, -1, per_anchor, h, w).permute(0, 3, 4, 1, 2).reshape(n, -1, per_anchor)


def _sum(values):
    """Left-to-right sum of a list of tensors, in torchvision's order."""
    total = values[0]
    for v in values[1:]:
        total = total + v
    return total


class RetinaNetClassificationHead(nn.Module):
    """Per-anchor class logits ``[N, ΣHWA, num_classes]``; the last layer's bias starts at
    ``-log((1 - π) / π)`` so every anchor begins at probability ``prior_probability``."""

    def __init__(
        self, in_channels, num_anchors, num_classes, prior_probability=0.01, norm_layer=None
    ) -> None:
        super().__init__()
        self.conv = _head_tower(in_channels, norm_layer)
        self.cls_logits = nn.Conv2d(in_channels, num_anchors * num_classes, 3, 1, 1)
        nn.init.normal_(self.cls_logits.weight, std=0.01)
        nn.init.constant_(
            self.cls_logits.bias, -math.log((1 - prior_probability) / prior_probability)
        )
        self.num_classes = num_classes
        self.num_anchors = num_anchors
        self.BETWEEN_THRESHOLDS = det_utils.Matcher.BETWEEN_THRESHOLDS

    def compute_loss(self, targets, head_outputs, matched_idxs):
        """Summed focal loss of the anchors not between the thresholds, divided by the
        image's number of positive anchors (at least 1), averaged over images."""
        losses = []
        for target, logits, matched in zip(
            targets, head_outputs["cls_logits"], matched_idxs, strict=True
        ):
            foreground = minigrad.where(matched >= 0)[0]
            gt_classes = minigrad.zeros_like(logits)
            gt_classes[foreground, target["labels"][matched[foreground]]] = 1.0
            valid = matched != self.BETWEEN_THRESHOLDS
            loss = sigmoid_focal_loss(logits[valid], gt_classes[valid], reduction="sum")
            losses.append(loss / max(1, foreground.numel()))
        return _sum(losses) / len(targets)

    def forward(self, x):
        return minigrad.cat(
            [_flatten_level(self.cls_logits(self.conv(f)), self.num_classes) for f in x], dim=1
        )


class RetinaNetRegressionHead(nn.Module):
    """Per-anchor box deltas ``[N, ΣHWA, 4]`` (``BoxCoder`` weights 1); the loss is L1 on
    the encoded targets unless ``_loss_type`` says otherwise (v2: ``'giou'``)."""

    def __init__(self, in_channels, num_anchors, norm_layer=None) -> None:
        super().__init__()
        self.conv = _head_tower(in_channels, norm_layer)
        self.bbox_reg = nn.Conv2d(in_channels, num_anchors * 4, 3, 1, 1)
        nn.init.normal_(self.bbox_reg.weight, std=0.01)
        nn.init.zeros_(self.bbox_reg.bias)
        self.box_coder = det_utils.BoxCoder(weights=(1.0, 1.0, 1.0, 1.0))
        self._loss_type = "l1"

    def compute_loss(self, targets, head_outputs, anchors, matched_idxs):
        """Box loss of each image's positive anchors over their count, averaged over images."""
        losses = []
        for target, regression, anchors_i, matched in zip(
            targets, head_outputs["bbox_regression"], anchors, matched_idxs, strict=True
        ):
            foreground = minigrad.where(matched >= 0)[0]
            loss = det_utils._box_loss(
                self._loss_type,
                self.box_coder,
                anchors_i[foreground],
                target["boxes"][matched[foreground]],
                regression[foreground],
            )
            losses.append(loss / max(1, foreground.numel()))
        return _sum(losses) / max(1, len(targets))

    def forward(self, x):
        return minigrad.cat([_flatten_level(self.bbox_reg(self.conv(f)), 4) for f in x], dim=1)


class RetinaNetHead(nn.Module):
    """The classification and regression branches, run on every pyramid level;
    ``forward`` returns ``{'cls_logits', 'bbox_regression'}``."""

    def __init__(self, in_channels, num_anchors, num_classes, norm_layer=None) -> None:
        super().__init__()
        self.classification_head = RetinaNetClassificationHead(
            in_channels, num_anchors, num_classes, norm_layer=norm_layer
        )
        self.regression_head = RetinaNetRegressionHead(
            in_channels, num_anchors, norm_layer=norm_layer
        )

    def compute_loss(self, targets, head_outputs, anchors, matched_idxs):
        return {
            "classification": self.classification_head.compute_loss(
                targets, head_outputs, matched_idxs
            ),
            "bbox_regression": self.regression_head.compute_loss(
                targets, head_outputs, anchors, matched_idxs
            ),
        }

    def forward(self, x):
        return {
            "cls_logits": self.classification_head(x),
            "bbox_regression": self.regression_head(x),
        }


def _top_candidates(scores, score_thresh: float, topk: int):
    """One level's ``[anchors, classes]`` scores: the ``topk`` best (anchor, class) pairs
    above ``score_thresh`` as ``(scores, anchor indices, labels)``, best first."""
    num_classes = scores.shape[-1]
    scores = scores.flatten()
    keep = scores > score_thresh
    scores, candidates = scores[keep], minigrad.where(keep)[0]
    scores, idxs = scores.topk(min(topk, candidates.shape[0]))
    candidates = candidates[idxs]
    anchor_idxs = minigrad.div(candidates, num_classes, rounding_mode="floor")
    return scores, anchor_idxs, candidates % num_classes


def _nms_detections(boxes, scores, labels, nms_thresh: float, detections_per_img: int):
    """One image's detections from its levels' candidates: class-wise NMS, the best
    ``detections_per_img``."""
    boxes, scores = minigrad.cat(boxes, dim=0), minigrad.cat(scores, dim=0)
    labels = minigrad.cat(labels, dim=0)
    keep = box_ops.batched_nms(boxes, scores, labels, nms_thresh)[:detections_per_img]
    return {"boxes": boxes[keep], "scores": scores[keep], "labels": labels[keep]}


def _split_per_level(features, head_outputs, anchors):
    """Head outputs and anchors cut into one piece per pyramid level (``H·W·A`` rows each)."""
    locations = [f.shape[2] * f.shape[3] for f in features]
    per_location = head_outputs["cls_logits"].shape[1] // sum(locations)
    counts = [n * per_location for n in locations]
    split_outputs = {k: list(v.split(counts, dim=1)) for k, v in head_outputs.items()}
    return split_outputs, [list(a.split(counts)) for a in anchors]


class DenseDetector(nn.Module):
    """The forward of the one-stage detectors (RetinaNet, FCOS, SSD), as torchvision's: the
    images through the transform, the backbone's feature maps through the head, anchors for
    them; in training :meth:`training_losses`, in evaluation :meth:`detections` mapped back to
    the original image sizes. The three models give those two methods."""

    def eager_outputs(self, losses, detections):
        return losses if self.training else detections

    def training_losses(self, targets, head_outputs, anchors, features) -> dict:
        raise NotImplementedError

    def detections(self, head_outputs, anchors, features, image_sizes) -> list:
        raise NotImplementedError

    def forward(self, images, targets=None):
        if self.training:
            _check_targets(targets)
        original_image_sizes = _check_images(images)
        images, targets = self.transform(images, targets)
        if targets is not None:
            _check_degenerate(targets)
        features = self.backbone(images.tensors)
        if isinstance(features, minigrad.Tensor):
            features = OrderedDict([("0", features)])
        features = list(features.values())
        head_outputs = self.head(features)
        anchors = self.anchor_generator(images, features)
        if self.training:
            losses = self.training_losses(targets, head_outputs, anchors, features)
            return self.eager_outputs(losses, [])
        detections = self.detections(head_outputs, anchors, features, images.image_sizes)
        detections = self.transform.postprocess(
            detections, images.image_sizes, original_image_sizes
        )
        return self.eager_outputs({}, detections)


class RetinaNet(DenseDetector):
    """``forward(images, targets=None)`` as the R-CNN models: a list of ``[C, H, W]`` images
    (and in training targets with ``boxes`` and ``labels``); training mode returns
    ``{'classification', 'bbox_regression'}`` losses, evaluation mode per image ``boxes``,
    ``scores``, ``labels``: each level's ``topk_candidates`` best (anchor, class) scores above
    ``score_thresh``, decoded, clipped, class-wise NMS-ed, the ``detections_per_img`` best."""

    def __init__(
        self,
        backbone,
        num_classes,
        min_size=800,
        max_size=1333,
        image_mean=None,
        image_std=None,
        anchor_generator=None,
        head=None,
        proposal_matcher=None,
        score_thresh=0.05,
        nms_thresh=0.5,
        detections_per_img=300,
        fg_iou_thresh=0.5,
        bg_iou_thresh=0.4,
        topk_candidates=1000,
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
                "anchor_generator should be of type AnchorGenerator or None instead of "
                f"{type(anchor_generator)}"
            )
        self.backbone = backbone
        self.anchor_generator = (
            _default_anchorgen() if anchor_generator is None else anchor_generator
        )
        if head is None:
            head = RetinaNetHead(
                backbone.out_channels,
                self.anchor_generator.num_anchors_per_location()[0],
                num_classes,
            )
        self.head = head
        if proposal_matcher is None:
            proposal_matcher = det_utils.Matcher(
                fg_iou_thresh, bg_iou_thresh, allow_low_quality_matches=True
            )
        self.proposal_matcher = proposal_matcher
        self.box_coder = det_utils.BoxCoder(weights=(1.0, 1.0, 1.0, 1.0))
        self.transform = GeneralizedRCNNTransform(
            min_size,
            max_size,
            image_mean if image_mean is not None else [0.485, 0.456, 0.406],
            image_std if image_std is not None else [0.229, 0.224, 0.225],
            **kwargs,
        )
        self.score_thresh = score_thresh
        self.nms_thresh = nms_thresh
        self.detections_per_img = detections_per_img
        self.topk_candidates = topk_candidates

    def compute_loss(self, targets, head_outputs, anchors):
        """Anchors matched to the ground truth by IoU (low-quality matches kept); an image
        without boxes makes every anchor background."""
        matched_idxs = []
        for anchors_i, target in zip(anchors, targets, strict=True):
            if target["boxes"].numel() == 0:
                matched_idxs.append(
                    minigrad.full(
                        (anchors_i.shape[0],), -1, dtype=minigrad.int64, device=anchors_i.device
                    )
                )
                continue
            matched_idxs.append(self.proposal_matcher(box_ops.box_iou(target["boxes"], anchors_i)))
        return self.head.compute_loss(targets, head_outputs, anchors, matched_idxs)

    def postprocess_detections(self, head_outputs, anchors, image_shapes):
        """Per image the kept detections (see the class docstring)."""
        detections = []
        for index, image_shape in enumerate(image_shapes):
            boxes_all, scores_all, labels_all = [], [], []
            for regression, logits, anchors_l in zip(
                (br[index] for br in head_outputs["bbox_regression"]),
                (cl[index] for cl in head_outputs["cls_logits"]),
                anchors[index],
                strict=True,
            ):
                scores, anchor_idxs, labels = _top_candidates(
                    minigrad.sigmoid(logits), self.score_thresh, self.topk_candidates
                )
                boxes = self.box_coder.decode_single(
                    regression[anchor_idxs], anchors_l[anchor_idxs]
                )
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
        return self.compute_loss(targets, head_outputs, anchors)

    def detections(self, head_outputs, anchors, features, image_sizes) -> list:
        split_outputs, split_anchors = _split_per_level(features, head_outputs, anchors)
        return self.postprocess_detections(split_outputs, split_anchors, image_sizes)


RetinaNet_ResNet50_FPN_Weights = weights_enum("RetinaNet_ResNet50_FPN_Weights", ("COCO_V1",))
RetinaNet_ResNet50_FPN_V2_Weights = weights_enum("RetinaNet_ResNet50_FPN_V2_Weights", ("COCO_V1",))


@register_model(RetinaNet_ResNet50_FPN_Weights)
def retinanet_resnet50_fpn(
    *,
    weights=None,
    progress: bool = True,
    num_classes: int | None = None,
    weights_backbone=ResNet50_Weights.IMAGENET1K_V1,
    trainable_backbone_layers: int | None = None,
    **kwargs,
) -> RetinaNet:
    """RetinaNet with a ResNet-50-FPN backbone on C3–C5 plus P6/P7 from P5 (91 COCO classes
    unless ``num_classes``); ``kwargs`` go to :class:`RetinaNet`."""
    check_detection_weights("retinanet_resnet50_fpn", weights, weights_backbone, kwargs)
    trainable = _validate_trainable_layers(False, trainable_backbone_layers, 5, 3)
    backbone = _resnet_fpn_extractor(
        resnet50(weights=None, norm_layer=nn.BatchNorm2d),
        trainable,
        returned_layers=[2, 3, 4],
        extra_blocks=LastLevelP6P7(256, 256),
    )
    return RetinaNet(backbone, 91 if num_classes is None else num_classes, **kwargs)


@register_model(RetinaNet_ResNet50_FPN_V2_Weights)
def retinanet_resnet50_fpn_v2(
    *,
    weights=None,
    progress: bool = True,
    num_classes: int | None = None,
    weights_backbone=None,
    trainable_backbone_layers: int | None = None,
    **kwargs,
) -> RetinaNet:
    """RetinaNet v2 (Zhang et al., 2020's recipe): P6 from C5, GroupNorm(32) in the heads and
    the GIoU box loss; ``weights_backbone`` defaults to None, as torchvision's."""
    check_detection_weights("retinanet_resnet50_fpn_v2", weights, weights_backbone, kwargs)
    trainable = _validate_trainable_layers(False, trainable_backbone_layers, 5, 3)
    backbone = _resnet_fpn_extractor(
        resnet50(weights=None),
        trainable,
        returned_layers=[2, 3, 4],
        extra_blocks=LastLevelP6P7(2048, 256),
    )
    anchor_generator = _default_anchorgen()
    head = RetinaNetHead(
        backbone.out_channels,
        anchor_generator.num_anchors_per_location()[0],
        91 if num_classes is None else num_classes,
        norm_layer=partial(nn.GroupNorm, 32),
    )
    head.regression_head._loss_type = "giou"
    return RetinaNet(
        backbone,
        91 if num_classes is None else num_classes,
        anchor_generator=anchor_generator,
        head=head,
        **kwargs,
    )
