"""Embeddings for numerical features in tabular deep learning (Gorishniy et al., 2022, the
rtdl_num_embeddings package) as PyTorch code writes them: quantile bin edges from the training
data (torch.quantile, torch.unique for duplicate edges), piecewise-linear encoding by
torch.bucketize and clamped in-bin fractions, periodic embeddings cos/sin(2 pi c x) with
trainable frequencies followed by a linear layer and ReLU (PLR), each under the same MLP, against
raw features; a target with sharp thresholds and a high-frequency wave, trained with MSE."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

N_FEATURES, N_BINS, D_EMB = 3, 8, 6


def compute_bins(X, n_bins):
    bins = []
    for column in X.T:
        edges = torch.quantile(column, torch.linspace(0.0, 1.0, n_bins + 1))
        bins.append(torch.unique(edges))  # sorted, duplicates dropped
    return bins


class PiecewiseLinearEncoding(nn.Module):
    def __init__(self, bins):
        super().__init__()
        self.edges = [b for b in bins]
        self.n_bins = [len(b) - 1 for b in bins]

    def forward(self, x):
        out = []
        for i, edges in enumerate(self.edges):
            col = x[:, i]
            idx = torch.bucketize(col, edges[1:-1], right=True)  # which bin each value is in
            left, width = edges[:-1][idx], (edges[1:] - edges[:-1])[idx]
            frac = ((col - left) / width).clamp(0.0, 1.0)
            bins = torch.arange(self.n_bins[i])
            enc = torch.where(bins < idx.unsqueeze(1), 1.0, 0.0)  # bins left of x are full
            enc = torch.where(bins == idx.unsqueeze(1), frac.unsqueeze(1), enc)
            out.append(enc)
        return torch.cat(out, dim=1)


class PeriodicEmbeddings(nn.Module):
    def __init__(self, n_features, n_frequencies=8, sigma=1.0):
        super().__init__()
        self.frequencies = nn.Parameter(torch.empty(n_features, n_frequencies))
        nn.init.trunc_normal_(self.frequencies, 0.0, sigma, a=-3 * sigma, b=3 * sigma)
        self.linear = nn.Linear(2 * n_frequencies, D_EMB)

    def forward(self, x):
        v = 2 * math.pi * self.frequencies * x[..., None]
        return F.relu(self.linear(torch.cat([torch.cos(v), torch.sin(v)], -1))).flatten(1)


def mlp(d_in):
    return nn.Sequential(nn.Linear(d_in, 32), nn.ReLU(), nn.Dropout(0.1), nn.Linear(32, 1))


torch.manual_seed(0)
X = torch.rand(512, N_FEATURES) * 4 - 2
y = (X[:, 0] > 0.3).float() * 2 - (X[:, 1] < -1).float() + torch.sin(4 * X[:, 2])
y = (y + 0.05 * torch.randn(512)).unsqueeze(1)
X_train, y_train, X_test, y_test = X[:384], y[:384], X[384:], y[384:]
bins = compute_bins(X_train, N_BINS)
bin_edges = [b.tolist() for b in bins]
ple = PiecewiseLinearEncoding(bins)
sample_encoding = ple(torch.tensor([[-2.0, 0.0, 1.99], [0.3, -1.0, 5.0]])).tolist()

results = {}
for name in ("raw", "ple", "plr"):
    torch.manual_seed(1)
    if name == "raw":
        embed, d_in = nn.Identity(), N_FEATURES
    elif name == "ple":
        embed, d_in = ple, sum(ple.n_bins)
    else:
        embed, d_in = PeriodicEmbeddings(N_FEATURES, sigma=0.5), N_FEATURES * D_EMB
    model = nn.Sequential(embed, mlp(d_in))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=1e-4)
    losses = []
    for epoch in range(10):
        model.train()
        for idx in torch.randperm(384).split(128):
            loss = F.mse_loss(model(X_train[idx]), y_train[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        rmse = F.mse_loss(model(X_test), y_test).sqrt().item()
    results[name] = {"losses": losses, "rmse": rmse}
    print(f"{name}: loss {losses[0]:.3f} -> {losses[-1]:.3f}, test RMSE {rmse:.3f}")
