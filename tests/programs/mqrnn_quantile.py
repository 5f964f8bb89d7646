"""MQ-RNN (Wen et al., 2017), multi-horizon quantile forecasting, as PyTorch ports write it: a
GRU encoder over the history with calendar covariates, a global MLP decoder that maps the last
hidden state and all future covariates to one context per horizon plus a horizon-agnostic one,
local MLPs that share weights across horizons and emit one value per quantile, trained with the
pinball (quantile) loss; quantiles kept ordered by cumulative softplus increments, and the
forecast judged by empirical coverage of the 10-90% interval and the weighted quantile loss."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

HIST, HORIZON, QUANTILES = 24, 6, torch.tensor([0.1, 0.5, 0.9])


class MQRNN(nn.Module):
    def __init__(self, n_cov=2, hidden=16, context=8):
        super().__init__()
        self.encoder = nn.GRU(1 + n_cov, hidden, batch_first=True)
        self.global_mlp = nn.Sequential(
            nn.Linear(hidden + HORIZON * n_cov, 32),
            nn.ReLU(),
            nn.Linear(32, (HORIZON + 1) * context),
        )
        self.local_mlp = nn.Sequential(
            nn.Linear(2 * context + n_cov, 16), nn.ReLU(), nn.Linear(16, len(QUANTILES))
        )
        self.context = context

    def forward(self, y_hist, cov_hist, cov_future):
        _, h = self.encoder(torch.cat([y_hist.unsqueeze(-1), cov_hist], -1))
        contexts = self.global_mlp(torch.cat([h[-1], cov_future.flatten(1)], 1))
        contexts = contexts.view(-1, HORIZON + 1, self.context)
        horizon_specific, agnostic = contexts[:, :-1], contexts[:, -1:].expand(-1, HORIZON, -1)
        raw = self.local_mlp(torch.cat([horizon_specific, agnostic, cov_future], -1))
        # the lowest quantile free, the others above it by positive increments
        return torch.cat([raw[..., :1], raw[..., :1] + F.softplus(raw[..., 1:]).cumsum(-1)], -1)


def pinball_loss(pred, target):
    errors = target.unsqueeze(-1) - pred
    return torch.max(QUANTILES * errors, (QUANTILES - 1) * errors).mean()


torch.manual_seed(0)
t = torch.arange(HIST + HORIZON + 300, dtype=torch.float32)
day = torch.stack([torch.sin(2 * math.pi * t / 12), torch.cos(2 * math.pi * t / 12)], -1)
noise_scale = 0.2 + 0.2 * (torch.sin(2 * math.pi * t / 12) > 0).float()  # heteroscedastic
series = 2 * day[:, 0] + 0.5 * day[:, 1] + noise_scale * torch.randn(t.shape)
starts = torch.arange(0, 300, 3)
idx_hist = starts.unsqueeze(1) + torch.arange(HIST)
idx_fut = starts.unsqueeze(1) + HIST + torch.arange(HORIZON)
y_hist, y_fut = series[idx_hist], series[idx_fut]
cov_hist, cov_fut = day[idx_hist], day[idx_fut]

model = MQRNN()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
losses = []
for epoch in range(4):
    for idx in torch.randperm(80).split(16):
        loss = pinball_loss(model(y_hist[idx], cov_hist[idx], cov_fut[idx]), y_fut[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    scheduler.step()
with torch.no_grad():
    pred = model(y_hist[80:], cov_hist[80:], cov_fut[80:])
    test_loss = pinball_loss(pred, y_fut[80:]).item()
    coverage = ((y_fut[80:] >= pred[..., 0]) & (y_fut[80:] <= pred[..., 2])).float().mean().item()
    crossing = (pred.diff(dim=-1) < 0).sum().item()
    weighted_ql = (
        2
        * (
            torch.max(
                QUANTILES * (y_fut[80:].unsqueeze(-1) - pred),
                (QUANTILES - 1) * (y_fut[80:].unsqueeze(-1) - pred),
            )
        ).sum((0, 1))
        / y_fut[80:].abs().sum()
    ).tolist()
print(f"loss {losses[0]:.3f} -> {losses[-1]:.3f}, test {test_loss:.3f}, coverage {coverage:.2f}")
last_lr = scheduler.get_last_lr()[0]
