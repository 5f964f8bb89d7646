"""Exact Gaussian-process regression written directly in PyTorch, as GP tutorials (and the
GPyTorch "simple GP" example without GPyTorch) do: an RBF kernel with a learned lengthscale,
outputscale and noise (softplus-positive raw parameters), the log marginal likelihood through
torch.linalg.cholesky, cholesky_solve and the log-determinant from the Cholesky diagonal,
hyperparameters fitted with Adam, the predictive mean and variance by
torch.linalg.solve_triangular, checked against the direct inverse; and samples from the
posterior via a jittered Cholesky factor (torch.distributions.MultivariateNormal)."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import MultivariateNormal

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)

train_x = torch.linspace(0, 1, 40)
train_y = torch.sin(train_x * (2 * math.pi)) + torch.randn(train_x.size()) * math.sqrt(0.04)
test_x = torch.linspace(0, 1, 51)


class ExactGP(nn.Module):
    def __init__(self):
        super().__init__()
        self.raw_lengthscale = nn.Parameter(torch.tensor(0.0))
        self.raw_outputscale = nn.Parameter(torch.tensor(0.0))
        self.raw_noise = nn.Parameter(torch.tensor(0.0))
        self.mean_constant = nn.Parameter(torch.tensor(0.0))

    @property
    def lengthscale(self):
        return F.softplus(self.raw_lengthscale)

    @property
    def outputscale(self):
        return F.softplus(self.raw_outputscale)

    @property
    def noise(self):
        return F.softplus(self.raw_noise) + 1e-4

    def kernel(self, a, b):
        sqdist = (a.unsqueeze(-1) - b.unsqueeze(-2)).pow(2)
        return self.outputscale * torch.exp(-0.5 * sqdist / self.lengthscale**2)

    def neg_log_marginal_likelihood(self, x, y):
        n = x.shape[0]
        K = self.kernel(x, x) + self.noise * torch.eye(n)
        L = torch.linalg.cholesky(K)
        r = (y - self.mean_constant).unsqueeze(-1)
        alpha = torch.cholesky_solve(r, L)
        data_fit = 0.5 * (r * alpha).sum()
        log_det = torch.log(torch.diagonal(L)).sum()
        return (data_fit + log_det + 0.5 * n * math.log(2 * math.pi)) / n

    def predict(self, x, y, x_star):
        K = self.kernel(x, x) + self.noise * torch.eye(x.shape[0])
        L = torch.linalg.cholesky(K)
        K_s = self.kernel(x, x_star)
        r = (y - self.mean_constant).unsqueeze(-1)
        v = torch.linalg.solve_triangular(L, K_s, upper=False)
        w = torch.linalg.solve_triangular(L, r, upper=False)
        mean = self.mean_constant + (v.T @ w).squeeze(-1)
        cov = self.kernel(x_star, x_star) - v.T @ v
        return mean, cov


model = ExactGP()
optimizer = torch.optim.Adam(model.parameters(), lr=0.1)
training_iter = 50
losses = []
for i in range(training_iter):
    optimizer.zero_grad()
    loss = model.neg_log_marginal_likelihood(train_x, train_y)
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
    if i % 10 == 0:
        print(
            f"Iter {i + 1}/{training_iter} - Loss: {loss.item():.3f}   lengthscale: "
            f"{model.lengthscale.item():.3f}   noise: {model.noise.item():.3f}"
        )

with torch.no_grad():
    mean, cov = model.predict(train_x, train_y, test_x)
    var = cov.diagonal().clamp_min(0)
    lower, upper = mean - 2 * var.sqrt(), mean + 2 * var.sqrt()
    truth = torch.sin(test_x * (2 * math.pi))
    rmse = (mean - truth).pow(2).mean().sqrt().item()
    coverage = ((truth >= lower) & (truth <= upper)).float().mean().item()

    # The same prediction with explicit inverses
    K = model.kernel(train_x, train_x) + model.noise * torch.eye(40)
    K_inv = torch.linalg.inv(K)
    K_s = model.kernel(train_x, test_x)
    mean_direct = model.mean_constant + K_s.T @ K_inv @ (train_y - model.mean_constant)
    cov_direct = model.kernel(test_x, test_x) - K_s.T @ K_inv @ K_s
    mean_gap = (mean - mean_direct).abs().max().item()
    cov_gap = (cov - cov_direct).abs().max().item()
    logdet_gap = abs(
        torch.logdet(K).item()
        - 2 * torch.log(torch.diagonal(torch.linalg.cholesky(K))).sum().item()
    )

    posterior = MultivariateNormal(mean, covariance_matrix=cov + 1e-6 * torch.eye(51))
    samples = posterior.sample((200,))
    sample_mean_gap = (samples.mean(0) - mean).abs().max().item()
print(
    f"RMSE {rmse:.3f}, 2-sigma coverage {coverage:.2f}, lengthscale {model.lengthscale.item():.3f}"
)
torch.set_default_dtype(torch.float32)
