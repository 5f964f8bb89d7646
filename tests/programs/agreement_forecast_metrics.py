"""Agreement and probabilistic-forecast scores by hand in torch: Cohen's kappa (unweighted,
linear and quadratic weights from an ``outer`` product of the marginals), Fleiss' kappa for
many raters from category counts, then forecasts from a small MLP trained with the pinball
loss over three quantiles: sMAPE, MASE against the seasonal-naive forecast, the interval
score, CRPS of sample forecasts by its energy form (``cdist`` with ``p=1``), CRPS of a
Gaussian in closed form (``torch.distributions.Normal`` ``cdf``/``log_prob``), and a PIT
histogram by ``torch.histogram`` (counts, ``density=True`` and per-value weights)."""

import math

import torch
import torch.nn as nn
from torch.distributions import Normal

torch.manual_seed(0)
K = 4


def confusion(a, b, k):
    return torch.bincount(a * k + b, minlength=k * k).view(k, k).double()


def cohen_kappa(a, b, k, weights=None):
    m = confusion(a, b, k)
    n = m.sum()
    expected = torch.outer(m.sum(1), m.sum(0)) / n
    i, j = torch.meshgrid(torch.arange(k), torch.arange(k), indexing="ij")
    if weights is None:
        w = (i != j).double()
    elif weights == "linear":
        w = (i - j).abs().double() / (k - 1)
    else:
        w = ((i - j).double() / (k - 1)) ** 2
    return 1 - (w * m).sum() / (w * expected).sum()


def fleiss_kappa(counts):
    """counts: (items, categories), how many raters chose each category."""
    n = counts.sum(1)[0]
    p_cat = counts.sum(0) / counts.sum()
    p_item = ((counts * (counts - 1)).sum(1)) / (n * (n - 1))
    p_bar, p_e = p_item.mean(), (p_cat**2).sum()
    return (p_bar - p_e) / (1 - p_e)


rater_a = torch.randint(0, K, (80,))
rater_b = torch.where(torch.rand(80) < 0.7, rater_a, torch.randint(0, K, (80,)))
rater_b = torch.where(torch.rand(80) < 0.2, (rater_a + 1).clamp(max=K - 1), rater_b)
kappas = [cohen_kappa(rater_a, rater_b, K, w).item() for w in (None, "linear", "quadratic")]
self_kappa = cohen_kappa(rater_a, rater_a, K).item()
votes = torch.stack(
    [torch.where(torch.rand(30) < 0.6, rater_a[:30], torch.randint(0, K, (30,))) for _ in range(5)],
    1,
)
counts = torch.nn.functional.one_hot(votes, K).sum(1).double()
fleiss = fleiss_kappa(counts).item()

# a seasonal series and a quantile MLP on lagged windows.
T, LAG, SEASON = 160, 8, 8
t = torch.arange(T, dtype=torch.float32)
series = torch.sin(2 * math.pi * t / SEASON) + 0.05 * t / 10 + 0.2 * torch.randn(T)
windows = series.unfold(0, LAG + 1, 1)
x, y = windows[:, :-1], windows[:, -1]
split = 120
quantiles = torch.tensor([0.1, 0.5, 0.9])
model = nn.Sequential(nn.Linear(LAG, 16), nn.ReLU(), nn.Linear(16, 3))
opt = torch.optim.Adam(model.parameters(), lr=0.02)
losses = []
for _ in range(40):
    pred = model(x[:split])
    err = y[:split, None] - pred
    loss = torch.maximum(quantiles * err, (quantiles - 1) * err).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    losses.append(loss.item())

with torch.no_grad():
    pred = model(x[split:]).sort(dim=1).values  # no quantile crossing
yt, lo, med, hi = y[split:], pred[:, 0], pred[:, 1], pred[:, 2]
smape = (200 * (yt - med).abs() / (yt.abs() + med.abs())).mean().item()
naive_err = (y[SEASON:split] - y[: split - SEASON]).abs().mean()
mase = ((yt - med).abs().mean() / naive_err).item()
alpha = 0.2
interval = (hi - lo) + (2 / alpha) * ((lo - yt).clamp(min=0) + (yt - hi).clamp(min=0))
coverage = ((yt >= lo) & (yt <= hi)).float().mean().item()
point_scores = [smape, mase, interval.mean().item(), coverage]

# sample forecasts around the median: CRPS = E|X - y| - 0.5 E|X - X'|.
gen = torch.Generator().manual_seed(5)
spread = ((hi - lo) / (2 * 1.2816)).clamp(min=1e-3)
samples = med[:, None] + spread[:, None] * torch.randn(yt.numel(), 50, generator=gen)
term1 = (samples - yt[:, None]).abs().mean(1)
pair = torch.cdist(samples.unsqueeze(-1), samples.unsqueeze(-1), p=1).mean((1, 2))
crps_samples = (term1 - 0.5 * pair).mean().item()
z = (yt - med) / spread
std_normal = Normal(0.0, 1.0)
crps_gauss = spread * (
    z * (2 * std_normal.cdf(z) - 1) + 2 * std_normal.log_prob(z).exp() - 1 / math.sqrt(math.pi)
)
crps = [crps_samples, crps_gauss.mean().item()]

pit = Normal(med, spread).cdf(yt)
hist = torch.histogram(pit, bins=5, range=(0.0, 1.0))
dens = torch.histogram(pit, bins=torch.linspace(0, 1, 6), density=True)
weighted = torch.histogram(pit, bins=5, range=(0.0, 1.0), weight=interval)
pit_results = [
    hist.hist.tolist(),
    hist.bin_edges.tolist(),
    dens.hist.tolist(),
    weighted.hist.tolist(),
]
pit_dtypes = [str(hist.hist.dtype), str(hist.bin_edges.dtype)]
