"""Graph classification with message passing written on plain tensors, as PyTorch Geometric's
internals and the from-scratch GNN tutorials do: a batch of graphs as one big graph with an
edge_index and a batch vector, messages gathered with index_select, summed into nodes with
scatter_add_ / index_add_, degree normalisation with torch.bincount, max aggregation with
scatter_reduce(reduce="amax", include_self=False), and a global mean pool per graph; the task
tells cycles from paths."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy, randn


def make_graph(rng, cycle):
    n = int(rng.integers(4, 9))
    edges = [(i, i + 1) for i in range(n - 1)] + ([(n - 1, 0)] if cycle else [])
    edges += [(b, a) for a, b in edges]
    return n, torch.tensor(edges, dtype=torch.long).t()


def collate(graphs):
    edge_indices, batch, offset = [], [], 0
    for g, (n, edge_index) in enumerate(graphs):
        edge_indices.append(edge_index + offset)
        batch.append(torch.full((n,), g, dtype=torch.long))
        offset += n
    return offset, torch.cat(edge_indices, dim=1), torch.cat(batch)


class GraphConv(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.lin_self, self.lin_neigh, self.lin_max = (
            nn.Linear(cin, cout),
            nn.Linear(cin, cout, bias=False),
            nn.Linear(cin, cout, bias=False),
        )

    def forward(self, x, edge_index):
        src, dst = edge_index
        messages = x.index_select(0, src)
        summed = torch.zeros(x.size(0), x.size(1)).scatter_add_(
            0, dst.unsqueeze(1).expand_as(messages), messages
        )
        degree = torch.bincount(dst, minlength=x.size(0)).clamp(min=1).unsqueeze(1).float()
        maxed = torch.zeros_like(x).scatter_reduce(
            0, dst.unsqueeze(1).expand_as(messages), messages, reduce="amax", include_self=False
        )
        return self.lin_self(x) + self.lin_neigh(summed / degree) + self.lin_max(maxed)


class GNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.conv2 = GraphConv(2, 16), GraphConv(16, 16)
        self.head = nn.Linear(16, 2)

    def forward(self, x, edge_index, batch, num_graphs):
        x = F.relu(self.conv1(x, edge_index))
        x = F.relu(self.conv2(x, edge_index))
        pooled = torch.zeros(num_graphs, x.size(1)).index_add_(0, batch, x)
        counts = torch.bincount(batch, minlength=num_graphs).unsqueeze(1)
        return self.head(pooled / counts)


def node_features(edge_index, num_nodes):
    degree = torch.bincount(edge_index[0], minlength=num_nodes).float()
    return torch.stack([(degree == 1).float(), degree / 2], dim=1)


rng = np.random.default_rng(0)
labels = torch.from_numpy(rng.integers(0, 2, 48).astype(np.int64))
graphs = [make_graph(rng, bool(label)) for label in labels]
num_nodes, edge_index, batch = collate(graphs)
x = node_features(edge_index, num_nodes)
model = init_from_numpy(GNN())
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
losses = []
for epoch in range(40):
    optimizer.zero_grad()
    loss = F.cross_entropy(model(x, edge_index, batch, len(graphs)), labels)
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
with torch.no_grad():
    accuracy = (model(x, edge_index, batch, len(graphs)).argmax(1) == labels).float().mean().item()
print(
    f"loss {losses[0]:.4f} -> {losses[-1]:.4f}; accuracy {accuracy:.3f} on {len(graphs)} graphs, {num_nodes} nodes"
)

# the gradient of a scatter-based aggregation, compared with the dense adjacency form
h = randn(rng, num_nodes, 3).requires_grad_()
src, dst = edge_index
agg = torch.zeros(num_nodes, 3).index_add(0, dst, h[src])
adjacency = torch.zeros(num_nodes, num_nodes)
adjacency[dst, src] = 1.0
dense_gap = (agg - adjacency @ h).abs().max().item()
agg.pow(2).sum().backward()
scatter_grad = h.grad.clone()
dense_grad = 2 * adjacency.t() @ (adjacency @ h.detach())
scatter_grad_gap = (scatter_grad - dense_grad).abs().max().item()
