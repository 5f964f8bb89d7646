"""E(n)-equivariant graph neural network (Satorras et al. 2021) as its reference PyTorch code
(egnn_clean.py) writes it: edge messages from ``h_i, h_j, |x_i - x_j|^2``, coordinate updates
``x_i += mean_j (x_i - x_j) * phi_x(m_ij)`` aggregated with ``index_add_`` / ``scatter_add_`` and
divided by counts from ``bincount``, feature updates with a residual; trained to predict the
sum of pairwise distances of random point clouds (an invariant target) and to denoise
coordinates (an equivariant one). Equivariance is checked the way the paper's tests do: a
random orthogonal matrix from ``torch.linalg.qr`` (its ``det`` flipped for a rotation) and a
translation applied to the input move the predicted coordinates the same way and leave the
features unchanged."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy, randn

N_NODES = 6


class EGCL(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.edge_mlp = nn.Sequential(
            nn.Linear(2 * hidden + 1, hidden), nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU()
        )
        self.node_mlp = nn.Sequential(
            nn.Linear(2 * hidden, hidden), nn.SiLU(), nn.Linear(hidden, hidden)
        )
        layer = nn.Linear(hidden, 1, bias=False)
        nn.init.xavier_uniform_(layer.weight, gain=0.001)
        self.coord_mlp = nn.Sequential(nn.Linear(hidden, hidden), nn.SiLU(), layer)

    def forward(self, h, x, edge_index):
        row, col = edge_index
        diff = x[row] - x[col]
        radial = (diff**2).sum(1, keepdim=True)
        m = self.edge_mlp(torch.cat([h[row], h[col], radial], dim=1))
        trans = diff * self.coord_mlp(m)
        counts = torch.bincount(row, minlength=len(x)).clamp(min=1).unsqueeze(1)
        agg_x = torch.zeros_like(x).index_add_(0, row, trans) / counts
        agg_h = torch.zeros(len(h), m.size(1)).scatter_add_(0, row.unsqueeze(1).expand_as(m), m)
        return h + self.node_mlp(torch.cat([h, agg_h], dim=1)), x + agg_x


class EGNN(nn.Module):
    def __init__(self, in_nf, hidden, layers=3):
        super().__init__()
        self.embedding = nn.Linear(in_nf, hidden)
        self.layers = nn.ModuleList(EGCL(hidden) for _ in range(layers))
        self.readout = nn.Linear(hidden, 1)

    def forward(self, h, x, edge_index, batch, num_graphs):
        h = self.embedding(h)
        for layer in self.layers:
            h, x = layer(h, x, edge_index)
        energy = torch.zeros(num_graphs).index_add_(0, batch, self.readout(h).squeeze(1))
        return energy, x


def fully_connected(num_graphs):
    idx = torch.arange(N_NODES)
    rows, cols = torch.meshgrid(idx, idx, indexing="ij")
    keep = rows != cols
    base = torch.stack([rows[keep], cols[keep]])
    offsets = torch.arange(num_graphs).repeat_interleave(base.size(1)) * N_NODES
    return base.repeat(1, num_graphs) + offsets, torch.arange(num_graphs).repeat_interleave(N_NODES)


rng = np.random.default_rng(0)
num_graphs = 16
edge_index, batch = fully_connected(num_graphs)
model = init_from_numpy(EGNN(in_nf=1, hidden=16), seed=1)
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
losses = []
for step in range(40):
    clean = randn(rng, num_graphs, N_NODES, 3)
    target = torch.stack([torch.pdist(c).sum() for c in clean]) / 10
    noisy = clean + 0.1 * randn(rng, num_graphs, N_NODES, 3)
    h = torch.ones(num_graphs * N_NODES, 1)
    energy, coords = model(h, noisy.view(-1, 3), edge_index, batch, num_graphs)
    loss = F.mse_loss(energy, target) + F.mse_loss(coords, clean.view(-1, 3))
    optimizer.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    losses.append(loss.item())

q, r = torch.linalg.qr(randn(rng, 3, 3))
q = q * torch.sign(torch.diagonal(r))
if torch.linalg.det(q) < 0:
    q[:, 0] = -q[:, 0]
shift = randn(rng, 1, 3)
x = randn(rng, num_graphs * N_NODES, 3)
h = torch.ones(num_graphs * N_NODES, 1)
model.eval()
with torch.no_grad():
    e1, x1 = model(h, x, edge_index, batch, num_graphs)
    e2, x2 = model(h, x @ q.T + shift, edge_index, batch, num_graphs)
rotation_det = torch.linalg.det(q).item()
orthogonality_gap = (q @ q.T - torch.eye(3)).abs().max().item()
energy_gap = (e1 - e2).abs().max().item()
coord_gap = (x1 @ q.T + shift - x2).abs().max().item()
energies = e1[:4].tolist()
