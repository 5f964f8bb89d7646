"""The training script of pytorch/examples' ``imagenet/main.py``, as written for PyTorch, on a
small synthetic image set and a small CNN: ``AverageMeter`` (fed 0-d tensors, formatted with
``'{val:6.2f} ({avg:6.2f})'``), ``ProgressMeter`` batch lines, the ``Summary`` enum,
``accuracy(output, target, topk=(1, 5))`` by ``topk(maxk, 1, True, True)``, ``pred.t()``,
``eq(...expand_as)`` and ``correct_k.mul_(100.0 / batch_size)``; SGD with momentum and weight
decay, ``StepLR``, ``cudnn.benchmark``, ``validate`` under ``torch.no_grad()``, ``best_acc1 =
max(acc1, best_acc1)`` mixing a tensor and a float, and ``save_checkpoint`` (``torch.save`` then
``shutil.copyfile`` to ``model_best.pth.tar``) resumed into a fresh model, optimizer and
scheduler as ``--resume`` does."""

import os
import shutil
import tempfile
from enum import Enum

import torch
import torch.backends.cudnn as cudnn
import torch.nn as nn
import torch.optim
from torch.optim.lr_scheduler import StepLR
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
cudnn.benchmark = True
device = torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")


class Summary(Enum):
    NONE = 0
    AVERAGE = 1
    SUM = 2
    COUNT = 3


class AverageMeter(object):
    """Computes and stores the average and current value"""

    def __init__(self, name, fmt=":f", summary_type=Summary.AVERAGE):
        self.name, self.fmt, self.summary_type = name, fmt, summary_type
        self.reset()

    def reset(self):
        self.val = 0
        self.avg = 0
        self.sum = 0
        self.count = 0

    def update(self, val, n=1):
        self.val = val
        self.sum += val * n
        self.count += n
        self.avg = self.sum / self.count

    def __str__(self):
        fmtstr = "{name} {val" + self.fmt + "} ({avg" + self.fmt + "})"
        return fmtstr.format(**self.__dict__)

    def summary(self):
        if self.summary_type is Summary.AVERAGE:
            fmtstr = "{name} {avg:.3f}"
        elif self.summary_type is Summary.SUM:
            fmtstr = "{name} {sum:.3f}"
        else:
            raise ValueError("invalid summary type %r" % self.summary_type)
        return fmtstr.format(**self.__dict__)


class ProgressMeter(object):
    def __init__(self, num_batches, meters, prefix=""):
        self.batch_fmtstr = self._get_batch_fmtstr(num_batches)
        self.meters, self.prefix = meters, prefix

    def display(self, batch):
        entries = [self.prefix + self.batch_fmtstr.format(batch)]
        entries += [str(meter) for meter in self.meters]
        return "\t".join(entries)

    def display_summary(self):
        return " ".join([" *"] + [meter.summary() for meter in self.meters])

    def _get_batch_fmtstr(self, num_batches):
        num_digits = len(str(num_batches // 1))
        fmt = "{:" + str(num_digits) + "d}"
        return "[" + fmt + "/" + fmt.format(num_batches) + "]"


def accuracy(output, target, topk=(1,)):
    """Computes the accuracy over the k top predictions for the specified values of k"""
    with torch.no_grad():
        maxk = max(topk)
        batch_size = target.size(0)
        _, pred = output.topk(maxk, 1, True, True)
        pred = pred.t()
        correct = pred.eq(target.view(1, -1).expand_as(pred))
        res = []
        for k in topk:
            correct_k = correct[:k].reshape(-1).float().sum(0, keepdim=True)
            res.append(correct_k.mul_(100.0 / batch_size))
        return res


def make_data(n, seed):
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 8, (n,), generator=g)
    images = torch.randn(n, 3, 8, 8, generator=g) * 0.5
    images[torch.arange(n), labels % 3, labels // 3, :] += 2.0
    return TensorDataset(images, labels)


def build_model():
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(inplace=True),
        nn.MaxPool2d(2), nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16),
        nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(16, 8),
    )  # fmt: skip


def train(train_loader, model, criterion, optimizer, epoch, lines):
    losses = AverageMeter("Loss", ":.4e")
    top1 = AverageMeter("Acc@1", ":6.2f")
    top5 = AverageMeter("Acc@5", ":6.2f")
    progress = ProgressMeter(len(train_loader), [losses, top1, top5], f"Epoch: [{epoch}]")
    model.train()
    for i, (images, target) in enumerate(train_loader):
        images = images.to(device, non_blocking=True)
        target = target.to(device, non_blocking=True)
        output = model(images)
        loss = criterion(output, target)
        acc1, acc5 = accuracy(output, target, topk=(1, 5))
        losses.update(loss.item(), images.size(0))
        top1.update(acc1[0], images.size(0))
        top5.update(acc5[0], images.size(0))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if i % 2 == 0:
            lines.append(progress.display(i + 1))
    return losses.avg


def validate(val_loader, model, criterion):
    losses = AverageMeter("Loss", ":.4e", Summary.NONE)
    top1 = AverageMeter("Acc@1", ":6.2f", Summary.AVERAGE)
    top5 = AverageMeter("Acc@5", ":6.2f", Summary.AVERAGE)
    progress = ProgressMeter(len(val_loader), [top1, top5], prefix="Test: ")
    model.eval()
    with torch.no_grad():
        for images, target in val_loader:
            output = model(images)
            loss = criterion(output, target)
            acc1, acc5 = accuracy(output, target, topk=(1, 5))
            losses.update(loss.item(), images.size(0))
            top1.update(acc1[0], images.size(0))
            top5.update(acc5[0], images.size(0))
    return top1.avg, progress.display_summary()


def save_checkpoint(state, is_best, folder, filename="checkpoint.pth.tar"):
    torch.save(state, os.path.join(folder, filename))
    if is_best:
        shutil.copyfile(os.path.join(folder, filename), os.path.join(folder, "model_best.pth.tar"))


train_loader = DataLoader(make_data(64, 1), batch_size=16, shuffle=True)
val_loader = DataLoader(make_data(32, 2), batch_size=16, shuffle=False)
model = build_model().to(device)
criterion = nn.CrossEntropyLoss().to(device)
optimizer = torch.optim.SGD(model.parameters(), 0.1, momentum=0.9, weight_decay=1e-4)
scheduler = StepLR(optimizer, step_size=2, gamma=0.1)
best_acc1, lines, summaries, epoch_losses, bests, lrs = 0, [], [], [], [], []
folder = tempfile.mkdtemp()
try:
    for epoch in range(4):
        epoch_losses.append(train(train_loader, model, criterion, optimizer, epoch, lines))
        acc1, summary = validate(val_loader, model, criterion)
        summaries.append(summary)
        scheduler.step()
        lrs.append(scheduler.get_last_lr()[0])
        is_best = acc1 > best_acc1
        best_acc1 = max(acc1, best_acc1)
        bests.append(bool(is_best))
        save_checkpoint(
            {
                "epoch": epoch + 1,
                "arch": "smallcnn",
                "state_dict": model.state_dict(),
                "best_acc1": best_acc1,
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
            },
            is_best,
            folder,
        )
    checkpoint = torch.load(os.path.join(folder, "model_best.pth.tar"), map_location="cpu")
    files = sorted(os.listdir(folder))
finally:
    shutil.rmtree(folder)
best_acc1_type = type(checkpoint["best_acc1"]).__name__
start_epoch = checkpoint["epoch"]
resumed = build_model()
resumed.load_state_dict(checkpoint["state_dict"])
resumed_optimizer = torch.optim.SGD(resumed.parameters(), 0.1, momentum=0.9, weight_decay=1e-4)
resumed_optimizer.load_state_dict(checkpoint["optimizer"])
resumed_scheduler = StepLR(resumed_optimizer, step_size=2, gamma=0.1)
resumed_scheduler.load_state_dict(checkpoint["scheduler"])
resumed_lr = resumed_optimizer.param_groups[0]["lr"]
resumed_acc1, resumed_summary = validate(val_loader, resumed, criterion)
momentum_keys = sorted(resumed_optimizer.state_dict()["state"][0])
