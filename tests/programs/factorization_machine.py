"""Factorization machines (Rendle 2010) and DeepFM (Guo et al. 2017) for click prediction on
categorical fields, as the pytorch-fm library writes them: one nn.Embedding over all fields'
values with per-field offsets, the O(kn) sum-square trick for the pairwise interactions
(checked against the explicit sum over torch.combinations / torch.triu_indices pairs), a
first-order nn.Embedding(..., 1) term, and a deep part on the flattened embeddings; trained
with BCEWithLogits and scored by AUC computed with argsort ranks."""

import numpy as np
import torch
import torch.nn as nn
from numpy_init import init_from_numpy

field_dims = [4, 6, 3, 5]


class FeaturesEmbedding(nn.Module):
    def __init__(self, field_dims, embed_dim):
        super().__init__()
        self.embedding = nn.Embedding(sum(field_dims), embed_dim)
        self.register_buffer("offsets", torch.tensor((0, *np.cumsum(field_dims)[:-1].tolist())))

    def forward(self, x):
        return self.embedding(x + self.offsets.unsqueeze(0))


class FactorizationMachine(nn.Module):
    def forward(self, x):
        square_of_sum = torch.sum(x, dim=1) ** 2
        sum_of_square = torch.sum(x**2, dim=1)
        return 0.5 * torch.sum(square_of_sum - sum_of_square, dim=1, keepdim=True)


class DeepFM(nn.Module):
    def __init__(self, field_dims, embed_dim, hidden):
        super().__init__()
        self.linear = FeaturesEmbedding(field_dims, 1)
        self.bias = nn.Parameter(torch.zeros((1,)))
        self.embedding = FeaturesEmbedding(field_dims, embed_dim)
        self.fm = FactorizationMachine()
        self.mlp = nn.Sequential(
            nn.Linear(len(field_dims) * embed_dim, hidden),
            nn.BatchNorm1d(hidden),
            nn.ReLU(),
            nn.Linear(hidden, 1),
        )

    def forward(self, x):
        embed_x = self.embedding(x)
        first_order = self.linear(x).sum(dim=1) + self.bias
        out = first_order + self.fm(embed_x) + self.mlp(embed_x.flatten(1))
        return out.squeeze(1)


def make_clicks(rng, n):
    x = np.stack([rng.integers(0, d, n) for d in field_dims], axis=1)
    logit = (x[:, 0] == 1) * 1.5 + (x[:, 1] == x[:, 3]) * 2.0 - (x[:, 2] == 0) * 1.0 - 0.5
    y = rng.random(n) < 1 / (1 + np.exp(-2 * logit))
    return torch.from_numpy(x.astype(np.int64)), torch.from_numpy(y.astype(np.float32))


def auc(scores, labels):
    ranks = torch.empty_like(scores)
    ranks[scores.argsort()] = torch.arange(1, len(scores) + 1, dtype=scores.dtype)
    n_pos = labels.sum()
    n_neg = len(labels) - n_pos
    return ((ranks * labels).sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


rng = np.random.default_rng(0)
x_train, y_train = make_clicks(rng, 512)
x_test, y_test = make_clicks(rng, 512)
model = init_from_numpy(DeepFM(field_dims, embed_dim=4, hidden=16))
optimizer = torch.optim.Adam(model.parameters(), lr=0.02, weight_decay=1e-6)
criterion = nn.BCEWithLogitsLoss()
losses = []
for epoch in range(8):
    model.train()
    for i in range(0, 512, 128):
        optimizer.zero_grad()
        loss = criterion(model(x_train[i : i + 128]), y_train[i : i + 128])
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
print(f"loss {losses[0]:.4f} -> {losses[-1]:.4f}")

model.eval()
with torch.no_grad():
    test_auc = auc(model(x_test), y_test).item()
    embed_x = model.embedding(x_test[:8])
    fast = model.fm(embed_x).squeeze(1)
    pairs = torch.combinations(torch.arange(len(field_dims)), r=2)
    explicit = (embed_x[:, pairs[:, 0]] * embed_x[:, pairs[:, 1]]).sum(dim=(1, 2))
    rows, cols = torch.triu_indices(len(field_dims), len(field_dims), offset=1)
    via_triu = (embed_x @ embed_x.transpose(1, 2))[:, rows, cols].sum(1)
fm_gap = max((fast - explicit).abs().max().item(), (fast - via_triu).abs().max().item())
print(f"test AUC {test_auc:.3f}; {len(pairs)} field pairs, sum-square trick gap {fm_gap:.1e}")
