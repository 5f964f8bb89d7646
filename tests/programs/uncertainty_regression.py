"""Regression that predicts its own uncertainty (Nix & Weigend 1994; Lakshminarayanan et al.
2017): a two-headed network fitted with nn.GaussianNLLLoss on heteroscedastic data (softplus
variance), compared with the same loss written by hand; a Poisson regression of counts with
nn.PoissonNLLLoss(log_input=True) and a robust fit with nn.HuberLoss and nn.SmoothL1Loss
on data with outliers."""

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy, randn

rng = np.random.default_rng(0)
x = torch.linspace(-3, 3, 200).unsqueeze(1)
noise_std = 0.1 + 0.4 * (x + 3) / 6  # noise grows from left to right
y = torch.sin(x) + noise_std * randn(rng, 200, 1)


class MeanVariance(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh())
        self.mean, self.var = nn.Linear(32, 1), nn.Linear(32, 1)

    def forward(self, x):
        h = self.body(x)
        return self.mean(h), F.softplus(self.var(h)) + 1e-6


model = init_from_numpy(MeanVariance())
gaussian_nll = nn.GaussianNLLLoss(full=True)
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
nll_losses, formula_gaps = [], []
for step in range(150):
    mean, var = model(x)
    loss = gaussian_nll(mean, y, var)
    by_hand = (0.5 * (torch.log(var) + (y - mean) ** 2 / var) + 0.5 * math.log(2 * math.pi)).mean()
    formula_gaps.append(abs(loss.item() - by_hand.item()))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    nll_losses.append(loss.item())
print(f"Gaussian NLL {nll_losses[0]:.3f} -> {nll_losses[-1]:.3f}")
with torch.no_grad():
    _, var = model(x)
    predicted_std = var.sqrt().squeeze(1)
std_left, std_right = predicted_std[:50].mean().item(), predicted_std[-50:].mean().item()
print(f"predicted noise std: left {std_left:.3f}, right {std_right:.3f}")

# counts whose log-rate is linear in the features
features = randn(rng, 256, 3)
true_w = torch.tensor([0.5, -0.3, 0.2])
counts = torch.from_numpy(
    rng.poisson(np.exp(features.numpy() @ true_w.numpy() + 1.0)).astype(np.float32)
)
poisson_model = init_from_numpy(nn.Linear(3, 1), seed=1)
poisson_loss = nn.PoissonNLLLoss(log_input=True, full=False)
optimizer = torch.optim.SGD(poisson_model.parameters(), lr=0.05)
poisson_losses = []
for step in range(80):
    optimizer.zero_grad()
    loss = poisson_loss(poisson_model(features).squeeze(1), counts)
    loss.backward()
    optimizer.step()
    poisson_losses.append(loss.item())
poisson_w = poisson_model.weight.detach().squeeze(0)
print(
    f"Poisson weights {[round(w, 2) for w in poisson_w.tolist()]}, bias {poisson_model.bias.item():.2f}"
)

# a line with a few gross outliers: Huber and smooth L1 resist them, MSE does not
t = torch.linspace(0, 1, 50).unsqueeze(1)
target = 2 * t + 1
target[::10] += 8.0
slopes = {}
for name, criterion in {
    "mse": nn.MSELoss(),
    "huber": nn.HuberLoss(delta=0.5),
    "smooth_l1": nn.SmoothL1Loss(beta=0.5),
}.items():
    line = init_from_numpy(nn.Linear(1, 1), seed=2)
    optimizer = torch.optim.SGD(line.parameters(), lr=0.5)
    for step in range(250):
        optimizer.zero_grad()
        criterion(line(t), target).backward()
        optimizer.step()
    slopes[name] = (line.weight.item(), line.bias.item())
print("fitted (slope, intercept):", {k: (round(a, 2), round(b, 2)) for k, (a, b) in slopes.items()})
