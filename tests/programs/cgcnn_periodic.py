"""A crystal graph convolutional network (CGCNN, Xie & Grossman 2018) as its PyTorch code writes
it, on small periodic cells: neighbours by the minimum-image convention (fractional differences
wrapped with ``torch.round``, then times the lattice matrix), a Gaussian distance expansion, the
gated convolution ``sigmoid(z W_f) * softplus(z W_s)`` on ``z = [v_i, v_j, u_ij]`` with
BatchNorm1d, summed over neighbours by ``scatter_add_`` of an expanded index, and crystal
readout by ``Tensor.scatter_reduce(..., reduce="mean" / "amax", include_self=False)``; trained
on the cells' mean coordination-weighted energy with SGD with momentum and a MultiStepLR, then
evaluated in eval mode (running statistics)."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy, rand

rng = np.random.default_rng(7)
CUTOFF, N_GAUSS, ATOM_FEA, NBR_FEA = 2.2, 8, 8, 8


def periodic_neighbours(frac, lattice, cutoff):
    """Edges (i, j) and minimum-image distances within one cell."""
    diff = frac.unsqueeze(1) - frac.unsqueeze(0)
    diff = diff - torch.round(diff)
    dist = (diff @ lattice).norm(dim=-1)
    mask = (dist < cutoff) & ~torch.eye(frac.size(0), dtype=torch.bool)
    i, j = mask.nonzero(as_tuple=True)
    return i, j, dist[i, j]


class GaussianDistance:
    def __init__(self, dmin, dmax, n, var=0.3):
        self.filter, self.var = torch.linspace(dmin, dmax, n), var

    def expand(self, d):
        return torch.exp(-((d.unsqueeze(-1) - self.filter) ** 2) / self.var**2)


class ConvLayer(nn.Module):
    def __init__(self, atom_fea_len, nbr_fea_len):
        super().__init__()
        self.fc_full = nn.Linear(2 * atom_fea_len + nbr_fea_len, 2 * atom_fea_len)
        self.bn1, self.bn2 = nn.BatchNorm1d(2 * atom_fea_len), nn.BatchNorm1d(atom_fea_len)

    def forward(self, atom_fea, nbr_fea, i, j):
        z = torch.cat([atom_fea[i], atom_fea[j], nbr_fea], dim=1)
        gated = self.bn1(self.fc_full(z))
        nbr_filter, nbr_core = gated.chunk(2, dim=1)
        msg = torch.sigmoid(nbr_filter) * F.softplus(nbr_core)
        index = i.unsqueeze(1).expand(-1, msg.size(1))
        summed = torch.zeros_like(atom_fea).scatter_add_(0, index, msg)
        return F.softplus(atom_fea + self.bn2(summed))


class CrystalGraphConvNet(nn.Module):
    def __init__(self, n_conv=2):
        super().__init__()
        self.embedding = nn.Embedding(4, ATOM_FEA)
        self.convs = nn.ModuleList(ConvLayer(ATOM_FEA, NBR_FEA) for _ in range(n_conv))
        self.conv_to_fc = nn.Linear(2 * ATOM_FEA, 16)
        self.fc_out = nn.Linear(16, 1)

    def forward(self, species, nbr_fea, i, j, crystal, n_cryst):
        atom_fea = self.embedding(species)
        for conv in self.convs:
            atom_fea = conv(atom_fea, nbr_fea, i, j)
        index = crystal.unsqueeze(1).expand(-1, ATOM_FEA)
        empty = torch.zeros(n_cryst, ATOM_FEA)
        mean = empty.scatter_reduce(0, index, atom_fea, reduce="mean", include_self=False)
        peak = empty.scatter_reduce(0, index, atom_fea, reduce="amax", include_self=False)
        hidden = F.softplus(self.conv_to_fc(F.softplus(torch.cat([mean, peak], dim=1))))
        return self.fc_out(hidden).squeeze(-1)


def make_batch(n_cryst, n_atoms=4):
    """Cubic cells of random size with random species; edges offset into one big graph."""
    gd = GaussianDistance(0.0, CUTOFF, N_GAUSS)
    species, rows, cols, dists, crystal, targets = [], [], [], [], [], []
    for c in range(n_cryst):
        lattice = torch.eye(3) * (2.0 + 1.5 * float(rng.random()))
        frac = rand(rng, n_atoms, 3)
        s = torch.from_numpy(rng.integers(0, 4, n_atoms))
        i, j, d = periodic_neighbours(frac, lattice, CUTOFF)
        rows.append(i + c * n_atoms)
        cols.append(j + c * n_atoms)
        dists.append(d)
        species.append(s)
        crystal.append(torch.full((n_atoms,), c))
        weight = (s.float() + 1.0)[i]
        targets.append((weight * torch.exp(-d)).sum() / n_atoms)
    d = torch.cat(dists)
    return (
        torch.cat(species),
        gd.expand(d),
        torch.cat(rows),
        torch.cat(cols),
        torch.cat(crystal),
        torch.stack(targets),
        d,
    )


species, nbr_fea, i, j, crystal, target, dist = make_batch(8)
n_edges, min_image_max = i.numel(), dist.max().item()
target_mean, target_std = target.mean(), target.std()
model = init_from_numpy(CrystalGraphConvNet(), seed=2)
opt = torch.optim.SGD(model.parameters(), lr=0.02, momentum=0.9, weight_decay=1e-4)
sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[25], gamma=0.1)
losses = []
for _ in range(30):
    pred = model(species, nbr_fea, i, j, crystal, 8)
    loss = F.mse_loss(pred, (target - target_mean) / target_std)
    opt.zero_grad()
    loss.backward()
    opt.step()
    sched.step()
    losses.append(loss.item())
embedding_grad = model.embedding.weight.grad[:, :3].tolist()
running_mean = model.convs[0].bn2.running_mean[:4].tolist()
model.eval()
with torch.no_grad():
    eval_pred = (model(species, nbr_fea, i, j, crystal, 8) * target_std + target_mean).tolist()
mae = float(np.mean(np.abs(np.array(eval_pred) - target.numpy())))
probe = torch.tensor([5.0, 5.0]).scatter_reduce(
    0, torch.tensor([0, 0, 0]), torch.tensor([1.0, 2.0, 6.0]), reduce="mean"
)
probe = probe.tolist()  # include_self=True: the 5 counts in the mean, and row 1 keeps its 5
