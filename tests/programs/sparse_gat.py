"""A graph attention network on sparse COO tensors, as pyGAT's ``SpGAT`` and the DGL-free
tutorials write it: edge logits ``LeakyReLU(a^T [W h_i || W h_j])`` put into a
``torch.sparse_coo_tensor`` over the adjacency (self-loops added, ``coalesce()``d), the
edge softmax by ``torch.sparse.softmax(..., dim=1)``, aggregation by ``torch.sparse.mm``,
multi-head concatenation with ELU then a one-head output layer, gradients flowing back
through the sparse values; semi-supervised node classification on a planted-partition
graph drawn with NumPy, with the attention checked against a dense masked softmax."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy

N_NODES, N_CLASSES, FEATURES = 60, 3, 8


class SparseGATLayer(nn.Module):
    def __init__(self, in_features, out_features, heads):
        super().__init__()
        self.heads, self.out_features = heads, out_features
        self.W = nn.Linear(in_features, heads * out_features, bias=False)
        self.a_src = nn.Parameter(torch.empty(heads, out_features))
        self.a_dst = nn.Parameter(torch.empty(heads, out_features))
        with torch.no_grad():
            self.a_src.copy_(
                torch.linspace(-0.3, 0.3, heads * out_features).view(heads, out_features)
            )
            self.a_dst.copy_(
                torch.linspace(0.2, -0.2, heads * out_features).view(heads, out_features)
            )

    def forward(self, x, edge_index, return_attention=False):
        n = x.size(0)
        h = self.W(x).view(n, self.heads, self.out_features)
        src, dst = edge_index
        logits = F.leaky_relu((h[dst] * self.a_dst).sum(-1) + (h[src] * self.a_src).sum(-1), 0.2)
        outputs, attentions = [], []
        for k in range(self.heads):
            scores = torch.sparse_coo_tensor(edge_index.flip(0), logits[:, k], (n, n)).coalesce()
            attention = torch.sparse.softmax(scores, dim=1)
            outputs.append(torch.sparse.mm(attention, h[:, k]))
            attentions.append(attention)
        out = torch.stack(outputs, 1)
        return (out, attentions) if return_attention else out


class SpGAT(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer1 = SparseGATLayer(FEATURES, 8, heads=4)
        self.layer2 = SparseGATLayer(32, N_CLASSES, heads=1)

    def forward(self, x, edge_index):
        x = F.elu(self.layer1(x, edge_index).flatten(1))
        return self.layer2(x, edge_index).squeeze(1)


rng = np.random.default_rng(0)
labels_np = np.repeat(np.arange(N_CLASSES), N_NODES // N_CLASSES)
same = labels_np[:, None] == labels_np[None, :]
adjacency = np.triu(rng.random((N_NODES, N_NODES)) < np.where(same, 0.2, 0.02), 1)
adjacency = adjacency | adjacency.T | np.eye(N_NODES, dtype=bool)  # self-loops
edge_index = torch.tensor(np.stack(np.nonzero(adjacency)))  # (source, target) pairs
features = torch.tensor(
    np.eye(N_CLASSES)[labels_np] @ rng.standard_normal((N_CLASSES, FEATURES)) * 0.5
    + rng.standard_normal((N_NODES, FEATURES)),
    dtype=torch.float32,
)
labels = torch.tensor(labels_np)
train_mask = torch.zeros(N_NODES, dtype=torch.bool)
train_mask[torch.tensor(rng.choice(N_NODES, 12, replace=False))] = True

model = init_from_numpy(SpGAT(), seed=6)
optimizer = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=5e-4)
losses = []
for epoch in range(30):
    optimizer.zero_grad()
    out = model(features, edge_index)
    loss = F.cross_entropy(out[train_mask], labels[train_mask])
    loss.backward()
    optimizer.step()
    losses.append(loss.item())

with torch.no_grad():
    pred = model(features, edge_index).argmax(1)
    test_accuracy = (pred[~train_mask] == labels[~train_mask]).float().mean().item()
    _, attentions = model.layer1(features, edge_index, return_attention=True)
    dense_attention = attentions[0].to_dense()
    h = model.layer1.W(features).view(N_NODES, 4, 8)[:, 0]
    e = F.leaky_relu(
        (h * model.layer1.a_dst[0]).sum(-1).unsqueeze(1)
        + (h * model.layer1.a_src[0]).sum(-1).unsqueeze(0),
        0.2,
    )
    reference = e.masked_fill(~torch.tensor(adjacency).T, float("-inf")).softmax(1)
attention_gap = (dense_attention - reference).abs().max().item()
row_sums = dense_attention.sum(1)
a_src_grad = model.layer1.a_src.grad[0, :4].tolist()
n_edges = edge_index.shape[1]
