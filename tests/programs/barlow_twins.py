"""Barlow Twins (Zbontar et al.) as the facebookresearch code writes its loss: two augmented
views through one encoder and projector, the cross-correlation matrix of the batch-normalized
projections (``nn.BatchNorm1d(affine=False)``), ``on_diag = (diagonal - 1)^2`` and the
off-diagonal entries picked with the ``flatten()[:-1].view(n - 1, n + 1)[:, 1:]`` trick;
augmentations (noise, feature dropout, scaling) drawn with NumPy; a linear probe afterwards."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy, randn

rng = np.random.default_rng(31)
n_samples, dim = 256, 12
classes = torch.from_numpy(rng.integers(0, 3, n_samples))
prototypes = randn(rng, 3, dim) * 2
data = prototypes[classes] + randn(rng, n_samples, dim) * 0.7


def off_diagonal(x):
    n, m = x.shape
    assert n == m
    return x.flatten()[:-1].view(n - 1, n + 1)[:, 1:].flatten()


def augment(x):
    keep = torch.from_numpy((rng.random(x.shape) > 0.2).astype(np.float32))
    scale = torch.from_numpy(rng.uniform(0.8, 1.2, (x.shape[0], 1)).astype(np.float32))
    return x * keep * scale + randn(rng, *x.shape) * 0.3


class BarlowTwins(nn.Module):
    def __init__(self, lambd=0.05):
        super().__init__()
        self.lambd = lambd
        self.backbone = nn.Sequential(
            nn.Linear(dim, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, 16)
        )
        sizes = [16, 32, 32]
        layers = []
        for i in range(len(sizes) - 2):
            layers.append(nn.Linear(sizes[i], sizes[i + 1], bias=False))
            layers.append(nn.BatchNorm1d(sizes[i + 1]))
            layers.append(nn.ReLU(inplace=True))
        layers.append(nn.Linear(sizes[-2], sizes[-1], bias=False))
        self.projector = nn.Sequential(*layers)
        self.bn = nn.BatchNorm1d(sizes[-1], affine=False)

    def forward(self, y1, y2):
        z1 = self.projector(self.backbone(y1))
        z2 = self.projector(self.backbone(y2))
        c = self.bn(z1).T @ self.bn(z2)
        c.div_(y1.shape[0])
        on_diag = torch.diagonal(c).add_(-1).pow_(2).sum()
        off_diag = off_diagonal(c).pow_(2).sum()
        return on_diag + self.lambd * off_diag, on_diag, off_diag


model = init_from_numpy(BarlowTwins(), seed=31)
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
losses, on_diags = [], []
for epoch in range(6):
    perm = torch.from_numpy(rng.permutation(n_samples))
    for i in range(0, n_samples, 64):
        x = data[perm[i : i + 64]]
        loss, on_diag, off_diag = model(augment(x), augment(x))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        on_diags.append(on_diag.item())

model.eval()
with torch.no_grad():
    features = model.backbone(data)
probe = init_from_numpy(nn.Linear(16, 3), seed=32)
probe_opt = torch.optim.LBFGS(probe.parameters(), lr=0.5, max_iter=30)


def closure():
    probe_opt.zero_grad()
    loss = F.cross_entropy(probe(features), classes)
    loss.backward()
    return loss


probe_opt.step(closure)
with torch.no_grad():
    probe_accuracy = (probe(features).argmax(1) == classes).float().mean().item()
off_diagonal_sample = off_diagonal(torch.arange(16.0).view(4, 4)).tolist()
print(f"loss {losses[0]:.2f} -> {losses[-1]:.2f}; probe accuracy {probe_accuracy:.3f}")
