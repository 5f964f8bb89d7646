"""The UvA deep learning course's Tutorial 7 ("Graph Neural Networks", Phillip Lippe), its
layers written by hand on dense adjacency matrices: ``GCNLayer`` (``torch.bmm`` with the
adjacency, divided by ``sum(dim=-1, keepdims=True)``) and ``GATLayer`` (edges from
``adj_matrix.nonzero(as_tuple=False)``, flat row/column indices, ``torch.index_select`` with
keyword arguments, ``einsum("bhc,hc->bh")``, an ``attn_logits.new_zeros(...).fill_(-9e15)``
matrix filled through a boolean mask built by ``repeat``, softmax over neighbours and
``einsum("bijh,bjhc->bihc")``), both checked on the tutorial's 4-node example with weights set
through ``.data = torch.Tensor(...)``, then two-layer GCN and GAT node classifiers trained on a
two-community graph with train/validation masks."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class GCNLayer(nn.Module):
    def __init__(self, c_in, c_out):
        super().__init__()
        self.projection = nn.Linear(c_in, c_out)

    def forward(self, node_feats, adj_matrix):
        num_neighbours = adj_matrix.sum(dim=-1, keepdims=True)
        node_feats = self.projection(node_feats)
        node_feats = torch.bmm(adj_matrix, node_feats)
        node_feats = node_feats / num_neighbours
        return node_feats


class GATLayer(nn.Module):
    def __init__(self, c_in, c_out, num_heads=1, concat_heads=True, alpha=0.2):
        super().__init__()
        self.num_heads = num_heads
        self.concat_heads = concat_heads
        if self.concat_heads:
            assert c_out % num_heads == 0, (
                "Number of output features must be a multiple of the count of heads."
            )
            c_out = c_out // num_heads
        self.projection = nn.Linear(c_in, c_out * num_heads)
        self.a = nn.Parameter(torch.Tensor(num_heads, 2 * c_out))
        self.leakyrelu = nn.LeakyReLU(alpha)
        nn.init.xavier_uniform_(self.projection.weight.data, gain=1.414)
        nn.init.xavier_uniform_(self.a.data, gain=1.414)

    def forward(self, node_feats, adj_matrix, print_attn_probs=False):
        batch_size, num_nodes = node_feats.size(0), node_feats.size(1)
        node_feats = self.projection(node_feats)
        node_feats = node_feats.view(batch_size, num_nodes, self.num_heads, -1)
        edges = adj_matrix.nonzero(as_tuple=False)
        node_feats_flat = node_feats.view(batch_size * num_nodes, self.num_heads, -1)
        edge_indices_row = edges[:, 0] * num_nodes + edges[:, 1]
        edge_indices_col = edges[:, 0] * num_nodes + edges[:, 2]
        a_input = torch.cat(
            [
                torch.index_select(input=node_feats_flat, index=edge_indices_row, dim=0),
                torch.index_select(input=node_feats_flat, index=edge_indices_col, dim=0),
            ],
            dim=-1,
        )
        attn_logits = torch.einsum("bhc,hc->bh", a_input, self.a)
        attn_logits = self.leakyrelu(attn_logits)
        attn_matrix = attn_logits.new_zeros(adj_matrix.shape + (self.num_heads,)).fill_(-9e15)
        attn_matrix[adj_matrix[..., None].repeat(1, 1, 1, self.num_heads) == 1] = (
            attn_logits.reshape(-1)
        )
        attn_probs = F.softmax(attn_matrix, dim=2)
        if print_attn_probs:
            self.last_attn = attn_probs.permute(0, 3, 1, 2)
        node_feats = torch.einsum("bijh,bjhc->bihc", attn_probs, node_feats)
        if self.concat_heads:
            node_feats = node_feats.reshape(batch_size, num_nodes, -1)
        else:
            node_feats = node_feats.mean(dim=2)
        return node_feats


# the tutorial's example graph
node_feats = torch.arange(8, dtype=torch.float32).view(1, 4, 2)
adj_matrix = torch.Tensor([[[1, 1, 0, 0], [1, 1, 1, 1], [0, 1, 1, 1], [0, 1, 1, 1]]])
layer = GCNLayer(c_in=2, c_out=2)
layer.projection.weight.data = torch.Tensor([[1.0, 0.0], [0.0, 1.0]])
layer.projection.bias.data = torch.Tensor([0.0, 0.0])
with torch.no_grad():
    gcn_example = layer(node_feats, adj_matrix).tolist()

torch.manual_seed(0)
layer = GATLayer(2, 2, num_heads=2)
layer.projection.weight.data = torch.Tensor([[1.0, 0.0], [0.0, 1.0]])
layer.projection.bias.data = torch.Tensor([0.0, 0.0])
layer.a.data = torch.Tensor([[-0.2, 0.3], [0.1, -0.1]])
with torch.no_grad():
    gat_example = layer(node_feats, adj_matrix, print_attn_probs=True).tolist()
gat_attn = layer.last_attn[0, 0, 1].tolist()

# node classification on two communities
rng = np.random.default_rng(3)
n = 24
community = np.repeat([0, 1], n // 2)
same = community[:, None] == community[None, :]
adj = (rng.random((n, n)) < np.where(same, 0.4, 0.05)).astype(np.float32)
adj = np.maximum(adj, adj.T)
np.fill_diagonal(adj, 1.0)
feats = rng.normal(0, 1, (n, 6)).astype(np.float32)
feats[:, 0] += 0.5 * (2 * community - 1)
A = torch.from_numpy(adj)[None]
X = torch.from_numpy(feats)[None]
y = torch.from_numpy(community).long()
train_mask = torch.zeros(n, dtype=torch.bool)
train_mask[::4] = True
val_mask = ~train_mask


class GNNModel(nn.Module):
    def __init__(self, layer_name, c_in, c_hidden, c_out):
        super().__init__()
        if layer_name == "GCN":
            self.layers = nn.ModuleList([GCNLayer(c_in, c_hidden), GCNLayer(c_hidden, c_out)])
        else:
            self.layers = nn.ModuleList(
                [GATLayer(c_in, c_hidden, num_heads=2), GATLayer(c_hidden, c_out, 2, False)]
            )
        self.act = nn.ReLU(inplace=True)
        self.dropout = nn.Dropout(0.0)

    def forward(self, x, adj):
        x = self.dropout(self.act(self.layers[0](x, adj)))
        return self.layers[1](x, adj)


results = {}
for layer_name in ["GCN", "GAT"]:
    torch.manual_seed(1)
    model = GNNModel(layer_name, 6, 8, 2)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05, weight_decay=5e-4)
    losses = []
    for epoch in range(15):
        logits = model(X, A)[0]
        loss = F.cross_entropy(logits[train_mask], y[train_mask])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    with torch.no_grad():
        pred = model(X, A)[0].argmax(dim=-1)
    val_acc = (pred[val_mask] == y[val_mask]).sum().float() / val_mask.sum()
    results[layer_name] = [losses, val_acc.item()]
n_edges = int(A.sum().item())
