"""GraphSAGE (Hamilton et al. 2017) with mini-batch neighbour sampling, as the from-scratch
PyTorch tutorials and PyG's NeighborLoader internals do it: an adjacency kept as CSR
(``rowptr``/``col`` from ``torch.sort`` + ``torch.bincount`` + ``cumsum``), a fixed number of
neighbours sampled per node and hop (with NumPy, so both libraries draw the same), the sampled
nodes gathered with ``torch.unique`` and ``torch.isin`` (each layer's targets first) and
relabelled to a local numbering through a lookup tensor, mean
aggregation by ``index_add_`` divided by counts, ``SAGEConv``-style ``lin_l(mean) + lin_r(x)``
with ``F.normalize``, and full-neighbourhood inference layer by layer for evaluation; on a
two-community graph whose node features are noisy labels."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy

N, FEATS, CLASSES = 120, 8, 2


def make_graph(rng):
    labels = (np.arange(N) >= N // 2).astype(np.int64)
    src, dst = [], []
    for i in range(N):
        for j in range(i + 1, N):
            p = 0.12 if labels[i] == labels[j] else 0.01
            if rng.random() < p:
                src += [i, j]
                dst += [j, i]
    feats = rng.normal(0, 1.0, (N, FEATS)) + 0.4 * labels[:, None]
    return (
        torch.tensor([src, dst]),
        torch.from_numpy(feats.astype(np.float32)),
        torch.from_numpy(labels),
    )


def to_csr(edge_index):
    order = torch.sort(edge_index[0] * N + edge_index[1]).indices
    row, col = edge_index[0][order], edge_index[1][order]
    rowptr = torch.zeros(N + 1, dtype=torch.long)
    rowptr[1:] = torch.cumsum(torch.bincount(row, minlength=N), 0)
    return rowptr, col


def sample_hop(rng, nodes, rowptr, col, fanout):
    src, dst = [], []
    for n in nodes.tolist():
        neigh = col[rowptr[n] : rowptr[n + 1]].numpy()
        if len(neigh) > fanout:
            neigh = rng.choice(neigh, fanout, replace=False)
        src += neigh.tolist()
        dst += [n] * len(neigh)
    return torch.tensor(src, dtype=torch.long), torch.tensor(dst, dtype=torch.long)


class SAGEConv(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.lin_l, self.lin_r = nn.Linear(cin, cout), nn.Linear(cin, cout, bias=False)

    def forward(self, x, src, dst, num_dst):
        agg = torch.zeros(num_dst, x.size(1)).index_add_(0, dst, x[src])
        count = torch.bincount(dst, minlength=num_dst).clamp(min=1).unsqueeze(1)
        return F.normalize(self.lin_l(agg / count) + self.lin_r(x[:num_dst]), p=2.0, dim=-1)


class SAGE(nn.Module):
    def __init__(self):
        super().__init__()
        self.convs = nn.ModuleList([SAGEConv(FEATS, 32), SAGEConv(32, 32)])
        self.head = nn.Linear(32, CLASSES)

    def forward(self, x, hops):
        for conv, (src, dst, num_dst) in zip(self.convs, hops):
            x = F.relu(conv(x, src, dst, num_dst))
        return self.head(x)


def sampled_batch(rng, seeds, rowptr, col, fanouts=(5, 5)):
    """Sample two hops outward; relabel so that each layer's targets come first."""
    layers, frontier = [], seeds
    for fanout in fanouts:
        src, dst = sample_hop(rng, frontier, rowptr, col, fanout)
        layers.append((src, dst, frontier))
        frontier = torch.unique(torch.cat([frontier, src]))
        frontier = torch.cat([layers[-1][2], frontier[~torch.isin(frontier, layers[-1][2])]])
    hops, nodes = [], frontier
    for src, dst, targets in reversed(layers):
        local = torch.full((N,), -1, dtype=torch.long)
        local[nodes] = torch.arange(len(nodes))
        hops.append((local[src], local[dst], len(targets)))
        nodes = targets  # the next layer's inputs are this layer's outputs
    return frontier, hops


rng = np.random.default_rng(0)
edge_index, x, y = make_graph(rng)
rowptr, col = to_csr(edge_index)
degree = (rowptr[1:] - rowptr[:-1]).float()
perm = torch.from_numpy(rng.permutation(N))
train_idx, test_idx = perm[:60], perm[60:]
model = init_from_numpy(SAGE(), seed=1)
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
losses = []
for epoch in range(8):
    for b in range(0, 60, 20):
        seeds = train_idx[b : b + 20]
        nodes, hops = sampled_batch(rng, seeds, rowptr, col)
        out = model(x[nodes], hops)
        loss = F.cross_entropy(out, y[seeds])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())

with torch.no_grad():
    h = x
    for conv in model.convs:
        h = F.relu(conv(h, edge_index[1], edge_index[0], N))
    full_logits = model.head(h)
test_accuracy = (full_logits[test_idx].argmax(1) == y[test_idx]).float().mean().item()
mean_degree = degree.mean().item()
csr_ok = bool((col[rowptr[5] : rowptr[6]] == edge_index[1][edge_index[0] == 5].sort().values).all())
unique_vals, inverse = torch.unique(torch.tensor([4, 1, 4, 9, 1]), return_inverse=True)
unique_info = (unique_vals.tolist(), inverse.tolist())
