"""Bayesian optimization written directly in PyTorch, as BoTorch-style tutorials explain it
without BoTorch: a Gaussian process with a Matern-5/2 kernel (``torch.cdist``) and a learned
constant mean, hyperparameters fitted by L-BFGS on the exact marginal likelihood
(``linalg.cholesky``, ``cholesky_solve``), the expected-improvement acquisition in closed form
(``special.ndtr`` and the normal density) and in log space for tiny improvements
(``special.log_ndtr`` and ``special.erfcx``), its maximization from scrambled Sobol raw samples
followed by Adam in the unit box (a sigmoid reparameterization), over several rounds on the
Branin function."""

import math

import torch
from torch import special
from torch.quasirandom import SobolEngine

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)


def branin(x):
    x1, x2 = 15 * x[..., 0] - 5, 15 * x[..., 1]
    b, c = 5.1 / (4 * math.pi**2), 5 / math.pi
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - 1 / (8 * math.pi)) * torch.cos(x1) + 10


def matern52(a, b, lengthscale):
    r = torch.cdist(a / lengthscale, b / lengthscale).clamp(min=1e-12)
    s5 = math.sqrt(5) * r
    return (1 + s5 + s5**2 / 3) * torch.exp(-s5)


class GP:
    def __init__(self, X, y):
        self.X, self.y = X, (y - y.mean()) / y.std()
        self.y_mean, self.y_std = y.mean(), y.std()
        self.raw = torch.tensor([0.0, 0.0, 0.0, -3.0, 0.0], requires_grad=True)

    def hypers(self):
        ls = torch.nn.functional.softplus(self.raw[:2]) + 1e-3
        outputscale = torch.nn.functional.softplus(self.raw[2])
        noise = torch.nn.functional.softplus(self.raw[3]) + 1e-6
        return ls, outputscale, noise, self.raw[4]

    def neg_mll(self):
        ls, os, noise, mean = self.hypers()
        K = os * matern52(self.X, self.X, ls) + noise * torch.eye(len(self.X))
        L = torch.linalg.cholesky(K)
        r = (self.y - mean).unsqueeze(1)
        alpha = torch.cholesky_solve(r, L)
        n = len(self.X)
        return 0.5 * (r * alpha).sum() + L.diagonal().log().sum() + 0.5 * n * math.log(2 * math.pi)

    def fit(self):
        opt = torch.optim.LBFGS([self.raw], lr=0.5, max_iter=15, line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            loss = self.neg_mll()
            loss.backward()
            return loss

        opt.step(closure)
        return self.neg_mll().item()

    def posterior(self, Xs):
        ls, os, noise, mean = [h.detach() for h in self.hypers()]
        K = os * matern52(self.X, self.X, ls) + noise * torch.eye(len(self.X))
        L = torch.linalg.cholesky(K)
        Ks = os * matern52(self.X, Xs, ls)
        alpha = torch.cholesky_solve((self.y - mean).unsqueeze(1), L)
        mu = mean + (Ks * alpha).sum(0)
        v = torch.linalg.solve_triangular(L, Ks, upper=False)
        var = (os - v.pow(2).sum(0)).clamp(min=1e-12)
        return mu, var.sqrt()


def expected_improvement(mu, sigma, best):
    """EI for minimization: (best - mu) Phi(z) + sigma phi(z), z = (best - mu) / sigma."""
    z = (best - mu) / sigma
    return sigma * (z * special.ndtr(z) + torch.exp(-0.5 * z**2) / math.sqrt(2 * math.pi))


def log_expected_improvement(mu, sigma, best):
    """log EI, stable where z << 0: log h(z) with h(z) = phi(z) + z Phi(z)."""
    z = (best - mu) / sigma
    direct = torch.log(z * special.ndtr(z) + torch.exp(-0.5 * z**2) / math.sqrt(2 * math.pi))
    # for z < -1: h(z) = phi(z) (1 - |z| sqrt(pi/2) erfcx(|z| / sqrt(2)))
    tail = (
        -0.5 * z**2
        - 0.5 * math.log(2 * math.pi)
        + torch.log1p(-z.abs() * math.sqrt(math.pi / 2) * special.erfcx(z.abs() / math.sqrt(2)))
    )
    return torch.where(z > -1, direct, tail) + sigma.log()


X = SobolEngine(2, scramble=True, seed=0).draw(6, dtype=torch.float64)
y = branin(X)
rounds = []
for it in range(4):
    gp = GP(X, y)
    nll = gp.fit()
    best = gp.y.min()
    raw_points = SobolEngine(2, scramble=True, seed=100 + it).draw(128, dtype=torch.float64)
    with torch.no_grad():
        mu, sigma = gp.posterior(raw_points)
        acq = log_expected_improvement(mu, sigma, best)
    starts = raw_points[acq.topk(4).indices]
    logits = torch.logit(starts.clamp(1e-4, 1 - 1e-4)).requires_grad_(True)
    opt = torch.optim.Adam([logits], lr=0.1)
    for step in range(15):
        opt.zero_grad()
        mu, sigma = gp.posterior(torch.sigmoid(logits))
        loss = -log_expected_improvement(mu, sigma, best).sum()
        loss.backward()
        opt.step()
    with torch.no_grad():
        candidates = torch.sigmoid(logits)
        mu, sigma = gp.posterior(candidates)
        final_acq = log_expected_improvement(mu, sigma, best)
        x_next = candidates[final_acq.argmax()].unsqueeze(0)
    X = torch.cat([X, x_next])
    y = torch.cat([y, branin(x_next)])
    rounds.append([nll, final_acq.max().item(), y[-1].item(), y.min().item()])

z = torch.linspace(-40, 3, 9)
mu0, sigma0 = -z, torch.ones(9)
ei_direct = expected_improvement(mu0, sigma0, torch.tensor(0.0))
ei_log = log_expected_improvement(mu0, sigma0, torch.tensor(0.0))
log_ei_values = ei_log.tolist()
log_ei_gap = (ei_log[-2:] - ei_direct[-2:].log()).abs().max().item()  # where no cancellation
ei_values = ei_direct[-2:].tolist()
direct_underflows = bool(ei_direct[0] == 0) and bool(torch.isfinite(ei_log).all())
best_found = y.min().item()
initial_best = y[:6].min().item()
hyper_values = [h.tolist() for h in gp.hypers()]
torch.set_default_dtype(torch.float32)  # (as it was: the programs share a process)
