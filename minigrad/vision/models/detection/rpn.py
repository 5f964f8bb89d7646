"""The region proposal network of Faster R-CNN: ``RPNHead`` (objectness and box deltas per
anchor) and ``RegionProposalNetwork`` (anchors → decoded, clipped, NMS-filtered proposals per
image; in training also the objectness and box-regression losses), as torchvision's."""

from __future__ import annotations

import minigrad
from minigrad import nn
from minigrad.nn import functional as F

from ...ops import boxes as box_ops
from ...ops.misc import Conv2dNormActivation
from . import _utils as det_utils
from .anchor_utils import AnchorGenerator

# AnchorGenerator is importable from here, as in torchvision (the fine-tuning tutorial does).
__all__ = ["AnchorGenerator", "RPNHead", "RegionProposalNetwork", "concat_box_prediction_layers"]


class RPNHead(nn.Module):
    """``conv_depth`` 3×3 convolutions with ReLU, then 1×1 convolutions giving one objectness
    logit and four box deltas per anchor, on every feature map."""

    def __init__(self, in_channels: int, num_anchors: int, conv_depth: int = 1) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            *(
                Conv2dNormActivation(in_channels, in_channels, kernel_size=3, norm_layer=None)
                for _ in range(conv_depth)
            )
        )
        self.cls_logits = nn.Conv2d(in_channels, num_anchors, kernel_size=1, stride=1)
        self.bbox_pred = nn.Conv2d(in_channels, num_anchors * 4, kernel_size=1, stride=1)
        for layer in self.modules():
            if isinstance(layer, nn.Conv2d):
                nn.init.normal_(layer.weight, std=0.01)
                if layer.bias is not None:
                    nn.init.constant_(layer.bias, 0)

    def forward(self, x):
        logits, bbox_reg = [], []
        for feature in x:
            t = self.conv(feature)
            logits.append(self.cls_logits(t))
            bbox_reg.append(self.bbox_pred(t))
        return logits, bbox_reg


def _permute_and_flatten(layer, n: int, c: int, h: int, w: int):
    """``[N, A·C, H, W]`` to ``[N, H·W·A, C]`` (the anchors' order)."""
    return layer.reshape(n, -1, c, h, w).permute(0, 3, 4, 1, 2).reshape(n, -1, c)


def concat_box_prediction_layers(box_cls, box_regression):
    """All levels' predictions as ``[N·A_total, C]`` logits and ``[N·A_total, 4]`` deltas."""
    cls_flat, reg_flat = [], []
    for cls_level, reg_level in zip(box_cls, box_regression, strict=True):
        n, axc, h, w = cls_level.shape
        anchors = reg_level.shape[1] // 4
        cls_flat.append(_permute_and_flatten(cls_level, n, axc // anchors, h, w))
        reg_flat.append(_permute_and_flatten(reg_level, n, 4, h, w))
    return minigrad.cat(cls_flat, dim=1).flatten(0, -2), minigrad.cat(reg_flat, dim=1).reshape(
        -1, 4
    )


class RegionProposalNetwork(nn.Module):
    """Proposals from anchors and an ``RPNHead``: the ``pre_nms_top_n`` best anchors of each
    level, decoded, clipped to the image, small and low-score boxes dropped, NMS per level,
    the ``post_nms_top_n`` best kept. ``pre_nms_top_n``/``post_nms_top_n`` are dicts with
    ``training`` and ``testing`` entries. In training, anchors are matched to the targets
    (IoU ≥ ``fg_iou_thresh`` positive, < ``bg_iou_thresh`` negative) and a balanced sample
    gives ``loss_objectness`` (BCE) and ``loss_rpn_box_reg`` (smooth L1, beta 1/9)."""

    def __init__(
        self,
        anchor_generator,
        head: nn.Module,
        fg_iou_thresh: float,
        bg_iou_thresh: float,
        batch_size_per_image: int,
        positive_fraction: float,
        pre_nms_top_n: dict,
        post_nms_top_n: dict,
        nms_thresh: float,
        score_thresh: float = 0.0,
    ) -> None:
        super().__init__()
        self.anchor_generator = anchor_generator
        self.head = head
        self.box_coder = det_utils.BoxCoder(weights=(1.0, 1.0, 1.0, 1.0))
        self.box_similarity = box_ops.box_iou
        self.proposal_matcher = det_utils.Matcher(
            fg_iou_thresh, bg_iou_thresh, allow_low_quality_matches=True
        )
        self.fg_bg_sampler = det_utils.BalancedPositiveNegativeSampler(
            batch_size_per_image, positive_fraction
        )
        self._pre_nms_top_n = pre_nms_top_n
        self._post_nms_top_n = post_nms_top_n
        self.nms_thresh = nms_thresh
        self.score_thresh = score_thresh
        self.min_size = 1e-3

    def pre_nms_top_n(self) -> int:
        return self._pre_nms_top_n["training" if self.training else "testing"]

    def post_nms_top_n(self) -> int:
        return self._post_nms_top_n["training" if self.training else "testing"]

    def assign_targets_to_anchors(self, anchors, targets):
        """Per image: labels (1 object, 0 background, -1 ignored) and the matched boxes."""
        labels, matched_gt_boxes = [], []
        for anchors_per_image, target in zip(anchors, targets, strict=True):
            gt_boxes = target["boxes"]
            device = anchors_per_image.device
            if gt_boxes.numel() == 0:
                matched = minigrad.zeros(anchors_per_image.shape, device=device)
                label = minigrad.zeros((anchors_per_image.shape[0],), device=device)
            else:
                idxs = self.proposal_matcher(self.box_similarity(gt_boxes, anchors_per_image))
                matched = gt_boxes[idxs.clamp(min=0)]
                label = (idxs >= 0).to(minigrad.float32)
                label[idxs == self.proposal_matcher.BELOW_LOW_THRESHOLD] = 0.0
                label[idxs == self.proposal_matcher.BETWEEN_THRESHOLDS] = -1.0
            labels.append(label)
            matched_gt_boxes.append(matched)
        return labels, matched_gt_boxes

    def _get_top_n_idx(self, objectness, num_anchors_per_level):
        picked, offset = [], 0
        for ob in objectness.split(num_anchors_per_level, 1):
            k = min(self.pre_nms_top_n(), ob.shape[1])
            picked.append(ob.topk(k, dim=1)[1] + offset)
            offset += ob.shape[1]
        return minigrad.cat(picked, dim=1)

    def filter_proposals(self, proposals, objectness, image_shapes, num_anchors_per_level):
        """The kept boxes and their objectness probabilities, per image."""
        num_images, device = proposals.shape[0], proposals.device
        objectness = objectness.detach().reshape(num_images, -1)
        levels = minigrad.cat(
            [
                minigrad.full((n,), idx, dtype=minigrad.int64, device=device)
                for idx, n in enumerate(num_anchors_per_level)
            ]
        )
        levels = levels.reshape(1, -1).expand_as(objectness)
        top_n_idx = self._get_top_n_idx(objectness, num_anchors_per_level)
        batch_idx = minigrad.arange(num_images, device=device)[:, None]
        objectness = objectness[batch_idx, top_n_idx]
        levels = levels[batch_idx, top_n_idx]
        proposals = proposals[batch_idx, top_n_idx]
        probs = minigrad.sigmoid(objectness)
        final_boxes, final_scores = [], []
        for boxes, scores, lvl, shape in zip(proposals, probs, levels, image_shapes, strict=True):
            boxes = box_ops.clip_boxes_to_image(boxes, shape)
            keep = box_ops.remove_small_boxes(boxes, self.min_size)
            boxes, scores, lvl = boxes[keep], scores[keep], lvl[keep]
            keep = minigrad.where(scores >= self.score_thresh)[0]
            boxes, scores, lvl = boxes[keep], scores[keep], lvl[keep]
            keep = box_ops.batched_nms(boxes, scores, lvl, self.nms_thresh)[: self.post_nms_top_n()]
            final_boxes.append(boxes[keep])
            final_scores.append(scores[keep])
        return final_boxes, final_scores

    def compute_loss(self, objectness, pred_bbox_deltas, labels, regression_targets):
        """``(objectness_loss, box_loss)`` over a balanced sample of the anchors; the box loss
        is summed over the positives and divided by the sample size."""
        pos_masks, neg_masks = self.fg_bg_sampler(labels)
        pos = minigrad.where(minigrad.cat(pos_masks, dim=0))[0]
        neg = minigrad.where(minigrad.cat(neg_masks, dim=0))[0]
        sampled = minigrad.cat([pos, neg], dim=0)
        objectness = objectness.flatten()
        labels = minigrad.cat(labels, dim=0)
        regression_targets = minigrad.cat(regression_targets, dim=0)
        box_loss = (
            F.smooth_l1_loss(
                pred_bbox_deltas[pos], regression_targets[pos], beta=1 / 9, reduction="sum"
            )
            / sampled.numel()
        )
        objectness_loss = F.binary_cross_entropy_with_logits(objectness[sampled], labels[sampled])
        return objectness_loss, box_loss

    def forward(self, images, features: dict, targets=None):
        """``(boxes per image, losses)``; the losses are empty outside training."""
        features = list(features.values())
        objectness, pred_bbox_deltas = self.head(features)
        anchors = self.anchor_generator(images, features)
        num_images = len(anchors)
        num_anchors_per_level = [o[0].shape[0] * o[0].shape[1] * o[0].shape[2] for o in objectness]
        objectness, pred_bbox_deltas = concat_box_prediction_layers(objectness, pred_bbox_deltas)
        # Proposals are not differentiated through (Faster R-CNN's approximate joint training).
        proposals = self.box_coder.decode(pred_bbox_deltas.detach(), anchors)
        proposals = proposals.reshape(num_images, -1, 4)
        boxes, _ = self.filter_proposals(
            proposals, objectness, images.image_sizes, num_anchors_per_level
        )
        losses = {}
        if self.training:
            if targets is None:
                raise ValueError("targets should not be None")
            labels, matched_gt_boxes = self.assign_targets_to_anchors(anchors, targets)
            regression_targets = self.box_coder.encode(matched_gt_boxes, anchors)
            loss_objectness, loss_rpn_box_reg = self.compute_loss(
                objectness, pred_bbox_deltas, labels, regression_targets
            )
            losses = {"loss_objectness": loss_objectness, "loss_rpn_box_reg": loss_rpn_box_reg}
        return boxes, losses
