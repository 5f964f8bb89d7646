"""Semantic segmentation with DeepLabV3's ASPP head (Chen et al. 2017) as torchvision's
``deeplabv3.py`` writes it (``ASPPConv`` with dilated 3x3 convolutions, ``ASPPPooling`` by
AdaptiveAvgPool2d(1) then ``F.interpolate(mode="bilinear", align_corners=False)`` back, the
branches concatenated and projected, Dropout), trained with the Lovasz-softmax loss (Berman et
al. 2018) as bermanmaxim/LovaszSoftmax writes it: per class the errors ``(fg - probas).abs()``
sorted with ``torch.sort(descending=True)``, the ``lovasz_grad`` of the sorted ground truth
(``cumsum`` of intersections and unions, differenced in place), and ``torch.dot``; pixels of an
ignore label dropped by a boolean mask. Then mean IoU."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
S, C, IGNORE = 16, 3, 255


class ASPPConv(nn.Sequential):
    def __init__(self, in_channels, out_channels, dilation):
        modules = [
            nn.Conv2d(
                in_channels, out_channels, 3, padding=dilation, dilation=dilation, bias=False
            ),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
        ]
        super().__init__(*modules)


class ASPPPooling(nn.Sequential):
    def __init__(self, in_channels, out_channels):
        super().__init__(
            nn.AdaptiveAvgPool2d(1),
            nn.Conv2d(in_channels, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
        )

    def forward(self, x):
        size = x.shape[-2:]
        for mod in self:
            x = mod(x)
        return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


class ASPP(nn.Module):
    def __init__(self, in_channels, atrous_rates, out_channels=8):
        super().__init__()
        modules = [
            nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, bias=False),
                nn.BatchNorm2d(out_channels),
                nn.ReLU(),
            )
        ]
        for rate in tuple(atrous_rates):
            modules.append(ASPPConv(in_channels, out_channels, rate))
        modules.append(ASPPPooling(in_channels, out_channels))
        self.convs = nn.ModuleList(modules)
        self.project = nn.Sequential(
            nn.Conv2d(len(self.convs) * out_channels, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
            nn.Dropout(0.5),
        )

    def forward(self, x):
        _res = []
        for conv in self.convs:
            _res.append(conv(x))
        res = torch.cat(_res, dim=1)
        return self.project(res)


class DeepLabHeadNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(
            nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU()
        )
        self.head = nn.Sequential(ASPP(8, [1, 2, 3]), nn.Conv2d(8, C, 1))

    def forward(self, x):
        size = x.shape[-2:]
        out = self.head(self.backbone(x))
        return F.interpolate(out, size=size, mode="bilinear", align_corners=False)


def lovasz_grad(gt_sorted):
    p = len(gt_sorted)
    gts = gt_sorted.sum()
    intersection = gts - gt_sorted.float().cumsum(0)
    union = gts + (1 - gt_sorted).float().cumsum(0)
    jaccard = 1.0 - intersection / union
    if p > 1:  # cover 1-pixel case
        jaccard[1:p] = jaccard[1:p] - jaccard[0:-1]
    return jaccard


def lovasz_softmax_flat(probas, labels, classes="present"):
    if probas.numel() == 0:
        return probas * 0.0
    C = probas.size(1)
    losses = []
    class_to_sum = list(range(C)) if classes in ["all", "present"] else classes
    for c in class_to_sum:
        fg = (labels == c).float()  # foreground for class c
        if classes == "present" and fg.sum() == 0:
            continue
        class_pred = probas[:, c]
        errors = (fg - class_pred).abs()
        errors_sorted, perm = torch.sort(errors, 0, descending=True)
        perm = perm.data
        fg_sorted = fg[perm]
        losses.append(torch.dot(errors_sorted, lovasz_grad(fg_sorted)))
    return torch.stack(losses).mean()


def flatten_probas(probas, labels, ignore=None):
    B, C, H, W = probas.size()
    probas = probas.permute(0, 2, 3, 1).contiguous().view(-1, C)  # B * H * W, C = P, C
    labels = labels.view(-1)
    if ignore is None:
        return probas, labels
    valid = labels != ignore
    vprobas = probas[valid.nonzero().squeeze()]
    vlabels = labels[valid]
    return vprobas, vlabels


def lovasz_softmax(probas, labels, classes="present", ignore=None):
    return lovasz_softmax_flat(*flatten_probas(probas, labels, ignore), classes=classes)


def make_scenes(n):
    """Class 1: a disc; class 2: a stripe; a border of ignored pixels around the disc."""
    ys, xs = torch.meshgrid(torch.arange(S).float(), torch.arange(S).float(), indexing="ij")
    labels = torch.zeros(n, S, S, dtype=torch.long)
    images = 0.2 * torch.randn(n, 3, S, S)
    for i in range(n):
        cy, cx = torch.randint(4, S - 4, (2,)).tolist()
        r2 = (ys - cy) ** 2 + (xs - cx) ** 2
        col = int(torch.randint(0, S - 3, ()))
        labels[i, :, col : col + 3] = 2
        labels[i][(r2 > 6) & (r2 <= 9)] = IGNORE
        labels[i][r2 <= 6] = 1
    images[:, 0] += (labels == 1).float()
    images[:, 1] += (labels == 2).float()
    return images, labels


images, labels = make_scenes(8)
model = DeepLabHeadNet()
optimizer = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9, weight_decay=1e-4)
poly = torch.optim.lr_scheduler.PolynomialLR(optimizer, total_iters=16, power=0.9)
losses, lrs = [], []
for step in range(16):
    logits = model(images)
    probas = F.softmax(logits, dim=1)
    loss = lovasz_softmax(probas, labels, ignore=IGNORE) + 0.5 * F.cross_entropy(
        logits, labels, ignore_index=IGNORE
    )
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    poly.step()
    losses.append(loss.item())
    lrs.append(poly.get_last_lr()[0])

model.eval()
with torch.no_grad():
    test_images, test_labels = make_scenes(4)
    pred = model(test_images).argmax(1)
    valid = test_labels != IGNORE
    ious = []
    for c in range(C):
        p, t = (pred == c) & valid, (test_labels == c) & valid
        ious.append(((p & t).sum() / (p | t).sum()).item())
miou = sum(ious) / C
grad_example = lovasz_grad(torch.tensor([1, 1, 0, 1, 0, 0])).tolist()
n_valid = int((labels != IGNORE).sum())
