"""Population based training (Jaderberg et al. 2017) written by hand, as the PBT tutorials
for plain PyTorch do it: a population of models with their own SGD optimizers and
hyperparameters (learning rate, momentum, weight decay read from and written into
``optimizer.param_groups``), "ready" members ranked by validation loss, the bottom quartile
exploiting the top one by ``load_state_dict`` of its model and of a ``copy.deepcopy`` of its
optimizer's ``state_dict`` (momentum buffers included), then exploring by perturbing the
copied hyperparameters; checkpoints of the whole population go through ``torch.save`` to
an ``io.BytesIO`` and back. Perturbation choices are drawn with NumPy."""

import copy
import io

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy, randn

rng = np.random.default_rng(0)
x = randn(rng, 192, 6)
w = randn(rng, 6, 1)
y = torch.sin(0.4 * x @ w) + 0.1 * x[:, :1] ** 2
x_train, y_train, x_val, y_val = x[:128], y[:128], x[128:], y[128:]


def make_member(seed, lr, momentum, weight_decay):
    model = init_from_numpy(nn.Sequential(nn.Linear(6, 24), nn.Tanh(), nn.Linear(24, 1)), seed=seed)
    optimizer = torch.optim.SGD(
        model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay
    )
    return {"model": model, "optimizer": optimizer, "score": None, "id": seed}


def train_steps(member, steps):
    model, optimizer = member["model"], member["optimizer"]
    for step in range(steps):
        idx = slice((step % 4) * 32, (step % 4 + 1) * 32)
        optimizer.zero_grad()
        F.mse_loss(model(x_train[idx]), y_train[idx]).backward()
        optimizer.step()
    with torch.no_grad():
        member["score"] = F.mse_loss(model(x_val), y_val).item()


def hyperparameters(member):
    group = member["optimizer"].param_groups[0]
    return [group["lr"], group["momentum"], group["weight_decay"]]


population = [
    make_member(seed, lr, momentum, wd)
    for seed, (lr, momentum, wd) in enumerate(
        [(0.003, 0.0, 0.0), (0.01, 0.5, 1e-4), (0.03, 0.9, 0.0), (0.1, 0.0, 1e-3),
         (0.3, 0.5, 0.0), (1.0, 0.9, 1e-4), (0.2, 0.8, 0.0), (0.01, 0.9, 1e-3)]
    )
]  # fmt: skip
history, exploits, best_scores = [], [], []
for generation in range(6):
    for member in population:
        train_steps(member, 8)
    ranked = sorted(population, key=lambda m: m["score"])
    history.append([round(m["score"], 6) for m in population])
    best_scores.append(ranked[0]["score"])
    quartile = len(ranked) // 4
    for loser in ranked[-quartile:]:
        winner = ranked[int(rng.integers(0, quartile))]
        loser["model"].load_state_dict(winner["model"].state_dict())
        loser["optimizer"].load_state_dict(copy.deepcopy(winner["optimizer"].state_dict()))
        for group in loser["optimizer"].param_groups:
            group["lr"] *= float(rng.choice([0.8, 1.2]))
            group["momentum"] = min(0.99, group["momentum"] * float(rng.choice([0.8, 1.2])))
        exploits.append((loser["id"], winner["id"]))

buffer = io.BytesIO()
torch.save(
    [
        {"model": m["model"].state_dict(), "optimizer": m["optimizer"].state_dict()}
        for m in population
    ],
    buffer,
)
buffer.seek(0)
restored = torch.load(buffer, weights_only=True)
restored_member = make_member(99, 1.0, 0.0, 0.0)
restored_member["model"].load_state_dict(restored[0]["model"])
restored_member["optimizer"].load_state_dict(restored[0]["optimizer"])
restored_hparams = hyperparameters(restored_member)
original, copy_ = population[0], restored_member
train_steps(original, 3)
train_steps(copy_, 3)
resume_gap = abs(original["score"] - copy_["score"])
final_hparams = [hyperparameters(m) for m in population]
momentum_buffers_copied = all(
    "momentum_buffer" in s for s in population[0]["optimizer"].state_dict()["state"].values()
)
state_keys = sorted(restored[0]["optimizer"]["param_groups"][0].keys())
