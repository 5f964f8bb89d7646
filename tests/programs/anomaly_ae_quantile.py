"""Anomaly detection with an autoencoder, as the blog posts and Kaggle notebooks write it: train
on normal samples only, score every sample by its reconstruction error, set the threshold at a
quantile of the training errors (torch.quantile with its interpolation modes, nanquantile for
scores with missing values, kthvalue for the order statistic), and report precision, recall, F1
and a ROC AUC computed by ranking the scores."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy, randn

rng = np.random.default_rng(0)
d, latent = 8, 2
basis = randn(rng, latent, d)
normal_train = randn(rng, 96, latent) @ basis + 0.05 * randn(rng, 96, d)
normal_test = randn(rng, 32, latent) @ basis + 0.05 * randn(rng, 32, d)
anomalies = randn(rng, 16, d)  # off the low-dimensional subspace
test_x = torch.cat([normal_test, anomalies])
test_y = torch.cat([torch.zeros(32), torch.ones(16)])


class AutoEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(d, 16), nn.ReLU(), nn.Linear(16, latent))
        self.decoder = nn.Sequential(nn.Linear(latent, 16), nn.ReLU(), nn.Linear(16, d))

    def forward(self, x):
        return self.decoder(self.encoder(x))


model = init_from_numpy(AutoEncoder())
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
losses = []
for epoch in range(80):
    optimizer.zero_grad()
    loss = F.mse_loss(model(normal_train), normal_train)
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
print(f"reconstruction loss {losses[0]:.4f} -> {losses[-1]:.4f}")

model.eval()
with torch.no_grad():
    train_err = F.mse_loss(model(normal_train), normal_train, reduction="none").mean(dim=1)
    test_err = ((model(test_x) - test_x) ** 2).mean(dim=-1)

modes = ["linear", "lower", "higher", "midpoint", "nearest"]
thresholds = {m: torch.quantile(train_err, 0.95, interpolation=m).item() for m in modes}
multi_q = torch.quantile(train_err, torch.tensor([0.5, 0.9, 0.99])).tolist()
k = int(0.95 * len(train_err))
kth_value, kth_index = torch.kthvalue(train_err, k)
kth = [kth_value.item(), kth_index.item()]
threshold = thresholds["linear"]

pred = (test_err > threshold).float()
tp = (pred * test_y).sum()
fp = (pred * (1 - test_y)).sum()
fn = ((1 - pred) * test_y).sum()
precision = (tp / (tp + fp).clamp(min=1)).item()
recall = (tp / (tp + fn)).item()
f1 = 2 * precision * recall / max(precision + recall, 1e-8)
print(f"threshold {threshold:.4f} precision {precision:.3f} recall {recall:.3f} F1 {f1:.3f}")

# ROC AUC by ranks (Mann-Whitney U)
ranks = torch.empty_like(test_err)
ranks[test_err.argsort()] = torch.arange(1, len(test_err) + 1, dtype=test_err.dtype)
n_pos, n_neg = test_y.sum(), (1 - test_y).sum()
auc = ((ranks[test_y == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)).item()
print(f"ROC AUC {auc:.3f}")

# scores with gaps: nanquantile skips them, quantile propagates nan
scores_with_nan = test_err.clone()
scores_with_nan[::5] = float("nan")
nan_q = torch.nanquantile(scores_with_nan, 0.5).item()
plain_q_is_nan = torch.quantile(scores_with_nan, 0.5).isnan().item()
per_feature_q = torch.quantile((model(test_x) - test_x).detach().abs(), 0.75, dim=0, keepdim=True)
per_feature_shape = tuple(per_feature_q.shape)
per_feature = per_feature_q.squeeze(0).tolist()

errors = []
for bad in (lambda: torch.quantile(train_err, 1.5), lambda: torch.quantile(train_err.long(), 0.5)):
    try:
        bad()
    except (RuntimeError, ValueError) as exc:
        errors.append(type(exc).__name__)
