"""DiffPool (Ying et al. 2018) as PyTorch Geometric's ``dense_diff_pool`` and its
``proteins_diff_pool.py`` example write it: graphs padded to a dense batch with a node
``mask``, ``DenseSAGEConv`` layers (``adj @ x / adj.sum(-1, keepdim=True).clamp(min=1)``),
BatchNorm1d over the nodes of every graph, a soft assignment ``torch.softmax(s, dim=-1)``
pooling features (``s.transpose(1, 2) @ x``) and the adjacency (``s^T A s``), the link
prediction loss ``torch.norm(adj - s s^T, p=2) / adj.numel()`` and the entropy loss; graphs
of two communities against rings, drawn with NumPy."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy

EPS, MAX_NODES = 1e-15, 12


class DenseSAGEConv(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.lin_rel = nn.Linear(in_channels, out_channels, bias=False)
        self.lin_root = nn.Linear(in_channels, out_channels)

    def forward(self, x, adj, mask=None):
        out = torch.matmul(adj, x)
        out = out / adj.sum(dim=-1, keepdim=True).clamp(min=1)
        out = self.lin_rel(out) + self.lin_root(x)
        if mask is not None:
            out = out * mask.view(x.size(0), x.size(1), 1).to(x.dtype)
        return out


def dense_diff_pool(x, adj, s, mask=None):
    batch_size, num_nodes, _ = x.size()
    s = torch.softmax(s, dim=-1)
    if mask is not None:
        mask = mask.view(batch_size, num_nodes, 1).to(x.dtype)
        x, s = x * mask, s * mask
    out = torch.matmul(s.transpose(1, 2), x)
    out_adj = torch.matmul(torch.matmul(s.transpose(1, 2), adj), s)
    link_loss = adj - torch.matmul(s, s.transpose(1, 2))
    link_loss = torch.norm(link_loss, p=2)
    link_loss = link_loss / adj.numel()
    ent_loss = (-s * torch.log(s + EPS)).sum(dim=-1).mean()
    return out, out_adj, link_loss, ent_loss


class GNN(nn.Module):
    def __init__(self, in_channels, hidden, out_channels):
        super().__init__()
        self.conv1, self.bn1 = DenseSAGEConv(in_channels, hidden), nn.BatchNorm1d(hidden)
        self.conv2, self.bn2 = DenseSAGEConv(hidden, out_channels), nn.BatchNorm1d(out_channels)

    def bn(self, i, x):
        batch_size, num_nodes, num_channels = x.size()
        x = x.view(-1, num_channels)
        x = getattr(self, f"bn{i}")(x)
        return x.view(batch_size, num_nodes, num_channels)

    def forward(self, x, adj, mask=None):
        x = self.bn(1, F.relu(self.conv1(x, adj, mask)))
        return self.bn(2, F.relu(self.conv2(x, adj, mask)))


class DiffPoolNet(nn.Module):
    def __init__(self, in_channels, clusters=3):
        super().__init__()
        self.gnn1_pool, self.gnn1_embed = GNN(in_channels, 16, clusters), GNN(in_channels, 16, 16)
        self.gnn2_embed = GNN(16, 16, 16)
        self.lin1, self.lin2 = nn.Linear(16, 16), nn.Linear(16, 2)

    def forward(self, x, adj, mask=None):
        s = self.gnn1_pool(x, adj, mask)
        x = self.gnn1_embed(x, adj, mask)
        x, adj, l1, e1 = dense_diff_pool(x, adj, s, mask)
        x = self.gnn2_embed(x, adj)
        x = x.mean(dim=1)
        x = F.relu(self.lin1(x))
        return F.log_softmax(self.lin2(x), dim=-1), l1, e1, s


def make_graph(rng, label):
    n = int(rng.integers(8, MAX_NODES + 1))
    adj = np.zeros((n, n))
    if label == 0:  # a ring with a chord
        for i in range(n):
            adj[i, (i + 1) % n] = adj[(i + 1) % n, i] = 1
        adj[0, n // 2] = adj[n // 2, 0] = 1
    else:  # two dense communities joined by one edge
        half = n // 2
        for block in (range(half), range(half, n)):
            for i in block:
                for j in block:
                    if i < j and rng.random() < 0.7:
                        adj[i, j] = adj[j, i] = 1
        adj[0, n - 1] = adj[n - 1, 0] = 1
    degree = adj.sum(1, keepdims=True)
    x = np.concatenate([degree / 4, np.ones((n, 1))], 1)
    return x, adj


def to_dense_batch(graphs):
    b = len(graphs)
    x, adj, mask = (
        np.zeros((b, MAX_NODES, 2)),
        np.zeros((b, MAX_NODES, MAX_NODES)),
        np.zeros((b, MAX_NODES)),
    )
    for i, (gx, gadj) in enumerate(graphs):
        n = len(gx)
        x[i, :n], adj[i, :n, :n], mask[i, :n] = gx, gadj, 1
    return (
        torch.tensor(x, dtype=torch.float32),
        torch.tensor(adj, dtype=torch.float32),
        torch.tensor(mask, dtype=torch.bool),
    )


rng = np.random.default_rng(0)
labels = rng.integers(0, 2, 32)
x, adj, mask = to_dense_batch([make_graph(rng, y) for y in labels])
y = torch.tensor(labels)
model = init_from_numpy(DiffPoolNet(2), seed=3)
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
losses, link_losses, ent_losses = [], [], []
for epoch in range(10):
    model.train()
    for start in range(0, 32, 16):
        sl = slice(start, start + 16)
        optimizer.zero_grad()
        out, link_loss, ent_loss, _ = model(x[sl], adj[sl], mask[sl])
        loss = F.nll_loss(out, y[sl]) + link_loss + ent_loss
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        link_losses.append(link_loss.item())
        ent_losses.append(ent_loss.item())

model.eval()
with torch.no_grad():
    out, _, _, s = model(x, adj, mask)
accuracy = (out.argmax(dim=1) == y).float().mean().item()
filled = x.masked_fill(~mask.unsqueeze(-1), 5.0)  # padding must not leak into the pooled graph
padding_gap = (
    (dense_diff_pool(filled, adj, s, mask)[0] - dense_diff_pool(x, adj, s, mask)[0])
    .abs()
    .max()
    .item()
)
assignment_rows = s[0, :3].softmax(-1).tolist()
running_mean = model.gnn1_embed.bn1.running_mean[:4].tolist()
pooled_adj_shape = tuple(dense_diff_pool(x[:2], adj[:2], s[:2], mask[:2])[1].shape)
