"""A conditional/latent neural process (Garnelo et al.) as the PyTorch tutorials write it:
context points encoded and mean-aggregated, a latent path with
``Independent(Normal(mu, sigma), 1)`` posteriors from context and from context + target,
``rsample`` through the reparameterization, the ELBO's ``kl_divergence`` between the two, a
decoder that outputs a ``Normal`` whose ``log_prob`` is the likelihood, ``0.1 + 0.9 *
softplus`` scales; trained on random sine functions with NumPy-drawn contexts, and the
reparameterized noise given as ``torch.distributions`` ``rsample`` would draw it (here from
``loc + scale * eps`` with NumPy ``eps`` so both runs agree)."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy
from torch.distributions import Independent, Normal, kl_divergence

rng = np.random.default_rng(251)
r_dim = z_dim = 8


def task(batch, n_context, n_target):
    amp = rng.uniform(0.5, 2.0, (batch, 1, 1))
    phase = rng.uniform(0, np.pi, (batch, 1, 1))
    x = rng.uniform(-3, 3, (batch, n_context + n_target, 1))
    y = amp * np.sin(x + phase)
    x, y = torch.from_numpy(x.astype(np.float32)), torch.from_numpy(y.astype(np.float32))
    return x[:, :n_context], y[:, :n_context], x, y


class NP(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, r_dim))
        self.latent = nn.Sequential(nn.Linear(r_dim, 32), nn.ReLU(), nn.Linear(32, 2 * z_dim))
        self.decoder = nn.Sequential(nn.Linear(1 + z_dim + r_dim, 32), nn.ReLU(), nn.Linear(32, 2))

    def aggregate(self, x, y):
        return self.encoder(torch.cat([x, y], dim=-1)).mean(dim=1)

    def posterior(self, r):
        mu, raw = self.latent(r).chunk(2, dim=-1)
        return Independent(Normal(mu, 0.1 + 0.9 * torch.sigmoid(raw)), 1)

    def forward(self, xc, yc, xt, yt=None, eps=None):
        r_c = self.aggregate(xc, yc)
        prior = self.posterior(r_c)
        q = self.posterior(self.aggregate(xt, yt)) if yt is not None else prior
        z = q.mean + q.stddev * eps  # q.rsample() with the noise given
        n = xt.shape[1]
        h = torch.cat(
            [xt, z.unsqueeze(1).expand(-1, n, -1), r_c.unsqueeze(1).expand(-1, n, -1)], dim=-1
        )
        mu, raw = self.decoder(h).chunk(2, dim=-1)
        pred = Normal(mu, 0.1 + 0.9 * F.softplus(raw))
        kl = kl_divergence(q, prior) if yt is not None else None
        return pred, kl


model = init_from_numpy(NP(), seed=251)
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
elbos, kls = [], []
for step in range(40):
    n_context = int(rng.integers(3, 8))
    xc, yc, xt, yt = task(8, n_context, 10)
    eps = torch.from_numpy(rng.standard_normal((8, z_dim)).astype(np.float32))
    pred, kl = model(xc, yc, xt, yt, eps)
    log_lik = pred.log_prob(yt).sum(dim=(1, 2))
    loss = -(log_lik - kl).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    elbos.append(-loss.item())
    kls.append(kl.mean().item())

xc, yc, xt, yt = task(4, 5, 20)
with torch.no_grad():
    pred, _ = model(xc, yc, xt, None, torch.zeros(4, z_dim))
    test_nll = -pred.log_prob(yt).mean().item()
    mse = F.mse_loss(pred.mean, yt).item()
q = model.posterior(model.aggregate(xc, yc))
shapes = [list(q.batch_shape), list(q.event_shape), list(q.log_prob(torch.zeros(4, z_dim)).shape)]
kl_check = (
    kl_divergence(q, q).abs().max().item(),
    kl_divergence(Normal(0.0, 1.0), Normal(1.0, 2.0)).item(),
)
rsample_shape = list(q.rsample((3,)).shape)
print(f"ELBO {elbos[0]:.2f} -> {elbos[-1]:.2f}; test NLL {test_nll:.3f} MSE {mse:.3f}")
