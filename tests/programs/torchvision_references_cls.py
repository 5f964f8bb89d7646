"""The classification training recipe of torchvision's ``references/classification``
(``train.py`` and ``utils.py``), as written for PyTorch, on a small synthetic image set and a
small CNN: ``SmoothedValue`` (a ``deque`` window, ``torch.tensor(list(deque)).median()``,
global averages), ``MetricLogger`` built on ``defaultdict(SmoothedValue)``, ``set_weight_decay``
with ``norm_classes`` read from ``torch.nn.modules.batchnorm._BatchNorm`` and
``instancenorm._InstanceNorm`` plus custom keys, SGD with Nesterov over those groups,
``CrossEntropyLoss(label_smoothing=)``, ``SequentialLR`` of ``LinearLR`` warm-up and
``CosineAnnealingLR``, ``ExponentialMovingAverage`` as an ``AveragedModel`` subclass with
``use_buffers=True`` updated every few steps (``n_averaged.fill_(0)`` during warm-up), and
``accuracy`` / ``evaluate`` under ``torch.inference_mode()``."""

from collections import defaultdict, deque

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)


class SmoothedValue:
    def __init__(self, window_size=20, fmt=None):
        if fmt is None:
            fmt = "{median:.4f} ({global_avg:.4f})"
        self.deque = deque(maxlen=window_size)
        self.total, self.count, self.fmt = 0.0, 0, fmt

    def update(self, value, n=1):
        self.deque.append(value)
        self.count += n
        self.total += value * n

    @property
    def median(self):
        return torch.tensor(list(self.deque)).median().item()

    @property
    def avg(self):
        return torch.tensor(list(self.deque), dtype=torch.float32).mean().item()

    @property
    def global_avg(self):
        return self.total / self.count

    @property
    def max(self):
        return max(self.deque)

    @property
    def value(self):
        return self.deque[-1]

    def __str__(self):
        return self.fmt.format(
            median=self.median,
            avg=self.avg,
            global_avg=self.global_avg,
            max=self.max,
            value=self.value,
        )


class MetricLogger:
    def __init__(self, delimiter="\t"):
        self.meters, self.delimiter = defaultdict(SmoothedValue), delimiter

    def update(self, **kwargs):
        for k, v in kwargs.items():
            if isinstance(v, torch.Tensor):
                v = v.item()
            assert isinstance(v, (float, int))
            self.meters[k].update(v)

    def __str__(self):
        return self.delimiter.join(f"{name}: {str(meter)}" for name, meter in self.meters.items())

    def add_meter(self, name, meter):
        self.meters[name] = meter


class ExponentialMovingAverage(torch.optim.swa_utils.AveragedModel):
    def __init__(self, model, decay, device="cpu"):
        def ema_avg(avg_model_param, model_param, num_averaged):
            return decay * avg_model_param + (1 - decay) * model_param

        super().__init__(model, device, ema_avg, use_buffers=True)


def accuracy(output, target, topk=(1,)):
    with torch.inference_mode():
        maxk, batch_size = max(topk), target.size(0)
        if target.ndim == 2:
            target = target.max(dim=1)[1]
        _, pred = output.topk(maxk, 1, True, True)
        correct = pred.t().eq(target[None])
        return [correct[:k].flatten().sum(dtype=torch.float32) * (100.0 / batch_size) for k in topk]


def set_weight_decay(model, weight_decay, norm_weight_decay=None, custom_keys_weight_decay=None):
    norm_classes = (
        torch.nn.modules.batchnorm._BatchNorm,
        torch.nn.LayerNorm,
        torch.nn.GroupNorm,
        torch.nn.modules.instancenorm._InstanceNorm,
        torch.nn.LocalResponseNorm,
    )
    params = {"other": [], "norm": []}
    params_weight_decay = {"other": weight_decay, "norm": norm_weight_decay}
    custom_keys = []
    for key, wd in custom_keys_weight_decay or []:
        params[key], params_weight_decay[key] = [], wd
        custom_keys.append(key)

    def _add_params(module, prefix=""):
        for name, p in module.named_parameters(recurse=False):
            if not p.requires_grad:
                continue
            is_custom_key = False
            for key in custom_keys:
                target_name = f"{prefix}.{name}" if prefix != "" and "." in key else name
                if key == target_name:
                    params[key].append(p)
                    is_custom_key = True
                    break
            if not is_custom_key:
                if norm_weight_decay is not None and isinstance(module, norm_classes):
                    params["norm"].append(p)
                else:
                    params["other"].append(p)
        for child_name, child_module in module.named_children():
            child_prefix = f"{prefix}.{child_name}" if prefix != "" else child_name
            _add_params(child_module, prefix=child_prefix)

    _add_params(model)
    return [
        {"params": params[key], "weight_decay": params_weight_decay[key]}
        for key in params
        if len(params[key]) > 0
    ]


class SmallNet(nn.Module):
    def __init__(self, classes=6):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
            nn.Conv2d(8, 8, 3, stride=2, padding=1), nn.GroupNorm(2, 8),
            nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        )  # fmt: skip
        self.class_token = nn.Parameter(torch.zeros(8))
        self.fc = nn.Linear(8, classes)

    def forward(self, x):
        return self.fc(self.features(x) + self.class_token)


g = torch.Generator().manual_seed(1)
labels = torch.randint(0, 6, (96,), generator=g)
images = torch.randn(96, 3, 8, 8, generator=g) * 0.5
images[torch.arange(96), labels % 3, :4] += (labels // 3 * 4 - 2).float().view(-1, 1, 1)
train_loader = DataLoader(TensorDataset(images[:64], labels[:64]), batch_size=16, shuffle=True)
val_loader = DataLoader(TensorDataset(images[64:], labels[64:]), batch_size=16)

model = SmallNet()
parameters = set_weight_decay(model, 1e-4, norm_weight_decay=0.0,
                              custom_keys_weight_decay=[("class_token", 0.0)])  # fmt: skip
group_summary = [(len(p["params"]), p["weight_decay"]) for p in parameters]
criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
optimizer = torch.optim.SGD(parameters, lr=0.1, momentum=0.9, weight_decay=1e-4, nesterov=True)
epochs, warmup_epochs, ema_steps, batch_size = 6, 2, 2, 16
main_lr_scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
    optimizer, T_max=epochs - warmup_epochs, eta_min=0.0
)
warmup_lr_scheduler = torch.optim.lr_scheduler.LinearLR(
    optimizer, start_factor=0.1, total_iters=warmup_epochs
)
lr_scheduler = torch.optim.lr_scheduler.SequentialLR(
    optimizer, schedulers=[warmup_lr_scheduler, main_lr_scheduler], milestones=[warmup_epochs]
)
adjust = batch_size * ema_steps / epochs
alpha = min(1.0, (1.0 - 0.99) * adjust)
model_ema = ExponentialMovingAverage(model, device="cpu", decay=1.0 - alpha)


def evaluate(model, loader):
    model.eval()
    metric_logger = MetricLogger(delimiter="  ")
    with torch.inference_mode():
        for image, target in loader:
            output = model(image)
            loss = criterion(output, target)
            acc1, acc5 = accuracy(output, target, topk=(1, 5))
            metric_logger.update(loss=loss.item())
            metric_logger.meters["acc1"].update(acc1.item(), n=image.shape[0])
            metric_logger.meters["acc5"].update(acc5.item(), n=image.shape[0])
    return metric_logger.meters["acc1"].global_avg


logs, lrs, n_averaged, evals = [], [], [], []
for epoch in range(epochs):
    model.train()
    metric_logger = MetricLogger(delimiter="  ")
    metric_logger.add_meter("lr", SmoothedValue(window_size=1, fmt="{value}"))
    for i, (image, target) in enumerate(train_loader):
        output = model(image)
        loss = criterion(output, target)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 2.0)
        optimizer.step()
        if i % ema_steps == 0:
            model_ema.update_parameters(model)
            if epoch < warmup_epochs:
                model_ema.n_averaged.fill_(0)
        acc1, acc5 = accuracy(output, target, topk=(1, 5))
        metric_logger.update(loss=loss.item(), lr=optimizer.param_groups[0]["lr"])
        metric_logger.meters["acc1"].update(acc1.item(), n=image.shape[0])
        metric_logger.meters["acc5"].update(acc5.item(), n=image.shape[0])
    logs.append(str(metric_logger))
    lr_scheduler.step()
    lrs.append(optimizer.param_groups[0]["lr"])
    n_averaged.append(model_ema.n_averaged.item())
    evals.append([evaluate(model, val_loader), evaluate(model_ema, val_loader)])
ema_running_var = model_ema.module.features[1].running_var[:3].tolist()
acc_dtype = str(accuracy(torch.randn(4, 6), torch.tensor([0, 1, 2, 3]))[0].dtype)
meter = SmoothedValue(window_size=3)
for v in [4.0, 1.0, 3.0, 2.0]:
    meter.update(v)
meter_str = [str(meter), meter.median, meter.max, meter.value]
