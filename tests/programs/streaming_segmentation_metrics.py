"""Streaming evaluation as hand-written metric classes (what torchmetrics does inside): states
registered as buffers on an ``nn.Module`` so they follow ``state_dict`` and ``.to()``,
``update`` over ``DataLoader`` batches, ``compute`` and ``reset``, merging two workers' states
by adding them (what an all-reduce does); a segmentation confusion matrix with
``ignore_index=255`` by ``bincount``, per-class IoU and Dice with NaN for classes absent from
both prediction and target, mean IoU by ``nanmean``, frequency-weighted IoU, pixel accuracy;
a binned precision-recall curve accumulated with ``histc`` over score bins; a running mean
with Welford's update; and boundary IoU-free symmetric Hausdorff distance with ``cdist``."""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
C, IGNORE = 4, 255


class ConfusionMatrix(nn.Module):
    def __init__(self, num_classes, ignore_index=None):
        super().__init__()
        self.num_classes, self.ignore_index = num_classes, ignore_index
        self.register_buffer("mat", torch.zeros(num_classes, num_classes, dtype=torch.long))

    def update(self, pred, target):
        keep = target != self.ignore_index if self.ignore_index is not None else slice(None)
        t, p = target[keep], pred[keep]
        self.mat += torch.bincount(t * self.num_classes + p, minlength=self.num_classes**2).view(
            self.num_classes, self.num_classes
        )

    def reset(self):
        self.mat.zero_()

    def compute(self):
        m = self.mat.double()
        tp = m.diag()
        union = m.sum(0) + m.sum(1) - tp
        iou = tp / union  # nan where a class is in neither prediction nor target
        dice = 2 * tp / (m.sum(0) + m.sum(1))
        freq = m.sum(1) / m.sum()
        return {
            "iou": iou,
            "miou": iou.nanmean(),
            "dice": dice,
            "fwiou": (freq[freq > 0] * iou[freq > 0]).sum(),
            "pixel_acc": tp.sum() / m.sum(),
        }


class BinnedPR(nn.Module):
    def __init__(self, bins=10):
        super().__init__()
        self.bins = bins
        self.register_buffer("pos", torch.zeros(bins))
        self.register_buffer("neg", torch.zeros(bins))

    def update(self, scores, labels):
        self.pos += torch.histc(scores[labels == 1], bins=self.bins, min=0, max=1)
        self.neg += torch.histc(scores[labels == 0], bins=self.bins, min=0, max=1)

    def compute(self):
        tp = self.pos.flip(0).cumsum(0).flip(0)  # scores >= each bin's lower edge
        fp = self.neg.flip(0).cumsum(0).flip(0)
        precision = tp / (tp + fp)
        recall = tp / self.pos.sum()
        return precision, recall


class RunningMean(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("count", torch.tensor(0))
        self.register_buffer("mean", torch.tensor(0.0, dtype=torch.float64))
        self.register_buffer("m2", torch.tensor(0.0, dtype=torch.float64))

    def update(self, values):
        for v in values.double():
            self.count += 1
            delta = v - self.mean
            self.mean += delta / self.count
            self.m2 += delta * (v - self.mean)

    def compute(self):
        return self.mean, self.m2 / (self.count - 1)


# a "segmentation model": noisy logits around the target, with an ignored border.
N, H, W = 6, 12, 12
target = torch.randint(0, C - 1, (N, H, W))  # class 3 never appears in the target
target[:, 0, :] = IGNORE
logits = torch.randn(N, C, H, W)
clean_target = target.clone()
clean_target[target == IGNORE] = 0
logits.scatter_add_(1, clean_target.unsqueeze(1), torch.full((N, 1, H, W), 1.2))
logits[:, 3] -= 5.0  # and it is never predicted either: its IoU is nan
pred = logits.argmax(1)
probs = logits.softmax(1)

loader = DataLoader(TensorDataset(pred, target, probs), batch_size=2, shuffle=False)
cm, pr, run = ConfusionMatrix(C, IGNORE), BinnedPR(8), RunningMean()
worker_a, worker_b = ConfusionMatrix(C, IGNORE), ConfusionMatrix(C, IGNORE)
for step, (p, t, pb) in enumerate(loader):
    cm.update(p, t)
    (worker_a if step % 2 == 0 else worker_b).update(p, t)
    valid = t != IGNORE
    pr.update(pb[:, 1][valid], (t[valid] == 1).long())
    run.update((p[valid] == t[valid]).float().view(p.shape[0], -1).mean(1))

result = cm.compute()
metrics = [
    str(result["iou"].tolist()),
    result["miou"].item(),
    str(result["dice"].tolist()),
    result["fwiou"].item(),
    result["pixel_acc"].item(),
]
merged = ConfusionMatrix(C, IGNORE)
merged.mat = worker_a.mat + worker_b.mat
merge_equal = torch.equal(merged.mat, cm.mat)
counted = cm.mat.sum().item()
expected = (target != IGNORE).sum().item()

state = cm.state_dict()
state_keys = list(state.keys())
restored = ConfusionMatrix(C, IGNORE)
restored.load_state_dict(state)
restored_equal = torch.equal(restored.mat, cm.mat) and restored.mat.dtype == torch.long
cm.reset()
after_reset = cm.mat.sum().item()

precision, recall = pr.compute()
pr_curve = [str(precision.tolist()), recall.tolist(), pr.pos.tolist(), pr.neg.tolist()]
running = [run.count.item(), run.compute()[0].item(), run.compute()[1].item()]
per_image = (pred == target).float().masked_fill(target == IGNORE, float("nan"))
per_image_acc = per_image.view(N, -1).nanmean(1)
batch_check = [per_image_acc.mean().item(), per_image_acc.var().item()]

# symmetric Hausdorff distance between the class-1 pixels of prediction and target, image 0.
coords_p = (pred[0] == 1).nonzero().float()
coords_t = (target[0] == 1).nonzero().float()
d = torch.cdist(coords_p, coords_t)
hausdorff = max(d.min(1).values.max().item(), d.min(0).values.max().item())
hd95 = torch.quantile(torch.cat([d.min(1).values, d.min(0).values]), 0.95).item()
