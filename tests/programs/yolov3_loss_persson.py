"""Aladdin Persson's YOLOv3 from scratch, the loss and target pieces: ``iou_width_height``
between a box and the anchors, the dataset's target builder (three scales, anchors sorted by
``argsort(descending=True)``, one responsible anchor per scale, ``ignore_iou_thresh`` marking
-1), ``scaled_anchors`` from ``torch.tensor(ANCHORS) * torch.tensor(S).unsqueeze(1)
.unsqueeze(1).repeat(1, 3, 2)``, and ``YoloLoss``: ``BCEWithLogitsLoss`` no-object and object
terms (the object target the detached IoU of ``sigmoid(xy)``/``exp(wh) * anchors`` boxes),
``MSELoss`` on ``sigmoid`` xy and ``log(1e-16 + w / anchor)`` wh, ``CrossEntropyLoss`` on the
class logits; a tiny head trained on it with Adam."""

import torch
import torch.nn as nn

ANCHORS = [
    [(0.28, 0.22), (0.38, 0.48), (0.9, 0.78)],
    [(0.07, 0.15), (0.15, 0.11), (0.14, 0.29)],
    [(0.02, 0.03), (0.04, 0.07), (0.08, 0.06)],
]
S, C, IMAGE_SIZE = [2, 4, 8], 3, 32


def iou_width_height(boxes1, boxes2):
    intersection = torch.min(boxes1[..., 0], boxes2[..., 0]) * torch.min(
        boxes1[..., 1], boxes2[..., 1]
    )
    union = boxes1[..., 0] * boxes1[..., 1] + boxes2[..., 0] * boxes2[..., 1] - intersection
    return intersection / union


def intersection_over_union(boxes_preds, boxes_labels):
    box1_x1 = boxes_preds[..., 0:1] - boxes_preds[..., 2:3] / 2
    box1_y1 = boxes_preds[..., 1:2] - boxes_preds[..., 3:4] / 2
    box1_x2 = boxes_preds[..., 0:1] + boxes_preds[..., 2:3] / 2
    box1_y2 = boxes_preds[..., 1:2] + boxes_preds[..., 3:4] / 2
    box2_x1 = boxes_labels[..., 0:1] - boxes_labels[..., 2:3] / 2
    box2_y1 = boxes_labels[..., 1:2] - boxes_labels[..., 3:4] / 2
    box2_x2 = boxes_labels[..., 0:1] + boxes_labels[..., 2:3] / 2
    box2_y2 = boxes_labels[..., 1:2] + boxes_labels[..., 3:4] / 2
    x1, y1 = torch.max(box1_x1, box2_x1), torch.max(box1_y1, box2_y1)
    x2, y2 = torch.min(box1_x2, box2_x2), torch.min(box1_y2, box2_y2)
    intersection = (x2 - x1).clamp(0) * (y2 - y1).clamp(0)
    box1_area = abs((box1_x2 - box1_x1) * (box1_y2 - box1_y1))
    box2_area = abs((box2_x2 - box2_x1) * (box2_y2 - box2_y1))
    return intersection / (box1_area + box2_area - intersection + 1e-6)


def build_targets(bboxes, anchors=ANCHORS, ignore_iou_thresh=0.5):
    anchors = torch.tensor(anchors[0] + anchors[1] + anchors[2])
    num_anchors_per_scale = anchors.shape[0] // 3
    targets = [torch.zeros((num_anchors_per_scale, s, s, 6)) for s in S]
    for box in bboxes:
        iou_anchors = iou_width_height(torch.tensor(box[2:4]), anchors)
        anchor_indices = iou_anchors.argsort(descending=True, dim=0)
        x, y, width, height, class_label = box
        has_anchor = [False] * 3
        for anchor_idx in anchor_indices:
            scale_idx = torch.div(anchor_idx, num_anchors_per_scale, rounding_mode="floor")
            anchor_on_scale = anchor_idx % num_anchors_per_scale
            s = S[scale_idx]
            i, j = int(s * y), int(s * x)
            anchor_taken = targets[scale_idx][anchor_on_scale, i, j, 0]
            if not anchor_taken and not has_anchor[scale_idx]:
                targets[scale_idx][anchor_on_scale, i, j, 0] = 1
                x_cell, y_cell = s * x - j, s * y - i
                box_coordinates = torch.tensor([x_cell, y_cell, width * s, height * s])
                targets[scale_idx][anchor_on_scale, i, j, 1:5] = box_coordinates
                targets[scale_idx][anchor_on_scale, i, j, 5] = int(class_label)
                has_anchor[scale_idx] = True
            elif not anchor_taken and iou_anchors[anchor_idx] > ignore_iou_thresh:
                targets[scale_idx][anchor_on_scale, i, j, 0] = -1
    return tuple(targets)


class YoloLoss(nn.Module):
    def __init__(self):
        super().__init__()
        self.mse, self.bce = nn.MSELoss(), nn.BCEWithLogitsLoss()
        self.entropy, self.sigmoid = nn.CrossEntropyLoss(), nn.Sigmoid()
        self.lambda_class, self.lambda_noobj, self.lambda_obj, self.lambda_box = 1, 10, 1, 10

    def forward(self, predictions, target, anchors):
        obj, noobj = target[..., 0] == 1, target[..., 0] == 0
        no_object_loss = self.bce((predictions[..., 0:1][noobj]), (target[..., 0:1][noobj]))
        anchors = anchors.reshape(1, 3, 1, 1, 2)
        box_preds = torch.cat(
            [self.sigmoid(predictions[..., 1:3]), torch.exp(predictions[..., 3:5]) * anchors],
            dim=-1,
        )
        ious = intersection_over_union(box_preds[obj], target[..., 1:5][obj]).detach()
        object_loss = self.mse(
            self.sigmoid(predictions[..., 0:1][obj]), ious * target[..., 0:1][obj]
        )
        predictions[..., 1:3] = self.sigmoid(predictions[..., 1:3])
        target[..., 3:5] = torch.log((1e-16 + target[..., 3:5] / anchors))
        box_loss = self.mse(predictions[..., 1:5][obj], target[..., 1:5][obj])
        class_loss = self.entropy((predictions[..., 5:][obj]), (target[..., 5][obj].long()))
        return (
            self.lambda_box * box_loss
            + self.lambda_obj * object_loss
            + self.lambda_noobj * no_object_loss
            + self.lambda_class * class_loss
        )


class TinyHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1), nn.LeakyReLU(0.1))  # 32 -> 16
        self.preds = nn.ModuleList(nn.Conv2d(8, 3 * (C + 5), 1) for _ in S)

    def forward(self, x):
        x = self.stem(x)
        outputs = []
        for s, pred in zip(S, self.preds):
            out = pred(nn.functional.adaptive_avg_pool2d(x, s))
            outputs.append(out.reshape(x.shape[0], 3, C + 5, s, s).permute(0, 1, 3, 4, 2))
        return outputs


torch.manual_seed(0)
images = torch.rand(4, 3, IMAGE_SIZE, IMAGE_SIZE)
labels = [[[0.3, 0.4, 0.25, 0.2, 1], [0.7, 0.6, 0.05, 0.08, 2]], [[0.5, 0.5, 0.8, 0.7, 0]]] * 2
targets = [build_targets(b) for b in labels]
y0, y1, y2 = (torch.stack([t[k] for t in targets]) for k in range(3))
target_counts = [
    (int((y == 1).sum()), int((y == -1).sum())) for y in (y0[..., 0], y1[..., 0], y2[..., 0])
]
scaled_anchors = torch.tensor(ANCHORS) * torch.tensor(S).unsqueeze(1).unsqueeze(1).repeat(1, 3, 2)

model, loss_fn = TinyHead(), YoloLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
losses = []
for epoch in range(8):
    out = model(images)
    loss = sum(loss_fn(out[k], y.clone(), scaled_anchors[k]) for k, y in enumerate((y0, y1, y2)))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
    print(f"epoch {epoch}: loss {loss.item():.4f}")
out_shapes = [tuple(o.shape) for o in out]
