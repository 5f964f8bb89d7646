"""DETR's set prediction loss (Carion et al. 2020) as facebookresearch/detr's matcher.py,
detr.py and box_ops.py write it, without scipy: box conversions ``box_cxcywh_to_xyxy`` by
``unbind``/``stack``, ``generalized_box_iou`` with broadcasting, a matching cost of
-prob[class] + L1 (``torch.cdist(p=1)``) - GIoU computed for the whole batch and ``split`` per
image, the assignment found greedily (the cheapest remaining pair, masked with ``inf``)
and checked against brute force over permutations on small cases, ``_get_src_permutation_idx``
with ``torch.full_like``/``torch.cat``, classification with a down-weighted no-object class
(``empty_weight`` passed to ``F.cross_entropy``), L1 and GIoU box losses normalized by the
number of boxes, auxiliary losses from every decoder layer; a tiny DETR (learned object
queries, ``nn.TransformerDecoder`` over a CNN feature map) trained on synthetic scenes."""

import itertools

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
NUM_CLASSES, NUM_QUERIES = 3, 5


def box_cxcywh_to_xyxy(x):
    x_c, y_c, w, h = x.unbind(-1)
    return torch.stack([(x_c - 0.5 * w), (y_c - 0.5 * h), (x_c + 0.5 * w), (y_c + 0.5 * h)], dim=-1)


def box_area(boxes):
    return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])


def box_iou(boxes1, boxes2):
    area1, area2 = box_area(boxes1), box_area(boxes2)
    lt = torch.max(boxes1[:, None, :2], boxes2[:, :2])
    rb = torch.min(boxes1[:, None, 2:], boxes2[:, 2:])
    wh = (rb - lt).clamp(min=0)
    inter = wh[:, :, 0] * wh[:, :, 1]
    union = area1[:, None] + area2 - inter
    return inter / union, union


def generalized_box_iou(boxes1, boxes2):
    iou, union = box_iou(boxes1, boxes2)
    lt = torch.min(boxes1[:, None, :2], boxes2[:, :2])
    rb = torch.max(boxes1[:, None, 2:], boxes2[:, 2:])
    wh = (rb - lt).clamp(min=0)
    area = wh[:, :, 0] * wh[:, :, 1]
    return iou - (area - union) / area


def greedy_assignment(cost):
    """Rows are queries, columns targets: repeatedly take the cheapest remaining pair."""
    cost = cost.clone()
    rows, cols = [], []
    for _ in range(min(cost.shape)):
        flat = torch.argmin(cost)
        i, j = flat // cost.shape[1], flat % cost.shape[1]
        rows.append(i.item())
        cols.append(j.item())
        cost[i, :] = float("inf")
        cost[:, j] = float("inf")
    order = sorted(range(len(rows)), key=lambda k: rows[k])
    return (
        torch.as_tensor([rows[k] for k in order], dtype=torch.int64),
        torch.as_tensor([cols[k] for k in order], dtype=torch.int64),
    )


class GreedyMatcher(nn.Module):
    def __init__(self, cost_class=1.0, cost_bbox=5.0, cost_giou=2.0):
        super().__init__()
        self.cost_class, self.cost_bbox, self.cost_giou = cost_class, cost_bbox, cost_giou

    @torch.no_grad()
    def forward(self, outputs, targets):
        bs, num_queries = outputs["pred_logits"].shape[:2]
        out_prob = outputs["pred_logits"].flatten(0, 1).softmax(-1)
        out_bbox = outputs["pred_boxes"].flatten(0, 1)
        tgt_ids = torch.cat([v["labels"] for v in targets])
        tgt_bbox = torch.cat([v["boxes"] for v in targets])
        cost_class = -out_prob[:, tgt_ids]
        cost_bbox = torch.cdist(out_bbox, tgt_bbox, p=1)
        cost_giou = -generalized_box_iou(box_cxcywh_to_xyxy(out_bbox), box_cxcywh_to_xyxy(tgt_bbox))
        C = self.cost_bbox * cost_bbox + self.cost_class * cost_class + self.cost_giou * cost_giou
        C = C.view(bs, num_queries, -1)
        sizes = [len(v["boxes"]) for v in targets]
        return [greedy_assignment(c[i]) for i, c in enumerate(C.split(sizes, -1))]


class SetCriterion(nn.Module):
    def __init__(self, matcher, eos_coef=0.1):
        super().__init__()
        self.matcher = matcher
        empty_weight = torch.ones(NUM_CLASSES + 1)
        empty_weight[-1] = eos_coef
        self.register_buffer("empty_weight", empty_weight)

    def _get_src_permutation_idx(self, indices):
        batch_idx = torch.cat([torch.full_like(src, i) for i, (src, _) in enumerate(indices)])
        src_idx = torch.cat([src for (src, _) in indices])
        return batch_idx, src_idx

    def single(self, outputs, targets):
        indices = self.matcher(outputs, targets)
        num_boxes = max(sum(len(t["labels"]) for t in targets), 1)
        idx = self._get_src_permutation_idx(indices)
        logits = outputs["pred_logits"]
        target_classes_o = torch.cat([t["labels"][J] for t, (_, J) in zip(targets, indices)])
        target_classes = torch.full(logits.shape[:2], NUM_CLASSES, dtype=torch.int64)
        target_classes[idx] = target_classes_o
        loss_ce = F.cross_entropy(logits.transpose(1, 2), target_classes, self.empty_weight)
        src_boxes = outputs["pred_boxes"][idx]
        target_boxes = torch.cat([t["boxes"][i] for t, (_, i) in zip(targets, indices)], dim=0)
        loss_bbox = F.l1_loss(src_boxes, target_boxes, reduction="none").sum() / num_boxes
        giou = torch.diag(
            generalized_box_iou(box_cxcywh_to_xyxy(src_boxes), box_cxcywh_to_xyxy(target_boxes))
        )
        loss_giou = (1 - giou).sum() / num_boxes
        return {"loss_ce": loss_ce, "loss_bbox": loss_bbox, "loss_giou": loss_giou}

    def forward(self, outputs, targets):
        losses = self.single(outputs, targets)
        for i, aux in enumerate(outputs["aux_outputs"]):
            losses.update({f"{k}_{i}": v for k, v in self.single(aux, targets).items()})
        return losses


class DETR(nn.Module):
    def __init__(self, hidden=32, layers=2):
        super().__init__()
        self.backbone = nn.Sequential(
            nn.Conv2d(3, 16, 3, 2, 1), nn.ReLU(), nn.Conv2d(16, hidden, 3, 2, 1), nn.ReLU()
        )
        self.row_embed, self.col_embed = (
            nn.Parameter(torch.rand(4, hidden // 2)),
            nn.Parameter(torch.rand(4, hidden // 2)),
        )
        layer = nn.TransformerDecoderLayer(hidden, 4, 64, dropout=0.0, batch_first=True)
        self.decoder = nn.TransformerDecoder(layer, layers)
        self.norm = nn.LayerNorm(hidden)
        self.query_embed = nn.Embedding(NUM_QUERIES, hidden)
        self.class_embed = nn.Linear(hidden, NUM_CLASSES + 1)
        self.bbox_embed = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 4))

    def forward(self, images):
        feat = self.backbone(images)
        b, c, h, w = feat.shape
        pos = torch.cat(
            [
                self.col_embed[:w].unsqueeze(0).repeat(h, 1, 1),
                self.row_embed[:h].unsqueeze(1).repeat(1, w, 1),
            ],
            dim=-1,
        )
        memory = feat.flatten(2).permute(0, 2, 1) + pos.flatten(0, 1).unsqueeze(0)
        x = self.query_embed.weight.unsqueeze(0).repeat(b, 1, 1)
        hs = []
        for layer in self.decoder.layers:
            x = layer(x, memory)
            hs.append(self.norm(x))
        outs = [
            {"pred_logits": self.class_embed(h), "pred_boxes": self.bbox_embed(h).sigmoid()}
            for h in hs
        ]
        return {**outs[-1], "aux_outputs": outs[:-1]}


def scenes(n):
    images, targets = torch.zeros(n, 3, 16, 16), []
    for i in range(n):
        k = torch.randint(1, 3, (1,)).item()
        labels = torch.randint(0, NUM_CLASSES, (k,))
        centers = torch.rand(k, 2) * 0.5 + 0.25
        sizes = torch.rand(k, 2) * 0.2 + 0.2
        for lab, (cx, cy), (w, h) in zip(labels.tolist(), centers.tolist(), sizes.tolist()):
            x0, x1 = int((cx - w / 2) * 16), int((cx + w / 2) * 16)
            y0, y1 = int((cy - h / 2) * 16), int((cy + h / 2) * 16)
            images[i, lab, y0:y1, x0:x1] = 1.0
        targets.append({"labels": labels, "boxes": torch.cat([centers, sizes], dim=1)})
    return images, targets


# the greedy assignment equals the optimum where one pair dominates each row
cost = torch.rand(4, 3) + torch.eye(4, 3) * -2.0
rows, cols = greedy_assignment(cost)
best = min(itertools.permutations(range(4), 3), key=lambda p: sum(cost[p[j], j] for j in range(3)))
greedy_is_optimal = sorted(zip(cols.tolist(), rows.tolist())) == list(enumerate(best))
b1 = box_cxcywh_to_xyxy(torch.rand(4, 4) * 0.5 + 0.25)
b2 = box_cxcywh_to_xyxy(torch.rand(3, 4) * 0.5 + 0.25)
giou_matrix = generalized_box_iou(b1, b2).tolist()

model = DETR()
criterion = SetCriterion(GreedyMatcher())
weight_dict = {"loss_ce": 1.0, "loss_bbox": 5.0, "loss_giou": 2.0}
weight_dict.update({f"{k}_0": v for k, v in list(weight_dict.items())})
param_dicts = [
    {"params": [p for n, p in model.named_parameters() if "backbone" not in n]},
    {"params": [p for n, p in model.named_parameters() if "backbone" in n], "lr": 1e-3},
]
optimizer = torch.optim.AdamW(param_dicts, lr=2e-3, weight_decay=1e-4)
history = {"total": [], "ce": [], "bbox": [], "giou": []}
matches = []
for step in range(16):
    images, targets = scenes(8)
    outputs = model(images)
    loss_dict = criterion(outputs, targets)
    losses = sum(loss_dict[k] * weight_dict[k] for k in loss_dict.keys() if k in weight_dict)
    optimizer.zero_grad()
    losses.backward()
    grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 0.1)
    if step == 0:
        query_grad = model.query_embed.weight.grad[0, :4].tolist()
        first_grad_norm = grad_norm.item()
    optimizer.step()
    history["total"].append(losses.item())
    for key in ("ce", "bbox", "giou"):
        history[key].append(loss_dict[f"loss_{key}"].item())
    if step % 5 == 0:
        matches.append([m[0].tolist() for m in criterion.matcher(outputs, targets)])
print(f"loss {history['total'][0]:.3f} -> {history['total'][-1]:.3f}, optimal {greedy_is_optimal}")
