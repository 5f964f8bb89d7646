"""A YOLOv1-style detector loss as Aladdin Persson's / the popular from-scratch ports write it:
intersection_over_union for midpoint and corner boxes (torch.max/torch.min of corners,
clamp(0)), a target grid (S x S cells, class one-hot, objectness, box relative to its cell),
the loss picking the responsible box of two predictions by IoU (torch.cat + max over a new
dim), exists_box masks, sqrt of widths with sign() * sqrt(abs() + eps), the coordinate /
object / no-object / class terms with lambda_coord and lambda_noobj; a tiny CNN trained on
synthetic one-object images, then cellboxes_to_boxes and non-max suppression on its
predictions and mean IoU against the ground truth."""

import torch
import torch.nn as nn

torch.manual_seed(0)
S, B, C, IMG = 4, 2, 3, 32


def intersection_over_union(boxes_preds, boxes_labels, box_format="midpoint"):
    if box_format == "midpoint":
        box1_x1 = boxes_preds[..., 0:1] - boxes_preds[..., 2:3] / 2
        box1_y1 = boxes_preds[..., 1:2] - boxes_preds[..., 3:4] / 2
        box1_x2 = boxes_preds[..., 0:1] + boxes_preds[..., 2:3] / 2
        box1_y2 = boxes_preds[..., 1:2] + boxes_preds[..., 3:4] / 2
        box2_x1 = boxes_labels[..., 0:1] - boxes_labels[..., 2:3] / 2
        box2_y1 = boxes_labels[..., 1:2] - boxes_labels[..., 3:4] / 2
        box2_x2 = boxes_labels[..., 0:1] + boxes_labels[..., 2:3] / 2
        box2_y2 = boxes_labels[..., 1:2] + boxes_labels[..., 3:4] / 2
    elif box_format == "corners":
        box1_x1, box1_y1 = boxes_preds[..., 0:1], boxes_preds[..., 1:2]
        box1_x2, box1_y2 = boxes_preds[..., 2:3], boxes_preds[..., 3:4]
        box2_x1, box2_y1 = boxes_labels[..., 0:1], boxes_labels[..., 1:2]
        box2_x2, box2_y2 = boxes_labels[..., 2:3], boxes_labels[..., 3:4]
    x1 = torch.max(box1_x1, box2_x1)
    y1 = torch.max(box1_y1, box2_y1)
    x2 = torch.min(box1_x2, box2_x2)
    y2 = torch.min(box1_y2, box2_y2)
    # .clamp(0) is for the case when they do not intersect
    intersection = (x2 - x1).clamp(0) * (y2 - y1).clamp(0)
    box1_area = abs((box1_x2 - box1_x1) * (box1_y2 - box1_y1))
    box2_area = abs((box2_x2 - box2_x1) * (box2_y2 - box2_y1))
    return intersection / (box1_area + box2_area - intersection + 1e-6)


def non_max_suppression(bboxes, iou_threshold, threshold, box_format="corners"):
    assert type(bboxes) == list  # noqa: E721
    bboxes = [box for box in bboxes if box[1] > threshold]
    bboxes = sorted(bboxes, key=lambda x: x[1], reverse=True)
    bboxes_after_nms = []
    while bboxes:
        chosen_box = bboxes.pop(0)
        bboxes = [
            box
            for box in bboxes
            if box[0] != chosen_box[0]
            or intersection_over_union(
                torch.tensor(chosen_box[2:]), torch.tensor(box[2:]), box_format=box_format
            )
            < iou_threshold
        ]
        bboxes_after_nms.append(chosen_box)
    return bboxes_after_nms


class YoloLoss(nn.Module):
    def __init__(self, S=S, B=B, C=C):
        super(YoloLoss, self).__init__()
        self.mse = nn.MSELoss(reduction="sum")
        self.S, self.B, self.C = S, B, C
        self.lambda_noobj = 0.5
        self.lambda_coord = 5

    def forward(self, predictions, target):
        predictions = predictions.reshape(-1, self.S, self.S, self.C + self.B * 5)
        iou_b1 = intersection_over_union(
            predictions[..., C + 1 : C + 5], target[..., C + 1 : C + 5]
        )
        iou_b2 = intersection_over_union(
            predictions[..., C + 6 : C + 10], target[..., C + 1 : C + 5]
        )
        ious = torch.cat([iou_b1.unsqueeze(0), iou_b2.unsqueeze(0)], dim=0)
        iou_maxes, bestbox = torch.max(ious, dim=0)
        exists_box = target[..., C].unsqueeze(3)  # in paper this is Iobj_i

        # BOX COORDINATES
        box_predictions = exists_box * (
            bestbox * predictions[..., C + 6 : C + 10]
            + (1 - bestbox) * predictions[..., C + 1 : C + 5]
        )
        box_targets = exists_box * target[..., C + 1 : C + 5]
        box_predictions[..., 2:4] = torch.sign(box_predictions[..., 2:4]) * torch.sqrt(
            torch.abs(box_predictions[..., 2:4] + 1e-6)
        )
        box_targets[..., 2:4] = torch.sqrt(box_targets[..., 2:4])
        box_loss = self.mse(
            torch.flatten(box_predictions, end_dim=-2), torch.flatten(box_targets, end_dim=-2)
        )

        # OBJECT LOSS
        pred_box = (
            bestbox * predictions[..., C + 5 : C + 6] + (1 - bestbox) * predictions[..., C : C + 1]
        )
        object_loss = self.mse(
            torch.flatten(exists_box * pred_box), torch.flatten(exists_box * target[..., C : C + 1])
        )

        # NO OBJECT LOSS
        no_object_loss = self.mse(
            torch.flatten((1 - exists_box) * predictions[..., C : C + 1], start_dim=1),
            torch.flatten((1 - exists_box) * target[..., C : C + 1], start_dim=1),
        )
        no_object_loss += self.mse(
            torch.flatten((1 - exists_box) * predictions[..., C + 5 : C + 6], start_dim=1),
            torch.flatten((1 - exists_box) * target[..., C : C + 1], start_dim=1),
        )

        # CLASS LOSS
        class_loss = self.mse(
            torch.flatten(exists_box * predictions[..., :C], end_dim=-2),
            torch.flatten(exists_box * target[..., :C], end_dim=-2),
        )
        loss = (
            self.lambda_coord * box_loss
            + object_loss
            + self.lambda_noobj * no_object_loss
            + class_loss
        )
        return loss


def make_sample():
    """One filled rectangle of class 0 (bright), 1 (dim) or 2 (hollow); its YOLO target grid."""
    img = 0.05 * torch.randn(3, IMG, IMG)
    cls = int(torch.randint(0, C, (1,)))
    w, h = [int(v) for v in torch.randint(8, 16, (2,))]
    x0, y0 = int(torch.randint(0, IMG - w, (1,))), int(torch.randint(0, IMG - h, (1,)))
    if cls == 2:
        img[:, y0 : y0 + h, x0 : x0 + w] += 1.0
        img[:, y0 + 2 : y0 + h - 2, x0 + 2 : x0 + w - 2] -= 1.0
    else:
        img[:, y0 : y0 + h, x0 : x0 + w] += 1.0 if cls == 0 else 0.4
    x, y = (x0 + w / 2) / IMG, (y0 + h / 2) / IMG
    label_matrix = torch.zeros((S, S, C + 5 * B))
    i, j = int(S * y), int(S * x)
    x_cell, y_cell = S * x - j, S * y - i
    label_matrix[i, j, C] = 1
    label_matrix[i, j, C + 1 : C + 5] = torch.tensor([x_cell, y_cell, w / IMG * S, h / IMG * S])
    label_matrix[i, j, cls] = 1
    return img, label_matrix


def cellboxes_to_boxes(out):
    """(N, S*S*(C+5B)) predictions -> per image, S*S boxes [class, score, x, y, w, h]."""
    predictions = out.reshape(out.shape[0], S, S, C + 5 * B)
    bboxes1 = predictions[..., C + 1 : C + 5]
    bboxes2 = predictions[..., C + 6 : C + 10]
    scores = torch.cat(
        (predictions[..., C].unsqueeze(0), predictions[..., C + 5].unsqueeze(0)), dim=0
    )
    best_box = scores.argmax(0).unsqueeze(-1)
    best_boxes = bboxes1 * (1 - best_box) + best_box * bboxes2
    cell_indices = torch.arange(S).repeat(out.shape[0], S, 1).unsqueeze(-1)
    x = 1 / S * (best_boxes[..., :1] + cell_indices)
    y = 1 / S * (best_boxes[..., 1:2] + cell_indices.permute(0, 2, 1, 3))
    w_y = 1 / S * best_boxes[..., 2:4]
    converted_bboxes = torch.cat((x, y, w_y), dim=-1)
    predicted_class = predictions[..., :C].argmax(-1).unsqueeze(-1)
    best_confidence = torch.max(predictions[..., C], predictions[..., C + 5]).unsqueeze(-1)
    converted = torch.cat((predicted_class, best_confidence, converted_bboxes), dim=-1)
    return converted.reshape(out.shape[0], S * S, -1).tolist()


model = nn.Sequential(
    nn.Conv2d(3, 8, 3, padding=1), nn.LeakyReLU(0.1), nn.MaxPool2d(2),
    nn.Conv2d(8, 16, 3, padding=1), nn.LeakyReLU(0.1), nn.MaxPool2d(2),
    nn.Conv2d(16, 32, 3, padding=1), nn.LeakyReLU(0.1), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(32 * 4 * 4, 128), nn.LeakyReLU(0.1),
    nn.Linear(128, S * S * (C + B * 5)),
)  # fmt: skip
samples = [make_sample() for _ in range(160)]
images = torch.stack([s[0] for s in samples])
targets = torch.stack([s[1] for s in samples])
loss_fn = YoloLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=2e-3, weight_decay=0)
losses = []
for epoch in range(10):
    for i in range(0, 160, 32):
        out = model(images[i : i + 32])
        loss = loss_fn(out, targets[i : i + 32])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    if epoch % 4 == 0:
        print(f"epoch {epoch}: mean loss {sum(losses[-5:]) / 5:.3f}")

# IoU sanity checks in both formats
a = torch.tensor([[0.0, 0.0, 2.0, 2.0]])
b = torch.tensor([[1.0, 1.0, 3.0, 3.0]])
iou_corners = intersection_over_union(a, b, "corners").item()  # 1 / 7
iou_midpoint = intersection_over_union(
    torch.tensor([[0.5, 0.5, 1.0, 1.0]]), torch.tensor([[0.5, 0.5, 0.5, 0.5]])
).item()

# Detections on the training images after NMS
model.eval()
with torch.no_grad():
    boxes = cellboxes_to_boxes(model(images[:16]))
ious, correct_class = [], 0
for idx in range(16):
    kept = non_max_suppression(boxes[idx], iou_threshold=0.5, threshold=0.3, box_format="midpoint")
    t = targets[idx]
    i, j = (t[..., C] == 1).nonzero()[0].tolist()
    x_cell, y_cell, w_cell, h_cell = t[i, j, C + 1 : C + 5].tolist()
    truth = torch.tensor([(x_cell + j) / S, (y_cell + i) / S, w_cell / S, h_cell / S])
    if kept:
        best = kept[0]
        ious.append(intersection_over_union(torch.tensor(best[2:]), truth).item())
        correct_class += int(best[0] == t[i, j, :C].argmax().item())
mean_iou = sum(ious) / max(len(ious), 1)
print(f"detections {len(ious)}/16, mean IoU {mean_iou:.3f}, correct classes {correct_class}")
