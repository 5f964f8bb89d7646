"""A two-stage detector's second stage on a Feature Pyramid Network, with the pieces
torchvision provides written by hand as papers' reimplementations do: FPN lateral 1x1 convs,
a top-down path by ``F.interpolate(mode="nearest")`` and 3x3 output convs; RoIAlign by
``F.affine_grid`` + ``F.grid_sample`` (one affine theta per box, ``align_corners=False``,
2x2 sampling points averaged by ``avg_pool2d``); level assignment by
``floor(4 + log2(sqrt(area) / 224))`` as in the FPN paper (scaled to these images); box
encoding as (dx, dy, log dw, log dh) with smooth-L1 and cross-entropy losses; box IoU by
broadcasting and greedy NMS by ``argsort(descending=True)``; on 32x32 images with bright
squares and jittered proposals."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
S = 32


class FPN(nn.Module):
    def __init__(self, ch=16):
        super().__init__()
        self.c3 = nn.Sequential(
            nn.Conv2d(1, ch, 3, 2, 1), nn.ReLU(), nn.Conv2d(ch, ch, 3, 1, 1), nn.ReLU()
        )
        self.c4 = nn.Sequential(nn.Conv2d(ch, ch * 2, 3, 2, 1), nn.ReLU())
        self.lateral = nn.ModuleList([nn.Conv2d(ch, ch, 1), nn.Conv2d(ch * 2, ch, 1)])
        self.output = nn.ModuleList([nn.Conv2d(ch, ch, 3, padding=1) for _ in range(2)])

    def forward(self, x):
        c3 = self.c3(x)  # stride 2
        c4 = self.c4(c3)  # stride 4
        p4 = self.lateral[1](c4)
        p3 = self.lateral[0](c3) + F.interpolate(p4, size=c3.shape[-2:], mode="nearest")
        return [self.output[0](p3), self.output[1](p4)], [2, 4]


def roi_align(feature, boxes, batch_idx, stride, out=4):
    """boxes (K, 4) in image pixels (x1, y1, x2, y2) -> (K, C, out, out)."""
    n, c, h, w = feature.shape
    fb = boxes / stride
    cx, cy = (fb[:, 0] + fb[:, 2]) / 2, (fb[:, 1] + fb[:, 3]) / 2
    bw, bh = (fb[:, 2] - fb[:, 0]).clamp(min=1.0), (fb[:, 3] - fb[:, 1]).clamp(min=1.0)
    theta = torch.zeros(len(boxes), 2, 3)
    theta[:, 0, 0], theta[:, 0, 2] = bw / w, 2 * cx / w - 1
    theta[:, 1, 1], theta[:, 1, 2] = bh / h, 2 * cy / h - 1
    grid = F.affine_grid(theta, [len(boxes), c, out * 2, out * 2], align_corners=False)
    sampled = F.grid_sample(feature[batch_idx], grid, mode="bilinear", align_corners=False)
    return F.avg_pool2d(sampled, 2)  # 2x2 sampling points per bin


def box_iou(a, b):
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    lt = torch.max(a[:, None, :2], b[None, :, :2])
    rb = torch.min(a[:, None, 2:], b[None, :, 2:])
    inter = (rb - lt).clamp(min=0).prod(dim=2)
    return inter / (area_a[:, None] + area_b[None, :] - inter)


def nms(boxes, scores, iou_threshold):
    order = scores.argsort(descending=True)
    keep = []
    while order.numel() > 0:
        i = order[0]
        keep.append(i.item())
        if order.numel() == 1:
            break
        ious = box_iou(boxes[i].unsqueeze(0), boxes[order[1:]]).squeeze(0)
        order = order[1:][ious <= iou_threshold]
    return torch.tensor(keep, dtype=torch.long)


def encode(gt, proposals):
    pw, ph = proposals[:, 2] - proposals[:, 0], proposals[:, 3] - proposals[:, 1]
    px, py = proposals[:, 0] + 0.5 * pw, proposals[:, 1] + 0.5 * ph
    gw, gh = gt[:, 2] - gt[:, 0], gt[:, 3] - gt[:, 1]
    gx, gy = gt[:, 0] + 0.5 * gw, gt[:, 1] + 0.5 * gh
    return torch.stack([(gx - px) / pw, (gy - py) / ph, torch.log(gw / pw), torch.log(gh / ph)], 1)


def decode(deltas, proposals):
    pw, ph = proposals[:, 2] - proposals[:, 0], proposals[:, 3] - proposals[:, 1]
    cx, cy = (
        proposals[:, 0] + 0.5 * pw + deltas[:, 0] * pw,
        proposals[:, 1] + 0.5 * ph + deltas[:, 1] * ph,
    )
    w, h = pw * deltas[:, 2].exp(), ph * deltas[:, 3].exp()
    return torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 1)


def make_batch(n):
    images = torch.randn(n, 1, S, S) * 0.1
    gts = []
    for i in range(n):
        size = torch.randint(6, 14, (1,)).item()
        x, y = torch.randint(0, S - size, (2,)).tolist()
        images[i, 0, y : y + size, x : x + size] += 1.0
        gts.append(torch.tensor([x, y, x + size, y + size], dtype=torch.float32))
    gts = torch.stack(gts)
    jitter = torch.randn(n, 8, 4) * 3.0  # 8 proposals per image around the object ...
    proposals = (gts[:, None, :] + jitter).reshape(-1, 4)
    rand_xy = torch.rand(n * 4, 2) * (S - 8)  # ... and 4 random boxes
    proposals = torch.cat(
        [proposals, torch.cat([rand_xy, rand_xy + 4 + torch.rand(n * 4, 2) * 8], 1)]
    )
    proposals = torch.cat([proposals[:, :2].clamp(0, S - 2), proposals[:, 2:].clamp(2, S)], 1)
    proposals[:, 2:] = torch.max(proposals[:, 2:], proposals[:, :2] + 2)
    batch_idx = torch.cat(
        [torch.arange(n).repeat_interleave(8), torch.arange(n).repeat_interleave(4)]
    )
    return images, gts, proposals, batch_idx


def level_of(boxes):
    area = ((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])).sqrt()
    return torch.floor(4 + torch.log2(area / 224 * 20 + 1e-6)).clamp(3, 4).long() - 3


fpn = FPN()
head = nn.Sequential(nn.Flatten(), nn.Linear(16 * 16, 64), nn.ReLU())
cls_score, bbox_pred = nn.Linear(64, 2), nn.Linear(64, 4)
params = [*fpn.parameters(), *head.parameters(), *cls_score.parameters(), *bbox_pred.parameters()]
optimizer = torch.optim.SGD(params, lr=0.05, momentum=0.9, weight_decay=1e-4)


def run_head(images, proposals, batch_idx):
    feats, strides = fpn(images)
    levels = level_of(proposals)
    pooled = torch.zeros(len(proposals), 16, 4, 4)
    for lvl, (feat, stride) in enumerate(zip(feats, strides)):
        idx = torch.nonzero(levels == lvl).squeeze(1)
        if idx.numel():
            pooled[idx] = roi_align(feat, proposals[idx], batch_idx[idx], stride)
    h = head(pooled)
    return cls_score(h), bbox_pred(h), levels


cls_losses, box_losses = [], []
for step in range(30):
    images, gts, proposals, batch_idx = make_batch(8)
    matched = gts[batch_idx]
    iou = box_iou(proposals, gts).gather(1, batch_idx[:, None]).squeeze(1)
    labels = (iou >= 0.5).long()
    logits, deltas, _ = run_head(images, proposals, batch_idx)
    loss_cls = F.cross_entropy(logits, labels)
    pos = labels == 1
    targets = encode(matched[pos], proposals[pos]) / torch.tensor([0.1, 0.1, 0.2, 0.2])
    loss_box = F.smooth_l1_loss(deltas[pos], targets, beta=1 / 9, reduction="sum") / labels.numel()
    optimizer.zero_grad()
    (loss_cls + loss_box).backward()
    optimizer.step()
    cls_losses.append(loss_cls.item())
    box_losses.append(loss_box.item())

with torch.no_grad():
    images, gts, proposals, batch_idx = make_batch(4)
    logits, deltas, levels = run_head(images, proposals, batch_idx)
    scores = logits.softmax(-1)[:, 1]
    boxes = decode(deltas * torch.tensor([0.1, 0.1, 0.2, 0.2]), proposals).clamp(0, S)
    kept, best_ious = [], []
    for i in range(4):
        mine = torch.nonzero(batch_idx == i).squeeze(1)
        keep = mine[nms(boxes[mine], scores[mine], 0.5)]
        keep = keep[scores[keep] > 0.5]
        kept.append(keep.tolist())
        best_ious.append(
            box_iou(boxes[keep[:1]], gts[i : i + 1]).max().item() if len(keep) else 0.0
        )
    proposal_ious = [
        box_iou(proposals[batch_idx == i], gts[i : i + 1]).max().item() for i in range(4)
    ]
level_counts = torch.bincount(levels, minlength=2).tolist()
