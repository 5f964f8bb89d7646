"""SSD (Liu et al., 2016) as torchvision 0.28 builds it: a one-stage detector that scores and
regresses default boxes (``DefaultBoxGenerator``) on several feature maps of a fixed-size
image, trained with softmax cross-entropy over the positives and the hardest negatives (three
per positive: hard negative mining) and smooth L1 on the positives' box codes. ``SSD``,
``SSDHead`` (and its scoring heads), the VGG-16 feature extractor and ``ssd300_vgg16``; module
names as torchvision's. No pretrained weights."""

from __future__ import annotations

from collections import OrderedDict

import minigrad
from minigrad import nn
from minigrad.nn import functional as F

from ...._warnings import warn_user
from ...ops import boxes as box_ops
from .._api import register_model
from .._weights import weights_enum
from ..vgg import VGG16_Weights, vgg16
from . import _utils as det_utils
from .anchor_utils import DefaultBoxGenerator
from .backbone_utils import _validate_trainable_layers
from .faster_rcnn import check_detection_weights
from .retinanet import DenseDetector, _flatten_level
from .transform import GeneralizedRCNNTransform

__all__ = ["SSD", "SSD300_VGG16_Weights", "ssd300_vgg16"]


def _xavier_init(module: nn.Module) -> None:
    """Xavier-uniform convolution weights, zero biases."""
    for layer in module.modules():
        if isinstance(layer, nn.Conv2d):
            nn.init.xavier_uniform_(layer.weight)
            if layer.bias is not None:
                nn.init.constant_(layer.bias, 0.0)


class SSDScoringHead(nn.Module):
    """One module per feature map (``module_list[i]`` on map ``i``), outputs flattened to
    ``[N, ΣHW·A, num_columns]``."""

    def __init__(self, module_list: nn.ModuleList, num_columns: int) -> None:
        super().__init__()
        self.module_list = module_list
        self.num_columns = num_columns

    def forward(self, x):
        return minigrad.cat(
            [
                _flatten_level(module(f), self.num_columns)
                for module, f in zip(self.module_list, x, strict=True)
            ],
            dim=1,
        )


class SSDClassificationHead(SSDScoringHead):
    """A 3×3 convolution per map to ``num_classes`` logits per default box."""

    def __init__(self, in_channels, num_anchors, num_classes: int) -> None:
        convs = nn.ModuleList(
            nn.Conv2d(c, num_classes * a, kernel_size=3, padding=1)
            for c, a in zip(in_channels, num_anchors, strict=True)
        )
        _xavier_init(convs)
        super().__init__(convs, num_classes)


class SSDRegressionHead(SSDScoringHead):
    """A 3×3 convolution per map to 4 box codes per default box."""

    def __init__(self, in_channels, num_anchors) -> None:
        convs = nn.ModuleList(
            nn.Conv2d(c, 4 * a, kernel_size=3, padding=1)
            for c, a in zip(in_channels, num_anchors, strict=True)
        )
        _xavier_init(convs)
        super().__init__(convs, 4)


class SSDHead(nn.Module):
    """Classification and regression heads; ``forward`` returns ``{'bbox_regression',
    'cls_logits'}``."""

    def __init__(self, in_channels, num_anchors, num_classes: int) -> None:
        super().__init__()
        self.classification_head = SSDClassificationHead(in_channels, num_anchors, num_classes)
        self.regression_head = SSDRegressionHead(in_channels, num_anchors)

    def forward(self, x):
        return {
            "bbox_regression": self.regression_head(x),
            "cls_logits": self.classification_head(x),
        }


def hard_negative_mask(cls_loss, foreground, neg_to_pos_ratio: float):
    """Per image (row) the negatives to train on: the ``neg_to_pos_ratio × positives``
    highest-loss default boxes among those that are not foreground."""
    num_negative = neg_to_pos_ratio * foreground.sum(1, keepdim=True)
    negative_loss = cls_loss.clone()
    negative_loss[foreground] = -float("inf")
    order = negative_loss.sort(1, descending=True)[1]
    return order.sort(1)[1] < num_negative


class SSD(DenseDetector):
    """``forward(images, targets=None)``: images are resized to ``size = (w, h)`` (no
    padding); training returns ``{'bbox_regression', 'classification'}``, evaluation per image
    ``boxes``, ``scores`` (softmax), ``labels``: per class the ``topk_candidates`` best above
    ``score_thresh``, class-wise NMS, the ``detections_per_img`` best. ``backbone`` returns
    the feature maps (an ``out_channels`` list, else found by a trial run)."""

    def __init__(
        self,
        backbone,
        anchor_generator: DefaultBoxGenerator,
        size,
        num_classes: int,
        image_mean=None,
        image_std=None,
        head=None,
        score_thresh: float = 0.01,
        nms_thresh: float = 0.45,
        detections_per_img: int = 200,
        iou_thresh: float = 0.5,
        topk_candidates: int = 400,
        positive_fraction: float = 0.25,
        **kwargs,
    ) -> None:
        super().__init__()
        self.backbone = backbone
        self.anchor_generator = anchor_generator
        self.box_coder = det_utils.BoxCoder(weights=(10.0, 10.0, 5.0, 5.0))
        if head is None:
            if hasattr(backbone, "out_channels"):
                out_channels = backbone.out_channels
            else:
                out_channels = det_utils.retrieve_out_channels(backbone, size)
            if len(out_channels) != len(anchor_generator.aspect_ratios):
                raise ValueError(
                    f"The length of the output channels from the backbone ({len(out_channels)}) "
                    "do not match the length of the anchor generator aspect ratios "
                    f"({len(anchor_generator.aspect_ratios)})"
                )
            head = SSDHead(out_channels, anchor_generator.num_anchors_per_location(), num_classes)
        self.head = head
        self.proposal_matcher = det_utils.SSDMatcher(iou_thresh)
        self.transform = GeneralizedRCNNTransform(
            min(size),
            max(size),
            image_mean if image_mean is not None else [0.485, 0.456, 0.406],
            image_std if image_std is not None else [0.229, 0.224, 0.225],
            size_divisible=1,
            fixed_size=size,
            **kwargs,
        )
        self.score_thresh = score_thresh
        self.nms_thresh = nms_thresh
        self.detections_per_img = detections_per_img
        self.topk_candidates = topk_candidates
        self.neg_to_pos_ratio = (1.0 - positive_fraction) / positive_fraction

    def compute_loss(self, targets, head_outputs, anchors, matched_idxs):
        """Smooth L1 of the positives' codes and cross-entropy of the positives and the hard
        negatives, both over the batch's number of positives (at least 1)."""
        num_foreground = 0
        bbox_loss, cls_targets = [], []
        for target, regression, logits, anchors_i, matched in zip(
            targets,
            head_outputs["bbox_regression"],
            head_outputs["cls_logits"],
            anchors,
            matched_idxs,
            strict=True,
        ):
            foreground = minigrad.where(matched >= 0)[0]
            fg_matched = matched[foreground]
            num_foreground += fg_matched.numel()
            target_codes = self.box_coder.encode_single(target["boxes"][fg_matched],
                                                        anchors_i[foreground])  # fmt: skip
            bbox_loss.append(F.smooth_l1_loss(regression[foreground], target_codes,
                                              reduction="sum"))  # fmt: skip
            classes = minigrad.zeros((logits.shape[0],), dtype=target["labels"].dtype,
                                     device=target["labels"].device)  # fmt: skip
            classes[foreground] = target["labels"][fg_matched]
            cls_targets.append(classes)
        bbox_loss, cls_targets = minigrad.stack(bbox_loss), minigrad.stack(cls_targets)
        cls_logits = head_outputs["cls_logits"]
        num_classes = cls_logits.shape[-1]
        cls_loss = F.cross_entropy(
            cls_logits.view(-1, num_classes), cls_targets.view(-1), reduction="none"
        ).view(cls_targets.shape)
        foreground = cls_targets > 0
        background = hard_negative_mask(cls_loss, foreground, self.neg_to_pos_ratio)
        n = max(1, num_foreground)
        return {
            "bbox_regression": bbox_loss.sum() / n,
            "classification": (cls_loss[foreground].sum() + cls_loss[background].sum()) / n,
        }

    def postprocess_detections(self, head_outputs, image_anchors, image_shapes):
        """Per image the kept detections (see the class docstring)."""
        pred_scores = F.softmax(head_outputs["cls_logits"], dim=-1)
        num_classes = pred_scores.shape[-1]
        detections = []
        for codes, scores, anchors, image_shape in zip(
            head_outputs["bbox_regression"], pred_scores, image_anchors, image_shapes, strict=True
        ):
            boxes = box_ops.clip_boxes_to_image(
                self.box_coder.decode_single(codes, anchors), image_shape
            )
            image_boxes, image_scores, image_labels = [], [], []
            for label in range(1, num_classes):
                score = scores[:, label]
                keep = score > self.score_thresh
                score, box = score[keep], boxes[keep]
                score, idxs = score.topk(min(self.topk_candidates, score.shape[0]))
                image_boxes.append(box[idxs])
                image_scores.append(score)
                image_labels.append(minigrad.full_like(score, label, dtype=minigrad.int64))
            image_boxes = minigrad.cat(image_boxes, dim=0)
            image_scores = minigrad.cat(image_scores, dim=0)
            image_labels = minigrad.cat(image_labels, dim=0)
            keep = box_ops.batched_nms(image_boxes, image_scores, image_labels, self.nms_thresh)
            keep = keep[: self.detections_per_img]
            detections.append(
                {
                    "boxes": image_boxes[keep],
                    "scores": image_scores[keep],
                    "labels": image_labels[keep],
                }
            )
        return detections

    def match(self, anchors, targets):
        """Per image each default box's ground-truth index (-1: background)."""
        matched = []
        for anchors_i, target in zip(anchors, targets, strict=True):
            if target["boxes"].numel() == 0:
                matched.append(minigrad.full((anchors_i.shape[0],), -1, dtype=minigrad.int64,
                                             device=anchors_i.device))  # fmt: skip
                continue
            matched.append(self.proposal_matcher(box_ops.box_iou(target["boxes"], anchors_i)))
        return matched

    def training_losses(self, targets, head_outputs, anchors, features) -> dict:
        return self.compute_loss(targets, head_outputs, anchors, self.match(anchors, targets))

    def detections(self, head_outputs, anchors, features, image_sizes) -> list:
        return self.postprocess_detections(head_outputs, anchors, image_sizes)


class SSDFeatureExtractorVGG(nn.Module):
    """VGG-16's convolutions to conv4_3 (L2-normalised per location, scaled by a learnt
    per-channel ``scale_weight`` starting at 20), then ``extra`` blocks: conv5 with the dilated
    fc6/fc7 convolutions, and four (five when ``highres``) downsampling blocks — six (seven)
    maps in all."""

    def __init__(self, backbone: nn.Sequential, highres: bool) -> None:
        super().__init__()
        pools = [i for i, layer in enumerate(backbone) if isinstance(layer, nn.MaxPool2d)]
        maxpool3_pos, maxpool4_pos = pools[2], pools[3]
        backbone[maxpool3_pos].ceil_mode = True
        self.scale_weight = nn.Parameter(minigrad.ones(512) * 20)
        self.features = nn.Sequential(*backbone[:maxpool4_pos])

        def block(c_in, c_mid, c_out, **conv):
            return nn.Sequential(
                nn.Conv2d(c_in, c_mid, kernel_size=1),
                nn.ReLU(inplace=True),
                nn.Conv2d(c_mid, c_out, **conv),
                nn.ReLU(inplace=True),
            )

        extra = nn.ModuleList(
            [
                block(1024, 256, 512, kernel_size=3, padding=1, stride=2),
                block(512, 128, 256, kernel_size=3, padding=1, stride=2),
                block(256, 128, 256, kernel_size=3),
                block(256, 128, 256, kernel_size=3),
            ]
        )
        if highres:
            extra.append(block(256, 128, 256, kernel_size=4))
        _xavier_init(extra)
        fc = nn.Sequential(
            nn.MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=False),
            nn.Conv2d(512, 1024, kernel_size=3, padding=6, dilation=6),
            nn.ReLU(inplace=True),
            nn.Conv2d(1024, 1024, kernel_size=1),
            nn.ReLU(inplace=True),
        )
        _xavier_init(fc)
        extra.insert(0, nn.Sequential(*backbone[maxpool4_pos:-1], fc))
        self.extra = extra

    def forward(self, x):
        x = self.features(x)
        output = [self.scale_weight.view(1, -1, 1, 1) * F.normalize(x)]
        for block in self.extra:
            x = block(x)
            output.append(x)
        return OrderedDict([(str(i), v) for i, v in enumerate(output)])


def _vgg_extractor(backbone, highres: bool, trainable_layers: int) -> SSDFeatureExtractorVGG:
    """VGG's ``features`` with the stages before the last ``trainable_layers`` frozen."""
    backbone = backbone.features
    stage_indices = [0] + [i for i, b in enumerate(backbone) if isinstance(b, nn.MaxPool2d)][:-1]
    num_stages = len(stage_indices)
    if not 0 <= trainable_layers <= num_stages:
        raise ValueError(
            f"trainable_layers should be in the range [0, {num_stages}]. "
            f"Instead got {trainable_layers}"
        )
    freeze_before = (
        len(backbone) if trainable_layers == 0 else stage_indices[num_stages - trainable_layers]
    )
    for layer in backbone[:freeze_before]:
        for parameter in layer.parameters():
            parameter.requires_grad_(False)
    return SSDFeatureExtractorVGG(backbone, highres)


SSD300_VGG16_Weights = weights_enum("SSD300_VGG16_Weights", ("COCO_V1",))


@register_model(SSD300_VGG16_Weights)
def ssd300_vgg16(
    *,
    weights=None,
    progress: bool = True,
    num_classes: int | None = None,
    weights_backbone=VGG16_Weights.IMAGENET1K_FEATURES,
    trainable_backbone_layers: int | None = None,
    **kwargs,
) -> SSD:
    """SSD300 on VGG-16 (300×300 inputs, six maps, 8732 default boxes; 91 COCO classes unless
    ``num_classes``); torchvision's Caffe-style normalisation (mean in [0, 1], std 1/255)."""
    check_detection_weights("ssd300_vgg16", weights, weights_backbone, kwargs)
    if "size" in kwargs:
        warn_user("The size of the model is already fixed; ignoring the parameter.")
        kwargs.pop("size")
    trainable = _validate_trainable_layers(False, trainable_backbone_layers, 5, 4)
    backbone = _vgg_extractor(vgg16(weights=None), False, trainable)
    anchor_generator = DefaultBoxGenerator(
        [[2], [2, 3], [2, 3], [2, 3], [2], [2]],
        scales=[0.07, 0.15, 0.33, 0.51, 0.69, 0.87, 1.05],
        steps=[8, 16, 32, 64, 100, 300],
    )
    defaults = {"image_mean": [0.48235, 0.45882, 0.40784], "image_std": [1.0 / 255.0] * 3}
    kwargs = {**defaults, **kwargs}
    return SSD(backbone, anchor_generator, (300, 300), 91 if num_classes is None else num_classes,
               **kwargs)  # fmt: skip
