"""pytorch/examples gat (Graph Attention Network, Velickovic et al.) with a dense adjacency
matrix: per-head attention coefficients from ``a^T [W h_i || W h_j]`` built by broadcasting,
LeakyReLU, masking of non-edges with ``torch.where(adj > 0, e, -9e15)``, softmax over
neighbours, dropout, ELU between layers, heads concatenated then averaged in the output layer;
trained with Adam + weight decay and early stopping on validation loss."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy, randn

rng = np.random.default_rng(9)
n, num_classes, in_features = 36, 3, 8
labels = torch.from_numpy(np.repeat(np.arange(num_classes), n // num_classes))
features = torch.eye(num_classes)[labels] @ randn(rng, num_classes, in_features) + randn(
    rng, n, in_features
)
same = labels.unsqueeze(0) == labels.unsqueeze(1)
probs = torch.where(same, torch.tensor(0.3), torch.tensor(0.03))
adj = (torch.from_numpy(rng.random((n, n)).astype(np.float32)) < probs).float()
adj = ((adj + adj.T) > 0).float() + torch.eye(n)
idx_train, idx_val, idx_test = torch.arange(0, n, 4), torch.arange(1, n, 4), torch.arange(2, n, 2)


class GraphAttentionLayer(nn.Module):
    def __init__(
        self, in_features, out_features, n_heads, concat=True, dropout=0.0, leaky_relu_slope=0.2
    ):
        super().__init__()
        self.n_heads, self.concat, self.dropout = n_heads, concat, dropout
        self.n_hidden = out_features // n_heads if concat else out_features
        self.W = nn.Parameter(torch.empty(size=(in_features, self.n_hidden * n_heads)))
        self.a = nn.Parameter(torch.empty(size=(n_heads, 2 * self.n_hidden, 1)))
        self.leakyrelu = nn.LeakyReLU(leaky_relu_slope)
        self.softmax = nn.Softmax(dim=1)

    def _get_attention_scores(self, h_transformed):
        source_scores = torch.matmul(h_transformed, self.a[:, : self.n_hidden, :])
        target_scores = torch.matmul(h_transformed, self.a[:, self.n_hidden :, :])
        e = source_scores + target_scores.mT
        return self.leakyrelu(e)

    def forward(self, h, adj_mat):
        n_nodes = h.shape[0]
        h_transformed = torch.mm(h, self.W)
        h_transformed = F.dropout(h_transformed, self.dropout, training=self.training)
        h_transformed = h_transformed.view(n_nodes, self.n_heads, self.n_hidden).permute(1, 0, 2)
        e = self._get_attention_scores(h_transformed)
        connectivity_mask = -9e16 * torch.ones_like(e)
        e = torch.where(adj_mat > 0, e, connectivity_mask)
        attention = F.softmax(e, dim=-1)
        attention = F.dropout(attention, self.dropout, training=self.training)
        h_prime = torch.matmul(attention, h_transformed)
        if self.concat:
            return h_prime.permute(1, 0, 2).contiguous().view(n_nodes, -1)
        return h_prime.mean(dim=0)


class GAT(nn.Module):
    def __init__(self, in_features, n_hidden, n_heads, num_classes):
        super().__init__()
        self.gat1 = GraphAttentionLayer(in_features, n_hidden, n_heads, concat=True)
        self.gat2 = GraphAttentionLayer(n_hidden, num_classes, 1, concat=False)

    def forward(self, input_tensor, adj_mat):
        x = F.elu(self.gat1(input_tensor, adj_mat))
        return F.log_softmax(self.gat2(x, adj_mat), dim=1)


model = init_from_numpy(GAT(in_features, 16, 4, num_classes), seed=3)
optimizer = torch.optim.Adam(model.parameters(), lr=0.02, weight_decay=5e-4)
train_losses, val_losses, best_val, patience = [], [], float("inf"), 0
for epoch in range(60):
    model.train()
    optimizer.zero_grad()
    output = model(features, adj)
    loss = F.nll_loss(output[idx_train], labels[idx_train])
    loss.backward()
    optimizer.step()
    train_losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        val_loss = F.nll_loss(model(features, adj)[idx_val], labels[idx_val]).item()
    val_losses.append(val_loss)
    if val_loss < best_val:
        best_val, patience = val_loss, 0
    else:
        patience += 1
        if patience == 10:
            break
stopped_at = epoch
with torch.no_grad():
    test_accuracy = (
        model(features, adj)[idx_test].argmax(1).eq(labels[idx_test]).float().mean().item()
    )
    att_rows = F.softmax(
        torch.where(
            adj > 0,
            model.gat1._get_attention_scores(
                (features @ model.gat1.W).view(n, 4, 4).permute(1, 0, 2)
            ),
            torch.tensor(-9e16),
        ),
        -1,
    ).sum(-1)
row_sums_one = bool(torch.allclose(att_rows, torch.ones_like(att_rows)))
