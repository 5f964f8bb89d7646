"""DeepAR (Salinas et al.), as GluonTS-style PyTorch ports write it: an LSTM over lagged,
scaled targets plus covariates (an item embedding and a seasonal feature), a projection to the
parameters of a likelihood (softplus for positivity), trained by the negative log-likelihood of
torch.distributions.NegativeBinomial for counts and Normal for real values, with mean scaling
per series; forecasts are ancestral samples drawn step by step and summarized by quantiles."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import NegativeBinomial, Normal

N_SERIES, CONTEXT, HORIZON = 8, 24, 6


class DeepAR(nn.Module):
    def __init__(self, likelihood, hidden=24, num_items=N_SERIES, embed_dim=3):
        super().__init__()
        self.likelihood = likelihood
        self.embed = nn.Embedding(num_items, embed_dim)
        self.rnn = nn.LSTM(1 + embed_dim + 2, hidden, num_layers=2, batch_first=True, dropout=0.1)
        self.proj = nn.Linear(hidden, 2)

    def distribution(self, out, scale):
        a, b = self.proj(out).unbind(-1)
        if self.likelihood == "negbin":
            mu = F.softplus(a) * scale
            alpha = F.softplus(b) + 1e-3  # NB as mean/dispersion: total_count = 1/alpha
            total_count = 1.0 / alpha
            return NegativeBinomial(total_count=total_count, logits=torch.log(mu * alpha))
        return Normal(a * scale, F.softplus(b) * scale + 1e-3)

    def inputs(self, lagged, item, season, scale):
        emb = self.embed(item).unsqueeze(1).expand(-1, lagged.size(1), -1)
        return torch.cat([(lagged / scale).unsqueeze(-1), emb, season], dim=-1)

    def forward(self, target, item, season):
        scale = target[:, :CONTEXT].mean(1, keepdim=True).clamp(min=1.0)
        lagged = F.pad(target[:, :-1], (1, 0))
        out, _ = self.rnn(self.inputs(lagged, item, season, scale))
        return self.distribution(out, scale)

    @torch.no_grad()
    def sample(self, target, item, season, num_samples=50):
        scale = target.mean(1, keepdim=True).clamp(min=1.0)
        lagged = F.pad(target[:, :-1], (1, 0))
        _, state = self.rnn(self.inputs(lagged, item, season[:, :CONTEXT], scale))
        rep = lambda t: t.repeat_interleave(num_samples, 0)  # noqa: E731
        state = tuple(s.repeat_interleave(num_samples, 1) for s in state)
        last, item, scale = rep(target[:, -1:]), rep(item), rep(scale)
        paths = []
        for t in range(HORIZON):
            x = self.inputs(last, item, rep(season[:, CONTEXT + t : CONTEXT + t + 1]), scale)
            out, state = self.rnn(x, state)
            last = self.distribution(out, scale).sample()
            paths.append(last)
        return torch.cat(paths, 1).view(-1, num_samples, HORIZON)


torch.manual_seed(0)
T = CONTEXT + HORIZON
t = torch.arange(T, dtype=torch.float32)
season = torch.stack([torch.sin(2 * math.pi * t / 12), torch.cos(2 * math.pi * t / 12)], -1)
season = season.expand(N_SERIES, T, 2)
level = torch.linspace(2.0, 30.0, N_SERIES).unsqueeze(1)
rate = level * (1.0 + 0.5 * torch.sin(2 * math.pi * t / 12 + torch.arange(N_SERIES).unsqueeze(1)))
counts = torch.poisson(rate)
real = rate + torch.randn(N_SERIES, T)
item = torch.arange(N_SERIES)

results = {}
for likelihood, series in [("negbin", counts), ("normal", real)]:
    torch.manual_seed(1)
    model = DeepAR(likelihood)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for step in range(40):
        dist = model(series[:, :CONTEXT], item, season[:, :CONTEXT])
        loss = -dist.log_prob(series[:, :CONTEXT]).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    model.eval()
    paths = model.sample(series[:, :CONTEXT], item, season)
    q = torch.quantile(paths, torch.tensor([0.1, 0.5, 0.9]), dim=1)  # (3, series, horizon)
    coverage = ((series[:, CONTEXT:] >= q[0]) & (series[:, CONTEXT:] <= q[2])).float().mean()
    results[likelihood] = {
        "losses": losses,
        "median": q[1].tolist(),
        "coverage": coverage.item(),
        "integer_paths": bool((paths == paths.round()).all()),
        "mae": (q[1] - series[:, CONTEXT:]).abs().mean().item(),
    }
    print(f"{likelihood}: nll {losses[0]:.3f} -> {losses[-1]:.3f}, 80% coverage {coverage:.2f}")

nb = NegativeBinomial(total_count=torch.tensor(4.0), probs=torch.tensor(0.3))
nb_stats = [nb.mean.item(), nb.variance.item(), nb.log_prob(torch.tensor(3.0)).item()]
