"""Mask R-CNN's mask branch (He et al. 2017) as torchvision's roi_heads writes it, with the
RoIAlign done by ``F.grid_sample``: ``project_masks_on_boxes`` crops each ground-truth mask to
its proposal at the head's resolution (``grid_sample`` of the float mask, then ``>= 0.5``),
a MaskRCNNHeads stack of 3x3 convs, a ``ConvTranspose2d(2, 2)`` upsampler and a 1x1
predictor with one channel per class, ``maskrcnn_loss`` =
``binary_cross_entropy_with_logits(mask_logits[torch.arange(N), labels], mask_targets)``
(only the channel of the ground-truth class), kaiming_normal_(mode="fan_out") init, and
``maskrcnn_inference`` (sigmoid of the labelled channel) pasted back into the image by
``F.interpolate(mode="bilinear")``; on 32x32 images with discs and squares and jittered boxes."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
S, M, num_classes = 32, 8, 3  # image size, mask resolution of the head (2M after upsampling)


def crop_resize(images, boxes, size):
    """(K, C, H, W) images -> (K, C, size, size) crops of (x1, y1, x2, y2) boxes."""
    k, _, h, w = images.shape
    xs = torch.linspace(0, 1, size)
    x = boxes[:, 0:1] + (boxes[:, 2:3] - boxes[:, 0:1]) * xs  # (K, size), pixel edges
    y = boxes[:, 1:2] + (boxes[:, 3:4] - boxes[:, 1:2]) * xs
    gx, gy = (2 * x / w - 1), (2 * y / h - 1)
    grid = torch.stack(torch.broadcast_tensors(gx[:, None, :], gy[:, :, None]), dim=-1)
    return F.grid_sample(images, grid, mode="bilinear", align_corners=False)


def project_masks_on_boxes(gt_masks, boxes, discretization_size):
    return (crop_resize(gt_masks[:, None].float(), boxes, discretization_size)[:, 0] >= 0.5).float()


class MaskRCNNHeads(nn.Sequential):
    def __init__(self, in_channels, layers):
        blocks = []
        for i, out in enumerate(layers):
            blocks += [
                nn.Conv2d(in_channels if i == 0 else layers[i - 1], out, 3, padding=1),
                nn.ReLU(inplace=True),
            ]
        super().__init__(*blocks)
        for layer in self.modules():
            if isinstance(layer, nn.Conv2d):
                nn.init.kaiming_normal_(layer.weight, mode="fan_out", nonlinearity="relu")
                if layer.bias is not None:
                    nn.init.zeros_(layer.bias)


class MaskRCNNPredictor(nn.Sequential):
    def __init__(self, in_channels, dim_reduced, num_classes):
        super().__init__()
        self.add_module("conv5_mask", nn.ConvTranspose2d(in_channels, dim_reduced, 2, 2, 0))
        self.add_module("relu", nn.ReLU(inplace=True))
        self.add_module("mask_fcn_logits", nn.Conv2d(dim_reduced, num_classes, 1, 1, 0))
        for name, param in self.named_parameters():
            if "weight" in name:
                nn.init.kaiming_normal_(param, mode="fan_out", nonlinearity="relu")


def maskrcnn_loss(mask_logits, proposals, gt_masks, labels):
    discretization_size = mask_logits.shape[-1]
    mask_targets = project_masks_on_boxes(gt_masks, proposals, discretization_size)
    if mask_targets.numel() == 0:
        return mask_logits.sum() * 0
    return F.binary_cross_entropy_with_logits(
        mask_logits[torch.arange(labels.shape[0]), labels], mask_targets
    )


def maskrcnn_inference(x, labels):
    mask_prob = x.sigmoid()
    return mask_prob[torch.arange(mask_prob.shape[0]), labels][:, None]


def make_batch(n):
    yy, xx = torch.meshgrid(
        torch.arange(S).float() + 0.5, torch.arange(S).float() + 0.5, indexing="ij"
    )
    images, masks, boxes, labels = [], [], [], []
    for _ in range(n):
        label = torch.randint(1, num_classes, (1,)).item()
        size = torch.randint(8, 16, (1,)).item()
        x0, y0 = torch.randint(0, S - size, (2,)).tolist()
        if label == 1:  # disc
            r = size / 2
            mask = ((xx - x0 - r) ** 2 + (yy - y0 - r) ** 2) <= r * r
        else:  # square
            mask = (xx >= x0) & (xx < x0 + size) & (yy >= y0) & (yy < y0 + size)
        images.append(mask.float()[None] + 0.1 * torch.randn(1, S, S))
        masks.append(mask)
        box = torch.tensor([x0, y0, x0 + size, y0 + size]).float()
        boxes.append((box + torch.randn(4) * 1.5).clamp(0, S))
        labels.append(label)
    return torch.stack(images), torch.stack(masks), torch.stack(boxes), torch.tensor(labels)


backbone = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(inplace=True))
mask_head = MaskRCNNHeads(16, (16, 16))
mask_predictor = MaskRCNNPredictor(16, 16, num_classes)
params = [*backbone.parameters(), *mask_head.parameters(), *mask_predictor.parameters()]
optimizer = torch.optim.SGD(params, lr=0.02, momentum=0.9, weight_decay=1e-4)
losses = []
for step in range(40):
    images, gt_masks, proposals, labels = make_batch(8)
    features = crop_resize(backbone(images), proposals, M)  # the RoIAlign'd features
    mask_logits = mask_predictor(mask_head(features))
    loss = maskrcnn_loss(mask_logits, proposals, gt_masks, labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())

with torch.no_grad():
    images, gt_masks, proposals, labels = make_batch(6)
    mask_logits = mask_predictor(mask_head(crop_resize(backbone(images), proposals, M)))
    probs = maskrcnn_inference(mask_logits, labels)
    targets = project_masks_on_boxes(gt_masks, proposals, 2 * M)
    mask_iou = (
        ((probs[:, 0] > 0.5) & (targets > 0.5)).sum()
        / ((probs[:, 0] > 0.5) | (targets > 0.5)).sum()
    ).item()
    x1, y1, x2, y2 = proposals[0].round().long().tolist()
    pasted = torch.zeros(S, S)
    pasted[y1:y2, x1:x2] = F.interpolate(
        probs[:1], size=(y2 - y1, x2 - x1), mode="bilinear", align_corners=False
    )[0, 0]
    paste_iou = (((pasted > 0.5) & gt_masks[0]).sum() / ((pasted > 0.5) | gt_masks[0]).sum()).item()
logits_shape = tuple(mask_logits.shape)
empty_loss = maskrcnn_loss(torch.zeros(0, num_classes, 16, 16, requires_grad=True), torch.zeros(0, 4),
                           torch.zeros(0, S, S, dtype=torch.bool), torch.zeros(0, dtype=torch.long))  # fmt: skip
empty = [empty_loss.item(), empty_loss.requires_grad]
