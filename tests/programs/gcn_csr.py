"""A two-layer graph convolutional network (Kipf & Welling) on a small random graph, the
normalised adjacency ``D^-1/2 (A + I) D^-1/2`` held as a sparse CSR tensor
(``to_sparse_csr``, ``crow_indices``/``col_indices``/``values``) and applied with
``torch.sparse.mm`` and ``@``; trained full-batch for node classification, compared with the
dense adjacency."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy, randn

rng = np.random.default_rng(10)
n_nodes, n_feat, n_class = 30, 6, 3
labels = torch.from_numpy(rng.integers(0, n_class, n_nodes))
same = (labels[:, None] == labels[None, :]).numpy()
probs = np.where(same, 0.3, 0.03)
upper = np.triu(rng.random((n_nodes, n_nodes)) < probs, 1)
adj = torch.from_numpy((upper | upper.T).astype(np.float32)) + torch.eye(n_nodes)
deg_inv_sqrt = adj.sum(1).pow(-0.5)
norm_adj = deg_inv_sqrt[:, None] * adj * deg_inv_sqrt[None, :]
adj_csr = norm_adj.to_sparse_csr()
nnz = adj_csr.values().numel()
crow = adj_csr.crow_indices()[:6].tolist()
cols = adj_csr.col_indices()[:6].tolist()
features = F.one_hot(labels, n_class).float() * 0.5 + randn(rng, n_nodes, n_class)
features = torch.cat([features, randn(rng, n_nodes, n_feat - n_class)], 1)


class GCN(nn.Module):
    def __init__(self):
        super().__init__()
        self.l1, self.l2 = nn.Linear(n_feat, 16), nn.Linear(16, n_class)

    def forward(self, x, a):
        h = F.relu(torch.sparse.mm(a, self.l1(x)))
        h = F.dropout(h, 0.0, self.training)
        return a @ self.l2(h)


train_mask = torch.arange(n_nodes) % 3 != 0


def train(a):
    model = init_from_numpy(GCN(), seed=10)
    opt = torch.optim.Adam(model.parameters(), lr=0.05, weight_decay=5e-4)
    losses = []
    for _ in range(30):
        opt.zero_grad()
        out = model(features, a)
        loss = F.cross_entropy(out[train_mask], labels[train_mask])
        loss.backward()
        opt.step()
        losses.append(loss.item())
    model.eval()
    pred = model(features, a).argmax(1)
    return losses, (pred[~train_mask] == labels[~train_mask]).float().mean().item(), model


sparse_losses, sparse_acc, model = train(adj_csr)
dense_losses, dense_acc, _ = train(norm_adj)
propagated = torch.sparse.mm(adj_csr, features)
spmm_gap = (propagated - norm_adj @ features).abs().max().item()
csr_matvec = (adj_csr @ features[:, 0]).tolist()[:5]
roundtrip = torch.equal(adj_csr.to_dense(), norm_adj)
layout = str(adj_csr.layout).split(".")[-1]
