"""Stochastic simulation in PyTorch as computational-physics notebooks write it: a 2-D Ising
model sampled by checkerboard Metropolis updates (neighbour sums with ``torch.roll`` on an int8
lattice, acceptance by ``torch.rand``), its magnetization and energy across temperatures
around the critical point; Euler-Maruyama and Milstein schemes for geometric Brownian motion
checked against the exact solution driven by the same Brownian increments (strong error);
and a neural SDE drift learned by maximum likelihood of Euler-Maruyama transition densities
(``torch.distributions.Normal``) from simulated Ornstein-Uhlenbeck paths."""

import math

import torch
import torch.nn as nn

torch.manual_seed(0)

# -- Ising model, J = 1, periodic boundaries
L = 16
ii, jj = torch.meshgrid(torch.arange(L), torch.arange(L), indexing="ij")
checker = ((ii + jj) % 2).bool()


def neighbour_sum(spins):
    s = spins.to(torch.int32)
    return torch.roll(s, 1, 0) + torch.roll(s, -1, 0) + torch.roll(s, 1, 1) + torch.roll(s, -1, 1)


def sweep(spins, beta):
    for colour in (checker, ~checker):
        delta_e = 2 * spins.to(torch.int32) * neighbour_sum(spins)
        accept = torch.rand(L, L) < torch.exp(-beta * delta_e.float())
        flip = accept & colour
        spins = torch.where(flip, -spins, spins)
    return spins


def energy(spins):
    s = spins.to(torch.int32)
    return -(s * (torch.roll(s, 1, 0) + torch.roll(s, 1, 1))).sum().item() / L**2


ising = {}
for temperature in (1.5, 2.27, 3.5):
    spins = torch.ones(L, L, dtype=torch.int8)
    mags, energies = [], []
    for step in range(60):
        spins = sweep(spins, 1.0 / temperature)
        if step >= 20:
            mags.append(spins.float().mean().abs().item())
            energies.append(energy(spins))
    ising[temperature] = [sum(mags) / len(mags), sum(energies) / len(energies)]
final_lattice_sum = int(spins.sum())

# -- geometric Brownian motion: Euler-Maruyama and Milstein against the exact solution
mu, sigma, x0, T, n_paths = 0.5, 0.8, 1.0, 1.0, 500
strong_errors = {}
for n_steps in (8, 32, 128):
    dt = T / n_steps
    dW = torch.randn(n_paths, n_steps, dtype=torch.float64) * math.sqrt(dt)
    W_T = dW.sum(1)
    exact = x0 * torch.exp((mu - 0.5 * sigma**2) * T + sigma * W_T)
    em = torch.full((n_paths,), x0, dtype=torch.float64)
    mil = em.clone()
    for k in range(n_steps):
        em = em + mu * em * dt + sigma * em * dW[:, k]
        mil = (
            mil
            + mu * mil * dt
            + sigma * mil * dW[:, k]
            + 0.5 * sigma**2 * mil * (dW[:, k] ** 2 - dt)
        )
    strong_errors[n_steps] = [(em - exact).abs().mean().item(), (mil - exact).abs().mean().item()]


# -- a neural SDE drift fitted to Ornstein-Uhlenbeck paths: dx = -theta (x - m) dt + s dW
theta, m, s, dt = 2.0, 0.5, 0.3, 0.05
paths = [torch.randn(64) * 0.8]
for _ in range(40):
    x = paths[-1]
    paths.append(x - theta * (x - m) * dt + s * math.sqrt(dt) * torch.randn(64))
paths = torch.stack(paths, 1)  # (64, 41)
x_prev, x_next = paths[:, :-1].reshape(-1, 1), paths[:, 1:].reshape(-1, 1)


class Drift(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(1, 16), nn.Tanh(), nn.Linear(16, 1))
        self.log_s = nn.Parameter(torch.tensor(0.0))

    def forward(self, x):
        return self.net(x)


drift = Drift()
optimizer = torch.optim.Adam(drift.parameters(), lr=0.02)
sde_nlls = []
for it in range(80):
    optimizer.zero_grad()
    mean = x_prev + drift(x_prev) * dt
    std = drift.log_s.exp() * math.sqrt(dt)
    nll = -torch.distributions.Normal(mean, std).log_prob(x_next).mean()
    nll.backward()
    optimizer.step()
    sde_nlls.append(nll.item())
with torch.no_grad():
    grid = torch.linspace(-0.5, 1.5, 5).unsqueeze(1)
    learned_drift = drift(grid).squeeze(1).tolist()
    true_drift = (-theta * (grid - m)).squeeze(1).tolist()
learned_s = drift.log_s.exp().item()
