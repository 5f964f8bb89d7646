"""A hand-written hyperparameter sweep of the kind people run before reaching for a tuning
library: ``itertools.product`` over learning rate, weight decay and dropout, a fresh model per
trial built from one initial ``state_dict``, early stopping on validation loss with patience,
the best epoch's full checkpoint (model, optimizer, scheduler, epoch, metrics) kept with
``torch.save`` into an ``io.BytesIO`` and reloaded with ``torch.load(weights_only=True)``, and the
winning trial resumed from its checkpoint for two more epochs, bit for bit as an uninterrupted
run."""

import copy
import io
import itertools

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy, randn

rng = np.random.default_rng(141)
x = randn(rng, 300, 10)
y = (x[:, :3] @ torch.tensor([1.0, -2.0, 0.5]) + 0.5 * randn(rng, 300) > 0).long()
train_x, train_y, val_x, val_y = x[:200], y[:200], x[200:], y[200:]


class Net(nn.Module):
    def __init__(self, dropout):
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(10, 32), nn.ReLU(), nn.Dropout(dropout), nn.Linear(32, 2)
        )

    def forward(self, x):
        return self.body(x)


initial_state = copy.deepcopy(init_from_numpy(Net(0.0), seed=141).state_dict())


def evaluate(model):
    model.eval()
    with torch.no_grad():
        logits = model(val_x)
        return F.cross_entropy(logits, val_y).item(), (
            logits.argmax(1) == val_y
        ).float().mean().item()


def run_epoch(model, optimizer, scheduler, epoch):
    model.train()
    perm = torch.from_numpy(np.random.default_rng(epoch).permutation(200))
    for i in range(0, 200, 40):
        idx = perm[i : i + 40]
        loss = F.cross_entropy(model(train_x[idx]), train_y[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    scheduler.step()


def make(lr, wd, dropout):
    model = Net(dropout)
    model.load_state_dict(initial_state)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=wd)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=4, gamma=0.5)
    return model, optimizer, scheduler


grid = {"lr": [3e-3, 3e-2], "weight_decay": [0.0, 0.1], "dropout": [0.0]}
results = []
checkpoints = {}
for lr, wd, dropout in itertools.product(*grid.values()):
    model, optimizer, scheduler = make(lr, wd, dropout)
    best, patience, bad_epochs = float("inf"), 3, 0
    for epoch in range(12):
        run_epoch(model, optimizer, scheduler, epoch)
        val_loss, val_acc = evaluate(model)
        if val_loss < best - 1e-4:
            best, bad_epochs = val_loss, 0
            buffer = io.BytesIO()
            torch.save(
                {
                    "epoch": epoch,
                    "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(),
                    "val_loss": val_loss,
                    "val_acc": val_acc,
                    "hparams": {"lr": lr, "weight_decay": wd, "dropout": dropout},
                },
                buffer,
            )
            checkpoints[(lr, wd, dropout)] = buffer.getvalue()
        else:
            bad_epochs += 1
            if bad_epochs >= patience:
                break
    results.append(
        {
            "lr": lr,
            "weight_decay": wd,
            "dropout": dropout,
            "best_val_loss": best,
            "stopped_epoch": epoch,
        }
    )

winner = min(results, key=lambda r: r["best_val_loss"])
key = (winner["lr"], winner["weight_decay"], winner["dropout"])
checkpoint = torch.load(io.BytesIO(checkpoints[key]), weights_only=True)
optimizer_state_step = [
    s["step"].item() if torch.is_tensor(s["step"]) else s["step"]
    for s in checkpoint["optimizer"]["state"].values()
]
model, optimizer, scheduler = make(*key)
model.load_state_dict(checkpoint["model"])
optimizer.load_state_dict(checkpoint["optimizer"])
scheduler.load_state_dict(checkpoint["scheduler"])
start = checkpoint["epoch"] + 1
for epoch in range(start, start + 2):
    run_epoch(model, optimizer, scheduler, epoch)
resumed = [p.detach().clone() for p in model.parameters()]

model, optimizer, scheduler = make(*key)
for epoch in range(start + 2):
    run_epoch(model, optimizer, scheduler, epoch)
straight = list(model.parameters())
resume_gap = max((a - b).abs().max().item() for a, b in zip(resumed, straight))
checkpoint_keys = sorted(checkpoint)
scheduler_state = {
    k: v
    for k, v in checkpoint["scheduler"].items()
    if k in ("last_epoch", "_step_count", "base_lrs", "_last_lr")
}
print(f"winner {winner}; resume gap {resume_gap}")
