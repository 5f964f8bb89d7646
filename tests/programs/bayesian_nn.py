"""A Bayesian neural network by variational inference (Bayes by Backprop, Blundell et al.), as
people write it with torch.distributions: BayesianLinear layers with a Normal posterior per
weight (mu, rho -> softplus sigma), reparameterized rsample, the KL term from
torch.distributions.kl_divergence against a Normal prior, the ELBO with a Normal likelihood
(log_prob) on heteroscedastic 1-D regression, Monte-Carlo predictive mean/std with more
uncertainty away from the data, and the same model's KL checked against a Monte-Carlo
estimate (log_prob differences)."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import Normal, kl_divergence

torch.manual_seed(0)


class BayesianLinear(nn.Module):
    def __init__(self, in_features, out_features, prior_sigma=1.0):
        super().__init__()
        self.weight_mu = nn.Parameter(torch.empty(out_features, in_features).uniform_(-0.2, 0.2))
        self.weight_rho = nn.Parameter(torch.full((out_features, in_features), -4.0))
        self.bias_mu = nn.Parameter(torch.zeros(out_features))
        self.bias_rho = nn.Parameter(torch.full((out_features,), -4.0))
        self.prior = Normal(0.0, prior_sigma)

    def posteriors(self):
        return (
            Normal(self.weight_mu, F.softplus(self.weight_rho)),
            Normal(self.bias_mu, F.softplus(self.bias_rho)),
        )

    def forward(self, x, sample=True):
        w_post, b_post = self.posteriors()
        if sample:
            weight, bias = w_post.rsample(), b_post.rsample()
        else:
            weight, bias = w_post.mean, b_post.mean
        return F.linear(x, weight, bias)

    def kl(self):
        return sum(kl_divergence(q, self.prior).sum() for q in self.posteriors())


class BayesianMLP(nn.Module):
    def __init__(self, hidden=32):
        super().__init__()
        self.l1 = BayesianLinear(1, hidden)
        self.l2 = BayesianLinear(hidden, hidden)
        self.l3 = BayesianLinear(hidden, 2)  # mean and log-std of the likelihood

    def forward(self, x, sample=True):
        h = torch.tanh(self.l1(x, sample))
        h = torch.tanh(self.l2(h, sample))
        out = self.l3(h, sample)
        return out[:, :1], out[:, 1:].clamp(-5, 2)

    def kl(self):
        return self.l1.kl() + self.l2.kl() + self.l3.kl()


n = 128
x = torch.cat([torch.empty(n // 2, 1).uniform_(-3, -1), torch.empty(n // 2, 1).uniform_(1, 3)])
noise_std = 0.1 + 0.1 * x.abs()
y = torch.sin(x) + noise_std * torch.randn_like(x)

model = BayesianMLP()
optimizer = torch.optim.Adam(model.parameters(), lr=2e-2)
num_batches = 1
kl_weight = 0.02  # a tempered posterior: the full KL of ~1,200 weights would swamp 128 points
elbo_history = []
for epoch in range(120):
    optimizer.zero_grad()
    mean, log_std = model(x)
    nll = -Normal(mean, log_std.exp()).log_prob(y).sum()
    kl = kl_weight * model.kl() / num_batches
    loss = (nll + kl) / n
    loss.backward()
    optimizer.step()
    elbo_history.append(-loss.item())
    if epoch % 50 == 0:
        print(
            f"epoch {epoch}: -ELBO/n {loss.item():.3f} (nll {nll.item() / n:.3f}, kl {kl.item() / n:.3f})"
        )


@torch.no_grad()
def predict(inputs, samples=50):
    means = torch.stack([model(inputs)[0] for _ in range(samples)])
    return means.mean(0), means.std(0)


x_in = torch.linspace(-2.5, -1.5, 20).unsqueeze(1)
x_gap = torch.linspace(-0.3, 0.3, 20).unsqueeze(1)
x_far = torch.linspace(6.0, 8.0, 20).unsqueeze(1)
mu_in, std_in = predict(x_in)
_, std_gap = predict(x_gap)
_, std_far = predict(x_far)
fit_rmse = (mu_in - torch.sin(x_in)).pow(2).mean().sqrt().item()
print(
    f"predictive std: data {std_in.mean():.3f}, gap {std_gap.mean():.3f}, far {std_far.mean():.3f}"
)

# Closed-form KL(q || p) of a layer against a Monte-Carlo estimate
q, _ = model.l1.posteriors()
p = model.l1.prior
analytic = kl_divergence(q, p).sum()
with torch.no_grad():
    draws = q.sample((4000,))
    monte_carlo = (q.log_prob(draws) - p.log_prob(draws)).sum((1, 2)).mean()
kl_relative_gap = ((analytic - monte_carlo).abs() / analytic).item()
expected = (torch.log(1.0 / q.scale) + (q.scale**2 + q.loc**2) / 2 - 0.5).sum()
kl_formula_gap = (analytic - expected).abs().item()
entropy_gap = (q.entropy() - (0.5 + 0.5 * math.log(2 * math.pi) + q.scale.log())).abs().max().item()
