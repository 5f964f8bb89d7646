"""Likelihoods built from ``torch.special`` as statistical PyTorch code writes them: the
maximum-likelihood Dirichlet by Minka's fixed-point/Newton iteration (``digamma`` and
``polygamma(1, .)``) against L-BFGS on the ``gammaln`` log-likelihood; beta-binomial
regression of overdispersed counts; a Tobit (censored) regression whose censored points enter
through ``log_ndtr``; a Rician noise fit with the exponentially scaled Bessel ``i0e``; upper
tail log-probabilities of a truncated normal from ``erfcx``; a Gaussian copula with ``ndtri``
of the ranks; and a Poisson deviance with ``xlogy``."""

import math

import torch
import torch.distributions as D
from torch import special

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)

# -- Dirichlet maximum likelihood: Minka (2000) Newton steps on the precision and the mean
true_alpha = torch.tensor([3.0, 1.5, 0.7, 5.0])
P = D.Dirichlet(true_alpha).sample((300,))
log_p_bar = P.log().mean(0)


def dirichlet_loglik(alpha):
    return len(P) * (
        special.gammaln(alpha.sum()) - special.gammaln(alpha).sum()
        + ((alpha - 1) * log_p_bar).sum()
    )  # fmt: skip


m1 = P.mean(0)
precision = ((m1 - P.pow(2).mean(0)) / (P.pow(2).mean(0) - m1**2)).mean()
alpha = precision * m1  # the method of moments starts Newton inside its basin
newton_logliks = []
for it in range(12):
    g = len(P) * (special.digamma(alpha.sum()) - special.digamma(alpha) + log_p_bar)
    q = -len(P) * special.polygamma(1, alpha)
    z = len(P) * special.polygamma(1, alpha.sum())
    b = (g / q).sum() / (1 / z + (1 / q).sum())
    alpha = alpha - (g - b) / q
    newton_logliks.append(dirichlet_loglik(alpha).item())
newton_alpha = alpha.tolist()

log_alpha = torch.zeros(4, requires_grad=True)
optimizer = torch.optim.LBFGS([log_alpha], max_iter=25, line_search_fn="strong_wolfe")


def dirichlet_closure():
    optimizer.zero_grad()
    loss = -dirichlet_loglik(log_alpha.exp()) / len(P)
    loss.backward()
    return loss


optimizer.step(dirichlet_closure)
lbfgs_alpha = log_alpha.exp().tolist()

# -- beta-binomial regression: counts out of n trials, mean from a logistic link
n_trials = 20
covariate = torch.linspace(-2, 2, 80)
mean_p = torch.sigmoid(0.8 * covariate - 0.3)
p_i = D.Beta(mean_p * 4.0, (1 - mean_p) * 4.0).sample()
counts = D.Binomial(n_trials, p_i).sample()


def lbeta(a, b):
    return special.gammaln(a) + special.gammaln(b) - special.gammaln(a + b)


def beta_binomial_nll(w, log_phi):
    mu = torch.sigmoid(w[0] * covariate + w[1])
    phi = log_phi.exp()
    a, b = mu * phi, (1 - mu) * phi
    log_choose = (
        special.gammaln(torch.tensor(n_trials + 1.0)) - special.gammaln(counts + 1)
        - special.gammaln(n_trials - counts + 1)
    )  # fmt: skip
    return -(log_choose + lbeta(counts + a, n_trials - counts + b) - lbeta(a, b)).sum()


w = torch.zeros(2, requires_grad=True)
log_phi = torch.tensor(0.0, requires_grad=True)
optimizer = torch.optim.LBFGS([w, log_phi], lr=1, max_iter=30, line_search_fn="strong_wolfe")


def closure():
    optimizer.zero_grad()
    loss = beta_binomial_nll(w, log_phi)
    loss.backward()
    return loss


optimizer.step(closure)
beta_binomial_fit = [*w.tolist(), log_phi.exp().item(), beta_binomial_nll(w, log_phi).item()]

# -- Tobit regression: y* = a x + b + noise, observed y = max(y*, 0)
x_t = torch.randn(150)
y_star = 1.2 * x_t + 0.3 + 0.8 * torch.randn(150)
y_obs = y_star.clamp(min=0.0)
censored = y_obs == 0
theta = torch.zeros(3, requires_grad=True)  # slope, intercept, log sigma
optimizer = torch.optim.Adam([theta], lr=0.08)
tobit_nlls = []
for it in range(100):
    optimizer.zero_grad()
    mu = theta[0] * x_t + theta[1]
    sigma = theta[2].exp()
    z = (y_obs - mu) / sigma
    ll_obs = -0.5 * z**2 - 0.5 * math.log(2 * math.pi) - theta[2]
    ll_cens = special.log_ndtr(-mu / sigma)
    nll = -torch.where(censored, ll_cens, ll_obs).mean()
    nll.backward()
    optimizer.step()
    tobit_nlls.append(nll.item())
tobit_fit = [theta[0].item(), theta[1].item(), theta[2].exp().item()]
naive_slope = torch.linalg.lstsq(
    torch.stack([x_t, torch.ones(150)], 1), y_obs.unsqueeze(1)
).solution[0, 0].item()  # fmt: skip

# -- Rician magnitudes |nu + noise| fit with log I0 = log i0e(z) + z
nu_true, sigma_true = 2.0, 0.7
complex_noise = torch.randn(400, 2) * sigma_true
magnitude = torch.linalg.vector_norm(complex_noise + torch.tensor([nu_true, 0.0]), dim=1)
raw_rice = torch.tensor([0.0, 0.0], requires_grad=True)
optimizer = torch.optim.Adam([raw_rice], lr=0.08)
rice_nlls = []
for it in range(80):
    optimizer.zero_grad()
    nu, s2 = raw_rice[0].exp(), raw_rice[1].exp() ** 2
    arg = magnitude * nu / s2
    ll = magnitude.log() - s2.log() - (magnitude**2 + nu**2) / (2 * s2)
    ll = ll + special.i0e(arg).log() + arg
    nll = -ll.mean()
    nll.backward()
    optimizer.step()
    rice_nlls.append(nll.item())
rice_fit = raw_rice.exp().tolist()

# -- truncated-normal upper tails: log P(Z > a) three ways
a = torch.tensor([0.5, 3.0, 10.0, 30.0])
tail_erfcx = torch.log(special.erfcx(a / math.sqrt(2)) / 2) - a**2 / 2
tail_log_ndtr = special.log_ndtr(-a)
tail_naive = torch.log(1 - special.ndtr(a))
tails = [tail_erfcx.tolist(), tail_log_ndtr.tolist()]
tail_gap = (tail_erfcx - tail_log_ndtr).abs().max().item()
naive_finite = torch.isfinite(tail_naive).tolist()

# -- a Gaussian copula: normal scores of the ranks
u1 = torch.rand(200)
u2 = (u1 + 0.3 * torch.rand(200)) % 1.0
ranks = torch.stack([u1, u2], 1).argsort(0).argsort(0).double()
scores = special.ndtri((ranks + 0.5) / 200)
copula_corr = torch.corrcoef(scores.T)[0, 1].item()
score_sample = scores[:3].tolist()

# -- Poisson deviance with xlogy (0 log 0 = 0)
y_counts = torch.tensor([0.0, 1.0, 4.0, 0.0, 7.0, 2.0])
rates = torch.tensor([0.5, 1.2, 3.0, 0.1, 6.0, 2.5], requires_grad=True)
saturated = special.xlogy(y_counts, y_counts)
deviance = 2 * (saturated - special.xlogy(y_counts, rates) - (y_counts - rates)).sum()
(deviance_grad,) = torch.autograd.grad(deviance, rates)
deviance_value = deviance.item()
deviance_grad = deviance_grad.tolist()
torch.set_default_dtype(torch.float32)
