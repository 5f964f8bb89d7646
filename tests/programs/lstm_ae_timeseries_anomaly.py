"""Time-series anomaly detection with an LSTM autoencoder, as the sensor-monitoring tutorials
write it: a univariate signal cut into sliding windows with Tensor.unfold, an LSTM encoder
whose last hidden state is repeated over the window for an LSTM decoder, per-window errors,
a robust threshold from the median and the median absolute deviation (torch.median with dim,
nanmedian), anomalous points found by folding window errors back onto time steps (index_add_
and bincount counts), events grouped by diff and cummax, and a histogram of the errors
(torch.histc, searchsorted into bin edges)."""

import math

import numpy as np
import torch
import torch.nn as nn
from numpy_init import init_from_numpy

rng = np.random.default_rng(0)
T, window, stride = 240, 16, 4
t = np.arange(T)
signal = np.sin(2 * math.pi * t / 24) + 0.05 * rng.standard_normal(T)
anomaly_steps = list(range(150, 158))
signal[anomaly_steps] += 1.5  # a level shift
series = torch.from_numpy(signal.astype(np.float32))
windows = series.unfold(0, window, stride).unsqueeze(-1)  # (n_windows, window, 1)
starts = torch.arange(0, T - window + 1, stride)
clean = (starts + window <= 150) | (starts >= 158)


class LSTMAutoEncoder(nn.Module):
    def __init__(self, hidden=16):
        super().__init__()
        self.encoder = nn.LSTM(1, hidden, batch_first=True)
        self.decoder = nn.LSTM(hidden, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):
        _, (h, _) = self.encoder(x)
        z = h[-1].unsqueeze(1).repeat(1, x.size(1), 1)
        out, _ = self.decoder(z)
        return self.head(out)


model = init_from_numpy(LSTMAutoEncoder())
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
train = windows[clean]
losses = []
for epoch in range(30):
    optimizer.zero_grad()
    loss = nn.functional.l1_loss(model(train), train)
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
print(f"L1 {losses[0]:.4f} -> {losses[-1]:.4f}")

with torch.no_grad():
    recon = model(windows)
point_err = (recon - windows).abs().squeeze(-1)  # (n_windows, window)
window_err = point_err.mean(1)
median, median_idx = window_err.median(dim=0)
mad = (window_err - median).abs().median()
threshold = median + 3 * 1.4826 * mad
flagged_windows = torch.nonzero(window_err > threshold).flatten().tolist()

# fold window errors back to time steps: average over the windows covering each step
positions = (starts.unsqueeze(1) + torch.arange(window)).flatten()
step_err = torch.zeros(T).index_add_(0, positions, point_err.flatten())
coverage = torch.bincount(positions, minlength=T)
step_err = step_err / coverage.clamp(min=1)
step_flags = (
    step_err > step_err.median() + 3 * 1.4826 * (step_err - step_err.median()).abs().median()
).int()
onsets = torch.nonzero(torch.diff(step_flags, prepend=torch.tensor([0])) == 1).flatten().tolist()
running_max, running_arg = torch.cummax(step_err, dim=0)
peak_step = running_arg[-1].item()
uncovered = (coverage == 0).sum().item()

with_gaps = window_err.clone()
with_gaps[1::3] = float("nan")
nan_median = torch.nanmedian(with_gaps).item()
per_column_median = point_err.median(dim=0)
column_medians, column_idx = per_column_median.values.tolist(), per_column_median.indices.tolist()
hist = torch.histc(window_err, bins=8, min=0.0, max=float(window_err.max())).tolist()
edges = torch.linspace(0.0, float(window_err.max()), 9)
bucket = torch.searchsorted(edges, window_err, right=True).clamp(max=8) - 1
bucket_counts = torch.bincount(bucket, minlength=8).tolist()
print(f"threshold {threshold.item():.4f}, flagged windows {flagged_windows}, onsets {onsets}")
