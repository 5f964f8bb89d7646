"""Learning-rate schedules as training scripts combine them: linear warmup then cosine decay
(SequentialLR of LinearLR and CosineAnnealingLR, as timm and the HuggingFace scripts do), the
Transformer paper's inverse-square-root warmup as a LambdaLR, OneCycleLR stepped per batch
(fast.ai's super-convergence, with momentum cycling), CyclicLR in triangular2 mode,
CosineAnnealingWarmRestarts stepped with fractional epochs (SGDR), and ChainedScheduler of
ExponentialLR and MultiStepLR; each schedule's learning rates are recorded, and one of them
trains a small regression model."""

import math

import numpy as np
import torch
import torch.nn as nn
from numpy_init import init_from_numpy, randn
from torch.optim.lr_scheduler import (
    ChainedScheduler,
    CosineAnnealingLR,
    CosineAnnealingWarmRestarts,
    CyclicLR,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    MultiStepLR,
    OneCycleLR,
    PolynomialLR,
    SequentialLR,
)


def record(optimizer, scheduler, steps, epoch_fraction=None):
    lrs, momenta = [], []
    for step in range(steps):
        lrs.append(optimizer.param_groups[0]["lr"])
        momenta.append(
            optimizer.param_groups[0].get(
                "momentum", optimizer.param_groups[0].get("betas", (None,))[0]
            )
        )
        optimizer.step()
        if epoch_fraction is None:
            scheduler.step()
        else:
            scheduler.step(step * epoch_fraction)
    return lrs, momenta


def fresh(kind="sgd", lr=0.1):
    param = nn.Parameter(torch.zeros(3))
    if kind == "adam":
        return torch.optim.Adam([param], lr=lr)
    return torch.optim.SGD([param], lr=lr, momentum=0.9)


schedules = {}

opt = fresh()
warmup = LinearLR(opt, start_factor=0.01, end_factor=1.0, total_iters=5)
cosine = CosineAnnealingLR(opt, T_max=15, eta_min=1e-4)
schedules["warmup_cosine"] = record(opt, SequentialLR(opt, [warmup, cosine], milestones=[5]), 20)

d_model, warmup_steps = 64, 4
opt = fresh("adam", lr=1.0)
noam = LambdaLR(
    opt, lambda step: d_model**-0.5 * min((step + 1) ** -0.5, (step + 1) * warmup_steps**-1.5)
)
schedules["noam"] = record(opt, noam, 12)

opt = fresh()
schedules["one_cycle"] = record(opt, OneCycleLR(opt, max_lr=0.5, total_steps=20, pct_start=0.3), 20)

opt = fresh("adam")
one_cycle_adam = OneCycleLR(opt, max_lr=0.01, epochs=2, steps_per_epoch=5, anneal_strategy="linear")
schedules["one_cycle_adam"] = record(opt, one_cycle_adam, 10)

opt = fresh()
cyclic = CyclicLR(opt, base_lr=0.01, max_lr=0.1, step_size_up=3, mode="triangular2")
schedules["cyclic"] = record(opt, cyclic, 18)

opt = fresh()
sgdr = CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2, eta_min=0.001)
schedules["sgdr"] = record(opt, sgdr, 16, epoch_fraction=0.25)

opt = fresh()
chained = ChainedScheduler(
    [ExponentialLR(opt, gamma=0.9), MultiStepLR(opt, milestones=[4, 8], gamma=0.5)]
)
schedules["chained"] = record(opt, chained, 10)

opt = fresh()
schedules["poly"] = record(opt, PolynomialLR(opt, total_iters=6, power=2.0), 8)

for name, (lrs, _) in schedules.items():
    print(f"{name:15s} " + " ".join(f"{lr:.4f}" for lr in lrs[:6]) + " ...")

# a model trained with the warmup + cosine schedule
rng = np.random.default_rng(0)
x = randn(rng, 128, 8)
y = torch.sin(x[:, :1] * 2) + 0.5 * x[:, 1:2]
model = init_from_numpy(nn.Sequential(nn.Linear(8, 32), nn.Tanh(), nn.Linear(32, 1)))
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-2, weight_decay=1e-2)
total = 40
scheduler = SequentialLR(
    optimizer,
    [
        LinearLR(optimizer, start_factor=0.1, total_iters=5),
        CosineAnnealingLR(optimizer, T_max=total - 5),
    ],
    milestones=[5],
)
losses = []
for step in range(total):
    optimizer.zero_grad()
    loss = nn.functional.mse_loss(model(x), y)
    loss.backward()
    optimizer.step()
    scheduler.step()
    losses.append(loss.item())
final_lr = scheduler.get_last_lr()[0]
print(f"loss {losses[0]:.4f} -> {losses[-1]:.4f}, final lr {final_lr:.2e}")
state = scheduler.state_dict()
assert math.isfinite(losses[-1])
