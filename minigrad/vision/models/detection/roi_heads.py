"""The second stage of Faster/Mask R-CNN, as torchvision's ``RoIHeads``: proposals matched to
the targets and subsampled (training), their features pooled and classified, boxes refined per
class, and in evaluation scored, filtered and NMS-ed into detections; optionally the mask
branch (Mask R-CNN) and the keypoint branch (Keypoint R-CNN: ground-truth keypoints as one-hot
heatmap targets, predicted keypoints at the heatmaps' maxima)."""

from __future__ import annotations

import minigrad
from minigrad import nn
from minigrad.nn import functional as F

from ...ops import boxes as box_ops
from ...ops import roi_align
from . import _utils as det_utils

__all__ = [
    "RoIHeads",
    "fastrcnn_loss",
    "heatmaps_to_keypoints",
    "keypointrcnn_inference",
    "keypointrcnn_loss",
    "keypoints_to_heatmap",
    "maskrcnn_inference",
    "maskrcnn_loss",
]


def fastrcnn_loss(class_logits, box_regression, labels, regression_targets):
    """Cross-entropy over the sampled proposals and smooth L1 (beta 1/9) of the positives'
    deltas for their true class, summed and divided by the number of samples."""
    labels = minigrad.cat(labels, dim=0)
    regression_targets = minigrad.cat(regression_targets, dim=0)
    classification_loss = F.cross_entropy(class_logits, labels)
    pos = minigrad.where(labels > 0)[0]
    n = class_logits.shape[0]
    box_regression = box_regression.reshape(n, box_regression.shape[-1] // 4, 4)
    box_loss = F.smooth_l1_loss(
        box_regression[pos, labels[pos]], regression_targets[pos], beta=1 / 9, reduction="sum"
    )
    return classification_loss, box_loss / labels.numel()


def maskrcnn_inference(x, labels):
    """Each detection's mask probabilities ``[K_i, 1, M, M]`` for its predicted class."""
    mask_prob = x.sigmoid()
    counts = [label.shape[0] for label in labels]
    labels = minigrad.cat(labels)
    index = minigrad.arange(x.shape[0], device=labels.device)
    return mask_prob[index, labels][:, None].split(counts, dim=0)


def project_masks_on_boxes(gt_masks, boxes, matched_idxs, size: int):
    """The ground-truth masks cropped to the proposals and resized to ``size × size`` (RoI
    Align on the masks, as torchvision)."""
    rois = minigrad.cat([matched_idxs.to(boxes.dtype)[:, None], boxes], dim=1)
    return roi_align(gt_masks[:, None].to(rois.dtype), rois, (size, size), 1.0)[:, 0]


def maskrcnn_loss(mask_logits, proposals, gt_masks, gt_labels, mask_matched_idxs):
    """Binary cross-entropy of each positive proposal's mask logits for its true class
    against its projected ground-truth mask."""
    size = mask_logits.shape[-1]
    labels = [gl[idxs] for gl, idxs in zip(gt_labels, mask_matched_idxs, strict=True)]
    targets = [
        project_masks_on_boxes(m, p, i, size)
        for m, p, i in zip(gt_masks, proposals, mask_matched_idxs, strict=True)
    ]
    labels, targets = minigrad.cat(labels, dim=0), minigrad.cat(targets, dim=0)
    if targets.numel() == 0:
        return mask_logits.sum() * 0
    rows = minigrad.arange(labels.shape[0], device=labels.device)
    return F.binary_cross_entropy_with_logits(mask_logits[rows, labels], targets)


def keypoints_to_heatmap(keypoints, rois, heatmap_size: int):
    """Keypoints ``[R, K, 3]`` (x, y, visibility) as the flat index ``y·S + x`` of their cell
    in each RoI's ``S × S`` heatmap, and whether each is usable (visible and inside the RoI;
    a keypoint on the RoI's right/bottom edge goes to the last cell). Both ``[R, K]`` int64;
    unusable keypoints have index 0."""
    offset_x, offset_y = rois[:, 0][:, None], rois[:, 1][:, None]
    scale_x = (heatmap_size / (rois[:, 2] - rois[:, 0]))[:, None]
    scale_y = (heatmap_size / (rois[:, 3] - rois[:, 1]))[:, None]
    x, y = keypoints[..., 0], keypoints[..., 1]
    x_boundary = x == rois[:, 2][:, None]
    y_boundary = y == rois[:, 3][:, None]
    x = ((x - offset_x) * scale_x).floor().long()
    y = ((y - offset_y) * scale_y).floor().long()
    x[x_boundary] = heatmap_size - 1
    y[y_boundary] = heatmap_size - 1
    inside = (x >= 0) & (y >= 0) & (x < heatmap_size) & (y < heatmap_size)
    valid = (inside & (keypoints[..., 2] > 0)).long()
    return (y * heatmap_size + x) * valid, valid


def heatmaps_to_keypoints(maps, rois):
    """Keypoints ``[R, K, 3]`` (x, y, 1) and their scores ``[R, K]`` from heatmap logits
    ``[R, K, H, W]``: each map resized (bicubic) to its RoI's whole-pixel size, its maximum
    taken, and the cell's centre (``d + 0.5``, Heckbert's convention) mapped to the image."""
    offset_x, offset_y = rois[:, 0], rois[:, 1]
    widths = (rois[:, 2] - rois[:, 0]).clamp(min=1)
    heights = (rois[:, 3] - rois[:, 1]).clamp(min=1)
    widths_ceil, heights_ceil = widths.ceil(), heights.ceil()
    num_keypoints = maps.shape[1]
    xy_preds = minigrad.zeros((len(rois), 3, num_keypoints), dtype=minigrad.float32,
                              device=maps.device)  # fmt: skip
    end_scores = minigrad.zeros((len(rois), num_keypoints), dtype=minigrad.float32,
                                device=maps.device)  # fmt: skip
    keypoint_index = minigrad.arange(num_keypoints, device=maps.device)
    for i in range(len(rois)):
        roi_w, roi_h = int(widths_ceil[i].item()), int(heights_ceil[i].item())
        roi_map = F.interpolate(maps[i][:, None], size=(roi_h, roi_w), mode="bicubic",
                                align_corners=False)[:, 0]  # fmt: skip
        pos = roi_map.reshape(num_keypoints, -1).argmax(dim=1)
        x_int = pos % roi_w
        y_int = minigrad.div(pos - x_int, roi_w, rounding_mode="floor")
        xy_preds[i, 0, :] = (x_int.float() + 0.5) * (widths[i] / roi_w) + offset_x[i]
        xy_preds[i, 1, :] = (y_int.float() + 0.5) * (heights[i] / roi_h) + offset_y[i]
        xy_preds[i, 2, :] = 1
        end_scores[i, :] = roi_map[keypoint_index, y_int, x_int]
    return xy_preds.permute(0, 2, 1), end_scores


def keypointrcnn_loss(keypoint_logits, proposals, gt_keypoints, keypoint_matched_idxs):
    """Cross-entropy of each usable keypoint's ``H·W`` heatmap logits against the cell of its
    matched ground-truth keypoint (a softmax over the heatmap); 0 (with a gradient path)
    when no keypoint is usable."""
    n, k, h, w = keypoint_logits.shape
    if h != w:
        raise ValueError(
            "keypoint_logits height and width (last two elements of shape) should be equal. "
            f"Instead got H = {h} and W = {w}"
        )
    heatmaps, valid = [], []
    for props, gt_kp, midx in zip(proposals, gt_keypoints, keypoint_matched_idxs, strict=True):
        heatmap, usable = keypoints_to_heatmap(gt_kp[midx], props, h)
        heatmaps.append(heatmap.view(-1))
        valid.append(usable.view(-1))
    keypoint_targets = minigrad.cat(heatmaps, dim=0)
    valid = minigrad.where(minigrad.cat(valid, dim=0).to(minigrad.uint8))[0]
    if keypoint_targets.numel() == 0 or len(valid) == 0:
        return keypoint_logits.sum() * 0
    logits = keypoint_logits.view(n * k, h * w)
    return F.cross_entropy(logits[valid], keypoint_targets[valid])


def keypointrcnn_inference(x, boxes):
    """Per image the keypoints ``[K_i, num_keypoints, 3]`` and their scores."""
    kp_probs, kp_scores = [], []
    for maps, image_boxes in zip(x.split([len(b) for b in boxes], dim=0), boxes, strict=True):
        probs, scores = heatmaps_to_keypoints(maps, image_boxes)
        kp_probs.append(probs)
        kp_scores.append(scores)
    return kp_probs, kp_scores


class RoIHeads(nn.Module):
    """Box (and optionally mask) heads on the proposals. ``forward(features, proposals,
    image_shapes, targets)`` returns ``(detections, losses)``: in training the losses
    ``loss_classifier``, ``loss_box_reg`` (and ``loss_mask``) and no detections; in evaluation
    one dict per image with ``boxes``, ``labels``, ``scores`` (and ``masks``)."""

    def __init__(
        self,
        box_roi_pool,
        box_head,
        box_predictor,
        fg_iou_thresh,
        bg_iou_thresh,
        batch_size_per_image,
        positive_fraction,
        bbox_reg_weights,
        score_thresh,
        nms_thresh,
        detections_per_img,
        mask_roi_pool=None,
        mask_head=None,
        mask_predictor=None,
        keypoint_roi_pool=None,
        keypoint_head=None,
        keypoint_predictor=None,
    ) -> None:
        super().__init__()
        self.box_similarity = box_ops.box_iou
        self.proposal_matcher = det_utils.Matcher(
            fg_iou_thresh, bg_iou_thresh, allow_low_quality_matches=False
        )
        self.fg_bg_sampler = det_utils.BalancedPositiveNegativeSampler(
            batch_size_per_image, positive_fraction
        )
        self.box_coder = det_utils.BoxCoder(bbox_reg_weights or (10.0, 10.0, 5.0, 5.0))
        self.box_roi_pool = box_roi_pool
        self.box_head = box_head
        self.box_predictor = box_predictor
        self.score_thresh = score_thresh
        self.nms_thresh = nms_thresh
        self.detections_per_img = detections_per_img
        self.mask_roi_pool = mask_roi_pool
        self.mask_head = mask_head
        self.mask_predictor = mask_predictor
        self.keypoint_roi_pool = keypoint_roi_pool
        self.keypoint_head = keypoint_head
        self.keypoint_predictor = keypoint_predictor

    def has_mask(self) -> bool:
        return all(m is not None for m in (self.mask_roi_pool, self.mask_head, self.mask_predictor))

    def has_keypoint(self) -> bool:
        return all(
            m is not None
            for m in (self.keypoint_roi_pool, self.keypoint_head, self.keypoint_predictor)
        )

    def assign_targets_to_proposals(self, proposals, gt_boxes, gt_labels):
        """Per image: the matched ground-truth index (clamped) and the label (0 background,
        -1 ignored) of each proposal."""
        matched_idxs, labels = [], []
        for props, boxes, classes in zip(proposals, gt_boxes, gt_labels, strict=True):
            if boxes.numel() == 0:
                idxs = minigrad.zeros((props.shape[0],), dtype=minigrad.int64, device=props.device)
                label = minigrad.zeros((props.shape[0],), dtype=minigrad.int64, device=props.device)
            else:
                matched = self.proposal_matcher(box_ops.box_iou(boxes, props))
                idxs = matched.clamp(min=0)
                label = classes[idxs].to(minigrad.int64)
                label[matched == self.proposal_matcher.BELOW_LOW_THRESHOLD] = 0
                label[matched == self.proposal_matcher.BETWEEN_THRESHOLDS] = -1
            matched_idxs.append(idxs)
            labels.append(label)
        return matched_idxs, labels

    def subsample(self, labels):
        pos_masks, neg_masks = self.fg_bg_sampler(labels)
        return [minigrad.where(p | n)[0] for p, n in zip(pos_masks, neg_masks, strict=True)]

    def add_gt_proposals(self, proposals, gt_boxes):
        return [minigrad.cat((p, g)) for p, g in zip(proposals, gt_boxes, strict=True)]

    def check_targets(self, targets) -> None:
        if targets is None:
            raise ValueError("targets should not be None")
        if not all("boxes" in t for t in targets):
            raise ValueError("Every element of targets should have a boxes key")
        if not all("labels" in t for t in targets):
            raise ValueError("Every element of targets should have a labels key")
        if self.has_mask() and not all("masks" in t for t in targets):
            raise ValueError("Every element of targets should have a masks key")

    def select_training_samples(self, proposals, targets):
        """The sampled proposals (ground truth added), their matches, labels and regression
        targets."""
        self.check_targets(targets)
        dtype, device = proposals[0].dtype, proposals[0].device
        gt_boxes = [t["boxes"].to(dtype) for t in targets]
        gt_labels = [t["labels"] for t in targets]
        proposals = self.add_gt_proposals(proposals, gt_boxes)
        matched_idxs, labels = self.assign_targets_to_proposals(proposals, gt_boxes, gt_labels)
        sampled = self.subsample(labels)
        matched_gt_boxes = []
        for i, inds in enumerate(sampled):
            proposals[i], labels[i] = proposals[i][inds], labels[i][inds]
            matched_idxs[i] = matched_idxs[i][inds]
            boxes = gt_boxes[i]
            if boxes.numel() == 0:
                boxes = minigrad.zeros((1, 4), dtype=dtype, device=device)
            matched_gt_boxes.append(boxes[matched_idxs[i]])
        regression_targets = self.box_coder.encode(matched_gt_boxes, proposals)
        return proposals, matched_idxs, labels, regression_targets

    def postprocess_detections(self, class_logits, box_regression, proposals, image_shapes):
        """Per image: every (proposal, non-background class) pair above ``score_thresh``, not
        tiny, NMS-ed per class, the ``detections_per_img`` best."""
        num_classes = class_logits.shape[-1]
        counts = [p.shape[0] for p in proposals]
        pred_boxes = self.box_coder.decode(box_regression, proposals).split(counts, 0)
        pred_scores = F.softmax(class_logits, -1).split(counts, 0)
        all_boxes, all_scores, all_labels = [], [], []
        for boxes, scores, shape in zip(pred_boxes, pred_scores, image_shapes, strict=True):
            boxes = box_ops.clip_boxes_to_image(boxes, shape)
            labels = minigrad.arange(num_classes, device=class_logits.device)
            labels = labels.reshape(1, -1).expand_as(scores)
            boxes = boxes[:, 1:].reshape(-1, 4)
            scores, labels = scores[:, 1:].reshape(-1), labels[:, 1:].reshape(-1)
            inds = minigrad.where(scores > self.score_thresh)[0]
            boxes, scores, labels = boxes[inds], scores[inds], labels[inds]
            keep = box_ops.remove_small_boxes(boxes, min_size=1e-2)
            boxes, scores, labels = boxes[keep], scores[keep], labels[keep]
            keep = box_ops.batched_nms(boxes, scores, labels, self.nms_thresh)
            keep = keep[: self.detections_per_img]
            all_boxes.append(boxes[keep])
            all_scores.append(scores[keep])
            all_labels.append(labels[keep])
        return all_boxes, all_scores, all_labels

    def forward(self, features, proposals, image_shapes, targets=None):
        if targets is not None:
            for t in targets:
                if not t["boxes"].is_floating_point():
                    raise TypeError(
                        f"target boxes must of float type, instead got {t['boxes'].dtype}"
                    )
                if t["labels"].dtype != minigrad.int64:
                    raise TypeError(
                        f"target labels must of int64 type, instead got {t['labels'].dtype}"
                    )
                if self.has_keypoint() and t["keypoints"].dtype != minigrad.float32:
                    raise TypeError(
                        f"target keypoints must of float type, instead got {t['keypoints'].dtype}"
                    )
        labels = regression_targets = matched_idxs = None
        if self.training:
            proposals, matched_idxs, labels, regression_targets = self.select_training_samples(
                proposals, targets
            )
        box_features = self.box_head(self.box_roi_pool(features, proposals, image_shapes))
        class_logits, box_regression = self.box_predictor(box_features)
        result, losses = [], {}
        if self.training:
            loss_classifier, loss_box_reg = fastrcnn_loss(
                class_logits, box_regression, labels, regression_targets
            )
            losses = {"loss_classifier": loss_classifier, "loss_box_reg": loss_box_reg}
        else:
            boxes, scores, classes = self.postprocess_detections(
                class_logits, box_regression, proposals, image_shapes
            )
            result = [
                {"boxes": b, "labels": c, "scores": s}
                for b, c, s in zip(boxes, classes, scores, strict=True)
            ]
        if self.has_mask():
            losses.update(self._mask_forward(features, proposals, image_shapes, targets, result,
                                             labels, matched_idxs))  # fmt: skip
        if self.has_keypoint():
            losses.update(self._keypoint_forward(features, proposals, image_shapes, targets,
                                                 result, labels, matched_idxs))  # fmt: skip
        return result, losses

    def _keypoint_forward(self, features, proposals, image_shapes, targets, result, labels,
                          matched):  # fmt: skip
        """The keypoint branch: on the positive proposals in training (returns
        ``loss_keypoint``), on the detections in evaluation (adds ``keypoints`` and
        ``keypoints_scores`` to ``result``)."""
        if self.training:
            positives = [minigrad.where(label > 0)[0] for label in labels]
            kp_proposals = [p[pos] for p, pos in zip(proposals, positives, strict=True)]
            pos_matched = [m[pos] for m, pos in zip(matched, positives, strict=True)]
        else:
            kp_proposals = [r["boxes"] for r in result]
        kp_features = self.keypoint_head(self.keypoint_roi_pool(features, kp_proposals,
                                                                 image_shapes))  # fmt: skip
        kp_logits = self.keypoint_predictor(kp_features)
        if self.training:
            gt_keypoints = [t["keypoints"] for t in targets]
            loss = keypointrcnn_loss(kp_logits, kp_proposals, gt_keypoints, pos_matched)
            return {"loss_keypoint": loss}
        probs, scores = keypointrcnn_inference(kp_logits, kp_proposals)
        for prob, score, r in zip(probs, scores, result, strict=True):
            r["keypoints"] = prob
            r["keypoints_scores"] = score
        return {}

    def _mask_forward(self, features, proposals, image_shapes, targets, result, labels, matched):
        """The mask branch: on the positive proposals in training (returns ``loss_mask``),
        on the detections in evaluation (adds ``masks`` to ``result``)."""
        if self.training:
            positives = [minigrad.where(label > 0)[0] for label in labels]
            mask_proposals = [p[pos] for p, pos in zip(proposals, positives, strict=True)]
            pos_matched = [m[pos] for m, pos in zip(matched, positives, strict=True)]
        else:
            mask_proposals = [r["boxes"] for r in result]
        mask_features = self.mask_head(self.mask_roi_pool(features, mask_proposals, image_shapes))
        mask_logits = self.mask_predictor(mask_features)
        if self.training:
            gt_masks = [t["masks"] for t in targets]
            gt_labels = [t["labels"] for t in targets]
            loss = maskrcnn_loss(mask_logits, mask_proposals, gt_masks, gt_labels, pos_matched)
            return {"loss_mask": loss}
        probs = maskrcnn_inference(mask_logits, [r["labels"] for r in result])
        for prob, r in zip(probs, result, strict=True):
            r["masks"] = prob
        return {}


def expand_boxes(boxes, scale: float):
    """Boxes scaled by ``scale`` about their centres."""
    w_half = (boxes[:, 2] - boxes[:, 0]) * 0.5 * scale
    h_half = (boxes[:, 3] - boxes[:, 1]) * 0.5 * scale
    x_c, y_c = (boxes[:, 2] + boxes[:, 0]) * 0.5, (boxes[:, 3] + boxes[:, 1]) * 0.5
    return minigrad.stack((x_c - w_half, y_c - h_half, x_c + w_half, y_c + h_half), dim=1)


def expand_masks(mask, padding: int):
    """Masks padded by ``padding`` on each side, and the scale that grows their boxes to match."""
    size = mask.shape[-1]
    return F.pad(mask, (padding,) * 4), float(size + 2 * padding) / size


def paste_mask_in_image(mask, box, im_h: int, im_w: int):
    """One ``M × M`` mask resized (bilinear) to its integer box and placed in an
    ``im_h × im_w`` image of zeros (the box includes its end pixel)."""
    x0, y0, x1, y1 = (int(v) for v in box.tolist())
    w, h = max(x1 - x0 + 1, 1), max(y1 - y0 + 1, 1)
    mask = F.interpolate(mask.expand((1, 1, -1, -1)), size=(h, w), mode="bilinear",
                         align_corners=False)[0][0]  # fmt: skip
    left, right = max(x0, 0), min(x1 + 1, im_w)
    top, bottom = max(y0, 0), min(y1 + 1, im_h)
    im_mask = minigrad.zeros((im_h, im_w), dtype=mask.dtype, device=mask.device)
    if right > left and bottom > top:
        im_mask[top:bottom, left:right] = mask[top - y0 : bottom - y0, left - x0 : right - x0]
    return im_mask


def paste_masks_in_image(masks, boxes, img_shape, padding: int = 1):
    """Mask R-CNN's ``[K, 1, M, M]`` mask probabilities pasted into full images
    ``[K, 1, H, W]`` at their boxes (after padding by one pixel, as torchvision)."""
    masks, scale = expand_masks(masks, padding=padding)
    boxes = expand_boxes(boxes, scale).to(minigrad.int64)
    im_h, im_w = img_shape
    pasted = [paste_mask_in_image(m[0], b, im_h, im_w) for m, b in zip(masks, boxes, strict=True)]
    if not pasted:
        return masks.new_empty((0, 1, im_h, im_w))
    return minigrad.stack(pasted, dim=0)[:, None]
