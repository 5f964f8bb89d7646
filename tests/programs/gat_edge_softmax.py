"""A graph attention network on an edge list, as PyG's GATConv computes it without a dense
adjacency: per-edge scores ``leaky_relu(a_src . Wh_j + a_dst . Wh_i)`` for several heads,
a softmax over each node's incoming edges written as scatter operations
(``scatter_reduce(reduce="amax", include_self=False)`` for the stable maximum, ``exp``, then
``index_add_`` for the normaliser), self-loops added with ``torch.arange``, attention
``dropout`` on the edge weights, messages weighted and summed with ``index_add_``, heads
concatenated then averaged; node classification on a stochastic block graph, and the edge
softmax checked against a dense ``masked_fill(-inf)`` softmax."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy

N, FEATS, CLASSES = 90, 6, 3


def edge_softmax(scores, dst, num_nodes):
    """Softmax of ``scores`` (E, H) over the edges that share a destination."""
    index = dst.unsqueeze(1).expand_as(scores)
    node_max = torch.zeros(num_nodes, scores.size(1)).scatter_reduce(
        0, index, scores, reduce="amax", include_self=False
    )
    exp = (scores - node_max[dst]).exp()
    denom = torch.zeros(num_nodes, scores.size(1)).index_add_(0, dst, exp)
    return exp / denom[dst]


class GATConv(nn.Module):
    def __init__(self, cin, cout, heads, concat=True, dropout=0.2):
        super().__init__()
        self.heads, self.cout, self.concat, self.dropout = heads, cout, concat, dropout
        self.lin = nn.Linear(cin, heads * cout, bias=False)
        self.att_src = nn.Parameter(torch.empty(1, heads, cout))
        self.att_dst = nn.Parameter(torch.empty(1, heads, cout))
        self.bias = nn.Parameter(torch.zeros(heads * cout if concat else cout))

    def forward(self, x, edge_index):
        src, dst = edge_index
        h = self.lin(x).view(-1, self.heads, self.cout)
        scores = F.leaky_relu(
            (h * self.att_src).sum(-1)[src] + (h * self.att_dst).sum(-1)[dst], 0.2
        )
        alpha = edge_softmax(scores, dst, x.size(0))
        self.last_alpha = alpha
        alpha = F.dropout(alpha, p=self.dropout, training=self.training)
        out = torch.zeros_like(h).index_add_(0, dst, h[src] * alpha.unsqueeze(-1))
        out = out.flatten(1) if self.concat else out.mean(1)
        return out + self.bias


class GAT(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = GATConv(FEATS, 8, heads=4)
        self.conv2 = GATConv(32, CLASSES, heads=2, concat=False)

    def forward(self, x, edge_index):
        x = F.elu(self.conv1(F.dropout(x, 0.2, self.training), edge_index))
        return self.conv2(F.dropout(x, 0.2, self.training), edge_index)


rng = np.random.default_rng(0)
labels = np.repeat(np.arange(CLASSES), N // CLASSES)
upper = np.triu(rng.random((N, N)) < np.where(labels[:, None] == labels[None], 0.15, 0.01), 1)
src, dst = np.nonzero(upper | upper.T)
loops = torch.arange(N)
edge_index = torch.stack(
    [torch.cat([torch.from_numpy(src), loops]), torch.cat([torch.from_numpy(dst), loops])]
)
x = torch.from_numpy(
    (rng.normal(0, 1, (N, FEATS)) + 0.8 * np.eye(CLASSES, FEATS)[labels]).astype(np.float32)
)
y = torch.from_numpy(labels)
train_mask = torch.from_numpy(rng.random(N) < 0.4)

torch.manual_seed(0)
model = GAT()
for conv in (model.conv1, model.conv2):
    nn.init.xavier_uniform_(conv.att_src)
    nn.init.xavier_uniform_(conv.att_dst)
init_from_numpy(model, seed=1)
optimizer = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=5e-4)
losses = []
for epoch in range(60):
    model.train()
    out = model(x, edge_index)
    loss = F.cross_entropy(out[train_mask], y[train_mask])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())

model.eval()
with torch.no_grad():
    pred = model(x, edge_index).argmax(1)
    alpha = model.conv1.last_alpha
test_accuracy = (pred[~train_mask] == y[~train_mask]).float().mean().item()
alpha_sums = torch.zeros(N, 4).index_add_(0, edge_index[1], alpha)
alpha_sum_gap = (alpha_sums - 1).abs().max().item()

scores = torch.from_numpy(rng.normal(0, 1, (edge_index.size(1), 1)).astype(np.float32))
dense = torch.full((N, N), float("-inf"))
dense[edge_index[1], edge_index[0]] = scores[:, 0]
dense_alpha = torch.softmax(dense, dim=1)[edge_index[1], edge_index[0]]
softmax_gap = (edge_softmax(scores, edge_index[1], N)[:, 0] - dense_alpha).abs().max().item()
num_edges = edge_index.size(1)
