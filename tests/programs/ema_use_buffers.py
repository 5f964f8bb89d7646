"""Exponential moving averages of a model with batch norm, as timm's ``ModelEmaV3`` users and
the ``torch.optim.swa_utils`` docs do it: ``AveragedModel(model,
multi_avg_fn=get_ema_multi_avg_fn(0.9), use_buffers=True)`` so that running statistics are
averaged too (then no ``update_bn`` pass is needed), compared with an EMA that leaves buffers
alone (``use_buffers=False``, whose statistics ``update_bn`` recomputes over a loader),
a hand-written EMA by ``torch._foreach_lerp_`` over parameters and buffers, early stopping
that tracks the best validation loss with ``torch.cummin``, and the averaged model's
``state_dict`` keys (``n_averaged``, ``module.``-prefixed)."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy, randn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn, update_bn
from torch.utils.data import DataLoader, TensorDataset

rng = np.random.default_rng(0)
x = randn(rng, 256, 8) * 2 + 1
y = ((x[:, :4].sum(1) - x[:, 4:].sum(1)) > 0).long()
x_val, y_val = x[192:], y[192:]
x_train, y_train = x[:192], y[:192]

model = init_from_numpy(
    nn.Sequential(nn.Linear(8, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, 2)), seed=4
)
ema_buffers = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.9), use_buffers=True)
ema_params = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.9))
manual = init_from_numpy(
    nn.Sequential(nn.Linear(8, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, 2)), seed=4
)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)


def evaluate(net):
    net.eval()
    with torch.no_grad():
        return F.cross_entropy(net(x_val), y_val).item()


train_losses, val_losses, ema_val_losses = [], [], []
for epoch in range(6):
    model.train()
    for start in range(0, 192, 32):
        loss = F.cross_entropy(model(x_train[start : start + 32]), y_train[start : start + 32])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        ema_buffers.update_parameters(model)
        ema_params.update_parameters(model)
        with torch.no_grad():
            ours = [t for t in manual.state_dict().values() if t.is_floating_point()]
            theirs = [t for t in model.state_dict().values() if t.is_floating_point()]
            torch._foreach_lerp_(ours, theirs, 0.1)
        train_losses.append(loss.item())
    val_losses.append(evaluate(model))
    ema_val_losses.append(evaluate(ema_buffers))

best_so_far = torch.cummin(torch.tensor(ema_val_losses), dim=0)
best_epoch = int(best_so_far.indices[-1])
running_best = best_so_far.values.tolist()

first_mean = model[1].running_mean.clone()
ema_running_mean = ema_buffers.module[1].running_mean[:4].tolist()
params_running_mean_untouched = ema_params.module[1].running_mean[:4].tolist()
update_bn(DataLoader(TensorDataset(x_train), batch_size=64), ema_params)
recomputed_running_mean = ema_params.module[1].running_mean[:4].tolist()
bn_momentum_restored = ema_params.module[1].momentum
ema_params_val = evaluate(ema_params)
n_averaged = int(ema_buffers.n_averaged)
keys = list(ema_buffers.state_dict().keys())
manual_gap = max(
    (a - b).abs().max().item()
    for a, b in zip(manual.state_dict().values(), ema_buffers.module.state_dict().values())
    if a.is_floating_point()
)
