"""A sparse variational Gaussian process (Hensman et al. 2013; Titsias 2009) written directly in
PyTorch as GP tutorials write it without GPyTorch: learned inducing inputs Z, a variational
q(u) = N(m, S) with S = L L^T from a lower-triangular parameter (``torch.tril`` plus a softplus
diagonal), the ELBO as the closed-form expected Gaussian log-likelihood minus
``kl_divergence(MultivariateNormal, MultivariateNormal)``, the conditional through
``linalg.cholesky`` and ``linalg.solve_triangular``, minibatches rescaled to the full data set,
Adam on everything; compared with the collapsed (Titsias) bound of the optimal q(u) computed with
``cholesky_solve`` and ``logdet``, and with the exact GP's log marginal likelihood."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import MultivariateNormal, kl_divergence

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)

N, M = 200, 12
X = torch.rand(N, 1) * 6 - 3
y = torch.sin(2 * X[:, 0]) + 0.3 * X[:, 0] + 0.2 * torch.randn(N)


def rbf(a, b, lengthscale, outputscale):
    sq = torch.cdist(a / lengthscale, b / lengthscale).pow(2)
    return outputscale * torch.exp(-0.5 * sq)


class SVGP(nn.Module):
    def __init__(self, Z):
        super().__init__()
        self.Z = nn.Parameter(Z.clone())
        self.q_mu = nn.Parameter(torch.zeros(M))
        self.q_sqrt_raw = nn.Parameter(torch.eye(M) * math.log(math.e - 1))
        self.raw_lengthscale = nn.Parameter(torch.tensor(0.0))
        self.raw_outputscale = nn.Parameter(torch.tensor(0.0))
        self.raw_noise = nn.Parameter(torch.tensor(-1.0))

    def hypers(self):
        return (
            F.softplus(self.raw_lengthscale),
            F.softplus(self.raw_outputscale),
            F.softplus(self.raw_noise) + 1e-4,
        )

    def q_sqrt(self):
        lower = torch.tril(self.q_sqrt_raw, diagonal=-1)
        return lower + torch.diag_embed(F.softplus(self.q_sqrt_raw.diagonal()))

    def predict_f(self, x):
        ls, os, _ = self.hypers()
        Kuu = rbf(self.Z, self.Z, ls, os) + 1e-6 * torch.eye(M)
        Kuf = rbf(self.Z, x, ls, os)
        Luu = torch.linalg.cholesky(Kuu)
        A = torch.linalg.solve_triangular(Luu, Kuf, upper=False)  # whitened projection
        mean = A.T @ self.q_mu
        SA = self.q_sqrt().T @ A
        var = os - A.pow(2).sum(0) + SA.pow(2).sum(0)
        return mean, var

    def elbo(self, x, yb):
        _, _, noise = self.hypers()
        mean, var = self.predict_f(x)
        expected = -0.5 * math.log(2 * math.pi) - 0.5 * torch.log(noise)
        expected = expected - 0.5 * ((yb - mean).pow(2) + var) / noise
        q_u = MultivariateNormal(self.q_mu, scale_tril=self.q_sqrt())
        p_u = MultivariateNormal(torch.zeros(M), scale_tril=torch.eye(M))
        return expected.sum() * (N / len(x)) - kl_divergence(q_u, p_u)


model = SVGP(torch.linspace(-2.5, 2.5, M).unsqueeze(1))
optimizer = torch.optim.Adam(model.parameters(), lr=0.04)
elbos = []
for epoch in range(10):
    for idx in torch.randperm(N).split(50):
        optimizer.zero_grad()
        loss = -model.elbo(X[idx], y[idx])
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        elbos.append(model.elbo(X, y).item())


def titsias_bound(Z, ls, os, noise):
    """The collapsed bound log N(y | 0, Qff + noise I) - tr(Kff - Qff) / (2 noise)."""
    Kuu = rbf(Z, Z, ls, os) + 1e-6 * torch.eye(M)
    Kuf = rbf(Z, X, ls, os)
    L = torch.linalg.cholesky(Kuu)
    A = torch.linalg.solve_triangular(L, Kuf, upper=False)
    Qff = A.T @ A
    cov = Qff + noise * torch.eye(N)
    Lc = torch.linalg.cholesky(cov)
    alpha = torch.cholesky_solve(y.unsqueeze(1), Lc).squeeze(1)
    log_marg = -0.5 * y.dot(alpha) - 0.5 * torch.logdet(cov) - 0.5 * N * math.log(2 * math.pi)
    return log_marg - 0.5 * (N * os - Qff.diagonal().sum()) / noise


def exact_log_marginal(ls, os, noise):
    K = rbf(X, X, ls, os) + noise * torch.eye(N)
    return MultivariateNormal(torch.zeros(N), covariance_matrix=K).log_prob(y)


with torch.no_grad():
    hypers = model.hypers()
    final_elbo = model.elbo(X, y).item()
    collapsed = titsias_bound(model.Z, *hypers).item()
    exact = exact_log_marginal(*hypers).item()
    test_x = torch.linspace(-3, 3, 7).unsqueeze(1)
    pred_mean, pred_var = model.predict_f(test_x)

# gradient of the collapsed bound with respect to the inducing inputs
Z = model.Z.detach().clone().requires_grad_(True)
(z_grad,) = torch.autograd.grad(titsias_bound(Z, *[h.detach() for h in hypers]), Z)

hyper_values = [h.item() for h in hypers]
inducing = model.Z.detach().squeeze(1).tolist()
prediction = [pred_mean.tolist(), pred_var.tolist()]
test_error = (pred_mean - torch.sin(2 * test_x[:, 0]) - 0.3 * test_x[:, 0]).abs().max().item()
inducing_grad = z_grad.squeeze(1).tolist()
torch.set_default_dtype(torch.float32)
