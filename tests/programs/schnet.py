"""SchNet (Schütt et al. 2017) as PyTorch re-implementations (schnetpack, PyG's SchNet) write
it: distances on the edges of a fully connected graph as ``(pos[:, row] - pos[:, col]).norm``
(PyTorch's ``cdist`` has no double backward, which force training needs; it computes the
reference potential and is checked against them), a Gaussian radial basis expansion
``exp(-gamma (d - mu)^2)`` of them, a cosine cutoff, continuous-filter convolutions whose filters
come from an MLP on the expansion, shifted softplus ``F.softplus(x) - log 2``, atom embeddings
by ``nn.Embedding``, energy summed over atoms, and forces as ``-dE/dx`` from
``torch.autograd.grad(energy.sum(), pos, create_graph=True)`` trained together with the energy
(force matching needs the second derivative); data from a Lennard-Jones potential on small
clusters."""

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy

N_ATOMS, CUTOFF = 5, 3.0


def shifted_softplus(x):
    return F.softplus(x) - math.log(2.0)


class GaussianSmearing(nn.Module):
    def __init__(self, start=0.0, stop=CUTOFF, num_gaussians=16):
        super().__init__()
        offset = torch.linspace(start, stop, num_gaussians)
        self.coeff = -0.5 / (offset[1] - offset[0]).item() ** 2
        self.register_buffer("offset", offset)

    def forward(self, dist):
        return torch.exp(self.coeff * (dist.unsqueeze(-1) - self.offset) ** 2)


class CFConv(nn.Module):
    def __init__(self, hidden, num_gaussians):
        super().__init__()
        self.filter = nn.Sequential(
            nn.Linear(num_gaussians, hidden), nn.Tanh(), nn.Linear(hidden, hidden)
        )
        self.lin1, self.lin2 = nn.Linear(hidden, hidden, bias=False), nn.Linear(hidden, hidden)

    def forward(self, h, dist, rbf, row, col):
        cutoff = 0.5 * (torch.cos(dist * math.pi / CUTOFF) + 1.0) * (dist < CUTOFF)
        w = self.filter(rbf) * cutoff.unsqueeze(-1)  # (B, E, hidden)
        messages = self.lin1(h)[:, col] * w
        aggregated = torch.zeros_like(h).index_add_(1, row, messages)
        return self.lin2(shifted_softplus(aggregated))


class SchNet(nn.Module):
    def __init__(self, hidden=16, interactions=2, num_gaussians=16):
        super().__init__()
        self.embedding = nn.Embedding(3, hidden)
        self.rbf = GaussianSmearing(num_gaussians=num_gaussians)
        self.convs = nn.ModuleList(CFConv(hidden, num_gaussians) for _ in range(interactions))
        self.out = nn.Sequential(
            nn.Linear(hidden, hidden // 2), nn.Tanh(), nn.Linear(hidden // 2, 1)
        )

    def forward(self, z, pos):
        row, col = (~torch.eye(pos.size(1), dtype=torch.bool)).nonzero(as_tuple=True)
        dist = (pos[:, row] - pos[:, col]).norm(dim=-1)
        rbf = self.rbf(dist)
        h = self.embedding(z)
        for conv in self.convs:
            h = h + conv(h, dist, rbf, row, col)
        return self.out(h).squeeze(-1).sum(1)


def lennard_jones(pos):
    d = torch.cdist(pos, pos) + torch.eye(pos.size(1))
    inv6 = (1.1 / d) ** 6
    pair = 4 * 0.1 * (inv6**2 - inv6) * (1 - torch.eye(pos.size(1)))
    return 0.5 * pair.sum((1, 2))


rng = np.random.default_rng(0)
grid = torch.tensor([[0, 0, 0], [1.2, 0, 0], [0, 1.2, 0], [0, 0, 1.2], [1.2, 1.2, 0]])
pos = grid + torch.from_numpy(rng.normal(0, 0.04, (64, N_ATOMS, 3)).astype(np.float32))
pos.requires_grad_(True)
ref_energy = lennard_jones(pos)
(ref_forces,) = torch.autograd.grad(-ref_energy.sum(), pos)
ref_energy = ref_energy.detach()
z = torch.from_numpy(rng.integers(0, 3, (64, N_ATOMS)))

model = init_from_numpy(SchNet(), seed=1)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
energy_losses, force_losses = [], []
for epoch in range(60):
    energy = model(z, pos)
    (grad,) = torch.autograd.grad(energy.sum(), pos, create_graph=True)
    forces = -grad
    e_loss = F.mse_loss(energy, ref_energy)
    f_loss = F.mse_loss(forces, ref_forces)
    optimizer.zero_grad()
    (0.1 * e_loss + f_loss).backward()
    optimizer.step()
    energy_losses.append(e_loss.item())
    force_losses.append(f_loss.item())

shift = torch.tensor([0.3, -0.2, 0.5])
with torch.no_grad():
    translation_gap = (model(z, pos + shift) - model(z, pos)).abs().max().item()
    permuted = model(z[:, [1, 0, 2, 3, 4]], pos[:, [1, 0, 2, 3, 4]])
    permutation_gap = (permuted - model(z, pos)).abs().max().item()
    dist = torch.cdist(pos[:2], pos[:2])
    row, col = (~torch.eye(N_ATOMS, dtype=torch.bool)).nonzero(as_tuple=True)
    cdist_gap = (dist[:, row, col] - (pos[:2, row] - pos[:2, col]).norm(dim=-1)).abs().max().item()
rbf_shape = tuple(model.rbf(dist).shape)
net_force_sum = forces.detach().sum(1).abs().max().item()  # Newton's third law
cdist_diag = dist.diagonal(dim1=1, dim2=2).abs().max().item()
pos_grad_none = pos.grad is None
