"""Split conformal prediction on top of a trained classifier and a quantile regressor, as the
"gentle introduction to conformal prediction" code writes it in PyTorch: the conformal
quantile ``torch.quantile(scores, q, interpolation="higher")`` at level
``ceil((n + 1)(1 - alpha)) / n``, prediction sets from softmax scores (LAC), adaptive sets (APS)
from ``sort(descending=True)``, ``cumsum`` and ``gather``/``scatter``, conformalized quantile
regression with a pinball loss over several quantiles (kept monotone by ``cumsum`` of
``softplus`` increments), and the empirical coverage of each on held-out data."""

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy, randn

rng = np.random.default_rng(221)
n, k, alpha = 600, 4, 0.1
x = randn(rng, n, 5)
logits_true = x[:, :4] * torch.tensor([1.5, 1.0, 0.7, 0.4])
probs = F.softmax(logits_true, 1).double().numpy()
y = torch.from_numpy(np.array([rng.choice(k, p=p / p.sum()) for p in probs]))
train, calib, test = slice(0, 300), slice(300, 450), slice(450, 600)

clf = init_from_numpy(nn.Sequential(nn.Linear(5, 32), nn.ReLU(), nn.Linear(32, k)), seed=221)
opt = torch.optim.Adam(clf.parameters(), lr=1e-2)
for step in range(60):
    loss = F.cross_entropy(clf(x[train]), y[train])
    opt.zero_grad()
    loss.backward()
    opt.step()
classifier_loss = loss.item()

with torch.no_grad():
    cal_probs, test_probs = F.softmax(clf(x[calib]), 1), F.softmax(clf(x[test]), 1)
n_cal = cal_probs.shape[0]
level = math.ceil((n_cal + 1) * (1 - alpha)) / n_cal
cal_scores = 1 - cal_probs.gather(1, y[calib].unsqueeze(1)).squeeze(1)
qhat = torch.quantile(cal_scores, level, interpolation="higher")
lac_sets = test_probs >= (1 - qhat)
lac_coverage = lac_sets.gather(1, y[test].unsqueeze(1)).float().mean().item()
lac_size = lac_sets.sum(1).float().mean().item()

sorted_probs, order = cal_probs.sort(dim=1, descending=True)
cum = sorted_probs.cumsum(dim=1)
rank_of_true = order.argsort(dim=1).gather(1, y[calib].unsqueeze(1))
aps_scores = cum.gather(1, rank_of_true).squeeze(1)
aps_qhat = torch.quantile(aps_scores, level, interpolation="higher")
t_sorted, t_order = test_probs.sort(dim=1, descending=True)
t_cum = t_sorted.cumsum(dim=1)
include_sorted = (t_cum - t_sorted) < aps_qhat  # include up to the first class that crosses
aps_sets = torch.zeros_like(include_sorted).scatter(1, t_order, include_sorted)
aps_coverage = aps_sets.gather(1, y[test].unsqueeze(1)).float().mean().item()
aps_size = aps_sets.sum(1).float().mean().item()

t = randn(rng, n, 1)
target = torch.sin(2 * t) + (0.2 + 0.3 * t.abs()) * randn(rng, n, 1)
quantiles = torch.tensor([alpha / 2, 0.5, 1 - alpha / 2])


class QuantileNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 3))

    def forward(self, t):
        raw = self.body(t)
        return torch.cat([raw[:, :1], raw[:, :1] + torch.cumsum(F.softplus(raw[:, 1:]), dim=1)], 1)


def pinball(pred, target, q):
    err = target - pred
    return torch.maximum(q * err, (q - 1) * err).mean()


qnet = init_from_numpy(QuantileNet(), seed=222)
opt = torch.optim.Adam(qnet.parameters(), lr=2e-2)
pinball_losses = []
for step in range(80):
    loss = pinball(qnet(t[train]), target[train], quantiles)
    opt.zero_grad()
    loss.backward()
    opt.step()
    pinball_losses.append(loss.item())
with torch.no_grad():
    cal_pred, test_pred = qnet(t[calib]), qnet(t[test])
cqr_scores = torch.maximum(cal_pred[:, 0] - target[calib, 0], target[calib, 0] - cal_pred[:, 2])
cqr_q = torch.quantile(cqr_scores, level, interpolation="higher")
lower, upper = test_pred[:, 0] - cqr_q, test_pred[:, 2] + cqr_q
cqr_coverage = ((target[test, 0] >= lower) & (target[test, 0] <= upper)).float().mean().item()
raw_coverage = (
    ((target[test, 0] >= test_pred[:, 0]) & (target[test, 0] <= test_pred[:, 2]))
    .float()
    .mean()
    .item()
)
monotone = bool((test_pred[:, 1:] >= test_pred[:, :-1]).all())
interpolations = [
    torch.quantile(torch.tensor([1.0, 2.0, 4.0, 8.0]), 0.4, interpolation=m).item()
    for m in ("linear", "lower", "higher", "midpoint", "nearest")
]
print(
    f"LAC coverage {lac_coverage:.3f} size {lac_size:.2f}; APS {aps_coverage:.3f} size {aps_size:.2f}; CQR {cqr_coverage:.3f}"
)
