"""Gradient-based MCMC written directly in PyTorch, as probabilistic-programming tutorials write
it before reaching for Pyro: the posterior of a Bayesian logistic regression (a Normal prior
from torch.distributions, a Bernoulli likelihood with logits) as a potential energy whose
gradient comes from ``torch.autograd.grad``; Hamiltonian Monte Carlo with a leapfrog integrator
and a Metropolis correction drawn with ``torch.rand``, the Metropolis-adjusted Langevin algorithm
(MALA) with its asymmetric proposal density, and stochastic-gradient Langevin dynamics (SGLD) on
``torch.randperm`` minibatches; the MAP point by Newton's method with
``torch.autograd.functional.hessian`` for reference."""

import math

import torch
import torch.distributions as D

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)

n, d = 120, 3
X = torch.cat([torch.ones(n, 1), torch.randn(n, d - 1)], dim=1)
true_w = torch.tensor([-0.5, 1.5, -2.0])
y = D.Bernoulli(logits=X @ true_w).sample()
prior = D.Normal(torch.zeros(d), 2.0 * torch.ones(d))


def log_posterior(w, X=X, y=y, scale=1.0):
    log_lik = D.Bernoulli(logits=X @ w).log_prob(y).sum()
    return scale * log_lik + prior.log_prob(w).sum()


def potential(w):
    return -log_posterior(w)


def grad_potential(w):
    w = w.detach().requires_grad_(True)
    u = potential(w)
    (g,) = torch.autograd.grad(u, w)
    return u.detach(), g


# -- MAP by Newton's method: the Hessian of the potential from autograd.functional
w_map = torch.zeros(d)
newton_steps = []
for _ in range(8):
    _, g = grad_potential(w_map)
    H = torch.autograd.functional.hessian(potential, w_map)
    w_map = w_map - torch.linalg.solve(H, g)
    newton_steps.append(g.norm().item())
laplace_cov = torch.linalg.inv(torch.autograd.functional.hessian(potential, w_map))


# -- Hamiltonian Monte Carlo
def leapfrog(w, p, step_size, n_steps):
    _, g = grad_potential(w)
    p = p - 0.5 * step_size * g
    for i in range(n_steps):
        w = w + step_size * p
        _, g = grad_potential(w)
        if i < n_steps - 1:
            p = p - step_size * g
    p = p - 0.5 * step_size * g
    return w, -p


def hmc(w, n_samples, step_size=0.3, n_steps=6):
    samples, accepted, energies = [], 0, []
    u, _ = grad_potential(w)
    for _ in range(n_samples):
        p0 = torch.randn(d)
        w_new, p_new = leapfrog(w, p0, step_size, n_steps)
        u_new, _ = grad_potential(w_new)
        h0 = u + 0.5 * p0.dot(p0)
        h1 = u_new + 0.5 * p_new.dot(p_new)
        energies.append((h1 - h0).item())
        if torch.rand(()) < torch.exp(h0 - h1):
            w, u = w_new, u_new
            accepted += 1
        samples.append(w)
    return torch.stack(samples), accepted / n_samples, energies


hmc_samples, hmc_accept, hmc_energy_errors = hmc(w_map.clone(), 40)


# -- MALA: a Langevin proposal with the Metropolis-Hastings correction
def mala(w, n_samples, step_size=0.05):
    def log_q(to, frm, g_frm):
        mean = frm - step_size * g_frm
        return -((to - mean) ** 2).sum() / (4 * step_size)

    samples, accepted = [], 0
    u, g = grad_potential(w)
    for _ in range(n_samples):
        prop = w - step_size * g + math.sqrt(2 * step_size) * torch.randn(d)
        u_prop, g_prop = grad_potential(prop)
        log_alpha = (-u_prop + log_q(w, prop, g_prop)) - (-u + log_q(prop, w, g))
        if torch.log(torch.rand(())) < log_alpha:
            w, u, g = prop, u_prop, g_prop
            accepted += 1
        samples.append(w)
    return torch.stack(samples), accepted / n_samples


mala_samples, mala_accept = mala(w_map.clone(), 100)


# -- SGLD (Welling and Teh 2011): minibatch gradients rescaled by n / batch, injected noise
def sgld(w, epochs, batch=40, lr=4e-3):
    w = w.clone().requires_grad_(True)
    trace = []
    for _ in range(epochs):
        for idx in torch.randperm(n).split(batch):
            lp = log_posterior(w, X[idx], y[idx], scale=n / len(idx))
            (g,) = torch.autograd.grad(lp, w)
            with torch.no_grad():
                w += 0.5 * lr * g + math.sqrt(lr) * torch.randn(d)
            trace.append(w.detach().clone())
    return torch.stack(trace)


sgld_trace = sgld(torch.zeros(d), 15)

map_point = w_map.tolist()
laplace_std = laplace_cov.diagonal().sqrt().tolist()
hmc_mean = hmc_samples[10:].mean(0).tolist()
hmc_first = hmc_samples[:5].tolist()
mala_mean = mala_samples[20:].mean(0).tolist()
mala_last = mala_samples[-1].tolist()
sgld_mean = sgld_trace[20:].mean(0).tolist()
sgld_last = sgld_trace[-1].tolist()
torch.set_default_dtype(torch.float32)
