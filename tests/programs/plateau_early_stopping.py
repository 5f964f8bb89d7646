"""The training loop of many papers' reference code: ``ReduceLROnPlateau`` on the validation
loss (mode "min", patience, threshold, cooldown, min_lr; its ``get_last_lr``, ``num_bad_epochs``
and ``state_dict``), an ``EarlyStopping`` helper that keeps the best weights with
``copy.deepcopy(model.state_dict())`` and stops after ``patience`` epochs without improvement,
gradients clipped by norm with ``clip_grad_norm_(foreach=True)`` (its returned total norm
logged) and by value with ``clip_grad_value_(foreach=True)``, ``error_if_nonfinite=True``
raising on a NaN gradient, and a scheduler in ``mode="max"`` on accuracy for comparison."""

import copy

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy, randn
from torch.nn.utils import clip_grad_norm_, clip_grad_value_


class EarlyStopping:
    def __init__(self, patience=4, min_delta=1e-3):
        self.patience, self.min_delta = patience, min_delta
        self.best, self.counter, self.best_state, self.best_epoch = float("inf"), 0, None, -1

    def step(self, loss, model, epoch):
        if loss < self.best - self.min_delta:
            self.best, self.counter, self.best_epoch = loss, 0, epoch
            self.best_state = copy.deepcopy(model.state_dict())
            return False
        self.counter += 1
        return self.counter >= self.patience


rng = np.random.default_rng(0)
X = randn(rng, 192, 4)
y = (X[:, :1] * X[:, 1:2] + 0.3 * randn(rng, 192, 1)).squeeze(1)
X_train, y_train, X_val, y_val = X[:128], y[:128], X[128:], y[128:]

model = init_from_numpy(nn.Sequential(nn.Linear(4, 64), nn.Tanh(), nn.Linear(64, 1)), seed=1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.2, momentum=0.9)
scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
    optimizer, mode="min", factor=0.5, patience=2, threshold=1e-2, cooldown=1, min_lr=0.01
)
stopper = EarlyStopping(patience=6)
train_losses, val_losses, lrs, total_norms, bad_epochs = [], [], [], [], []
for epoch in range(60):
    model.train()
    for i in range(0, 128, 32):
        loss = F.mse_loss(model(X_train[i : i + 32]).squeeze(1), y_train[i : i + 32])
        optimizer.zero_grad()
        loss.backward()
        total_norms.append(clip_grad_norm_(model.parameters(), max_norm=1.0, foreach=True).item())
        clip_grad_value_(model.parameters(), clip_value=0.5, foreach=True)
        optimizer.step()
    train_losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        val_loss = F.mse_loss(model(X_val).squeeze(1), y_val).item()
    val_losses.append(val_loss)
    scheduler.step(val_loss)
    lrs.append(scheduler.get_last_lr()[0])
    bad_epochs.append(scheduler.num_bad_epochs)
    if stopper.step(val_loss, model, epoch):
        break
stopped_epoch = epoch
model.load_state_dict(stopper.best_state)
with torch.no_grad():
    restored_val = F.mse_loss(model(X_val).squeeze(1), y_val).item()
scheduler_state = {k: v for k, v in scheduler.state_dict().items() if k != "mode_worse"}
max_grad_after_clip = max(p.grad.abs().max().item() for p in model.parameters())

model[0].weight.grad[0, 0] = float("nan")
try:
    clip_grad_norm_(model.parameters(), max_norm=1.0, error_if_nonfinite=True, foreach=True)
    nonfinite_error = None
except RuntimeError as error:
    nonfinite_error = str(error)
nan_norm = clip_grad_norm_(model.parameters(), max_norm=1.0, foreach=True).item()

accuracy_opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
max_sched = torch.optim.lr_scheduler.ReduceLROnPlateau(accuracy_opt, mode="max", patience=1)
max_lrs = []
for acc in [0.5, 0.6, 0.6, 0.6, 0.59, 0.7, 0.7, 0.7]:
    max_sched.step(acc)
    max_lrs.append(accuracy_opt.param_groups[0]["lr"])
