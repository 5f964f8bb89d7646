"""A differentiable Sharpe-ratio portfolio (Zhang, Zohren and Roberts 2020, "Deep Learning for
Portfolio Optimization", and the long-only/long-short allocators of the quant blog posts): an
LSTM reads a window of past log returns of every asset and outputs allocation weights (softmax
for long-only, ``tanh`` normalised by the gross exposure for long-short); the loss is the
negative annualised Sharpe ratio of the next-day portfolio returns minus proportional
turnover costs. Windows come from ``Tensor.unfold``; the minimum-variance portfolio from
``torch.linalg.solve`` on the Ledoit-Wolf-style shrunk covariance (``torch.cov``) is the
baseline, and the tangency portfolio ``solve(cov, mu)`` is checked to be a stationary point of
the in-sample Sharpe ratio (its gradient vanishes)."""

import math

import torch
from torch import nn

torch.manual_seed(0)
N_ASSETS, DAYS, WINDOW = 4, 80, 8
drift = torch.tensor([0.0006, 0.0002, 0.0004, -0.0001])
vol = torch.tensor([0.010, 0.006, 0.014, 0.008])
corr = torch.full((N_ASSETS, N_ASSETS), 0.3).fill_diagonal_(1.0)
chol = torch.linalg.cholesky(corr * vol[:, None] * vol[None, :])
returns = drift + torch.randn(DAYS, N_ASSETS) @ chol.T  # (days, assets)

windows = returns.unfold(0, WINDOW, 1)[:-1]  # (days - window, assets, window)
next_returns = returns[WINDOW:]  # the day after each window
features = windows.permute(0, 2, 1)  # (samples, window, assets): batch_first LSTM input


class Allocator(nn.Module):
    def __init__(self, long_only=True, hidden=8):
        super().__init__()
        self.long_only = long_only
        self.lstm = nn.LSTM(N_ASSETS, hidden, batch_first=True)
        self.head = nn.Linear(hidden, N_ASSETS)

    def forward(self, x):
        _, (h, _) = self.lstm(x / 0.01)
        scores = self.head(h[-1])
        if self.long_only:
            return torch.softmax(scores, dim=-1)
        raw = torch.tanh(scores)
        return raw / raw.abs().sum(dim=-1, keepdim=True).clamp_min(1e-6)


def sharpe_loss(weights, rets, cost=1e-4):
    portfolio = (weights * rets).sum(-1)
    turnover = (weights[1:] - weights[:-1]).abs().sum(-1)
    net = portfolio[1:] - cost * turnover
    return -math.sqrt(252) * net.mean() / (net.std() + 1e-8)


results = {}
for long_only in (True, False):
    torch.manual_seed(1)
    model = Allocator(long_only)
    opt = torch.optim.Adam(model.parameters(), lr=5e-3)
    losses = []
    for epoch in range(10):
        loss = sharpe_loss(model(features), next_returns)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    with torch.no_grad():
        w = model(features)
    results["long_only" if long_only else "long_short"] = {
        "losses": losses,
        "weight_sums": [w.sum(-1).min().item(), w.sum(-1).max().item()],
        "gross": w.abs().sum(-1).mean().item(),
        "mean_weights": w.mean(0).tolist(),
    }

# baselines from the sample moments: minimum-variance and tangency portfolios
mu = returns.mean(0)
sample_cov = torch.cov(returns.T)
target = torch.diag(torch.diagonal(sample_cov))
shrunk = 0.8 * sample_cov + 0.2 * target
ones = torch.ones(N_ASSETS)
min_var = torch.linalg.solve(shrunk, ones)
min_var = min_var / min_var.sum()
tangency = torch.linalg.solve(sample_cov, mu)
tangency = tangency / tangency.sum()


def in_sample_sharpe(w):
    p = returns @ w
    return (math.sqrt(252) * p.mean() / p.std()).item()


sharpes = {
    "min_var": in_sample_sharpe(min_var),
    "tangency": in_sample_sharpe(tangency),
    "equal": in_sample_sharpe(ones / N_ASSETS),
}
# the tangency direction is a stationary point of the in-sample Sharpe ratio
w = tangency.clone().requires_grad_()
p = returns @ w
(-(p.mean() / p.std())).backward()
tangency_grad_norm = w.grad.norm().item()
min_var_weights = min_var.tolist()
