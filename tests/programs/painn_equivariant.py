"""PaiNN (Schütt et al. 2021), the polarizable atom interaction network, as schnetpack's and
PyG-style re-implementations write it: every atom carries scalar features s (N, F) and vector
features v (N, 3, F); the message block filters neighbours' scalars with a radial basis of
sin(n pi r / rc) / r under a cosine cutoff, and sends vector messages along the unit edge
vectors, summed over edges with ``index_add_``; the update block mixes v with two linear maps
(no bias: they must commute with rotations) and couples |V v| and <U v, V v> back into the
scalars. Molecules are batched as one graph with a ``batch`` vector (radius graph from
``torch.cdist`` on detached positions, ``nonzero``), energies pooled per molecule with
``index_add_`` and forces as -dE/dx with ``create_graph=True``. Rotation equivariance is checked
with a matrix from ``torch.linalg.qr``."""

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy, rand, randn

F_DIM, N_RBF, CUTOFF = 8, 6, 2.5
rng = np.random.default_rng(3)


def radius_graph(pos, batch, cutoff):
    d = torch.cdist(pos.detach(), pos.detach())
    same = batch.unsqueeze(0) == batch.unsqueeze(1)
    mask = same & (d < cutoff) & ~torch.eye(pos.size(0), dtype=torch.bool)
    row, col = mask.nonzero(as_tuple=True)
    return row, col


class SinRBF(nn.Module):
    def __init__(self, n_rbf, cutoff):
        super().__init__()
        self.register_buffer("freqs", torch.arange(1, n_rbf + 1) * math.pi / cutoff)

    def forward(self, r):
        return torch.sin(self.freqs * r.unsqueeze(-1)) / r.unsqueeze(-1)


def cosine_cutoff(r, cutoff):
    return 0.5 * (torch.cos(r * math.pi / cutoff) + 1.0) * (r < cutoff).float()


class PaiNNMessage(nn.Module):
    def __init__(self, f):
        super().__init__()
        self.phi = nn.Sequential(nn.Linear(f, f), nn.SiLU(), nn.Linear(f, 3 * f))
        self.w = nn.Linear(N_RBF, 3 * f)

    def forward(self, s, v, row, col, rbf, unit, fcut):
        x = self.phi(s)[col] * self.w(rbf) * fcut.unsqueeze(-1)
        ds, dvv, dvs = torch.split(x, s.size(-1), dim=-1)
        dv = dvv.unsqueeze(1) * v[col] + dvs.unsqueeze(1) * unit.unsqueeze(-1)
        s = s + torch.zeros_like(s).index_add_(0, row, ds)
        v = v + torch.zeros_like(v).index_add_(0, row, dv)
        return s, v


class PaiNNUpdate(nn.Module):
    def __init__(self, f):
        super().__init__()
        self.U, self.V = nn.Linear(f, f, bias=False), nn.Linear(f, f, bias=False)
        self.mlp = nn.Sequential(nn.Linear(2 * f, f), nn.SiLU(), nn.Linear(f, 3 * f))

    def forward(self, s, v):
        uv, vv = self.U(v), self.V(v)
        vnorm = torch.sqrt((vv**2).sum(dim=1) + 1e-8)
        a = self.mlp(torch.cat([s, vnorm], dim=-1))
        a_vv, a_sv, a_ss = torch.split(a, s.size(-1), dim=-1)
        return s + a_sv * (uv * vv).sum(dim=1) + a_ss, v + a_vv.unsqueeze(1) * uv


class PaiNN(nn.Module):
    def __init__(self, f=F_DIM, blocks=2):
        super().__init__()
        self.embedding = nn.Embedding(3, f)
        self.rbf = SinRBF(N_RBF, CUTOFF)
        self.messages = nn.ModuleList(PaiNNMessage(f) for _ in range(blocks))
        self.updates = nn.ModuleList(PaiNNUpdate(f) for _ in range(blocks))
        self.readout = nn.Sequential(nn.Linear(f, f), nn.SiLU(), nn.Linear(f, 1))

    def forward(self, z, pos, batch, n_mol):
        row, col = radius_graph(pos, batch, CUTOFF)
        vec = pos[row] - pos[col]
        r = vec.norm(dim=-1)
        rbf, unit, fcut = self.rbf(r), vec / r.unsqueeze(-1), cosine_cutoff(r, CUTOFF)
        s = self.embedding(z)
        v = torch.zeros(s.size(0), 3, s.size(1), dtype=s.dtype)
        for message, update in zip(self.messages, self.updates):
            s, v = message(s, v, row, col, rbf, unit, fcut)
            s, v = update(s, v)
        atom_e = self.readout(s).squeeze(-1)
        return torch.zeros(n_mol).index_add_(0, batch, atom_e), v


def reference_energy(pos, batch, n_mol):
    i, j = torch.triu_indices(pos.size(0), pos.size(0), offset=1)
    keep = batch[i] == batch[j]
    r = (pos[i[keep]] - pos[j[keep]]).norm(dim=-1)
    pair = (r - 1.2) ** 2 * torch.exp(-r)
    return torch.zeros(n_mol).index_add_(0, batch[i[keep]], pair)


N_MOL, N_AT = 6, 4
batch = torch.arange(N_MOL).repeat_interleave(N_AT)
z = torch.from_numpy(rng.integers(0, 3, N_MOL * N_AT))
pos0 = rand(rng, N_MOL * N_AT, 3) * 2.0
pos_ref = pos0.clone().requires_grad_(True)
e_ref = reference_energy(pos_ref, batch, N_MOL)
(f_ref,) = torch.autograd.grad(-e_ref.sum(), pos_ref)
e_ref = e_ref.detach()

model = init_from_numpy(PaiNN(), seed=1)
opt = torch.optim.Adam(model.parameters(), lr=3e-3)
losses = []
for _ in range(10):
    pos = pos0.clone().requires_grad_(True)
    energy, _ = model(z, pos, batch, N_MOL)
    (forces,) = torch.autograd.grad(-energy.sum(), pos, create_graph=True)
    loss = F.mse_loss(energy, e_ref) + 10 * F.mse_loss(forces, f_ref)
    opt.zero_grad()
    loss.backward()
    opt.step()
    losses.append(loss.item())
n_edges = radius_graph(pos0, batch, CUTOFF)[0].numel()
update_grad_sample = model.updates[0].U.weight.grad[:2, :3].tolist()

# equivariance: a random rotation moves the forces and vector features along, energies stay
q, _ = torch.linalg.qr(randn(rng, 3, 3))
rot = q * torch.det(q)  # det(q) = +-1: a proper rotation
pos = pos0.clone().requires_grad_(True)
energy, v = model(z, pos, batch, N_MOL)
(forces,) = torch.autograd.grad(-energy.sum(), pos)
pos_r = (pos0 @ rot.T).clone().requires_grad_(True)
energy_r, v_r = model(z, pos_r, batch, N_MOL)
(forces_r,) = torch.autograd.grad(-energy_r.sum(), pos_r)
energy_gap = (energy - energy_r).abs().max().item()
force_gap = (forces @ rot.T - forces_r).abs().max().item()
vector_gap = (torch.einsum("ij,njf->nif", rot, v) - v_r).abs().max().item()
energies = energy.tolist()
