"""Hamiltonian neural networks (Greydanus et al.) as their PyTorch code writes them: an MLP
predicts a scalar H(q, p); the vector field is the symplectic gradient
``(dH/dp, -dH/dq)`` from ``torch.autograd.grad(H.sum(), x, create_graph=True)``, trained to match
observed time derivatives of a mass-spring system, against a baseline MLP that predicts the
derivatives directly; then both are rolled out with a hand-written RK4 and the energy drift
compared."""

import numpy as np
import torch
import torch.nn as nn
from numpy_init import init_from_numpy

rng = np.random.default_rng(51)


def true_dynamics(x):
    q, p = x[:, 0], x[:, 1]
    return torch.stack([p, -q], dim=1)  # H = (q^2 + p^2) / 2


radius = rng.uniform(0.3, 1.2, 200)
angle = rng.uniform(0, 2 * np.pi, 200)
states = torch.from_numpy(
    np.stack([radius * np.cos(angle), radius * np.sin(angle)], 1).astype(np.float32)
)
derivs = true_dynamics(states) + torch.from_numpy(rng.normal(0, 0.05, (200, 2)).astype(np.float32))


class MLP(nn.Module):
    def __init__(self, out_dim):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(2, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, out_dim)
        )

    def forward(self, x):
        return self.net(x)


class HNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.H = MLP(1)
        self.register_buffer("J", torch.tensor([[0.0, 1.0], [-1.0, 0.0]]))

    def forward(self, x):
        with torch.enable_grad():
            x = x if x.requires_grad else x.requires_grad_(True)
            H = self.H(x)
            dH = torch.autograd.grad(H.sum(), x, create_graph=True)[0]
        return dH @ self.J.T


hnn = init_from_numpy(HNN(), seed=51)
baseline = init_from_numpy(MLP(2), seed=52)
hnn_opt = torch.optim.Adam(hnn.parameters(), lr=1e-2, weight_decay=1e-4)
base_opt = torch.optim.Adam(baseline.parameters(), lr=1e-2, weight_decay=1e-4)
hnn_losses, base_losses = [], []
for step in range(60):
    idx = torch.from_numpy(rng.choice(200, 64, replace=False))
    x, dx = states[idx], derivs[idx]
    for model, opt, log in ((hnn, hnn_opt, hnn_losses), (baseline, base_opt, base_losses)):
        loss = (model(x.clone()) - dx).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        log.append(loss.item())


def rk4(f, x, dt, steps):
    path = [x]
    for _ in range(steps):
        k1 = f(x)
        k2 = f(x + dt / 2 * k1)
        k3 = f(x + dt / 2 * k2)
        k4 = f(x + dt * k3)
        x = (x + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)).detach()
        path.append(x)
    return torch.cat(path)


start = torch.tensor([[1.0, 0.0]])
hnn_path = rk4(lambda x: hnn(x).detach(), start, 0.1, 40)
base_path = rk4(lambda x: baseline(x).detach(), start, 0.1, 40)
true_path = rk4(true_dynamics, start, 0.1, 40)


def energy(path):
    return 0.5 * path.pow(2).sum(1)


hnn_drift = (energy(hnn_path) - 0.5).abs().max().item()
base_drift = (energy(base_path) - 0.5).abs().max().item()
hnn_error = (hnn_path - true_path).norm(dim=1).mean().item()
with torch.no_grad():
    grid = torch.stack(
        torch.meshgrid(torch.linspace(-1, 1, 5), torch.linspace(-1, 1, 5), indexing="ij"), -1
    ).reshape(-1, 2)
learned_H = hnn.H(grid).detach().squeeze(1)
learned_H = (learned_H - learned_H.min()).tolist()
print(
    f"HNN loss {hnn_losses[-1]:.4f} baseline {base_losses[-1]:.4f}; energy drift {hnn_drift:.4f} vs {base_drift:.4f}"
)
