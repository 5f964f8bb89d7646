"""Label propagation and a sparse GCN layer with torch.sparse: a k-NN graph built by ``cdist`` +
``topk`` becomes a ``sparse_coo_tensor`` (duplicates summed by ``coalesce``), symmetric degree
normalization goes through ``torch.sparse.sum``/``values()``/``indices()``, propagation uses
``torch.sparse.mm`` and ``torch.sparse.mm`` inside a trained layer (gradient to the dense
weight), compared with the dense ``to_dense()`` product."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy, randn

rng = np.random.default_rng(6)
n, k = 40, 4
centers = torch.tensor([[2.0, 0.0], [-2.0, 0.0]])
labels = torch.from_numpy(rng.integers(0, 2, n).astype(np.int64))
points = centers[labels] + 0.8 * randn(rng, n, 2)

dists = torch.cdist(points, points)
dists.fill_diagonal_(float("inf"))
knn_dist, knn_idx = dists.topk(k, dim=1, largest=False)
rows = torch.arange(n).repeat_interleave(k)
cols = knn_idx.reshape(-1)
edge_index = torch.cat([torch.stack([rows, cols]), torch.stack([cols, rows])], 1)
weights = torch.exp(-knn_dist.reshape(-1).repeat(2))
adj = torch.sparse_coo_tensor(edge_index, weights, (n, n)).coalesce()
nnz = adj._nnz()
degree = torch.sparse.sum(adj, dim=1).to_dense()
d_inv_sqrt = degree.pow(-0.5)
idx = adj.indices()
norm_values = d_inv_sqrt[idx[0]] * adj.values() * d_inv_sqrt[idx[1]]
norm_adj = torch.sparse_coo_tensor(idx, norm_values, (n, n))
symmetric_gap = (norm_adj.to_dense() - norm_adj.to_dense().T).abs().max().item()

known = torch.zeros(n, dtype=torch.bool)
known[:6] = True
Y0 = F.one_hot(labels, 2).float() * known.unsqueeze(1)
Y = Y0.clone()
for it in range(20):
    Y = 0.9 * torch.sparse.mm(norm_adj, Y) + 0.1 * Y0
propagation_accuracy = Y.argmax(1).eq(labels).float().mean().item()
dense_gap = (torch.sparse.mm(norm_adj, Y0) - norm_adj.to_dense() @ Y0).abs().max().item()


class SparseGCN(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin1 = nn.Linear(2, 16)
        self.lin2 = nn.Linear(16, 2)

    def forward(self, x, adj):
        h = F.relu(torch.sparse.mm(adj, self.lin1(x)))
        return torch.sparse.mm(adj, self.lin2(h))


model = init_from_numpy(SparseGCN(), seed=2)
optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
losses = []
for epoch in range(30):
    optimizer.zero_grad()
    out = model(points, norm_adj)
    loss = F.cross_entropy(out[known], labels[known])
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
gcn_accuracy = model(points, norm_adj).argmax(1).eq(labels).float().mean().item()
first_grad = model.lin1.weight.grad.flatten().tolist()
