"""Variational Monte Carlo with a neural wavefunction, as FermiNet/DeepQMC-style tutorials
write it in PyTorch for a 2-D anisotropic harmonic oscillator: ``log psi`` from an MLP with a
Gaussian envelope, the local energy ``-1/2 (lap log psi + |grad log psi|^2) + V`` with the
Laplacian taken one dimension at a time by ``torch.autograd.grad(..., create_graph=True)``,
Metropolis sampling of ``|psi|^2`` under ``torch.no_grad()``, and the score-function gradient
``2 E[(E_L - <E_L>).detach() * log psi]``; the exact ground-state energy is
(1 + 2) / 2 = 1.5. Proposals and acceptance draws come from NumPy."""

import numpy as np
import torch
import torch.nn as nn
from numpy_init import init_from_numpy, rand, randn

OMEGA = torch.tensor([1.0, 2.0], dtype=torch.float64)


class LogPsi(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 1)
        )
        self.log_width = nn.Parameter(torch.zeros(2, dtype=torch.float64))

    def forward(self, x):
        envelope = -(torch.exp(self.log_width) * x**2).sum(-1) * 0.3
        return self.net(x).squeeze(-1) + envelope


def local_energy(log_psi, x):
    x = x.requires_grad_(True)
    lp = log_psi(x)
    grad = torch.autograd.grad(lp.sum(), x, create_graph=True)[0]
    laplacian = torch.zeros_like(lp)
    for d in range(x.shape[1]):
        laplacian = laplacian + torch.autograd.grad(grad[:, d].sum(), x, retain_graph=True)[0][:, d]
    kinetic = -0.5 * (laplacian + (grad**2).sum(-1))
    potential = 0.5 * (OMEGA**2 * x**2).sum(-1)
    return (kinetic + potential).detach()


@torch.no_grad()
def metropolis(log_psi, x, rng, steps, width=0.5):
    accepted = 0.0
    lp = log_psi(x)
    for _ in range(steps):
        proposal = x + width * randn(rng, *x.shape).double()
        lp_new = log_psi(proposal)
        accept = rand(rng, x.shape[0]).double().log() < 2 * (lp_new - lp)
        x = torch.where(accept.unsqueeze(-1), proposal, x)
        lp = torch.where(accept, lp_new, lp)
        accepted += accept.double().mean().item()
    return x, accepted / steps


rng = np.random.default_rng(0)
log_psi = init_from_numpy(LogPsi(), seed=5).double()
optimizer = torch.optim.Adam(log_psi.parameters(), lr=0.01)
walkers = randn(rng, 256, 2).double()
walkers, _ = metropolis(log_psi, walkers, rng, 20)
energies, variances, acceptance = [], [], []
for it in range(40):
    walkers, rate = metropolis(log_psi, walkers, rng, 3)
    e_loc = local_energy(log_psi, walkers.clone())
    e_mean = e_loc.mean()
    loss = 2 * ((e_loc - e_mean) * log_psi(walkers)).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    energies.append(e_mean.item())
    variances.append(e_loc.var().item())
    acceptance.append(rate)

widths = torch.exp(log_psi.log_width).tolist()
# the exact ground state log psi = -(x^2 + 2 y^2) / 2 has zero local-energy variance
exact = lambda x: -0.5 * (OMEGA * x**2).sum(-1)  # noqa: E731
exact_energies = local_energy(exact, walkers[:8].clone()).tolist()
