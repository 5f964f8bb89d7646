"""Metric learning with proxies, as the pytorch-metric-learning style reference code writes it:
an embedding network with L2-normalised outputs, one learnable proxy per class, the Proxy-NCA
loss (softmax over negative squared distances to the proxies, torch.cdist) and the Proxy-Anchor
loss (Kim et al. 2020: softplus of a masked logsumexp over cosine similarities, positives and
negatives per proxy), the proxies trained with a larger learning rate in their own parameter
group, and Recall@1 measured by nearest neighbours with the query itself masked out."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy, randn

rng = np.random.default_rng(0)
n_classes, per_class, d_in, d_emb = 6, 10, 12, 8
centers = 2.0 * randn(rng, n_classes, d_in)
labels = torch.arange(n_classes).repeat_interleave(per_class)
x = centers[labels] + randn(rng, n_classes * per_class, d_in)


class Embedder(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(d_in, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, d_emb)
        )

    def forward(self, x):
        return F.normalize(self.net(x), p=2, dim=1)


class ProxyNCA(nn.Module):
    def __init__(self, n_classes, dim, scale=3.0):
        super().__init__()
        self.proxies = nn.Parameter(
            torch.from_numpy(rng.standard_normal((n_classes, dim)).astype(np.float32))
        )
        self.scale = scale

    def forward(self, emb, labels):
        proxies = F.normalize(self.proxies, dim=1)
        dist = torch.cdist(self.scale * emb, self.scale * proxies).pow(2)
        return F.cross_entropy(-dist, labels)


class ProxyAnchor(nn.Module):
    def __init__(self, n_classes, dim, margin=0.1, alpha=32.0):
        super().__init__()
        self.proxies = nn.Parameter(
            torch.from_numpy(rng.standard_normal((n_classes, dim)).astype(np.float32))
        )
        self.margin, self.alpha = margin, alpha

    def forward(self, emb, labels):
        cos = F.linear(emb, F.normalize(self.proxies, dim=1))  # (batch, n_classes)
        pos_mask = F.one_hot(labels, self.proxies.size(0)).bool()
        pos_exp = torch.where(
            pos_mask, -self.alpha * (cos - self.margin), torch.tensor(float("-inf"))
        )
        neg_exp = torch.where(
            ~pos_mask, self.alpha * (cos + self.margin), torch.tensor(float("-inf"))
        )
        with_pos = pos_mask.any(dim=0)
        pos_term = F.softplus(torch.logsumexp(pos_exp, dim=0)[with_pos]).sum() / with_pos.sum()
        neg_term = F.softplus(torch.logsumexp(neg_exp, dim=0)).sum() / self.proxies.size(0)
        return pos_term + neg_term


def recall_at_1(emb, labels):
    dist = torch.cdist(emb, emb)
    dist.fill_diagonal_(float("inf"))
    return (labels[dist.argmin(dim=1)] == labels).float().mean().item()


results = {}
for name, criterion_cls in (("proxy_nca", ProxyNCA), ("proxy_anchor", ProxyAnchor)):
    model = init_from_numpy(Embedder())
    criterion = criterion_cls(n_classes, d_emb)
    optimizer = torch.optim.AdamW(
        [{"params": model.parameters()}, {"params": criterion.parameters(), "lr": 1e-1}],
        lr=1e-2,
        weight_decay=1e-4,
    )
    model.eval()
    with torch.no_grad():
        before = recall_at_1(model(x), labels)
    model.train()
    losses = []
    for epoch in range(15):
        perm = torch.from_numpy(rng.permutation(len(x)))
        for idx in perm.split(20):
            optimizer.zero_grad()
            loss = criterion(model(x[idx]), labels[idx])
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        after = recall_at_1(model(x), labels)
        norms = model(x).norm(dim=1)
    results[name] = (losses, before, after, (norms - 1).abs().max().item())
    print(f"{name}: loss {losses[0]:.4f} -> {losses[-1]:.4f}, Recall@1 {before:.3f} -> {after:.3f}")
