"""N-BEATS (Oreshkin et al., 2020) in its interpretable configuration, as the reference
implementations write it: fully-connected blocks that emit expansion coefficients (theta) for a
polynomial trend basis and a Fourier seasonality basis (fixed buffers built with torch.pow,
cos and sin), doubly residual stacking (each block subtracts its backcast from the input and
adds its forecast), trained on sampled windows of synthetic series with a sMAPE-style loss and
a StepLR, then the forecast decomposed into its trend and seasonal parts."""

import math

import torch
import torch.nn as nn

BACKCAST, FORECAST = 24, 8


def trend_basis(degree, length):
    t = torch.arange(length, dtype=torch.float32) / length
    return torch.stack([torch.pow(t, i) for i in range(degree + 1)])  # (degree + 1, length)


def seasonality_basis(harmonics, length):
    t = torch.arange(length, dtype=torch.float32) / length
    freq = torch.arange(1, harmonics + 1, dtype=torch.float32).unsqueeze(1) * 2 * math.pi
    return torch.cat([torch.ones(1, length), torch.cos(freq * t), torch.sin(freq * t)])


class NBeatsBlock(nn.Module):
    def __init__(self, backcast_basis, forecast_basis, units=64, layers=3):
        super().__init__()
        dims = [BACKCAST] + [units] * layers
        self.fc = nn.Sequential(
            *[m for a, b in zip(dims, dims[1:]) for m in (nn.Linear(a, b), nn.ReLU())]
        )
        self.register_buffer("backcast_basis", backcast_basis)
        self.register_buffer("forecast_basis", forecast_basis)
        self.theta = nn.Linear(units, backcast_basis.size(0) + forecast_basis.size(0), bias=False)

    def forward(self, x):
        theta_b, theta_f = self.theta(self.fc(x)).split(
            [self.backcast_basis.size(0), self.forecast_basis.size(0)], dim=-1
        )
        return theta_b @ self.backcast_basis, theta_f @ self.forecast_basis


class NBeats(nn.Module):
    def __init__(self):
        super().__init__()
        trend = [trend_basis(2, BACKCAST), trend_basis(2, FORECAST)]
        season = [seasonality_basis(4, BACKCAST), seasonality_basis(4, FORECAST)]
        self.stacks = nn.ModuleList(
            [nn.ModuleList([NBeatsBlock(*trend) for _ in range(2)]),
             nn.ModuleList([NBeatsBlock(*season) for _ in range(2)])]
        )  # fmt: skip

    def forward(self, x):
        residuals, forecast, parts = x.flip(dims=(1,)), 0, []
        for stack in self.stacks:
            stack_forecast = 0
            for block in stack:
                backcast, block_forecast = block(residuals)
                residuals = residuals - backcast
                stack_forecast = stack_forecast + block_forecast
            parts.append(stack_forecast)
            forecast = forecast + stack_forecast
        return forecast, parts


def smape_loss(forecast, target):
    denom = forecast.abs().detach() + target.abs()
    ratio = torch.nan_to_num((forecast - target).abs() / denom, nan=0.0, posinf=0.0)
    return 2 * ratio.mean()


torch.manual_seed(0)
T = 400
t = torch.arange(T, dtype=torch.float32)
series = torch.stack(
    [10 + 0.02 * k * t + (1 + k % 3) * torch.sin(2 * math.pi * t / (6 + 2 * k)) for k in range(6)]
)
series = series + 0.1 * torch.randn_like(series)
train, test = series[:, :-FORECAST], series[:, -(BACKCAST + FORECAST) :]


def sample_windows(n):
    rows = torch.randint(0, series.size(0), (n,))
    starts = torch.randint(0, train.size(1) - BACKCAST - FORECAST, (n,))
    idx = starts.unsqueeze(1) + torch.arange(BACKCAST + FORECAST)
    windows = train[rows.unsqueeze(1), idx]
    return windows[:, :BACKCAST], windows[:, BACKCAST:]


model = NBeats()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=50, gamma=0.5)
losses = []
for step in range(120):
    x, y = sample_windows(64)
    level = x[:, -1:].clone()
    forecast, _ = model(x / level)
    loss = smape_loss(forecast * level, y)
    optimizer.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    scheduler.step()
    losses.append(loss.item())

with torch.no_grad():
    x, y = test[:, :BACKCAST], test[:, BACKCAST:]
    level = x[:, -1:]
    forecast, (trend_part, season_part) = model(x / level)
    forecast, trend_part, season_part = forecast * level, trend_part * level, season_part * level
test_smape = smape_loss(forecast, y).item()
naive_smape = smape_loss(x[:, -1:].expand_as(y), y).item()
decomposition_gap = (trend_part + season_part - forecast).abs().max().item()
basis_shapes = [tuple(trend_basis(2, 8).shape), tuple(seasonality_basis(4, 8).shape)]
print(
    f"loss {losses[0]:.4f} -> {losses[-1]:.4f}; test sMAPE {test_smape:.4f} (naive {naive_smape:.4f})"
)
