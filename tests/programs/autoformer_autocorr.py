"""Autoformer (Wu et al., 2021), decomposition forecasting with auto-correlation, as the
authors' PyTorch code (thuml/Autoformer, layers/AutoCorrelation.py) writes it: series
decomposition by a moving average (AvgPool1d after replicating the ends), period-based
dependencies found by the FFT (rfft of queries times the conjugate of keys, irfft back), the
top-k lags by mean correlation, and aggregation by torch.roll of values weighted by a softmax
over those lags; the trend is accumulated and the seasonal part refined, trained with MSE on a
noisy sum of two periods and a slope, beside a plain linear forecaster."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

SEQ, PRED, D = 48, 12, 16


class SeriesDecomp(nn.Module):
    def __init__(self, kernel_size):
        super().__init__()
        self.kernel_size = kernel_size
        self.avg = nn.AvgPool1d(kernel_size, stride=1, padding=0)

    def forward(self, x):  # (B, L, C)
        front = x[:, :1, :].repeat(1, (self.kernel_size - 1) // 2, 1)
        end = x[:, -1:, :].repeat(1, (self.kernel_size - 1) // 2, 1)
        trend = self.avg(torch.cat([front, x, end], dim=1).permute(0, 2, 1)).permute(0, 2, 1)
        return x - trend, trend


class AutoCorrelation(nn.Module):
    def __init__(self, d, heads=2, factor=1):
        super().__init__()
        self.heads, self.factor = heads, factor
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))

    def aggregate(self, values, corr):  # values (B, H, E, L), corr (B, H, E, L)
        length = values.shape[3]
        top_k = int(self.factor * math.log(length))
        mean_value = corr.mean(1).mean(1)  # (B, L)
        weights, delays = torch.topk(mean_value, top_k, dim=-1)
        tmp_corr = torch.softmax(weights, dim=-1)
        agg = torch.zeros_like(values)
        for i in range(top_k):
            rolled = torch.stack(
                [torch.roll(values[b], -int(delays[b, i]), -1) for b in range(values.shape[0])]
            )
            agg = agg + rolled * tmp_corr[:, i].view(-1, 1, 1, 1)
        return agg, delays

    def forward(self, x):
        B, L, _ = x.shape
        q, k, v = (f(x).view(B, L, self.heads, -1) for f in (self.q, self.k, self.v))
        q_fft = torch.fft.rfft(q.permute(0, 2, 3, 1).contiguous(), dim=-1)
        k_fft = torch.fft.rfft(k.permute(0, 2, 3, 1).contiguous(), dim=-1)
        corr = torch.fft.irfft(q_fft * torch.conj(k_fft), n=L, dim=-1)
        out, delays = self.aggregate(v.permute(0, 2, 3, 1).contiguous(), corr)
        return self.o(out.permute(0, 3, 1, 2).reshape(B, L, -1)), delays


class Autoformer(nn.Module):
    def __init__(self):
        super().__init__()
        self.decomp = SeriesDecomp(13)
        self.embed = nn.Conv1d(1, D, 3, padding=1, padding_mode="circular", bias=False)
        self.attn = AutoCorrelation(D)
        self.ff = nn.Sequential(nn.Linear(D, 32), nn.GELU(), nn.Linear(32, D))
        self.seasonal_head = nn.Linear(D, 1)
        self.trend_head = nn.Linear(SEQ, PRED)
        self.seasonal_time = nn.Linear(SEQ, PRED)

    def forward(self, x):  # (B, SEQ, 1) -> (B, PRED, 1)
        seasonal, trend = self.decomp(x)
        h = self.embed(seasonal.transpose(1, 2)).transpose(1, 2)
        a, delays = self.attn(h)
        h, _ = self.decomp(h + a)
        h, _ = self.decomp(h + self.ff(h))
        season = self.seasonal_time(self.seasonal_head(h).squeeze(-1))
        return (season + self.trend_head(trend.squeeze(-1))).unsqueeze(-1), delays


torch.manual_seed(0)
t = torch.arange(SEQ + PRED + 200, dtype=torch.float32)
series = torch.sin(2 * math.pi * t / 12) + 0.5 * torch.sin(2 * math.pi * t / 8) + 0.01 * t
series = series + 0.1 * torch.randn_like(series)
starts = torch.arange(0, 200, 4)
windows = torch.stack([series[s : s + SEQ + PRED] for s in starts]).unsqueeze(-1)
x_all, y_all = windows[:, :SEQ], windows[:, SEQ:]
seasonal, trend = SeriesDecomp(13)(x_all[:2])
decomp_gap = (seasonal + trend - x_all[:2]).abs().max().item()

results = {}
for name in ("autoformer", "linear"):
    torch.manual_seed(1)
    model = Autoformer() if name == "autoformer" else nn.Linear(SEQ, PRED)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for epoch in range(6):
        for idx in torch.randperm(40).split(10):
            if name == "autoformer":
                pred, delays = model(x_all[idx])
            else:
                pred = model(x_all[idx].squeeze(-1)).unsqueeze(-1)
            loss = F.mse_loss(pred, y_all[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    with torch.no_grad():
        pred = (
            model(x_all[40:])[0]
            if name == "autoformer"
            else model(x_all[40:].squeeze(-1)).unsqueeze(-1)
        )
        test_mse = F.mse_loss(pred, y_all[40:]).item()
    results[name] = {"losses": losses, "test_mse": test_mse}
    print(f"{name}: loss {losses[0]:.3f} -> {losses[-1]:.3f}, test MSE {test_mse:.4f}")
last_delays = delays.tolist()
