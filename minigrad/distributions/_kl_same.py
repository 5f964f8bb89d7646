"""The same-family KL divergences that ``torch.distributions.kl`` registers beyond those of
:mod:`.kl` (Binomial, Cauchy, ContinuousBernoulli, Geometric, HalfNormal, the low-rank and full
Gaussians), and the fallbacks for transformed distributions (KL of the bases) and exponential
families (the Bregman divergence); registered on import (by :mod:`.kl`)."""

from __future__ import annotations

from ._kl_cross import _inf_where, _neg_log_continuous_bernoulli
from .binomial import Binomial
from .cauchy import Cauchy
from .continuous_bernoulli import ContinuousBernoulli
from .exp_family import ExponentialFamily, bregman_kl
from .geometric import Geometric
from .half_normal import HalfNormal
from .kl import kl_divergence, register_kl
from .lowrank_multivariate_normal import LowRankMultivariateNormal
from .multivariate_normal import MultivariateNormal
from .transformed_distribution import TransformedDistribution


@register_kl(Binomial, Binomial)
def _kl_binomial_binomial(p, q):
    """n·(π_p·(logit π_p - logit π_q) + log(1 - π_p) - log(1 - π_q)) for equal n; infinite
    where p has more trials than q."""
    if bool((p.total_count < q.total_count).any()):
        raise NotImplementedError(
            "KL between Binomials where q.total_count > p.total_count is not implemented"
        )
    kl = p.total_count * (p.probs * (p.logits - q.logits) + (-p.probs).log1p() - (-q.probs).log1p())
    return _inf_where(kl, p.total_count > q.total_count)


@register_kl(Cauchy, Cauchy)
def _kl_cauchy_cauchy(p, q):
    """log(((s_p + s_q)² + (m_p - m_q)²)/(4·s_p·s_q)) (Chyzak & Nielsen, 2019)."""
    spread = (p.scale + q.scale).pow(2) + (p.loc - q.loc).pow(2)
    return spread.log() - (4 * p.scale * q.scale).log()


@register_kl(ContinuousBernoulli, ContinuousBernoulli)
def _kl_continuous_bernoulli_continuous_bernoulli(p, q):
    return -p.entropy() + _neg_log_continuous_bernoulli(q, p.mean)


@register_kl(Geometric, Geometric)
def _kl_geometric_geometric(p, q):
    """-H(p) - E[k]·log(1 - π_q) - log π_q, E[k] = 1/π_p - 1."""
    return -p.entropy() - (-q.probs).log1p() / p.probs - q.logits


@register_kl(HalfNormal, HalfNormal)
def _kl_halfnormal_halfnormal(p, q):
    """The KL of the two zero-mean normals folded (folding both changes nothing):
    ½(r - 1 - log r) with r = (σ_p/σ_q)²."""
    ratio = (p.scale / q.scale).pow(2)
    return 0.5 * (ratio - 1 - ratio.log())


def _gaussian_kl(p_loc, p_tril, q_loc, q_tril):
    """KL between N(μ_p, L_pL_pᵀ) and N(μ_q, L_qL_qᵀ): log|L_q| - log|L_p| + ½(‖L_q⁻¹L_p‖²
    + ‖L_q⁻¹(μ_q - μ_p)‖² - k)."""
    from .. import linalg
    from .kl import _broadcast_matrices
    from .multivariate_normal import _broadcast_matrix_vector

    k = p_loc.shape[-1]
    half_log_det = q_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1) - p_tril.diagonal(
        dim1=-2, dim2=-1
    ).log().sum(-1)
    lq, diff = _broadcast_matrix_vector(q_tril, q_loc - p_loc)
    whitened = linalg.solve_triangular(lq, diff.unsqueeze(-1), upper=False)
    lq_m, lp_m = _broadcast_matrices(q_tril, p_tril)
    trace = linalg.solve_triangular(lq_m, lp_m, upper=False).pow(2).sum((-2, -1))
    return half_log_det + 0.5 * (trace + whitened.pow(2).sum((-2, -1)) - k)


def _gaussian_parts(d):
    """(loc, scale_tril) of a (low-rank) multivariate normal; the low-rank one's factor is the
    Cholesky factor of its dense covariance (an O(k³) route, exact for these KLs)."""
    if isinstance(d, LowRankMultivariateNormal):
        return d.loc, d.scale_tril
    return d.loc, d._unbroadcasted_scale_tril


def _kl_gaussians(p, q):
    if p.event_shape != q.event_shape:
        raise ValueError(
            "KL-divergence between two (Low Rank) Multivariate Normals with different event "
            f"shapes cannot be computed: {tuple(p.event_shape)} and {tuple(q.event_shape)}"
        )
    return _gaussian_kl(*_gaussian_parts(p), *_gaussian_parts(q))


for _pair in [
    (LowRankMultivariateNormal, LowRankMultivariateNormal),
    (LowRankMultivariateNormal, MultivariateNormal),
    (MultivariateNormal, LowRankMultivariateNormal),
]:
    register_kl(*_pair)(_kl_gaussians)


@register_kl(TransformedDistribution, TransformedDistribution)
def _kl_transformed_transformed(p, q):
    """KL of the bases when both push them through the same transforms (a bijection keeps
    the divergence)."""
    if p.transforms != q.transforms:
        raise NotImplementedError(
            f"KL between {type(p).__name__} and {type(q).__name__}: their transforms differ"
        )
    if p.event_shape != q.event_shape:
        raise NotImplementedError(
            f"KL between {type(p).__name__} and {type(q).__name__}: event shapes "
            f"{tuple(p.event_shape)} and {tuple(q.event_shape)} differ"
        )
    return kl_divergence(p.base_dist, q.base_dist)


register_kl(ExponentialFamily, ExponentialFamily)(bregman_kl)
