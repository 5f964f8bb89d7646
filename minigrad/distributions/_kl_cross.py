"""The KL divergences between different families that ``torch.distributions.kl`` registers:
cross-family closed forms, and the pairs whose support of p is not inside q's (infinite).
Each closed form is KL(p ‖ q) = -H(p) - E_p[log q(x)] with the expectation written
out; they are registered on import (by :mod:`.kl`)."""

from __future__ import annotations

import math

from .. import creation, ops
from .bernoulli import Bernoulli
from .beta import Beta
from .binomial import Binomial
from .continuous_bernoulli import ContinuousBernoulli
from .exponential import Exponential
from .gamma import Gamma
from .gumbel import Gumbel
from .kl import _EULER_GAMMA, register_kl
from .laplace import Laplace
from .normal import Normal
from .poisson import Poisson
from .transformed_families import Pareto
from .uniform import Uniform

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def _x_log_x(x):
    return ops.xlogy(x, x)  # 0 at x = 0


def _inf_where(result, mask):
    return ops.where(mask, math.inf, result)


# -- E_p[log q] pieces, by the family of q ---------------------------------------------------
def _neg_log_normal(q, mean, second_moment):
    """-E[log N(x; μ, σ²)] from E[x] and E[x²]: ½log(2πσ²) + (E x² - 2μE x + μ²)/(2σ²)."""
    return (
        _HALF_LOG_2PI
        + q.scale.log()
        + (second_moment - 2 * q.loc * mean + q.loc.pow(2)) / (2 * q.scale.pow(2))
    )


def _neg_log_gamma(q, mean, mean_log):
    """-E[log Gamma(x; α, β)] from E[x] and E[log x]: log Γ(α) - α log β - (α - 1)E log x
    + βE x."""
    a, b = q.concentration, q.rate
    return ops.lgamma(a) - a * b.log() - (a - 1) * mean_log + b * mean


def _neg_log_gumbel(q, mean, shifted_mgf):
    """-E[log Gumbel(x; m, s)] = log s + E[z] + E[e^(-z)] with z = (x - m)/s, from E[x] and
    ``shifted_mgf`` = E[e^(-z)]."""
    return q.scale.log() + (mean - q.loc) / q.scale + shifted_mgf


def _neg_log_continuous_bernoulli(q, mean):
    """-E[log CB(x; λ)] = -log C(λ) - E[x]·logit(λ) - log(1 - λ)."""
    return -q._cont_bern_log_norm() - mean * q.logits - (-q.probs).log1p()


def _uniform_mean_log(p):
    """E[log x] for x ~ U(a, b), a ≥ 0: (b log b - a log a)/(b - a) - 1."""
    width = p.high - p.low
    return (_x_log_x(p.high) - _x_log_x(p.low) - width) / width


def _beta_mean_log(p):
    return ops.digamma(p.concentration1) - ops.digamma(p.concentration1 + p.concentration0)


def _beta_mean(p):
    return p.concentration1 / (p.concentration1 + p.concentration0)


# -- p's support is not inside q's ----------------------------------------------------------
_INFINITE_PAIRS = [
    (Beta, Pareto), (ContinuousBernoulli, Pareto),
    (Exponential, Beta), (Exponential, ContinuousBernoulli), (Exponential, Pareto),
    (Exponential, Uniform),
    (Gamma, Beta), (Gamma, ContinuousBernoulli), (Gamma, Pareto), (Gamma, Uniform),
    (Pareto, Beta), (Pareto, ContinuousBernoulli), (Pareto, Uniform),
    (Poisson, Bernoulli), (Poisson, Binomial),
]  # fmt: skip
_INFINITE_PAIRS += [
    (real_line, q)
    for real_line in (Gumbel, Laplace, Normal)
    for q in (Beta, ContinuousBernoulli, Exponential, Gamma, Pareto, Uniform)
    if (real_line, q) != (Gumbel, Normal)
]


def _kl_infinite(p, q):
    """+inf over p's batch: p puts mass where q has none."""
    ref = p.mean  # (every family here has one: its dtype and device are the parameters')
    return creation.full(tuple(p.batch_shape), math.inf, dtype=ref.dtype, device=ref.device)


for _pair in _INFINITE_PAIRS:
    register_kl(*_pair)(_kl_infinite)


# -- p on [0, 1] ----------------------------------------------------------------------------------
@register_kl(Beta, ContinuousBernoulli)
def _kl_beta_continuous_bernoulli(p, q):
    return -p.entropy() + _neg_log_continuous_bernoulli(q, _beta_mean(p))


@register_kl(Beta, Exponential)
def _kl_beta_exponential(p, q):
    return -p.entropy() - q.rate.log() + q.rate * _beta_mean(p)


@register_kl(Beta, Gamma)
def _kl_beta_gamma(p, q):
    return -p.entropy() + _neg_log_gamma(q, _beta_mean(p), _beta_mean_log(p))


@register_kl(Beta, Normal)
def _kl_beta_normal(p, q):
    mean = _beta_mean(p)
    second = mean * (1 - mean) / (p.concentration1 + p.concentration0 + 1) + mean.pow(2)
    return -p.entropy() + _neg_log_normal(q, mean, second)


@register_kl(Beta, Uniform)
def _kl_beta_uniform(p, q):
    result = -p.entropy() + (q.high - q.low).log()
    return _inf_where(result, (q.low > 0) | (q.high < 1))


@register_kl(ContinuousBernoulli, Exponential)
def _kl_continuous_bernoulli_exponential(p, q):
    return -p.entropy() - q.rate.log() + q.rate * p.mean


@register_kl(ContinuousBernoulli, Normal)
def _kl_continuous_bernoulli_normal(p, q):
    mean = p.mean
    return -p.entropy() + _neg_log_normal(q, mean, p.variance + mean.pow(2))


@register_kl(ContinuousBernoulli, Uniform)
def _kl_continuous_bernoulli_uniform(p, q):
    """-H(p) + log(b - a), infinite unless [0, 1] ⊆ [a, b]. (PyTorch 2.13 also gives inf when
    a = 0 or b = 1, where the divergence is finite.)"""
    result = -p.entropy() + (q.high - q.low).log()
    return _inf_where(result, (q.low > 0) | (q.high < 1))


# -- p on [0, ∞) ----------------------------------------------------------------------------------
@register_kl(Exponential, Gamma)
def _kl_exponential_gamma(p, q):
    """E[x] = 1/λ, E[log x] = -γ - log λ."""
    mean_log = -_EULER_GAMMA - p.rate.log()
    return -p.entropy() + _neg_log_gamma(q, p.rate.reciprocal(), mean_log)


@register_kl(Exponential, Gumbel)
def _kl_exponential_gumbel(p, q):
    """E[e^(-x/s)] = λs/(λs + 1)."""
    rs = p.rate * q.scale
    shifted_mgf = (q.loc / q.scale).exp() * rs / (rs + 1)
    return -p.entropy() + _neg_log_gumbel(q, p.rate.reciprocal(), shifted_mgf)


@register_kl(Exponential, Normal)
def _kl_exponential_normal(p, q):
    mean = p.rate.reciprocal()
    return -p.entropy() + _neg_log_normal(q, mean, 2 * mean.pow(2))


@register_kl(Gamma, Exponential)
def _kl_gamma_exponential(p, q):
    return -p.entropy() - q.rate.log() + q.rate * p.concentration / p.rate


@register_kl(Gamma, Gumbel)
def _kl_gamma_gumbel(p, q):
    """E[e^(-x/s)] = (1 + 1/(βs))^(-α)."""
    mgf = (1 + (p.rate * q.scale).reciprocal()).pow(-p.concentration)
    shifted_mgf = (q.loc / q.scale).exp() * mgf
    return -p.entropy() + _neg_log_gumbel(q, p.concentration / p.rate, shifted_mgf)


@register_kl(Gamma, Normal)
def _kl_gamma_normal(p, q):
    a, b = p.concentration, p.rate
    return -p.entropy() + _neg_log_normal(q, a / b, (a.pow(2) + a) / b.pow(2))


@register_kl(Pareto, Exponential)
def _kl_pareto_exponential(p, q):
    """Infinite for α ≤ 1 (infinite mean)."""
    result = -p.entropy() - q.rate.log() + q.rate * p.mean
    return _inf_where(result, p.alpha <= 1)


@register_kl(Pareto, Gamma)
def _kl_pareto_gamma(p, q):
    """E[log x] = log x_m + 1/α; infinite for α ≤ 1."""
    mean_log = p.scale.log() + p.alpha.reciprocal()
    result = -p.entropy() + _neg_log_gamma(q, p.mean, mean_log)
    return _inf_where(result, p.alpha <= 1)


@register_kl(Pareto, Normal)
def _kl_pareto_normal(p, q):
    """Infinite for α ≤ 2 (infinite variance)."""
    mean = p.mean
    result = -p.entropy() + _neg_log_normal(q, mean, p.variance + mean.pow(2))
    return _inf_where(result, p.alpha <= 2)


@register_kl(Bernoulli, Poisson)
def _kl_bernoulli_poisson(p, q):
    """-E[log q] = λ - π·log λ (log 0! = log 1! = 0)."""
    return -p.entropy() - (p.probs * q.rate.log() - q.rate)


# -- p on the real line ---------------------------------------------------------------------------
@register_kl(Gumbel, Normal)
def _kl_gumbel_normal(p, q):
    """E[x] = m + sγ, Var x = π²s²/6."""
    mean = p.loc + p.scale * _EULER_GAMMA
    second = (math.pi * p.scale).pow(2) / 6 + mean.pow(2)
    return -p.entropy() + _neg_log_normal(q, mean, second)


@register_kl(Laplace, Normal)
def _kl_laplace_normal(p, q):
    return -p.entropy() + _neg_log_normal(q, p.loc, 2 * p.scale.pow(2) + p.loc.pow(2))


@register_kl(Normal, Gumbel)
def _kl_normal_gumbel(p, q):
    """E[e^(-(x - m)/s)] = e^((m - μ)/s + σ²/(2s²))."""
    shifted_mgf = ((q.loc - p.loc) / q.scale + 0.5 * (p.scale / q.scale).pow(2)).exp()
    return -p.entropy() + _neg_log_gumbel(q, p.loc, shifted_mgf)


@register_kl(Normal, Laplace)
def _kl_normal_laplace(p, q):
    """E|x - m| = σ√(2/π)·e^(-d²/(2σ²)) + d·erf(d/(σ√2)) with d = μ - m."""
    d = p.loc - q.loc
    z = d / p.scale
    mean_abs = (
        math.sqrt(2 / math.pi) * p.scale * (-0.5 * z.pow(2)).exp() + d * (z * math.sqrt(0.5)).erf()
    )
    return -p.entropy() + (2 * q.scale).log() + mean_abs / q.scale


# -- p uniform ------------------------------------------------------------------------------------
@register_kl(Uniform, Beta)
def _kl_uniform_beta(p, q):
    """E[log x] as :func:`_uniform_mean_log`, E[log(1 - x)] likewise on 1 - x; infinite
    unless [a, b] ⊆ [0, 1]."""
    width = p.high - p.low
    mean_log = _uniform_mean_log(p)
    mean_log1m = -(_x_log_x(1 - p.high) - _x_log_x(1 - p.low) + width) / width
    a, b = q.concentration1, q.concentration0
    log_beta = ops.lgamma(a) + ops.lgamma(b) - ops.lgamma(a + b)
    result = -width.log() - (a - 1) * mean_log - (b - 1) * mean_log1m + log_beta
    return _inf_where(result, (p.high > 1) | (p.low < 0))


@register_kl(Uniform, ContinuousBernoulli)
def _kl_uniform_continuous_bernoulli(p, q):
    """Infinite unless [a, b] ⊆ [0, 1]. (PyTorch 2.13 also gives inf when a = 0 or b = 1.)"""
    result = -p.entropy() + _neg_log_continuous_bernoulli(q, p.mean)
    return _inf_where(result, (p.high > 1) | (p.low < 0))


@register_kl(Uniform, Exponential)
def _kl_uniform_exponential(p, q):
    result = -p.entropy() - q.rate.log() + q.rate * p.mean
    return _inf_where(result, p.low < 0)


@register_kl(Uniform, Gamma)
def _kl_uniform_gamma(p, q):
    result = -p.entropy() + _neg_log_gamma(q, p.mean, _uniform_mean_log(p))
    return _inf_where(result, p.low < 0)


@register_kl(Uniform, Gumbel)
def _kl_uniform_gumbel(p, q):
    """E[e^(-(x - m)/s)] = s·(e^(-(a - m)/s) - e^(-(b - m)/s))/(b - a)."""
    low, high = (p.low - q.loc) / q.scale, (p.high - q.loc) / q.scale
    shifted_mgf = q.scale * ((-low).exp() - (-high).exp()) / (p.high - p.low)
    return -p.entropy() + _neg_log_gumbel(q, p.mean, shifted_mgf)


@register_kl(Uniform, Normal)
def _kl_uniform_normal(p, q):
    mean = p.mean
    return -p.entropy() + _neg_log_normal(q, mean, p.variance + mean.pow(2))


@register_kl(Uniform, Pareto)
def _kl_uniform_pareto(p, q):
    """-E[log q] = -log α - α·log x_m + (α + 1)E[log x]; infinite unless a ≥ x_m."""
    a = q.alpha
    result = -p.entropy() - a.log() - a * q.scale.log() + (a + 1) * _uniform_mean_log(p)
    return _inf_where(result, p.low < q.scale)
