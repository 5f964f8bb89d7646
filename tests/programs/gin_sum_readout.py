"""Graph Isomorphism Network (Xu et al. 2019, "How powerful are graph neural networks?") as
its PyTorch reference code and PyG's GINConv write it, on plain tensors: the update
``MLP((1 + eps) * h + sum of neighbours)`` with a learnable ``eps`` (``nn.Parameter``), the
neighbour sum by ``scatter_reduce(reduce="sum")``, MLPs with ``BatchNorm1d`` (the Linear layers
before a norm without bias), sum readout per graph with ``index_add_`` of every layer's nodes,
concatenated (jumping knowledge), and the batch-norm statistics recomputed after training
("precise BN": ``reset_running_stats``, ``momentum=None``); on a task that mean pooling cannot
solve (stars with few or many leaves, the centre flagged). Also graph-level
``scatter_reduce`` "mean" and "amax" pooling checked against a loop over the graphs."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy


def random_graph(rng, label):
    """Stars with many leaves (label 1) or few (label 0), plus a few random chords."""
    n = int(rng.integers(5, 9)) if label else int(rng.integers(3, 5))
    edges = [(0, i) for i in range(1, n)]
    edges += [(int(a), int(b)) for a, b in rng.integers(1, n, (1, 2)) if a != b]
    edges += [(b, a) for a, b in edges]
    return n, np.array(edges, dtype=np.int64).T


class GINConv(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.eps = nn.Parameter(torch.zeros(1))
        self.mlp = nn.Sequential(
            nn.Linear(cin, cout, bias=False),
            nn.BatchNorm1d(cout),
            nn.ReLU(),
            nn.Linear(cout, cout, bias=False),
        )

    def forward(self, h, edge_index):
        src, dst = edge_index
        index = dst.unsqueeze(1).expand(-1, h.size(1))
        neighbours = torch.zeros_like(h).scatter_reduce(0, index, h[src], reduce="sum")
        return self.mlp((1 + self.eps) * h + neighbours)


class GIN(nn.Module):
    def __init__(self, hidden=16, layers=3):
        super().__init__()
        dims = [2] + [hidden] * layers
        self.convs = nn.ModuleList(GINConv(a, b) for a, b in zip(dims, dims[1:]))
        self.bns = nn.ModuleList(nn.BatchNorm1d(hidden) for _ in range(layers))
        self.head = nn.Linear(2 + hidden * layers, 2)

    def forward(self, x, edge_index, batch, num_graphs):
        readouts, h = [], x
        for layer in range(len(self.convs)):
            readouts.append(torch.zeros(num_graphs, h.size(1)).index_add_(0, batch, h))
            h = F.relu(self.bns[layer](self.convs[layer](h, edge_index)))
        readouts.append(torch.zeros(num_graphs, h.size(1)).index_add_(0, batch, h))
        return self.head(torch.cat(readouts, dim=1))


def make_batch(graphs):
    edges, batch, offset = [], [], 0
    for g, (n, e) in enumerate(graphs):
        edges.append(torch.from_numpy(e) + offset)
        batch.append(torch.full((n,), g, dtype=torch.long))
        offset += n
    batch = torch.cat(batch)
    is_centre = torch.cat([torch.tensor([True]), batch[1:] != batch[:-1]])
    return torch.stack([torch.ones(offset), is_centre.float()], 1), torch.cat(edges, 1), batch


rng = np.random.default_rng(0)
labels = rng.integers(0, 2, 64)
graphs = [random_graph(rng, label) for label in labels]
x, edge_index, batch = make_batch(graphs)
y = torch.from_numpy(labels)
model = init_from_numpy(GIN(), seed=1)
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=20, gamma=0.5)
losses = []
for epoch in range(50):
    model.train()
    loss = F.cross_entropy(model(x, edge_index, batch, len(graphs)), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    scheduler.step()
    losses.append(loss.item())


def evaluate():
    model.eval()
    with torch.no_grad():
        logits = model(x, edge_index, batch, len(graphs))
    return (logits.argmax(1) == y).float().mean().item()


stale_accuracy = evaluate()  # the running statistics lag behind the fast-moving weights
for module in model.modules():  # "precise BN": recompute them with the final weights
    if isinstance(module, nn.BatchNorm1d):
        module.reset_running_stats()
        module.momentum = None  # a cumulative average over the passes
model.train()
with torch.no_grad():
    model(x, edge_index, batch, len(graphs))
accuracy = evaluate()
batches_tracked = model.bns[0].num_batches_tracked.item()
eps_values = [conv.eps.item() for conv in model.convs]
eps_grad = model.convs[0].eps.grad.item()
running_mean = model.bns[0].running_mean[:4].tolist()

h = torch.from_numpy(rng.standard_normal((len(batch), 3)).astype(np.float32))
index = batch.unsqueeze(1).expand_as(h)
mean_pool = torch.zeros(len(graphs), 3).scatter_reduce(0, index, h, "mean", include_self=False)
max_pool = torch.full((len(graphs), 3), -1e9).scatter_reduce(0, index, h, "amax")
loop_mean = torch.stack([h[batch == g].mean(0) for g in range(len(graphs))])
loop_max = torch.stack([h[batch == g].amax(0) for g in range(len(graphs))])
pool_gaps = [(mean_pool - loop_mean).abs().max().item(), (max_pool - loop_max).abs().max().item()]
mean_pool_sample = mean_pool[:3].tolist()
