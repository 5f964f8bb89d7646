"""A RealNVP normalizing flow (Dinh et al. 2017) on two moons, as people write it for PyTorch
(after senya-ashukha/real-nvp-pytorch): affine coupling layers with fixed binary masks kept as
frozen Parameters, a MultivariateNormal prior from torch.distributions, maximum likelihood
with log-determinants summed over the layers, and sampling through the inverse. The
log-determinant is checked against the Jacobian computed by autograd."""

import math

import numpy as np
import torch
import torch.nn as nn
from torch import distributions

torch.manual_seed(0)
rng = np.random.RandomState(0)


def make_moons(n_samples=100, noise=0.05):
    """sklearn.datasets.make_moons: two interleaving half circles, with Gaussian noise."""
    n_out = n_samples // 2
    n_in = n_samples - n_out
    outer = np.linspace(0, np.pi, n_out)
    inner = np.linspace(0, np.pi, n_in)
    x = np.concatenate([np.cos(outer), 1 - np.cos(inner)])
    y = np.concatenate([np.sin(outer), 1 - np.sin(inner) - 0.5])
    points = np.stack([x, y], axis=1)
    return points + rng.normal(scale=noise, size=points.shape), None


class RealNVP(nn.Module):
    def __init__(self, nets, nett, mask, prior):
        super(RealNVP, self).__init__()

        self.prior = prior
        self.mask = nn.Parameter(mask, requires_grad=False)
        self.t = torch.nn.ModuleList([nett() for _ in range(len(masks))])
        self.s = torch.nn.ModuleList([nets() for _ in range(len(masks))])

    def g(self, z):
        """Latent to data (the generative direction)."""
        x = z
        for i in range(len(self.t)):
            x_ = x * self.mask[i]
            s = self.s[i](x_) * (1 - self.mask[i])
            t = self.t[i](x_) * (1 - self.mask[i])
            x = x_ + (1 - self.mask[i]) * (x * torch.exp(s) + t)
        return x

    def f(self, x):
        """Data to latent, with log |det dz/dx| per example."""
        log_det_J, z = x.new_zeros(x.shape[0]), x
        for i in reversed(range(len(self.t))):
            z_ = self.mask[i] * z
            s = self.s[i](z_) * (1 - self.mask[i])
            t = self.t[i](z_) * (1 - self.mask[i])
            z = (1 - self.mask[i]) * (z - t) * torch.exp(-s) + z_
            log_det_J -= s.sum(dim=1)
        return z, log_det_J

    def log_prob(self, x):
        z, logp = self.f(x)
        return self.prior.log_prob(z) + logp

    def sample(self, batchSize):
        z = self.prior.sample((batchSize, 1))
        x = self.g(z)
        return x


hidden = 64
nets = lambda: nn.Sequential(  # noqa: E731 - as the original writes it
    nn.Linear(2, hidden), nn.LeakyReLU(), nn.Linear(hidden, hidden), nn.LeakyReLU(),
    nn.Linear(hidden, 2), nn.Tanh(),
)  # fmt: skip
nett = lambda: nn.Sequential(  # noqa: E731
    nn.Linear(2, hidden), nn.LeakyReLU(), nn.Linear(hidden, hidden), nn.LeakyReLU(),
    nn.Linear(hidden, 2),
)  # fmt: skip
masks = torch.from_numpy(np.array([[0, 1], [1, 0]] * 3).astype(np.float32))
prior = distributions.MultivariateNormal(torch.zeros(2), torch.eye(2))
flow = RealNVP(nets, nett, masks, prior)

optimizer = torch.optim.Adam([p for p in flow.parameters() if p.requires_grad == True], lr=5e-3)  # noqa: E712
losses = []
for t in range(151):
    noisy_moons = make_moons(n_samples=128, noise=0.05)[0].astype(np.float32)
    loss = -flow.log_prob(torch.from_numpy(noisy_moons)).mean()

    optimizer.zero_grad()
    loss.backward(retain_graph=True)
    optimizer.step()
    losses.append(loss.item())

    if t % 50 == 0:
        print("iter %s:" % t, "loss = %.3f" % loss)

# The data mapped to the latent space, and new samples mapped back
test_moons = torch.from_numpy(make_moons(512, noise=0.05)[0].astype(np.float32))
with torch.no_grad():
    z, _ = flow.f(test_moons)
    x = flow.sample(1000)
    round_trip = (flow.g(z) - test_moons).abs().max().item()
    test_nll = -flow.log_prob(test_moons).mean().item()
print(f"latent mean {z.mean(0).tolist()}, std {z.std(0).tolist()}")
print(f"samples {tuple(x.shape)}, round trip error {round_trip:.2e}, test NLL {test_nll:.3f}")

# The prior's log-density is the sum of two standard normal log-densities
normal = distributions.Normal(torch.tensor(0.0), torch.tensor(1.0))
prior_gap = (prior.log_prob(z) - normal.log_prob(z).sum(-1)).abs().max().item()

# The coupling log-determinant against the log |det| of the Jacobian from autograd
point = test_moons[:1]
jac = torch.autograd.functional.jacobian(lambda p: flow.f(p)[0], point)  # (1, 2, 1, 2)
_, logabsdet = torch.linalg.slogdet(jac.reshape(2, 2))
logdet_gap = abs(logabsdet.item() - flow.f(point)[1].item())
print(
    f"prior gap {prior_gap:.2e}, log-det gap {logdet_gap:.2e}, log(2 pi) {math.log(2 * math.pi):.4f}"
)
