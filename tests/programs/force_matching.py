"""A neural interatomic potential trained on energies and forces, as SchNetPack/NequIP-style
training scripts do it in plain PyTorch: pair distances from ``torch.triu_indices`` and
``torch.linalg.norm``, a radial basis with a smooth cosine cutoff, per-pair energies summed
per configuration with ``index_add_``, forces ``-torch.autograd.grad(energy.sum(), pos,
create_graph=True)[0]`` so that a force-matching loss trains the network (a double
backward), then velocity-Verlet molecular dynamics with the learned forces checked for
energy drift; the reference is a Lennard-Jones cluster written in NumPy."""

import numpy as np
import torch
import torch.nn as nn
from numpy_init import init_from_numpy

N_ATOMS, CUTOFF = 5, 2.5


def lennard_jones(pos):
    """Energies and forces of a Lennard-Jones cluster (sigma = epsilon = 1), in NumPy."""
    diff = pos[:, :, None, :] - pos[:, None, :, :]
    r = np.linalg.norm(diff, axis=-1) + np.eye(pos.shape[1])
    inv6 = r**-6
    energy = 2 * (inv6**2 - inv6)
    np.einsum("bii->bi", energy)[:] = 0
    dE_dr = 4 * (-12 * inv6**2 + 6 * inv6) / r
    np.einsum("bii->bi", dE_dr)[:] = 0
    forces = -(dE_dr[..., None] * diff / r[..., None]).sum(2)
    return energy.sum((1, 2)), forces


class PairPotential(nn.Module):
    def __init__(self, n_rbf=16):
        super().__init__()
        self.register_buffer("centers", torch.linspace(0.8, CUTOFF, n_rbf))
        self.width = 8.0
        self.net = nn.Sequential(nn.Linear(n_rbf, 32), nn.SiLU(), nn.Linear(32, 1))

    def forward(self, pos):
        batch, n, _ = pos.shape
        i, j = torch.triu_indices(n, n, offset=1)
        r = torch.linalg.norm(pos[:, i] - pos[:, j], dim=-1)
        rbf = torch.exp(-self.width * (r.unsqueeze(-1) - self.centers) ** 2)
        cutoff = 0.5 * (torch.cos(torch.pi * r / CUTOFF) + 1) * (r < CUTOFF)
        pair_energy = self.net(rbf).squeeze(-1) * cutoff + 4 * torch.exp(-8 * (r - 0.7))
        energy = torch.zeros(batch, dtype=pos.dtype).index_add_(
            0, torch.arange(batch).repeat_interleave(i.numel()), pair_energy.reshape(-1)
        )
        return energy


def energy_and_forces(model, pos, create_graph):
    pos = pos.requires_grad_(True)
    energy = model(pos)
    forces = -torch.autograd.grad(energy.sum(), pos, create_graph=create_graph)[0]
    return energy, forces


rng = np.random.default_rng(0)
lattice = np.array([[0, 0, 0], [1.1, 0, 0], [0, 1.1, 0], [0, 0, 1.1], [1.1, 1.1, 0]], dtype=float)
configs = lattice[None] + 0.03 * rng.standard_normal((32, N_ATOMS, 3))
ref_energy, ref_forces = lennard_jones(configs)
pos = torch.tensor(configs, dtype=torch.float32)
e_ref = torch.tensor(ref_energy, dtype=torch.float32)
f_ref = torch.tensor(ref_forces, dtype=torch.float32)

model = init_from_numpy(PairPotential(), seed=4)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
energy_losses, force_losses = [], []
for epoch in range(45):
    energy, forces = energy_and_forces(model, pos.clone(), create_graph=True)
    e_loss = ((energy - e_ref) ** 2).mean() / N_ATOMS
    f_loss = ((forces - f_ref) ** 2).mean()
    loss = 0.1 * e_loss + f_loss
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    energy_losses.append(e_loss.item())
    force_losses.append(f_loss.item())
grad_norm = torch.cat([p.grad.flatten() for p in model.parameters()]).norm().item()

# velocity Verlet with the learned forces: total energy should stay nearly constant
x = pos[:1].detach().clone()
v = torch.zeros_like(x)
dt, totals = 0.005, []
_, f = energy_and_forces(model, x.clone(), create_graph=False)
for step in range(25):
    v = v + 0.5 * dt * f
    x = (x + dt * v).detach()
    e, f = energy_and_forces(model, x.clone(), create_graph=False)
    v = v + 0.5 * dt * f
    totals.append(e.item() + 0.5 * (v**2).sum().item())
energy_drift = max(totals) - min(totals)
net_force = f.sum(1).abs().max().item()  # a pair potential's forces sum to zero
