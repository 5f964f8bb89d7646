"""The bookkeeping of two-stage detectors, as torchvision's ``models.detection._utils``:
``BoxCoder`` (boxes ↔ regression targets), ``Matcher`` (anchors/proposals to ground truth by
IoU) and ``BalancedPositiveNegativeSampler`` (a fixed-size training sample with a positive
fraction, drawn with ``randperm`` in torchvision's order so seeded runs pick the same boxes),
and ``_box_loss``, the box regression loss the one-stage detectors choose by name."""

from __future__ import annotations

import math

import minigrad
from minigrad.nn import functional as F

from ...ops.giou_loss import generalized_box_iou_loss

__all__ = [
    "BalancedPositiveNegativeSampler",
    "BoxCoder",
    "BoxLinearCoder",
    "Matcher",
    "SSDMatcher",
    "retrieve_out_channels",
]


class BalancedPositiveNegativeSampler:
    """Per image, up to ``batch_size_per_image * positive_fraction`` random positives
    (``matched >= 1``) and negatives (``matched == 0``) to fill the rest; returns uint8 masks
    of the picked positives and negatives, one per image."""

    def __init__(self, batch_size_per_image: int, positive_fraction: float) -> None:
        self.batch_size_per_image = batch_size_per_image
        self.positive_fraction = positive_fraction

    def __call__(self, matched_idxs):
        pos_masks, neg_masks = [], []
        for matched in matched_idxs:
            positive = minigrad.where(matched >= 1)[0]
            negative = minigrad.where(matched == 0)[0]
            num_pos = min(positive.numel(), int(self.batch_size_per_image * self.positive_fraction))
            num_neg = min(negative.numel(), self.batch_size_per_image - num_pos)
            # Two draws in this order (positives first), as torchvision: same seed, same picks.
            perm_pos = minigrad.randperm(positive.numel(), device=positive.device)[:num_pos]
            perm_neg = minigrad.randperm(negative.numel(), device=negative.device)[:num_neg]
            pos_mask = minigrad.zeros_like(matched, dtype=minigrad.uint8)
            neg_mask = minigrad.zeros_like(matched, dtype=minigrad.uint8)
            pos_mask[positive[perm_pos]] = 1
            neg_mask[negative[perm_neg]] = 1
            pos_masks.append(pos_mask)
            neg_masks.append(neg_mask)
        return pos_masks, neg_masks


class BoxCoder:
    """Boxes as offsets from reference boxes (R-CNN's parametrisation):
    ``(wx·dx/w, wy·dy/h, ww·log(w'/w), wh·log(h'/h))`` of the centres and sizes; decoding
    clamps the log-sizes at ``bbox_xform_clip`` so ``exp`` cannot overflow."""

    def __init__(self, weights, bbox_xform_clip: float = math.log(1000.0 / 16)) -> None:
        self.weights = weights
        self.bbox_xform_clip = bbox_xform_clip

    def encode(self, reference_boxes, proposals):
        """Targets per image for the ground-truth ``reference_boxes`` against ``proposals``
        (lists of ``[N_i, 4]``)."""
        counts = [len(b) for b in reference_boxes]
        targets = self.encode_single(minigrad.cat(reference_boxes), minigrad.cat(proposals))
        return targets.split(counts, 0)

    def encode_single(self, reference_boxes, proposals):
        """``[N, 4]`` regression targets that move ``proposals`` onto ``reference_boxes``."""
        wx, wy, ww, wh = self.weights
        ex_w = proposals[:, 2:3] - proposals[:, 0:1]
        ex_h = proposals[:, 3:4] - proposals[:, 1:2]
        ex_x, ex_y = proposals[:, 0:1] + 0.5 * ex_w, proposals[:, 1:2] + 0.5 * ex_h
        gt_w = reference_boxes[:, 2:3] - reference_boxes[:, 0:1]
        gt_h = reference_boxes[:, 3:4] - reference_boxes[:, 1:2]
        gt_x, gt_y = reference_boxes[:, 0:1] + 0.5 * gt_w, reference_boxes[:, 1:2] + 0.5 * gt_h
        return minigrad.cat(
            (
                wx * (gt_x - ex_x) / ex_w,
                wy * (gt_y - ex_y) / ex_h,
                ww * minigrad.log(gt_w / ex_w),
                wh * minigrad.log(gt_h / ex_h),
            ),
            dim=1,
        )

    def decode(self, rel_codes, boxes):
        """Boxes ``[sum N_i, C, 4]`` from codes ``[sum N_i, 4·C]`` and the reference boxes of
        each image (a list of ``[N_i, 4]``)."""
        if not isinstance(boxes, (list, tuple)):
            raise TypeError("This function expects boxes of type list or tuple.")
        total = sum(b.shape[0] for b in boxes)
        if total > 0:
            rel_codes = rel_codes.reshape(total, -1)
        pred = self.decode_single(rel_codes, minigrad.cat(list(boxes), dim=0))
        return pred.reshape(total, -1, 4) if total > 0 else pred

    def decode_single(self, rel_codes, boxes):
        """``[N, 4·C]`` codes applied to ``[N, 4]`` boxes: ``[N, 4·C]`` boxes."""
        boxes = boxes.to(rel_codes.dtype)
        widths, heights = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
        ctr_x, ctr_y = boxes[:, 0] + 0.5 * widths, boxes[:, 1] + 0.5 * heights
        wx, wy, ww, wh = self.weights
        dx, dy = rel_codes[:, 0::4] / wx, rel_codes[:, 1::4] / wy
        dw = minigrad.clamp(rel_codes[:, 2::4] / ww, max=self.bbox_xform_clip)
        dh = minigrad.clamp(rel_codes[:, 3::4] / wh, max=self.bbox_xform_clip)
        pred_x, pred_y = (
            dx * widths[:, None] + ctr_x[:, None],
            dy * heights[:, None] + ctr_y[:, None],
        )
        half_w, half_h = (
            0.5 * minigrad.exp(dw) * widths[:, None],
            0.5 * minigrad.exp(dh) * heights[:, None],
        )
        corners = (pred_x - half_w, pred_y - half_h, pred_x + half_w, pred_y + half_h)
        return minigrad.stack(corners, dim=2).flatten(1)


class BoxLinearCoder:
    """FCOS's parametrisation: a box as the distances ``(l, t, r, b)`` from the reference
    box's centre to its four edges, divided by the reference box's width/height when
    ``normalize_by_size``. Works on any leading shape (``[..., 4]``)."""

    def __init__(self, normalize_by_size: bool = True) -> None:
        self.normalize_by_size = normalize_by_size

    def _sizes(self, boxes):
        w, h = boxes[..., 2] - boxes[..., 0], boxes[..., 3] - boxes[..., 1]
        return minigrad.stack((w, h, w, h), dim=-1)

    def encode(self, reference_boxes, proposals):
        """The distances from ``reference_boxes``' centres to the edges of ``proposals``."""
        ctr_x = 0.5 * (reference_boxes[..., 0] + reference_boxes[..., 2])
        ctr_y = 0.5 * (reference_boxes[..., 1] + reference_boxes[..., 3])
        targets = minigrad.stack(
            (
                ctr_x - proposals[..., 0],
                ctr_y - proposals[..., 1],
                proposals[..., 2] - ctr_x,
                proposals[..., 3] - ctr_y,
            ),
            dim=-1,
        )
        return targets / self._sizes(reference_boxes) if self.normalize_by_size else targets

    def decode(self, rel_codes, boxes):
        """Boxes from the distances ``rel_codes`` around ``boxes``' centres (same leading
        shape)."""
        boxes = boxes.to(dtype=rel_codes.dtype)
        ctr_x = 0.5 * (boxes[..., 0] + boxes[..., 2])
        ctr_y = 0.5 * (boxes[..., 1] + boxes[..., 3])
        if self.normalize_by_size:
            rel_codes = rel_codes * self._sizes(boxes)
        return minigrad.stack(
            (
                ctr_x - rel_codes[..., 0],
                ctr_y - rel_codes[..., 1],
                ctr_x + rel_codes[..., 2],
                ctr_y + rel_codes[..., 3],
            ),
            dim=-1,
        )


class Matcher:
    """Each prediction (column of an IoU matrix ``[gt, pred]``) to its best ground truth, or
    ``BELOW_LOW_THRESHOLD`` (-1) below ``low_threshold``, ``BETWEEN_THRESHOLDS`` (-2) between
    the thresholds. ``allow_low_quality_matches`` keeps, for each ground truth, the
    predictions of its highest IoU matched whatever the thresholds (Faster R-CNN's RPN)."""

    BELOW_LOW_THRESHOLD = -1
    BETWEEN_THRESHOLDS = -2

    def __init__(
        self, high_threshold: float, low_threshold: float, allow_low_quality_matches: bool = False
    ) -> None:
        if low_threshold > high_threshold:
            raise ValueError("low_threshold should be <= high_threshold")
        self.high_threshold = high_threshold
        self.low_threshold = low_threshold
        self.allow_low_quality_matches = allow_low_quality_matches

    def __call__(self, match_quality_matrix):
        if match_quality_matrix.numel() == 0:
            if match_quality_matrix.shape[0] == 0:
                raise ValueError(
                    "No ground-truth boxes available for one of the images during training"
                )
            raise ValueError("No proposal boxes available for one of the images during training")
        matched_vals, matches = match_quality_matrix.max(dim=0)
        all_matches = matches.clone() if self.allow_low_quality_matches else None
        below = matched_vals < self.low_threshold
        between = (matched_vals >= self.low_threshold) & (matched_vals < self.high_threshold)
        matches[below] = self.BELOW_LOW_THRESHOLD
        matches[between] = self.BETWEEN_THRESHOLDS
        if all_matches is not None:
            self.set_low_quality_matches_(matches, all_matches, match_quality_matrix)
        return matches

    def set_low_quality_matches_(self, matches, all_matches, match_quality_matrix) -> None:
        """Restore the match of every prediction that is some ground truth's best (ties
        included)."""
        best_per_gt = match_quality_matrix.max(dim=1)[0]
        preds = minigrad.where(match_quality_matrix == best_per_gt[:, None])[1]
        matches[preds] = all_matches[preds]


class SSDMatcher(Matcher):
    """SSD's matching: IoU at least ``threshold``, and every ground truth keeps its best
    prediction whatever the IoU (the later ground truth wins a shared one)."""

    def __init__(self, threshold: float) -> None:
        super().__init__(threshold, threshold, allow_low_quality_matches=False)

    def __call__(self, match_quality_matrix):
        matches = super().__call__(match_quality_matrix)
        best_pred = match_quality_matrix.max(dim=1)[1]
        matches[best_pred] = minigrad.arange(best_pred.shape[0], dtype=minigrad.int64,
                                             device=best_pred.device)  # fmt: skip
        return matches


def retrieve_out_channels(model, size):
    """The channel counts of ``model``'s output maps, found by running it on a zero image of
    ``size = (w, h)`` in evaluation mode."""
    was_training = model.training
    model.eval()
    with minigrad.no_grad():
        device = next(model.parameters()).device
        features = model(minigrad.zeros((1, 3, size[1], size[0]), device=device))
    if isinstance(features, minigrad.Tensor):
        features = {"0": features}
    if was_training:
        model.train()
    return [x.shape[1] for x in features.values()]


def _box_loss(kind: str, box_coder, anchors, matched_gt_boxes, bbox_regression, cnf=None):
    """The summed regression loss of one image's positive anchors: ``'l1'`` or
    ``'smooth_l1'`` on the encoded targets, ``'giou'`` on the decoded boxes (RetinaNet v1
    uses L1, v2 GIoU). ``cnf`` may give ``beta`` (smooth L1) and ``eps`` (GIoU)."""
    cnf = cnf or {}
    if kind == "l1":
        target = box_coder.encode_single(matched_gt_boxes, anchors)
        return F.l1_loss(bbox_regression, target, reduction="sum")
    if kind == "smooth_l1":
        target = box_coder.encode_single(matched_gt_boxes, anchors)
        return F.smooth_l1_loss(bbox_regression, target, reduction="sum", beta=cnf.get("beta", 1.0))
    if kind == "giou":
        boxes = box_coder.decode_single(bbox_regression, anchors)
        return generalized_box_iou_loss(
            boxes, matched_gt_boxes, reduction="sum", eps=cnf.get("eps", 1e-7)
        )
    if kind in ("ciou", "diou"):
        raise NotImplementedError(
            f"_box_loss: the {kind!r} loss (complete/distance IoU loss) is not implemented in "
            "minigrad.vision; use 'l1', 'smooth_l1' or 'giou'"
        )
    raise ValueError(f"Unsupported loss: {kind}")
