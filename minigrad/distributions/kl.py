"""KL divergences between distributions: ``kl_divergence(p, q)`` looks up a closed form
registered for the pair of types with :func:`register_kl`, as ``torch.distributions.kl``."""

from __future__ import annotations

import math

from ..ops import special
from .bernoulli import Bernoulli
from .categorical import Categorical
from .exponential import Exponential
from .gumbel import Gumbel
from .independent import Independent, _sum_rightmost
from .laplace import Laplace
from .multivariate_normal import MultivariateNormal, _broadcast_matrix_vector
from .normal import Normal
from .one_hot_categorical import OneHotCategorical
from .transformed_families import Pareto
from .uniform import Uniform

_KL_REGISTRY: dict = {}
_EULER_GAMMA = 0.5772156649015329


def register_kl(type_p, type_q):
    """Decorator: ``fn(p, q)`` computes KL(p ‖ q) for p of ``type_p`` and q of ``type_q``
    (the most specific registered pair by class hierarchy wins)."""

    def register(fn):
        _KL_REGISTRY[type_p, type_q] = fn
        return fn

    return register


def kl_divergence(p, q):
    """KL(p ‖ q) = E_p[log p(x) - log q(x)], batched over the distributions' batch shape."""
    for cls_p in type(p).__mro__:
        for cls_q in type(q).__mro__:
            fn = _KL_REGISTRY.get((cls_p, cls_q))
            if fn is not None:
                return fn(p, q)
    raise NotImplementedError(
        f"No KL(p || q) is implemented for p of type {type(p).__name__} and q of type "
        f"{type(q).__name__}"
    )


@register_kl(Normal, Normal)
def _kl_normal_normal(p, q):
    var_ratio = (p.scale / q.scale).pow(2)
    t1 = ((p.loc - q.loc) / q.scale).pow(2)
    return 0.5 * (var_ratio + t1 - 1 - var_ratio.log())


@register_kl(Categorical, Categorical)
def _kl_categorical_categorical(p, q):
    t = p.probs * (p.logits - q.logits)
    t = t.masked_fill(q.probs == 0, float("inf")).masked_fill(p.probs == 0, 0.0)
    return t.sum(-1)


@register_kl(OneHotCategorical, OneHotCategorical)
def _kl_onehot_onehot(p, q):
    return _kl_categorical_categorical(p._categorical, q._categorical)


@register_kl(Bernoulli, Bernoulli)
def _kl_bernoulli_bernoulli(p, q):
    from ..nn import functional as F

    t1 = p.probs * (F.softplus(-q.logits) - F.softplus(-p.logits))
    t1 = t1.masked_fill(q.probs == 0, float("inf")).masked_fill(p.probs == 0, 0.0)
    t2 = (1 - p.probs) * (F.softplus(q.logits) - F.softplus(p.logits))
    t2 = t2.masked_fill(q.probs == 1, float("inf")).masked_fill(p.probs == 1, 0.0)
    return t1 + t2


@register_kl(Uniform, Uniform)
def _kl_uniform_uniform(p, q):
    result = ((q.high - q.low) / (p.high - p.low)).log()
    return result.masked_fill((q.low > p.low) | (q.high < p.high), float("inf"))


@register_kl(Exponential, Exponential)
def _kl_exponential_exponential(p, q):
    rate_ratio = q.rate / p.rate
    return rate_ratio - 1 - rate_ratio.log()


@register_kl(Laplace, Laplace)
def _kl_laplace_laplace(p, q):
    scale_ratio = p.scale / q.scale
    loc_abs_diff = (p.loc - q.loc).abs()
    t1 = -scale_ratio.log()
    t2 = loc_abs_diff / q.scale
    t3 = scale_ratio * (-loc_abs_diff / p.scale).exp()
    return t1 + t2 + t3 - 1


@register_kl(Pareto, Pareto)
def _kl_pareto_pareto(p, q):
    """log(a₁/a₂) + a₂·log(s₁/s₂) + a₂/a₁ - 1 (E_p log x = log s₁ + 1/a₁); infinite where p's
    support starts below q's (s₁ < s₂)."""
    ratio = q.alpha / p.alpha
    kl = (p.alpha / q.alpha).log() + q.alpha * (p.scale / q.scale).log() + ratio - 1
    return kl.where(p.scale >= q.scale, math.inf)


@register_kl(Gumbel, Gumbel)
def _kl_gumbel_gumbel(p, q):
    """With x = l₁ + b₁G, G standard Gumbel (E G = γ, E e^(-tG) = Γ(1 + t)):
    log(b₂/b₁) - γ - 1 + (l₁ - l₂ + b₁γ)/b₂ + e^((l₂ - l₁)/b₂)·Γ(1 + b₁/b₂)."""
    ratio = p.scale / q.scale
    shift = (p.loc - q.loc) / q.scale
    mgf = (special.lgamma(ratio + 1) - shift).exp()
    return -ratio.log() - _EULER_GAMMA - 1 + shift + ratio * _EULER_GAMMA + mgf


@register_kl(MultivariateNormal, MultivariateNormal)
def _kl_mvn_mvn(p, q):
    from .. import linalg

    k = p.event_shape[0]
    lq, lp = q._unbroadcasted_scale_tril, p._unbroadcasted_scale_tril
    half_term = q._half_log_det() - p._half_log_det()
    lq_b, diff = _broadcast_matrix_vector(lq, q.loc - p.loc)
    mahalanobis = linalg.solve(lq_b, diff.unsqueeze(-1)).squeeze(-1).pow(2).sum(-1)
    lq_m, lp_m = _broadcast_matrices(lq, lp)
    trace = linalg.solve(lq_m, lp_m).pow(2).sum((-2, -1))
    return half_term + 0.5 * (trace + mahalanobis - k)


@register_kl(Independent, Independent)
def _kl_independent_independent(p, q):
    if p.reinterpreted_batch_ndims != q.reinterpreted_batch_ndims:
        raise NotImplementedError("KL between Independents with different event dims")
    return _sum_rightmost(kl_divergence(p.base_dist, q.base_dist), p.reinterpreted_batch_ndims)


def _broadcast_matrices(a, b):
    from ..ops import broadcast_tensors

    batch = broadcast_tensors(a[..., 0, 0], b[..., 0, 0])[0].shape
    return a.expand(*batch, *a.shape[-2:]), b.expand(*batch, *b.shape[-2:])


# -- branch special: the families whose densities need lgamma and digamma
from .. import ops as _ops  # noqa: E402
from .beta import Beta  # noqa: E402
from .dirichlet import Dirichlet  # noqa: E402
from .gamma import Gamma  # noqa: E402
from .poisson import Poisson  # noqa: E402


@register_kl(Gamma, Gamma)
def _kl_gamma_gamma(p, q):
    t1 = q.concentration * (p.rate / q.rate).log()
    t2 = _ops.lgamma(q.concentration) - _ops.lgamma(p.concentration)
    t3 = (p.concentration - q.concentration) * _ops.digamma(p.concentration)
    t4 = (q.rate - p.rate) * (p.concentration / p.rate)
    return t1 + t2 + t3 + t4


@register_kl(Beta, Beta)
def _kl_beta_beta(p, q):
    pa, pb, qa, qb = p.concentration1, p.concentration0, q.concentration1, q.concentration0
    t1 = _ops.lgamma(qa) + _ops.lgamma(qb) + _ops.lgamma(pa + pb)
    t2 = _ops.lgamma(pa) + _ops.lgamma(pb) + _ops.lgamma(qa + qb)
    t3 = (pa - qa) * _ops.digamma(pa) + (pb - qb) * _ops.digamma(pb)
    return t1 - t2 + t3 + (qa + qb - pa - pb) * _ops.digamma(pa + pb)


@register_kl(Dirichlet, Dirichlet)
def _kl_dirichlet_dirichlet(p, q):
    sum_p, sum_q = p.concentration.sum(-1), q.concentration.sum(-1)
    t1 = _ops.lgamma(sum_p) - _ops.lgamma(sum_q)
    t2 = (_ops.lgamma(p.concentration) - _ops.lgamma(q.concentration)).sum(-1)
    t3 = p.concentration - q.concentration
    t4 = _ops.digamma(p.concentration) - _ops.digamma(sum_p).unsqueeze(-1)
    return t1 - t2 + (t3 * t4).sum(-1)


@register_kl(Poisson, Poisson)
def _kl_poisson_poisson(p, q):
    return p.rate * (p.rate.log() - q.rate.log()) - (p.rate - q.rate)


# -- branch dists2: the cross-family pairs, registered on import
from . import _kl_cross, _kl_same  # noqa: E402, F401
