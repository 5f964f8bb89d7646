"""Deep hedging (Buehler et al. 2019, as the ``pfhedge`` library and its tutorials write it): a
small MLP reads (time to maturity, log-moneyness, previous hedge) and outputs the hedge ratio
at each rebalancing date of geometric Brownian motion paths; the hedger's P&L is the premium
plus the gains of the hedge minus proportional transaction costs and the option's payoff; the
loss is the entropic risk measure (``logsumexp`` form) or expected shortfall in its
optimized-certainty-equivalent form with a learnable threshold ``w``. Trained with Adam; the
learned hedge at the money is compared with Black-Scholes delta from ``torch.special.ndtr``."""

import math

import torch
from torch import nn

torch.manual_seed(0)
N_PATHS, N_STEPS, SIGMA, K, COST = 128, 8, 0.2, 1.0, 1e-3
DT = 0.25 / N_STEPS


def generate_paths(n):
    z = torch.randn(n, N_STEPS)
    log_returns = -0.5 * SIGMA**2 * DT + SIGMA * math.sqrt(DT) * z
    return torch.cat([torch.ones(n, 1), torch.exp(torch.cumsum(log_returns, 1))], 1)


class Hedger(nn.Module):
    def __init__(self, hidden=16):
        super().__init__()
        self.mlp = nn.Sequential(
            nn.Linear(3, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, 1),
        )

    def forward(self, spot):
        n = spot.size(0)
        hedge = spot.new_zeros(n, 1)
        hedges = []
        for t in range(N_STEPS):
            ttm = spot.new_full((n, 1), (N_STEPS - t) * DT)
            features = torch.cat([ttm, torch.log(spot[:, t : t + 1] / K), hedge], dim=1)
            hedge = torch.sigmoid(self.mlp(features))  # a call's delta lies in [0, 1]
            hedges.append(hedge)
        return torch.cat(hedges, dim=1)


def pnl(model, spot, premium):
    hedge = model(spot)
    gains = (hedge * spot.diff(dim=1)).sum(1)
    trades = torch.cat([hedge[:, :1], hedge.diff(dim=1)], 1)
    costs = COST * (trades.abs() * spot[:, :-1]).sum(1)
    payoff = torch.clamp(spot[:, -1] - K, min=0)
    return premium + gains - costs - payoff


def entropic_risk(x, a=1.0):
    return (torch.logsumexp(-a * x, dim=0) - math.log(x.numel())) / a


def expected_shortfall(x, w, alpha=0.9):
    return w + torch.relu(-x - w).mean() / (1 - alpha)


def bs_delta(log_moneyness, ttm):
    d1 = (log_moneyness + 0.5 * SIGMA**2 * ttm) / (SIGMA * math.sqrt(ttm))
    return torch.special.ndtr(d1)


premium = 0.04
spot = generate_paths(N_PATHS)
results = {}
for name in ("entropic", "shortfall"):
    torch.manual_seed(1)
    model = Hedger()
    w = torch.zeros((), requires_grad=True)
    params = list(model.parameters()) + ([w] if name == "shortfall" else [])
    opt = torch.optim.Adam(params, lr=2e-2)
    losses = []
    for step in range(15):
        x = pnl(model, spot, premium)
        loss = entropic_risk(x, a=10.0) if name == "entropic" else expected_shortfall(x, w)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    with torch.no_grad():
        test = generate_paths(128)
        x = pnl(model, test, premium)
        results[name] = {
            "losses": losses,
            "test_mean": x.mean().item(),
            "test_std": x.std().item(),
            "q05": torch.quantile(x, 0.05).item(),
            "w": w.item(),
        }

# the no-hedge baseline and the learned first hedge against Black-Scholes delta
no_hedge = (premium - torch.clamp(test[:, -1] - K, min=0)).std().item()
with torch.no_grad():
    grid = torch.tensor([[0.25, -0.05, 0.0], [0.25, 0.0, 0.0], [0.25, 0.05, 0.0]])
    learned_first_hedge = torch.sigmoid(model.mlp(grid)).squeeze(1).tolist()
    bs_first_hedge = bs_delta(grid[:, 1], 0.25).tolist()
last_grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1e9).item()
