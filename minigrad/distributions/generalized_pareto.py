"""The generalized Pareto distribution (peaks over a threshold)."""

from __future__ import annotations

import math

from .. import creation, ops
from . import constraints
from .distribution import Distribution
from .utils import broadcast_all


class GeneralizedPareto(Distribution):
    """GeneralizedPareto(``loc`` μ, ``scale`` σ, ``concentration`` ξ): survival function
    (1 + ξz)^(-1/ξ) with z = (x - μ)/σ (e^(-z) at ξ = 0), on x ≥ μ, and below μ - σ/ξ when
    ξ < 0. ξ = 0 is the exponential, ξ = -1 the uniform. ``rsample`` is ``icdf(u)``.

    ξ counts as 0 where it is close to 0 (``isclose`` with PyTorch's default tolerances), as
    PyTorch does.
    """

    arg_constraints = {
        "loc": constraints.real,
        "scale": constraints.positive,
        "concentration": constraints.real,
    }
    has_rsample = True

    def __init__(self, loc, scale, concentration, validate_args=None):
        self.loc, self.scale, self.concentration = broadcast_all(loc, scale, concentration)
        super().__init__(self.loc.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        """The three parameters broadcast to ``batch_shape`` (views)."""
        return self._expanded(
            batch_shape, _instance, loc=self.loc.expand(batch_shape),
            scale=self.scale.expand(batch_shape),
            concentration=self.concentration.expand(batch_shape),
        )  # fmt: skip

    @property
    def support(self):
        c = self.concentration
        negative = ops.where(c < 0, c, -1.0)  # keeps the division away from ξ = 0
        upper = ops.where(c < 0, self.loc - self.scale / negative, math.inf)
        return constraints.interval(self.loc, upper)

    def _zero_and_safe(self):
        """Where ξ ≈ 0, and ξ with those entries set to 1 (so divisions by it stay finite)."""
        c = self.concentration
        zero = ops.isclose(c, creation.zeros_like(c))
        return zero, ops.where(zero, 1.0, c)

    def _z(self, value):
        return (value - self.loc) / self.scale

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        u = creation.rand(shape, dtype=self.loc.dtype, device=self.loc.device)
        return self.icdf(u)

    def log_prob(self, value):
        """-log σ - (1 + 1/ξ)·log(1 + ξz) (-log σ - z at ξ = 0)."""
        if self._validate_args:
            self._validate_sample(value)
        z = self._z(value)
        zero, safe = self._zero_and_safe()
        power = 1 / safe + 1
        nonzero = ops.where(power == 0, power, power * (safe * z).log1p())
        return -self.scale.log() - ops.where(zero, z, nonzero)

    def log_survival_function(self, value):
        """log P(X > value) = -log(1 + ξz)/ξ (-z at ξ = 0)."""
        if self._validate_args:
            self._validate_sample(value)
        z = self._z(value)
        zero, safe = self._zero_and_safe()
        return ops.where(zero, -z, -(safe * z).log1p() / safe)

    def log_cdf(self, value):
        return (-self.log_survival_function(value).exp()).log1p()

    def cdf(self, value):
        return self.log_cdf(value).exp()

    def icdf(self, value):
        """μ + σ·((1 - p)^(-ξ) - 1)/ξ (μ - σ·log(1 - p) at ξ = 0)."""
        zero, safe = self._zero_and_safe()
        log1m = (-value).log1p()
        nonzero = self.loc + self.scale / safe * (-safe * log1m).expm1()
        return ops.where(zero, self.loc - self.scale * log1m, nonzero)

    @property
    def mean(self):
        """μ + σ/(1 - ξ) for ξ < 1, else NaN."""
        c = self.concentration
        safe = ops.where(c < 1, c, 0.5)
        return ops.where(c < 1, self.loc + self.scale / (1 - safe), math.nan)

    @property
    def variance(self):
        """σ²/((1 - ξ)²(1 - 2ξ)) for ξ < ½, else NaN."""
        c = self.concentration
        safe = ops.where(c < 0.5, c, 0.25)
        finite = self.scale.pow(2) / ((1 - safe).pow(2) * (1 - 2 * safe))
        return ops.where(c < 0.5, finite, math.nan)

    @property
    def mode(self):
        return self.loc

    def entropy(self):
        return (self.scale.log() + self.concentration + 1).expand(self.batch_shape)
