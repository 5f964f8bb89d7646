"""timm's training utilities as ``train.py`` uses them, written the way timm writes them: the
``Mixup`` class (``mixup_target`` building smoothed one-hots with ``torch.full(...).scatter_``,
in-place batch mixing ``x.mul_(lam).add_(x_flipped)`` against ``x.flip(0)``, CutMix boxes from
``rand_bbox`` with the area-corrected lambda, mode switched per batch from NumPy draws),
``SoftTargetCrossEntropy`` and ``LabelSmoothingCrossEntropy`` (``logprobs.gather`` plus the
smoothing term), ``ModelEmaV2`` (``deepcopy``, ``state_dict().values()`` zipped and
``ema_v.copy_``), a ``CosineLRScheduler`` with warmup that writes ``param_group['lr']`` per
epoch, ``accuracy`` by ``topk``/``t()``/``eq``/``expand_as`` and an ``AverageMeter``."""

import math
from copy import deepcopy

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def one_hot(x, num_classes, on_value=1.0, off_value=0.0):
    x = x.long().view(-1, 1)
    return torch.full((x.size()[0], num_classes), off_value).scatter_(1, x, on_value)


def mixup_target(target, num_classes, lam=1.0, smoothing=0.0):
    off_value = smoothing / num_classes
    on_value = 1.0 - smoothing + off_value
    y1 = one_hot(target, num_classes, on_value=on_value, off_value=off_value)
    y2 = one_hot(target.flip(0), num_classes, on_value=on_value, off_value=off_value)
    return y1 * lam + y2 * (1.0 - lam)


def rand_bbox(img_shape, lam, rng):
    ratio = np.sqrt(1 - lam)
    img_h, img_w = img_shape[-2:]
    cut_h, cut_w = int(img_h * ratio), int(img_w * ratio)
    cy, cx = rng.integers(0, img_h), rng.integers(0, img_w)
    yl, yh = np.clip(cy - cut_h // 2, 0, img_h), np.clip(cy + cut_h // 2, 0, img_h)
    xl, xh = np.clip(cx - cut_w // 2, 0, img_w), np.clip(cx + cut_w // 2, 0, img_w)
    return yl, yh, xl, xh


class Mixup:
    def __init__(self, mixup_alpha=0.8, cutmix_alpha=1.0, switch_prob=0.5, smoothing=0.1,
                 num_classes=4, seed=0):  # fmt: skip
        self.mixup_alpha, self.cutmix_alpha = mixup_alpha, cutmix_alpha
        self.switch_prob, self.smoothing = switch_prob, smoothing
        self.num_classes, self.rng = num_classes, np.random.default_rng(seed)

    def _mix_batch(self, x):
        use_cutmix = self.rng.random() < self.switch_prob
        alpha = self.cutmix_alpha if use_cutmix else self.mixup_alpha
        lam = float(self.rng.beta(alpha, alpha))
        if use_cutmix:
            yl, yh, xl, xh = rand_bbox(x.shape, lam, self.rng)
            x[:, :, yl:yh, xl:xh] = x.flip(0)[:, :, yl:yh, xl:xh]
            lam = 1.0 - (yh - yl) * (xh - xl) / float(x.shape[-2] * x.shape[-1])
        else:
            x_flipped = x.flip(0).mul_(1.0 - lam)
            x.mul_(lam).add_(x_flipped)
        return lam, use_cutmix

    def __call__(self, x, target):
        assert len(x) % 2 == 0, "Batch size should be even when using this"
        lam, used_cutmix = self._mix_batch(x)
        return x, mixup_target(target, self.num_classes, lam, self.smoothing), lam, used_cutmix


class SoftTargetCrossEntropy(nn.Module):
    def forward(self, x, target):
        loss = torch.sum(-target * F.log_softmax(x, dim=-1), dim=-1)
        return loss.mean()


class LabelSmoothingCrossEntropy(nn.Module):
    def __init__(self, smoothing=0.1):
        super().__init__()
        self.smoothing, self.confidence = smoothing, 1.0 - smoothing

    def forward(self, x, target):
        logprobs = F.log_softmax(x, dim=-1)
        nll_loss = -logprobs.gather(dim=-1, index=target.unsqueeze(1)).squeeze(1)
        smooth_loss = -logprobs.mean(dim=-1)
        return (self.confidence * nll_loss + self.smoothing * smooth_loss).mean()


class ModelEmaV2(nn.Module):
    def __init__(self, model, decay=0.9):
        super().__init__()
        self.module = deepcopy(model)
        self.module.eval()
        self.decay = decay

    def _update(self, model, update_fn):
        with torch.no_grad():
            for ema_v, model_v in zip(
                self.module.state_dict().values(), model.state_dict().values()
            ):
                ema_v.copy_(update_fn(ema_v, model_v))

    def update(self, model):
        self._update(model, update_fn=lambda e, m: self.decay * e + (1.0 - self.decay) * m)


class CosineLRScheduler:
    def __init__(self, optimizer, t_initial, lr_min=1e-4, warmup_t=2, warmup_lr_init=1e-3):
        self.optimizer, self.t_initial, self.lr_min = optimizer, t_initial, lr_min
        self.warmup_t, self.warmup_lr_init = warmup_t, warmup_lr_init
        self.base_values = [group["lr"] for group in optimizer.param_groups]
        self.warmup_steps = [(v - warmup_lr_init) / warmup_t for v in self.base_values]
        self.step(0)

    def _get_lr(self, t):
        if t < self.warmup_t:
            return [self.warmup_lr_init + t * s for s in self.warmup_steps]
        t = t - self.warmup_t
        return [self.lr_min + 0.5 * (lr_max - self.lr_min) * (1 + math.cos(math.pi * t / self.t_initial))
                for lr_max in self.base_values]  # fmt: skip

    def step(self, epoch):
        for param_group, value in zip(self.optimizer.param_groups, self._get_lr(epoch)):
            param_group["lr"] = value


def accuracy(output, target, topk=(1,)):
    maxk = min(max(topk), output.size()[1])
    batch_size = target.size(0)
    _, pred = output.topk(maxk, 1, True, True)
    pred = pred.t()
    correct = pred.eq(target.reshape(1, -1).expand_as(pred))
    return [correct[: min(k, maxk)].reshape(-1).float().sum(0) * 100.0 / batch_size for k in topk]


class AverageMeter:
    def __init__(self):
        self.val = self.avg = self.sum = self.count = 0

    def update(self, val, n=1):
        self.val, self.sum, self.count = val, self.sum + val * n, self.count + n
        self.avg = self.sum / self.count


torch.manual_seed(0)
images = torch.randn(64, 3, 8, 8)
labels = torch.randint(0, 4, (64,))
images[torch.arange(64), labels % 3, labels, :] += 2.0  # a class-dependent bright row
model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.GELU(), nn.AdaptiveAvgPool2d(2),
                      nn.Flatten(), nn.Linear(32, 4))  # fmt: skip
model_ema = ModelEmaV2(model, decay=0.8)
optimizer = torch.optim.AdamW(model.parameters(), lr=0.02, weight_decay=0.05)
lr_scheduler = CosineLRScheduler(optimizer, t_initial=6)
mixup_fn, train_loss_fn = Mixup(), SoftTargetCrossEntropy()
validate_loss_fn = LabelSmoothingCrossEntropy(0.1)
epoch_losses, lrs, lams, modes, val_metrics = [], [], [], [], []
for epoch in range(8):
    model.train()
    losses_m = AverageMeter()
    for batch_idx in range(4):
        rows = slice(batch_idx * 16, (batch_idx + 1) * 16)
        input, target = images[rows].clone(), labels[rows]
        input, target, lam, used_cutmix = mixup_fn(input, target)
        loss = train_loss_fn(model(input), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        model_ema.update(model)
        losses_m.update(loss.item(), input.size(0))
        lams.append(round(lam, 6))
        modes.append(used_cutmix)
    lr_scheduler.step(epoch + 1)
    lrs.append(optimizer.param_groups[0]["lr"])
    epoch_losses.append(losses_m.avg)
    model_ema.module.eval()
    with torch.no_grad():
        for m in (model, model_ema.module):
            m.eval()
            output = m(images)
            acc1, acc2 = accuracy(output, labels, topk=(1, 2))
            val_metrics.append([validate_loss_fn(output, labels).item(), acc1.item(), acc2.item()])
print(f"losses {[round(v, 4) for v in epoch_losses]}")
print(f"val (model, ema) last {val_metrics[-2:]} lr {lrs}")
smooth_target_row = mixup_target(torch.tensor([1, 3]), 4, lam=0.7, smoothing=0.1).tolist()
ema_gap = max(
    (e - p).abs().max().item() for e, p in zip(model_ema.module.parameters(), model.parameters())
)
