"""Circular statistics with torch.special: a von Mises mixture fitted to wind directions by EM
(the normalizer ``2 pi I0(kappa)`` from ``special.i0``, the concentration update solving
A(kappa) = I1/I0 = R with Newton steps written with ``special.i0e``/``i1e``), its density checked
against ``distributions.VonMises.log_prob``; a periodic (von Mises) kernel with a Bessel-scaled
normalizer drives a small kernel-regression smoother; ``special.erf``/``erfinv``/``ndtr``/
``ndtri``/``log_ndtr``/``xlogy``/``sinc``/``entr`` checked on a grid."""

import math

import numpy as np
import torch
import torch.distributions as D
from torch import special

torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(8)
angles = torch.from_numpy(
    np.concatenate([rng.vonmises(0.5, 4.0, 120), rng.vonmises(-2.2, 10.0, 80)])
)


def log_vm(theta, mu, kappa):
    return kappa * torch.cos(theta - mu) - math.log(2 * math.pi) - torch.log(special.i0(kappa))


def a_inverse(r, iters=8):
    kappa = r * (2 - r**2) / (1 - r**2)
    for _ in range(iters):
        a = special.i1e(kappa) / special.i0e(kappa)
        kappa = kappa - (a - r) / (1 - a * a - a / kappa)
    return kappa


mu = torch.tensor([0.0, -2.0])
kappa = torch.tensor([1.0, 1.0])
weights = torch.tensor([0.5, 0.5])
log_liks = []
for it in range(25):
    log_p = log_vm(angles.unsqueeze(1), mu, kappa) + weights.log()
    log_norm = torch.logsumexp(log_p, 1, keepdim=True)
    resp = (log_p - log_norm).exp()
    log_liks.append(log_norm.sum().item())
    nk = resp.sum(0)
    weights = nk / nk.sum()
    c = (resp * torch.cos(angles).unsqueeze(1)).sum(0)
    s = (resp * torch.sin(angles).unsqueeze(1)).sum(0)
    mu = torch.atan2(s, c)
    r = torch.sqrt(c**2 + s**2) / nk
    kappa = a_inverse(r)
fitted = [mu.tolist(), kappa.tolist(), weights.tolist()]
density_gap = (
    (D.VonMises(mu, kappa).log_prob(angles.unsqueeze(1)) - log_vm(angles.unsqueeze(1), mu, kappa))
    .abs()
    .max()
    .item()
)
vm_mean = D.VonMises(mu, kappa).mean.tolist()


def periodic_kernel(a, b, kappa=5.0):
    return torch.exp(kappa * (torch.cos(a.unsqueeze(-1) - b) - 1)) / (
        2 * math.pi * special.i0e(torch.tensor(kappa))
    )


days = torch.linspace(0, 2 * math.pi, 60)
signal = (
    torch.sin(days) + 0.5 * torch.cos(3 * days) + 0.2 * torch.from_numpy(rng.standard_normal(60))
)
K = periodic_kernel(days, days)
smoothed = (K @ signal) / K.sum(1)
smooth_error = (smoothed - torch.sin(days) - 0.5 * torch.cos(3 * days)).abs().mean().item()

grid = torch.linspace(-0.95, 0.95, 9)
p = (grid + 1) / 2
special_values = [
    special.erf(grid).tolist(),
    special.erfinv(grid).tolist(),
    special.ndtr(grid).tolist(),
    special.ndtri(p).tolist(),
    special.log_ndtr(grid * 5).tolist(),
    special.xlogy(p, p).tolist(),
    special.sinc(grid * 3).tolist(),
    special.entr(p).tolist(),
    special.i0(grid * 10).tolist(),
    special.i1(grid * 10).tolist(),
    special.erfcx(grid * 4).tolist(),
    special.logit(p, eps=1e-6).tolist(),
]
torch.set_default_dtype(torch.float32)
