"""Box utilities and losses of one-stage detectors written as torchvision writes them, without
torchvision: ``box_area``, pairwise ``box_iou`` with broadcasting and ``clamp(min=0)``,
``generalized_box_iou_loss``, ``sigmoid_focal_loss`` (alpha/gamma, ``reduction``), a box coder
encoding and decoding deltas with weights and ``clamp(max=log(1000/16))``, anchor matching by IoU
with ``max(dim=0)`` and low-quality matches kept through ``torch.where(... == max)``, and a greedy
NMS by ``argsort`` and a while loop; a tiny box regressor and classifier trained on synthetic
scenes."""

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy, randn

rng = np.random.default_rng(181)


def box_area(boxes):
    return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])


def box_iou(boxes1, boxes2):
    area1, area2 = box_area(boxes1), box_area(boxes2)
    lt = torch.max(boxes1[:, None, :2], boxes2[:, :2])
    rb = torch.min(boxes1[:, None, 2:], boxes2[:, 2:])
    wh = (rb - lt).clamp(min=0)
    inter = wh[:, :, 0] * wh[:, :, 1]
    return inter / (area1[:, None] + area2 - inter)


def generalized_box_iou_loss(boxes1, boxes2, reduction="none", eps=1e-7):
    x1, y1, x2, y2 = boxes1.unbind(dim=-1)
    x1g, y1g, x2g, y2g = boxes2.unbind(dim=-1)
    xkis1, ykis1 = torch.max(x1, x1g), torch.max(y1, y1g)
    xkis2, ykis2 = torch.min(x2, x2g), torch.min(y2, y2g)
    intsctk = torch.zeros_like(x1)
    mask = (ykis2 > ykis1) & (xkis2 > xkis1)
    intsctk[mask] = (xkis2[mask] - xkis1[mask]) * (ykis2[mask] - ykis1[mask])
    unionk = (x2 - x1) * (y2 - y1) + (x2g - x1g) * (y2g - y1g) - intsctk
    iouk = intsctk / (unionk + eps)
    xc1, yc1 = torch.min(x1, x1g), torch.min(y1, y1g)
    xc2, yc2 = torch.max(x2, x2g), torch.max(y2, y2g)
    area_c = (xc2 - xc1) * (yc2 - yc1)
    loss = 1 - (iouk - ((area_c - unionk) / (area_c + eps)))
    return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss


def sigmoid_focal_loss(inputs, targets, alpha=0.25, gamma=2.0, reduction="none"):
    p = torch.sigmoid(inputs)
    ce_loss = F.binary_cross_entropy_with_logits(inputs, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce_loss * ((1 - p_t) ** gamma)
    if alpha >= 0:
        alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
        loss = alpha_t * loss
    return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss


class BoxCoder:
    def __init__(self, weights=(1.0, 1.0, 1.0, 1.0), bbox_xform_clip=math.log(1000.0 / 16)):
        self.weights, self.bbox_xform_clip = weights, bbox_xform_clip

    def encode(self, reference_boxes, proposals):
        wx, wy, ww, wh = self.weights
        pw, ph = proposals[:, 2] - proposals[:, 0], proposals[:, 3] - proposals[:, 1]
        px, py = proposals[:, 0] + 0.5 * pw, proposals[:, 1] + 0.5 * ph
        gw, gh = (
            reference_boxes[:, 2] - reference_boxes[:, 0],
            reference_boxes[:, 3] - reference_boxes[:, 1],
        )
        gx, gy = reference_boxes[:, 0] + 0.5 * gw, reference_boxes[:, 1] + 0.5 * gh
        return torch.stack(
            (
                wx * (gx - px) / pw,
                wy * (gy - py) / ph,
                ww * torch.log(gw / pw),
                wh * torch.log(gh / ph),
            ),
            dim=1,
        )

    def decode(self, rel_codes, boxes):
        wx, wy, ww, wh = self.weights
        widths, heights = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
        ctr_x, ctr_y = boxes[:, 0] + 0.5 * widths, boxes[:, 1] + 0.5 * heights
        dx, dy = rel_codes[:, 0::4] / wx, rel_codes[:, 1::4] / wy
        dw = torch.clamp(rel_codes[:, 2::4] / ww, max=self.bbox_xform_clip)
        dh = torch.clamp(rel_codes[:, 3::4] / wh, max=self.bbox_xform_clip)
        pred_ctr_x, pred_ctr_y = (
            dx * widths[:, None] + ctr_x[:, None],
            dy * heights[:, None] + ctr_y[:, None],
        )
        pred_w, pred_h = torch.exp(dw) * widths[:, None], torch.exp(dh) * heights[:, None]
        c_to_c_h = torch.tensor(0.5, dtype=pred_ctr_y.dtype) * pred_h
        c_to_c_w = torch.tensor(0.5, dtype=pred_ctr_x.dtype) * pred_w
        return torch.stack(
            (
                pred_ctr_x - c_to_c_w,
                pred_ctr_y - c_to_c_h,
                pred_ctr_x + c_to_c_w,
                pred_ctr_y + c_to_c_h,
            ),
            dim=2,
        ).flatten(1)


def match(iou, high=0.5, low=0.4):
    matched_vals, matches = iou.max(dim=0)
    all_matches = matches.clone()
    matches[matched_vals < low] = -1
    matches[(matched_vals >= low) & (matched_vals < high)] = -2
    highest_quality, _ = iou.max(dim=1)
    gt_pred_pairs = torch.where(iou == highest_quality[:, None])
    pred_inds_to_update = gt_pred_pairs[1]
    matches[pred_inds_to_update] = all_matches[pred_inds_to_update]
    return matches


def nms(boxes, scores, iou_threshold):
    order = scores.argsort(descending=True)
    keep = []
    while order.numel() > 0:
        i = order[0]
        keep.append(int(i))
        if order.numel() == 1:
            break
        ious = box_iou(boxes[i].unsqueeze(0), boxes[order[1:]])[0]
        order = order[1:][ious <= iou_threshold]
    return torch.tensor(keep, dtype=torch.long)


grid = torch.arange(0, 32, 8.0)
cy, cx = torch.meshgrid(grid + 4, grid + 4, indexing="ij")
anchors = torch.cat(
    [torch.stack([cx - s, cy - s, cx + s, cy + s], -1).reshape(-1, 4) for s in (4.0, 7.0)]
)
coder = BoxCoder(weights=(10.0, 10.0, 5.0, 5.0))


def scene():
    n = int(rng.integers(1, 4))
    centre = torch.from_numpy(rng.uniform(6, 26, (n, 2)).astype(np.float32))
    half = torch.from_numpy(rng.uniform(3, 8, (n, 2)).astype(np.float32))
    return torch.cat([centre - half, centre + half], 1)


head = init_from_numpy(nn.Sequential(nn.Linear(4 + 4, 32), nn.ReLU(), nn.Linear(32, 5)), seed=181)
optimizer = torch.optim.SGD(head.parameters(), lr=0.05, momentum=0.9)
losses = []
for step in range(40):
    gt = scene()
    iou = box_iou(gt, anchors)
    matches = match(iou)
    positive = matches >= 0
    labels = positive.float()
    features = torch.cat(
        [
            anchors / 32,
            (iou.max(0).values.unsqueeze(1) + 0.1 * randn(rng, len(anchors), 1)).expand(-1, 4),
        ],
        1,
    )
    out = head(features)
    valid = matches != -2
    cls_loss = sigmoid_focal_loss(
        out[valid, 0], labels[valid], reduction="sum"
    ) / positive.sum().clamp(min=1)
    target_deltas = coder.encode(gt[matches[positive]], anchors[positive])
    reg_loss = F.smooth_l1_loss(
        out[positive, 1:], target_deltas, beta=1 / 9, reduction="sum"
    ) / positive.sum().clamp(min=1)
    pred_boxes = coder.decode(out[positive, 1:], anchors[positive])
    giou = generalized_box_iou_loss(pred_boxes, gt[matches[positive]], reduction="mean")
    loss = cls_loss + reg_loss + giou
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append([cls_loss.item(), reg_loss.item(), giou.item()])

with torch.no_grad():
    gt = scene()
    iou = box_iou(gt, anchors)
    features = torch.cat([anchors / 32, iou.max(0).values.unsqueeze(1).expand(-1, 4)], 1)
    out = head(features)
    boxes = coder.decode(out[:, 1:], anchors)
    scores = out[:, 0].sigmoid()
    keep = nms(boxes, scores, 0.5)
kept = keep[:5].tolist()
detected_iou = box_iou(boxes[keep[: len(gt)]], gt).max(1).values.tolist()
roundtrip = (
    (coder.decode(coder.encode(gt, anchors[: len(gt)]), anchors[: len(gt)]) - gt).abs().max().item()
)
focal_values = sigmoid_focal_loss(
    torch.tensor([-2.0, 0.0, 3.0]), torch.tensor([0.0, 1.0, 1.0])
).tolist()
print(f"losses {losses[0]} -> {losses[-1]}; kept {kept}")
