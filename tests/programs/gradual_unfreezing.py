"""ULMFiT-style fine-tuning (Howard and Ruder 2018) as fastai-free PyTorch scripts write it: a
pretrained encoder's layers frozen with ``requires_grad_(False)``, discriminative learning
rates (each lower layer's lr divided by 2.6) in param groups, slanted triangular learning
rates through ``LambdaLR`` with one lambda per group, gradual unfreezing that adds each
layer's group with ``optimizer.add_param_group`` (a new scheduler then built over all groups
with ``last_epoch`` carried on, since ``base_lrs`` are fixed at construction), and the
``state_dict`` of the optimizer and scheduler checked after each stage; also
``LambdaLR`` with a list of lambdas whose length does not match the groups (the error)."""

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy, randn

STEPS_PER_STAGE, BASE_LR, DECAY = 10, 0.02, 2.6


def slanted_triangular(total, cut_frac=0.2, ratio=8):
    cut = math.floor(total * cut_frac)

    def schedule(t):
        p = t / cut if t < cut else 1 - (t - cut) / (cut * (1 / cut_frac - 1))
        return (1 + p * (ratio - 1)) / ratio

    return schedule


rng = np.random.default_rng(0)
encoder = init_from_numpy(
    nn.Sequential(
        nn.Linear(6, 24), nn.Tanh(), nn.Linear(24, 24), nn.Tanh(), nn.Linear(24, 24), nn.Tanh()
    ),
    seed=1,
)
head = init_from_numpy(nn.Linear(24, 2), seed=2)
model = nn.Sequential(encoder, head)
layers = [encoder[4], encoder[2], encoder[0]]  # top to bottom
X = randn(rng, 128, 6)
y = ((X[:, 0] * X[:, 1] + X[:, 2]) > 0).long()

for p in encoder.parameters():
    p.requires_grad_(False)
optimizer = torch.optim.Adam([{"params": head.parameters(), "lr": BASE_LR}])
total = STEPS_PER_STAGE * (len(layers) + 1)
schedule = slanted_triangular(total)
scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, [schedule])
losses, lr_trace, trainable_counts, group_lrs, step = [], [], [], [], 0
for stage in range(len(layers) + 1):
    if stage > 0:
        layer = layers[stage - 1]
        layer.requires_grad_(True)
        optimizer.add_param_group({"params": layer.parameters(), "lr": BASE_LR / DECAY**stage})
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer, [schedule] * len(optimizer.param_groups), last_epoch=step - 1
        )
    trainable_counts.append(sum(p.numel() for p in model.parameters() if p.requires_grad))
    for _ in range(STEPS_PER_STAGE):
        idx = torch.arange(step * 32, step * 32 + 32) % 128
        loss = F.cross_entropy(model(X[idx]), y[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        step += 1
        losses.append(loss.item())
        lr_trace.append([round(g["lr"], 8) for g in optimizer.param_groups])
    group_lrs.append([g["initial_lr"] for g in optimizer.param_groups])

scheduler_keys = sorted(k for k in scheduler.state_dict() if k != "lr_lambdas")
last_epoch = scheduler.state_dict()["last_epoch"]
optimizer_groups = len(optimizer.state_dict()["param_groups"])
frozen_grads = [p.grad is None for p in encoder[0].parameters()]
try:
    torch.optim.lr_scheduler.LambdaLR(optimizer, [schedule, schedule])
    lambda_error = None
except ValueError as error:
    lambda_error = str(error)
with torch.no_grad():
    accuracy = (model(X).argmax(1) == y).float().mean().item()
