"""The continuous Bernoulli distribution on [0, 1] (Loaiza-Ganem & Cunningham, NeurIPS 2019)."""

from __future__ import annotations

import math

from .. import creation, ops
from ..nn import functional as F
from . import constraints
from .exp_family import ExponentialFamily
from .utils import ProbsOrLogits, broadcast_all, clamp_probs, lazy_property, logits_to_probs


class ContinuousBernoulli(ProbsOrLogits, ExponentialFamily):
    """Density C(λ)·λˣ(1 - λ)^(1-x) on [0, 1], with ``probs`` λ in (0, 1) or ``logits``
    log(λ/(1 - λ)) (exactly one; neither is a probability here), and normalizer
    C(λ) = 2·atanh(1 - 2λ)/(1 - 2λ), which tends to 2 at λ = ½.

    Inside the interval ``lims`` around ½ the closed forms lose precision, and the
    normalizer, the moments, ``cdf`` and ``icdf`` use their Taylor expansions at ½ (as
    PyTorch). ``rsample`` is ``icdf(u)``, differentiable in λ.

    Example:
        >>> d = ContinuousBernoulli(probs=torch.tensor([0.2, 0.9]))
        >>> d.rsample((3,)).shape  # (3, 2)
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    has_rsample = True
    _mean_carrier_measure = 0

    def __init__(self, probs=None, logits=None, lims=(0.499, 0.501), validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            (probs,) = broadcast_all(probs)
            # checked before the clamp below, which would hide out-of-range values
            if validate_args is not None and not bool(constraints.unit_interval.check(probs).all()):
                raise ValueError("The parameter probs has invalid values")
            self.probs = clamp_probs(probs)
            self._param_name = "probs"
        else:
            (self.logits,) = broadcast_all(logits)
            self._param_name = "logits"
        self._lims = lims
        super().__init__(self._param.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        """The parameters broadcast to ``batch_shape`` (views)."""
        new = self._expanded(batch_shape, _instance, **self._given_expanded(batch_shape))
        new._lims, new._param_name = self._lims, self._param_name
        return new

    @lazy_property
    def probs(self):
        return clamp_probs(logits_to_probs(self.logits, is_binary=True))

    # -- the unstable region around λ = ½ -------------------------------------------------------
    def _stable(self):
        """Where λ lies outside ``lims`` (closed forms are accurate there)."""
        return (self.probs <= self._lims[0]) | (self.probs > self._lims[1])

    def _cut_probs(self):
        """λ, moved out of the unstable region where it is inside (those entries are then
        replaced by the Taylor forms)."""
        return ops.where(self._stable(), self.probs, self._lims[0])

    def _cont_bern_log_norm(self):
        """log C(λ) = log|log(1 - λ) - log λ| - log|1 - 2λ|; near ½:
        log 2 + (4/3)d + (104/45)d² with d = (λ - ½)²."""
        lam = self._cut_probs()
        below = ops.where(lam <= 0.5, lam, 0.0)
        above = ops.where(lam >= 0.5, lam, 1.0)
        log_abs_1m2l = ops.where(lam <= 0.5, (-2.0 * below).log1p(), (2.0 * above - 1.0).log())
        exact = ((-lam).log1p() - lam.log()).abs().log() - log_abs_1m2l
        d = (self.probs - 0.5).pow(2)
        taylor = math.log(2.0) + (4.0 / 3.0 + 104.0 / 45.0 * d) * d
        return ops.where(self._stable(), exact, taylor)

    # -- moments ----------------------------------------------------------------------------------
    @property
    def mean(self):
        """λ/(2λ - 1) + 1/(log(1 - λ) - log λ); near ½: ½ + (1/3 + (16/45)d²)d, d = λ - ½."""
        lam = self._cut_probs()
        exact = lam / (2.0 * lam - 1.0) + ((-lam).log1p() - lam.log()).reciprocal()
        d = self.probs - 0.5
        taylor = 0.5 + (1.0 / 3.0 + 16.0 / 45.0 * d.pow(2)) * d
        return ops.where(self._stable(), exact, taylor)

    @property
    def variance(self):
        """λ(λ - 1)/(1 - 2λ)² + 1/(log(1 - λ) - log λ)²; near ½: 1/12 - (1/15 - (128/945)d)d,
        d = (λ - ½)²."""
        lam = self._cut_probs()
        exact = lam * (lam - 1.0) / (1.0 - 2.0 * lam).pow(2) + ((-lam).log1p() - lam.log()).pow(-2)
        d = (self.probs - 0.5).pow(2)
        taylor = 1.0 / 12.0 - (1.0 / 15.0 - 128.0 / 945.0 * d) * d
        return ops.where(self._stable(), exact, taylor)

    @property
    def stddev(self):
        return self.variance.sqrt()

    # -- sampling and densities -------------------------------------------------------------------
    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        u = creation.rand(shape, dtype=self.probs.dtype, device=self.probs.device)
        return self.icdf(u)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        bce = F.binary_cross_entropy_with_logits(logits, value, reduction="none")
        return self._cont_bern_log_norm() - bce

    def cdf(self, value):
        """(λˣ(1 - λ)^(1-x) + λ - 1)/(2λ - 1) on [0, 1] (x itself near λ = ½)."""
        if self._validate_args:
            self._validate_sample(value)
        lam = self._cut_probs()
        exact = (lam.pow(value) * (1.0 - lam).pow(1.0 - value) + lam - 1.0) / (2.0 * lam - 1.0)
        inside = ops.where(self._stable(), exact, value)
        return ops.where(value <= 0.0, 0.0, ops.where(value >= 1.0, 1.0, inside))

    def icdf(self, value):
        """log1p(-λ + p(2λ - 1)) - log1p(-λ), over log λ - log1p(-λ) (p itself near ½)."""
        lam = self._cut_probs()
        exact = ((-lam + value * (2.0 * lam - 1.0)).log1p() - (-lam).log1p()) / (
            lam.log() - (-lam).log1p()
        )
        return ops.where(self._stable(), exact, value)

    def entropy(self):
        log_q, log_p = (-self.probs).log1p(), self.probs.log()
        return self.mean * (log_q - log_p) - self._cont_bern_log_norm() - log_q

    # -- exponential family -----------------------------------------------------------------------
    @property
    def _natural_params(self):
        return (self.logits,)

    def _log_normalizer(self, x):
        """log|e^η - 1| - log|η|; near η = 0: η/2 + η²/24 - η⁴/2880."""
        stable = (x <= self._lims[0] - 0.5) | (x > self._lims[1] - 0.5)
        cut = ops.where(stable, x, self._lims[0] - 0.5)
        exact = cut.expm1().abs().log() - cut.abs().log()
        taylor = 0.5 * x + x.pow(2) / 24.0 - x.pow(4) / 2880.0
        return ops.where(stable, exact, taylor)
