"""The training loop of ultralytics/yolov5's ``train.py`` and its utils, as written for
PyTorch, around a tiny one-box regressor: ``smart_optimizer`` (three parameter groups found by
``named_parameters(recurse=0)`` over ``model.modules()``, norm layers picked by ``'Norm' in k``
over ``nn.__dict__``, SGD with Nesterov and ``add_param_group``), the linear ``lf`` lambda
through ``LambdaLR`` (``initial_lr`` in each group), the warm-up that sets each group's ``lr``
and ``momentum`` with ``np.interp`` (NumPy floats) and the accumulation count, the AMP
scaffolding left off on CPU (``torch.amp.autocast(enabled=False)``, ``GradScaler(enabled=
False)`` with ``scale``/``unscale_``/``step``/``update``), ``clip_grad_norm_(max_norm=10)``,
``ModelEMA`` updating the EMA model in place through its ``state_dict()`` tensors
(``v *= d; v += (1 - d) * msd[k].detach()``), a running mean of loss items, and ``bbox_iou``
with GIoU/DIoU/CIoU (``chunk(4, -1)``, ``minimum``/``maximum``, ``atan``, alpha under
``no_grad``)."""

import math
from copy import deepcopy

import numpy as np
import torch
import torch.nn as nn
from torch.optim import lr_scheduler

torch.manual_seed(0)


def bbox_iou(box1, box2, xywh=True, GIoU=False, DIoU=False, CIoU=False, eps=1e-7):
    (x1, y1, w1, h1), (x2, y2, w2, h2) = box1.chunk(4, -1), box2.chunk(4, -1)
    w1_, h1_, w2_, h2_ = w1 / 2, h1 / 2, w2 / 2, h2 / 2
    b1_x1, b1_x2, b1_y1, b1_y2 = x1 - w1_, x1 + w1_, y1 - h1_, y1 + h1_
    b2_x1, b2_x2, b2_y1, b2_y2 = x2 - w2_, x2 + w2_, y2 - h2_, y2 + h2_
    inter = (b1_x2.minimum(b2_x2) - b1_x1.maximum(b2_x1)).clamp(0) * (
        b1_y2.minimum(b2_y2) - b1_y1.maximum(b2_y1)
    ).clamp(0)
    union = w1 * h1 + w2 * h2 - inter + eps
    iou = inter / union
    if CIoU or DIoU or GIoU:
        cw = b1_x2.maximum(b2_x2) - b1_x1.minimum(b2_x1)
        ch = b1_y2.maximum(b2_y2) - b1_y1.minimum(b2_y1)
        if CIoU or DIoU:
            c2 = cw**2 + ch**2 + eps
            rho2 = ((b2_x1 + b2_x2 - b1_x1 - b1_x2) ** 2 + (b2_y1 + b2_y2 - b1_y1 - b1_y2) ** 2) / 4
            if CIoU:
                v = (4 / math.pi**2) * (torch.atan(w2 / h2) - torch.atan(w1 / h1)).pow(2)
                with torch.no_grad():
                    alpha = v / (v - iou + (1 + eps))
                return iou - (rho2 / c2 + v * alpha)
            return iou - rho2 / c2
        c_area = cw * ch + eps
        return iou - (c_area - union) / c_area
    return iou


class Conv(nn.Module):
    def __init__(self, c1, c2, k=3, s=1):
        super().__init__()
        self.conv = nn.Conv2d(c1, c2, k, s, k // 2, bias=False)
        self.bn = nn.BatchNorm2d(c2)
        self.act = nn.SiLU()

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class TinyDetector(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(Conv(1, 8, 3, 2), Conv(8, 16, 3, 2))
        self.head = nn.Linear(16, 5)  # x, y, w, h, objectness

    def forward(self, x):
        return self.head(self.backbone(x).mean((2, 3)))


def smart_optimizer(model, name="SGD", lr=0.01, momentum=0.9, decay=1e-5):
    g = [], [], []
    bn = tuple(v for k, v in nn.__dict__.items() if "Norm" in k)
    for v in model.modules():
        for p_name, p in v.named_parameters(recurse=0):
            if p_name == "bias":
                g[2].append(p)
            elif p_name == "weight" and isinstance(v, bn):
                g[1].append(p)
            else:
                g[0].append(p)
    optimizer = torch.optim.SGD(g[2], lr=lr, momentum=momentum, nesterov=True)
    optimizer.add_param_group({"params": g[0], "weight_decay": decay})
    optimizer.add_param_group({"params": g[1], "weight_decay": 0.0})
    return optimizer, [len(x) for x in g]


class ModelEMA:
    def __init__(self, model, decay=0.9999, tau=20, updates=0):
        self.ema = deepcopy(model).eval()
        self.updates = updates
        self.decay = lambda x: decay * (1 - math.exp(-x / tau))
        for p in self.ema.parameters():
            p.requires_grad_(False)

    def update(self, model):
        self.updates += 1
        d = self.decay(self.updates)
        msd = model.state_dict()
        for k, v in self.ema.state_dict().items():
            if v.dtype.is_floating_point:
                v *= d
                v += (1 - d) * msd[k].detach()


def make_batch(n):
    imgs = torch.rand(n, 1, 16, 16) * 0.1
    boxes = torch.rand(n, 4) * torch.tensor([0.5, 0.5, 0.3, 0.3]) + torch.tensor(
        [0.25, 0.25, 0.2, 0.2]
    )
    for i, (x, y, w, h) in enumerate((boxes * 16).round().int().tolist()):
        imgs[i, 0, y - h // 2 : y + h // 2, x - w // 2 : x + w // 2] = 1.0
    return imgs, boxes


hyp = dict(lr0=0.02, lrf=0.1, momentum=0.9, warmup_epochs=1, warmup_momentum=0.8,
           warmup_bias_lr=0.1, weight_decay=5e-4)  # fmt: skip
epochs, nb, batch_size, nbs = 4, 6, 8, 16
model = TinyDetector()
norm_names = sorted(k for k in nn.__dict__ if "Norm" in k and k.startswith("BatchNorm"))
optimizer, group_sizes = smart_optimizer(model, "SGD", hyp["lr0"], hyp["momentum"], 5e-4)
lf = lambda x: (1 - x / epochs) * (1.0 - hyp["lrf"]) + hyp["lrf"]  # noqa: E731
scheduler = lr_scheduler.LambdaLR(optimizer, lr_lambda=lf)
ema = ModelEMA(model)
scaler = torch.amp.GradScaler(enabled=False)
bce = nn.BCEWithLogitsLoss()
data = [make_batch(batch_size) for _ in range(nb)]
nw, last_opt_step = max(round(hyp["warmup_epochs"] * nb), 4), -1
warmup_log, epoch_losses, accumulates = [], [], []
for epoch in range(epochs):
    model.train()
    mloss = torch.zeros(2)
    optimizer.zero_grad()
    for i, (imgs, boxes) in enumerate(data):
        ni = i + nb * epoch
        accumulate = 1
        if ni <= nw:
            xi = [0, nw]
            accumulate = max(1, np.interp(ni, xi, [1, nbs / batch_size]).round())
            for j, x in enumerate(optimizer.param_groups):
                x["lr"] = np.interp(
                    ni, xi, [hyp["warmup_bias_lr"] if j == 0 else 0.0, x["initial_lr"] * lf(epoch)]
                )
                if "momentum" in x:
                    x["momentum"] = np.interp(ni, xi, [hyp["warmup_momentum"], hyp["momentum"]])
            warmup_log.append([float(x["lr"]) for x in optimizer.param_groups])
        accumulates.append(int(accumulate))
        with torch.amp.autocast("cpu", enabled=False):
            pred = model(imgs)
            iou = bbox_iou(pred[:, :4].sigmoid(), boxes, CIoU=True).squeeze(-1)
            lbox = (1.0 - iou).mean()
            lobj = bce(pred[:, 4], iou.detach().clamp(0).type(pred.dtype))
            loss = (lbox + lobj) * batch_size
            loss_items = torch.cat((lbox.unsqueeze(0), lobj.unsqueeze(0))).detach()
        scaler.scale(loss).backward()
        if ni - last_opt_step >= accumulate:
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=10.0)
            scaler.step(optimizer)
            scaler.update()
            optimizer.zero_grad()
            ema.update(model)
            last_opt_step = ni
        mloss = (mloss * i + loss_items) / (i + 1)
    lr = [x["lr"] for x in optimizer.param_groups]
    scheduler.step()
    epoch_losses.append(mloss.tolist())
final_lrs = [float(x["lr"]) for x in optimizer.param_groups]
lr_types = sorted({type(x["lr"]).__name__ for x in optimizer.param_groups})
ema_updates = ema.updates
ema_gap = (ema.ema.head.weight - model.head.weight).abs().max().item()
ema_running_mean = ema.ema.backbone[0].bn.running_mean[:3].tolist()
imgs, boxes = make_batch(16)
with torch.no_grad():
    ema_iou = bbox_iou(ema.ema(imgs)[:, :4].sigmoid(), boxes).mean().item()
    model.eval()
    model_iou = bbox_iou(model(imgs)[:, :4].sigmoid(), boxes).mean().item()
b1 = torch.tensor([[0.5, 0.5, 0.4, 0.2], [0.3, 0.6, 0.2, 0.2]])
b2 = torch.tensor([[0.55, 0.45, 0.3, 0.3], [0.7, 0.2, 0.1, 0.3]])
iou_variants = [
    bbox_iou(b1, b2, **{k: True} if k else {}).flatten().tolist()
    for k in ("", "GIoU", "DIoU", "CIoU")
]
