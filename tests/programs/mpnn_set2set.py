"""The MPNN of Gilmer et al. (2017) as PyTorch Geometric's QM9 example builds it, written out
in plain PyTorch: an edge network (``NNConv``) that turns each edge's features into a
``(in, out)`` matrix applied with ``torch.bmm``, messages averaged per target node with
``index_reduce_(..., 'mean', include_self=False)``, a GRU update (``nn.GRU`` over one step,
the node states as its hidden state), and a Set2Set readout (an LSTM query, attention
logits softmaxed within each graph through ``scatter_reduce(..., 'amax',
include_self=False)`` and ``index_add_``); trained by Adam with ReduceLROnPlateau to regress
a graph property of random molecules drawn with NumPy."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy

DIM, NODE_FEATURES, EDGE_FEATURES = 16, 3, 2


class NNConv(nn.Module):
    def __init__(self, in_channels, out_channels, edge_net):
        super().__init__()
        self.in_channels, self.out_channels, self.edge_net = in_channels, out_channels, edge_net
        self.root = nn.Linear(in_channels, out_channels)

    def forward(self, x, edge_index, edge_attr):
        src, dst = edge_index
        weight = self.edge_net(edge_attr).view(-1, self.in_channels, self.out_channels)
        messages = torch.bmm(x[src].unsqueeze(1), weight).squeeze(1)
        aggregated = torch.zeros(x.size(0), self.out_channels).index_reduce_(
            0, dst, messages, "mean", include_self=False
        )
        return aggregated + self.root(x)


def scatter_softmax(logits, index, num_groups):
    group_max = torch.zeros(num_groups).scatter_reduce(0, index, logits, "amax", include_self=False)
    exp = (logits - group_max[index]).exp()
    return exp / torch.zeros(num_groups).index_add_(0, index, exp)[index]


class Set2Set(nn.Module):
    def __init__(self, in_channels, processing_steps):
        super().__init__()
        self.in_channels, self.processing_steps = in_channels, processing_steps
        self.lstm = nn.LSTM(2 * in_channels, in_channels, batch_first=True)

    def forward(self, x, batch, num_graphs):
        h = (
            x.new_zeros(1, num_graphs, self.in_channels),
            x.new_zeros(1, num_graphs, self.in_channels),
        )
        q_star = x.new_zeros(num_graphs, 2 * self.in_channels)
        for _ in range(self.processing_steps):
            q, h = self.lstm(q_star.unsqueeze(1), h)
            q = q.view(num_graphs, self.in_channels)
            e = (x * q[batch]).sum(dim=-1)
            a = scatter_softmax(e, batch, num_graphs)
            r = torch.zeros(num_graphs, self.in_channels).index_add_(0, batch, a.unsqueeze(-1) * x)
            q_star = torch.cat([q, r], dim=-1)
        return q_star


class MPNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin0 = nn.Linear(NODE_FEATURES, DIM)
        edge_net = nn.Sequential(nn.Linear(EDGE_FEATURES, 32), nn.ReLU(), nn.Linear(32, DIM * DIM))
        self.conv = NNConv(DIM, DIM, edge_net)
        self.gru = nn.GRU(DIM, DIM)
        self.set2set = Set2Set(DIM, processing_steps=2)
        self.lin1, self.lin2 = nn.Linear(2 * DIM, DIM), nn.Linear(DIM, 1)

    def forward(self, x, edge_index, edge_attr, batch, num_graphs):
        out = F.relu(self.lin0(x))
        h = out.unsqueeze(0)
        for _ in range(2):
            m = F.relu(self.conv(out, edge_index, edge_attr))
            out, h = self.gru(m.unsqueeze(0), h)
            out = out.squeeze(0)
        out = self.set2set(out, batch, num_graphs)
        return self.lin2(F.relu(self.lin1(out))).view(-1)


def random_molecule(rng):
    n = int(rng.integers(4, 8))
    x = np.eye(NODE_FEATURES)[rng.integers(0, NODE_FEATURES, n)]
    edges = [(i, int(rng.integers(0, i))) for i in range(1, n)]  # a random tree
    bond = rng.integers(1, 3, len(edges))
    edge_index = np.array(edges + [(j, i) for i, j in edges]).T
    edge_attr = np.eye(EDGE_FEATURES)[np.concatenate([bond, bond]) - 1]
    target = x[:, 0].sum() * 0.5 + (bond == 2).sum() - 0.2 * n
    return x, edge_index, edge_attr, target


def collate(molecules):
    xs, edges, attrs, batch, targets, offset = [], [], [], [], [], 0
    for g, (x, edge_index, edge_attr, target) in enumerate(molecules):
        xs.append(x)
        edges.append(edge_index + offset)
        attrs.append(edge_attr)
        batch.append(np.full(len(x), g))
        targets.append(target)
        offset += len(x)
    return (
        torch.tensor(np.concatenate(xs), dtype=torch.float32),
        torch.tensor(np.concatenate(edges, 1)),
        torch.tensor(np.concatenate(attrs), dtype=torch.float32),
        torch.tensor(np.concatenate(batch)),
        torch.tensor(targets, dtype=torch.float32),
    )


rng = np.random.default_rng(0)
train = [collate([random_molecule(rng) for _ in range(16)]) for _ in range(4)]
test = collate([random_molecule(rng) for _ in range(32)])
model = init_from_numpy(MPNN(), seed=5)
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
    optimizer, mode="min", factor=0.7, patience=0
)
losses, val_errors, lrs = [], [], []
for epoch in range(8):
    model.train()
    for x, edge_index, edge_attr, batch, y in train:
        optimizer.zero_grad()
        loss = F.mse_loss(model(x, edge_index, edge_attr, batch, 16), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        val_error = (model(*test[:4], 32) - test[4]).abs().mean().item()
    scheduler.step(val_error)
    val_errors.append(val_error)
    lrs.append(optimizer.param_groups[0]["lr"])

x, edge_index, edge_attr, batch, y = test
attention = scatter_softmax(torch.arange(batch.numel()).float() * 0.1, batch, 32)
attention_sums = torch.zeros(32).index_add_(0, batch, attention)
isolated = torch.zeros(3, 2).index_reduce_(
    0, torch.tensor([0, 0]), torch.ones(2, 2) * 4, "mean", include_self=False
)
