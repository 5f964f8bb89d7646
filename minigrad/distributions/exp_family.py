"""``ExponentialFamily``: the base of the families whose density is
exp(⟨t(x), θ⟩ - F(θ) + k(x)), with an entropy and a KL divergence read off the log-normalizer F
by automatic differentiation (Bregman divergences; Nielsen & Nock, "Entropies and
cross-entropies of exponential families", 2010)."""

from __future__ import annotations

from ..autograd import engine, grad_mode
from .distribution import Distribution


class ExponentialFamily(Distribution):
    """A family p(x; θ) = exp(⟨t(x), θ⟩ - F(θ) + k(x)) with natural parameters θ
    (``_natural_params``), log-normalizer F (``_log_normalizer(*θ)``) and expected carrier
    measure E[k(x)] (``_mean_carrier_measure``).

    Since ∇F(θ) = E[t(x)], the entropy is F(θ) - ⟨θ, ∇F(θ)⟩ - E[k(x)], and the KL divergence
    between two members of one family is the Bregman divergence
    F(θ_q) - F(θ_p) - ⟨θ_q - θ_p, ∇F(θ_p)⟩. Subclasses with closed forms override them; these
    are the fallbacks (and a check of the closed forms).
    """

    @property
    def _natural_params(self):
        raise NotImplementedError(f"{type(self).__name__}._natural_params")

    def _log_normalizer(self, *natural_params):
        raise NotImplementedError(f"{type(self).__name__}._log_normalizer")

    @property
    def _mean_carrier_measure(self):
        raise NotImplementedError(f"{type(self).__name__}._mean_carrier_measure")

    def _log_normalizer_and_gradients(self):
        """``(θ, F(θ), ∇F(θ))`` with θ detached, F's gradient kept differentiable."""
        params = [p.detach().requires_grad_() for p in self._natural_params]
        with grad_mode.enable_grad():
            log_norm = self._log_normalizer(*params)
            grads = engine.grad(log_norm.sum(), params, create_graph=True)
        return params, log_norm, grads

    def entropy(self):
        """F(θ) - ⟨θ, ∇F(θ)⟩ - E[k(x)], the inner product over each natural parameter's
        non-batch dims."""
        params, log_norm, grads = self._log_normalizer_and_gradients()
        result = log_norm - self._mean_carrier_measure
        for param, grad in zip(params, grads):
            inner = param * grad
            extra = inner.dim() - len(self.batch_shape)
            result = result - (inner.sum(tuple(range(-extra, 0))) if extra > 0 else inner)
        return result


def bregman_kl(p, q):
    """KL(p ‖ q) for two members of one exponential family, through the Bregman divergence of
    the log-normalizer: F(θ_q) - F(θ_p) - ⟨θ_q - θ_p, ∇F(θ_p)⟩."""
    if type(p) is not type(q):
        raise NotImplementedError(
            "The cross KL-divergence between different exponential families cannot be "
            f"computed using Bregman divergences (p is {type(p).__name__}, q is "
            f"{type(q).__name__})"
        )
    p_params, p_log_norm, grads = p._log_normalizer_and_gradients()
    q_params = q._natural_params
    result = q._log_normalizer(*q_params) - p_log_norm
    for pp, qp, grad in zip(p_params, q_params, grads):
        term = (qp - pp) * grad
        extra = pp.dim() - len(p.batch_shape)  # the parameter's own dims (a matrix's two)
        if extra > 0:
            term = term.sum(tuple(range(-extra, 0)))
        result = result - term
    return result
