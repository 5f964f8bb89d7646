"""A mixture density network (Bishop 1994) as people write it for PyTorch, on the classic
inverted-sine problem whose inverse is multi-valued: a hand-written Gaussian-mixture negative
log-likelihood from torch.distributions.Normal, the same loss from
torch.distributions.MixtureSameFamily(Categorical, Normal), a 2-D mixture over
Independent(Normal) components, and sampling from the fitted mixture."""

import math

import numpy as np
import torch
import torch.distributions as D
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
np.random.seed(0)

n_samples, n_gaussians, n_hidden = 1000, 5, 24

# y is a function of x, but x -> y is not: fit p(y | x) with a mixture
y_data = np.float32(np.random.uniform(-10.5, 10.5, (n_samples, 1)))
r_data = np.float32(np.random.normal(size=(n_samples, 1)))
x_data = np.float32(np.sin(0.75 * y_data) * 7.0 + y_data * 0.5 + r_data * 1.0)
x_tensor = torch.from_numpy(x_data)
y_tensor = torch.from_numpy(y_data)


class MDN(nn.Module):
    def __init__(self, n_hidden, n_gaussians):
        super(MDN, self).__init__()
        self.z_h = nn.Sequential(nn.Linear(1, n_hidden), nn.Tanh())
        self.z_pi = nn.Linear(n_hidden, n_gaussians)
        self.z_sigma = nn.Linear(n_hidden, n_gaussians)
        self.z_mu = nn.Linear(n_hidden, n_gaussians)

    def forward(self, x):
        z_h = self.z_h(x)
        pi = F.softmax(self.z_pi(z_h), -1)
        sigma = torch.exp(self.z_sigma(z_h))
        mu = self.z_mu(z_h)
        return pi, sigma, mu


def mdn_loss_fn(pi, sigma, mu, y):
    m = torch.distributions.Normal(loc=mu, scale=sigma)
    loss = torch.exp(m.log_prob(y))
    loss = torch.sum(loss * pi, dim=1)
    loss = -torch.log(loss)
    return torch.mean(loss)


def mixture_nll(pi, sigma, mu, y):
    mix = D.Categorical(probs=pi)
    comp = D.Normal(mu, sigma)
    gmm = D.MixtureSameFamily(mix, comp)
    return -gmm.log_prob(y.squeeze(-1)).mean(), gmm


network = MDN(n_hidden=n_hidden, n_gaussians=n_gaussians)
optimizer = torch.optim.Adam(network.parameters(), lr=0.01)

losses, gaps = [], []
for epoch in range(400):
    pi_variable, sigma_variable, mu_variable = network(x_tensor)
    loss = mdn_loss_fn(pi_variable, sigma_variable, mu_variable, y_tensor)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
    if epoch % 100 == 0:
        with torch.no_grad():
            other, _ = mixture_nll(pi_variable, sigma_variable, mu_variable, y_tensor)
        gaps.append(abs(other.item() - loss.item()))
        print(epoch, loss.item())

# Continue training through MixtureSameFamily's log_prob (a log-sum-exp, no underflow)
for epoch in range(100):
    pi, sigma, mu = network(x_tensor)
    loss, gmm = mixture_nll(pi, sigma, mu, y_tensor)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
print("final NLL", losses[-1])

x_test = torch.linspace(-15, 15, 200).unsqueeze(1)
with torch.no_grad():
    pi, sigma, mu = network(x_test)
    _, gmm = mixture_nll(pi, sigma, mu, torch.zeros(200, 1))
    samples = gmm.sample()  # one y per x
    many = gmm.sample((50,))  # (50, 200)
    mixture_mean = gmm.mean
    manual_mean = (pi * mu).sum(-1)
print("samples", tuple(samples.shape), tuple(many.shape), tuple(gmm.batch_shape))

# Samples of the fitted p(y | x) should satisfy x ~ 7 sin(0.75 y) + 0.5 y
residual = (x_test.squeeze(1) - (7.0 * torch.sin(0.75 * many) + 0.5 * many)).abs()
in_range = (many.abs() <= 10.5).float().mean().item()

# A 2-D mixture: Independent(Normal) components with a Categorical over them
mix = D.Categorical(torch.ones(3))
comp = D.Independent(
    D.Normal(torch.tensor([[-2.0, 0.0], [2.0, 0.0], [0.0, 3.0]]), torch.full((3, 2), 0.5)), 1
)
gmm2 = D.MixtureSameFamily(mix, comp)
points = gmm2.sample((2000,))
print("2-D mixture", tuple(points.shape), tuple(gmm2.event_shape))
density_at_center = gmm2.log_prob(torch.tensor([[-2.0, 0.0]])).exp().item()
expected_density = (1 / 3) / (2 * math.pi * 0.25)  # the other components are 4 sigma away
