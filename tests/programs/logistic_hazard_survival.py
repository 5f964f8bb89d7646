"""Discrete-time survival on a tabular data set with categorical columns, as pycox's
LogisticHazard and the tabular-embedding tutorials write it: durations cut into intervals
(torch.bucketize against quantile cut points), categorical columns through one nn.Embedding
each (sizes by the fastai rule of thumb), continuous columns standardised and concatenated,
a network that outputs one hazard logit per interval, the negative log-likelihood of the
logistic hazard (BCE on the hazards up to the event or censoring interval, built with a
cumulative mask), survival curves by cumprod of 1 - hazard, and a time-dependent concordance."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy

rng = np.random.default_rng(0)
n = 160
cardinalities = [4, 7]
cats = np.stack([rng.integers(0, c, n) for c in cardinalities], 1)
conts = rng.standard_normal((n, 3))
risk = 0.8 * conts[:, 0] + np.array([-0.5, 0.0, 0.5, 1.0])[cats[:, 0]] + 0.1 * cats[:, 1]
event_time = rng.exponential(np.exp(-risk))
censor_time = rng.exponential(1.5, n)
duration = torch.from_numpy(np.minimum(event_time, censor_time).astype(np.float32))
event = torch.from_numpy((event_time <= censor_time).astype(np.float32))
x_cat = torch.from_numpy(cats.astype(np.int64))
x_cont = torch.from_numpy(conts.astype(np.float32))
x_cont = (x_cont - x_cont.mean(0)) / x_cont.std(0)

n_intervals = 8
cuts = torch.quantile(duration, torch.linspace(0, 1, n_intervals + 1)[1:-1])
idx_duration = torch.bucketize(duration, cuts)  # interval index of each duration


def emb_size(cardinality):
    return min(16, round(1.6 * cardinality**0.56))


class TabularHazard(nn.Module):
    def __init__(self):
        super().__init__()
        self.embeds = nn.ModuleList(nn.Embedding(c, emb_size(c)) for c in cardinalities)
        self.emb_drop = nn.Dropout(0.0)
        n_emb = sum(e.embedding_dim for e in self.embeds)
        self.bn_cont = nn.BatchNorm1d(3)
        self.mlp = nn.Sequential(
            nn.Linear(n_emb + 3, 32), nn.ReLU(), nn.BatchNorm1d(32), nn.Linear(32, n_intervals)
        )

    def forward(self, x_cat, x_cont):
        emb = torch.cat([e(x_cat[:, i]) for i, e in enumerate(self.embeds)], dim=1)
        return self.mlp(torch.cat([self.emb_drop(emb), self.bn_cont(x_cont)], dim=1))


def nll_logistic_hazard(phi, idx_durations, events):
    y_bce = torch.zeros_like(phi).scatter(1, idx_durations.view(-1, 1), events.view(-1, 1))
    bce = F.binary_cross_entropy_with_logits(phi, y_bce, reduction="none")
    loss = bce.cumsum(1).gather(1, idx_durations.view(-1, 1)).view(-1)
    return loss.mean()


model = init_from_numpy(TabularHazard())
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
losses = []
for epoch in range(8):
    perm = torch.from_numpy(rng.permutation(n))
    for batch in perm.split(32):
        optimizer.zero_grad()
        phi = model(x_cat[batch], x_cont[batch])
        loss = nll_logistic_hazard(phi, idx_duration[batch], event[batch])
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
print(f"logistic hazard NLL {losses[0]:.4f} -> {losses[-1]:.4f}")

model.eval()
with torch.no_grad():
    hazard = torch.sigmoid(model(x_cat, x_cont))
    survival = (1 - hazard).add(1e-7).log().cumsum(1).exp()
monotone = bool((survival[:, 1:] <= survival[:, :-1] + 1e-6).all())
surv_at_own = survival.gather(1, idx_duration.view(-1, 1)).view(-1)
earlier = (duration.unsqueeze(1) < duration.unsqueeze(0)) & (event.unsqueeze(1) > 0)
concordant = surv_at_own.unsqueeze(1) < survival.gather(1, idx_duration.repeat(n, 1)).T
c_index = ((concordant & earlier).sum() / earlier.sum()).item()
cut_points = cuts.tolist()
interval_counts = torch.bincount(idx_duration, minlength=n_intervals).tolist()
emb_dims = [e.embedding_dim for e in model.embeds]
mean_curve = survival.mean(0).tolist()
print(f"C-index {c_index:.3f}, embedding sizes {emb_dims}")
