"""Two long-horizon forecasters as the Time-Series-Library (thuml) writes them for PyTorch.
DLinear (Zeng et al. 2023): a moving-average series decomposition (edge rows repeated, then
``nn.AvgPool1d``) and one Linear per component over the time axis, initialised to 1/seq_len.
TimesNet (Wu et al. 2023): the dominant periods from ``torch.fft.rfft`` amplitudes
(``abs(xf)``, ``topk``, then NumPy: ``x.shape[1] // top_list``), each period folding the 1-D
series into 2-D (zero padding to a multiple of it, ``reshape`` by NumPy integers) for an
Inception block of Conv2d kernels averaged by ``torch.stack(...).mean(-1)``, the views
unfolded and mixed by a softmax over the periods' amplitudes; with the non-stationary
normalisation (detached mean, ``var(unbiased=False)``), a circular-padded Conv1d token
embedding and a Linear that stretches the input to seq_len + pred_len."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy

rng = np.random.default_rng(13)
SEQ, PRED, C, D_MODEL, TOP_K = 24, 8, 2, 8, 2


class MovingAvg(nn.Module):
    def __init__(self, kernel_size):
        super().__init__()
        self.kernel_size = kernel_size
        self.avg = nn.AvgPool1d(kernel_size=kernel_size, stride=1, padding=0)

    def forward(self, x):
        front = x[:, 0:1, :].repeat(1, (self.kernel_size - 1) // 2, 1)
        end = x[:, -1:, :].repeat(1, (self.kernel_size - 1) // 2, 1)
        x = torch.cat([front, x, end], dim=1)
        return self.avg(x.permute(0, 2, 1)).permute(0, 2, 1)


class DLinear(nn.Module):
    def __init__(self, kernel_size=5):
        super().__init__()
        self.moving_avg = MovingAvg(kernel_size)
        self.linear_seasonal, self.linear_trend = nn.Linear(SEQ, PRED), nn.Linear(SEQ, PRED)
        for layer in (self.linear_seasonal, self.linear_trend):
            layer.weight = nn.Parameter((1 / SEQ) * torch.ones([PRED, SEQ]))

    def forward(self, x):
        trend = self.moving_avg(x)
        seasonal = x - trend
        out = self.linear_seasonal(seasonal.permute(0, 2, 1)) + self.linear_trend(
            trend.permute(0, 2, 1)
        )
        return out.permute(0, 2, 1)


def fft_for_period(x, k=2):
    xf = torch.fft.rfft(x, dim=1)
    frequency_list = abs(xf).mean(0).mean(-1)
    frequency_list[0] = 0
    _, top_list = torch.topk(frequency_list, k)
    top_list = top_list.detach().cpu().numpy()
    period = x.shape[1] // top_list
    return period, abs(xf).mean(-1)[:, top_list]


class InceptionBlockV1(nn.Module):
    def __init__(self, in_channels, out_channels, num_kernels=2):
        super().__init__()
        self.kernels = nn.ModuleList(
            nn.Conv2d(in_channels, out_channels, kernel_size=2 * i + 1, padding=i)
            for i in range(num_kernels)
        )

    def forward(self, x):
        return torch.stack([kernel(x) for kernel in self.kernels], dim=-1).mean(-1)


class TimesBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Sequential(
            InceptionBlockV1(D_MODEL, D_MODEL), nn.GELU(), InceptionBlockV1(D_MODEL, D_MODEL)
        )

    def forward(self, x):
        B, T, N = x.size()
        period_list, period_weight = fft_for_period(x, TOP_K)
        res = []
        for i in range(TOP_K):
            period = period_list[i]
            if T % period != 0:
                length = (T // period + 1) * period
                padding = torch.zeros([x.shape[0], (length - T), x.shape[2]]).to(x.device)
                out = torch.cat([x, padding], dim=1)
            else:
                length, out = T, x
            out = out.reshape(B, length // period, period, N).permute(0, 3, 1, 2).contiguous()
            out = self.conv(out)
            out = out.permute(0, 2, 3, 1).reshape(B, -1, N)
            res.append(out[:, :T, :])
        res = torch.stack(res, dim=-1)
        period_weight = F.softmax(period_weight, dim=1)
        period_weight = period_weight.unsqueeze(1).unsqueeze(1).repeat(1, T, N, 1)
        return torch.sum(res * period_weight, -1) + x


class TimesNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.token = nn.Conv1d(
            C, D_MODEL, kernel_size=3, padding=1, padding_mode="circular", bias=False
        )
        self.predict_linear = nn.Linear(SEQ, SEQ + PRED)
        self.block, self.layer_norm = TimesBlock(), nn.LayerNorm(D_MODEL)
        self.projection = nn.Linear(D_MODEL, C)

    def forward(self, x_enc):
        means = x_enc.mean(1, keepdim=True).detach()
        x_enc = x_enc - means
        stdev = torch.sqrt(torch.var(x_enc, dim=1, keepdim=True, unbiased=False) + 1e-5)
        x_enc = x_enc / stdev
        enc_out = self.token(x_enc.permute(0, 2, 1)).transpose(1, 2)
        enc_out = self.predict_linear(enc_out.permute(0, 2, 1)).permute(0, 2, 1)
        enc_out = self.layer_norm(self.block(enc_out))
        dec_out = self.projection(enc_out) * stdev[:, 0, :].unsqueeze(1) + means[:, 0, :].unsqueeze(
            1
        )
        return dec_out[:, -PRED:, :]


def windows(n):
    t = np.arange(n + SEQ + PRED)[:, None] + rng.uniform(0, 6, C)[None]
    series = np.sin(2 * np.pi * t / 6) + 0.5 * np.sin(2 * np.pi * t / 8) + 0.02 * t
    series = series + 0.05 * rng.standard_normal(series.shape)
    w = np.stack([series[i : i + SEQ + PRED] for i in range(n)]).astype(np.float32)
    return torch.from_numpy(w[:, :SEQ]), torch.from_numpy(w[:, SEQ:])


x, y = windows(16)
periods, amplitudes = fft_for_period(x, TOP_K)
periods, period_type = periods.tolist(), type(periods).__name__
amplitude_shape = tuple(amplitudes.shape)


def fit(model, steps, lr):
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    history = []
    for _ in range(steps):
        loss = F.mse_loss(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        history.append(loss.item())
    return history


torch.manual_seed(0)
dlinear = DLinear()
dlinear_losses = fit(dlinear, 15, 1e-2)
trend_weight_sample = dlinear.linear_trend.weight[0, :4].tolist()
timesnet = init_from_numpy(TimesNet(), seed=3)
timesnet_losses = fit(timesnet, 10, 5e-3)
token_grad = timesnet.token.weight.grad[0, :, :].tolist()
with torch.no_grad():
    forecast_shape = tuple(timesnet(x).shape)
