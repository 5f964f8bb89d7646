"""A learning-rate range test (Smith; the fastai / torch-lr-finder recipe): the model's and
optimizer's ``state_dict`` saved with ``copy.deepcopy``, the learning rate raised exponentially
each batch by a custom ``_LRScheduler`` subclass (``get_lr`` from ``last_epoch`` and
``base_lrs``), the loss smoothed with a bias-corrected exponential average, the run stopped
when it diverges, the suggested rate at the steepest descent (``torch.diff`` + ``argmin``),
and everything put back with ``load_state_dict`` before the real training with ``OneCycleLR``,
gradient accumulation and ``clip_grad_norm_``."""

import copy

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy, randn
from torch.optim.lr_scheduler import OneCycleLR, _LRScheduler

rng = np.random.default_rng(131)
x = randn(rng, 512, 8)
y = (x[:, :4].sum(1) > 0).long() + (x[:, 4:].pow(2).sum(1) > 4).long()


class ExponentialLR(_LRScheduler):
    def __init__(self, optimizer, end_lr, num_iter, last_epoch=-1):
        self.end_lr, self.num_iter = end_lr, num_iter
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        r = self.last_epoch / (self.num_iter - 1)
        return [base_lr * (self.end_lr / base_lr) ** r for base_lr in self.base_lrs]


model = init_from_numpy(nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 3)), seed=131)
optimizer = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9)
model_state = copy.deepcopy(model.state_dict())
optimizer_state = copy.deepcopy(optimizer.state_dict())

num_iter, smooth_f, diverge_th = 40, 0.05, 5.0
scheduler = ExponentialLR(optimizer, end_lr=10.0, num_iter=num_iter)
history = {"lr": [], "loss": []}
best_loss, avg_loss = None, 0.0
for it in range(num_iter):
    idx = torch.from_numpy(rng.choice(512, 32, replace=False))
    loss = F.cross_entropy(model(x[idx]), y[idx])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    history["lr"].append(scheduler.get_last_lr()[0])
    scheduler.step()
    avg_loss = smooth_f * loss.item() + (1 - smooth_f) * avg_loss if it else loss.item()
    smoothed = avg_loss
    history["loss"].append(smoothed)
    if best_loss is None or smoothed < best_loss:
        best_loss = smoothed
    if smoothed > diverge_th * best_loss:
        break
stopped_at = it
losses = torch.tensor(history["loss"][5:-2])
steepest = int(torch.diff(losses).argmin()) + 5
suggested_lr = history["lr"][steepest]

model.load_state_dict(model_state)
optimizer.load_state_dict(optimizer_state)
restored_lr = optimizer.param_groups[0]["lr"]
restored_gap = max((p - model_state[k]).abs().max().item() for k, p in model.state_dict().items())

accumulation, epochs, batch = 2, 4, 32
steps_per_epoch = 512 // batch // accumulation
scheduler = OneCycleLR(
    optimizer,
    max_lr=min(suggested_lr, 1.0),
    epochs=epochs,
    steps_per_epoch=steps_per_epoch,
    pct_start=0.3,
)
train_losses, lrs, norms = [], [], []
for epoch in range(epochs):
    perm = torch.from_numpy(rng.permutation(512))
    optimizer.zero_grad()
    for i, start in enumerate(range(0, 512, batch)):
        idx = perm[start : start + batch]
        loss = F.cross_entropy(model(x[idx]), y[idx]) / accumulation
        loss.backward()
        if (i + 1) % accumulation == 0:
            norms.append(nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0).item())
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            lrs.append(scheduler.get_last_lr()[0])
    train_losses.append(loss.item() * accumulation)
with torch.no_grad():
    accuracy = (model(x).argmax(1) == y).float().mean().item()
momenta = optimizer.param_groups[0]["momentum"]
print(f"stopped at {stopped_at}, suggested lr {suggested_lr:.4f}; accuracy {accuracy:.3f}")
