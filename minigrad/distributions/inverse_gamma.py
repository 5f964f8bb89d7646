"""The inverse-gamma distribution: 1/X for X ~ Gamma, a :class:`TransformedDistribution` as in
PyTorch."""

from __future__ import annotations

import math

from .. import creation, ops
from . import constraints
from .gamma import Gamma
from .transformed_distribution import TransformedDistribution
from .transforms import PowerTransform


class InverseGamma(TransformedDistribution):
    """InverseGamma(``concentration`` α, ``rate`` β): density β^α x^(-α-1) e^(-β/x)/Γ(α) on
    x > 0, the law of 1/X for X ~ Gamma(α, β). ``base_dist`` is that Gamma."""

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, concentration, rate, validate_args=None):
        base = Gamma(concentration, rate, validate_args=validate_args)
        minus_one = creation.full((), -1.0, dtype=base.rate.dtype, device=base.rate.device)
        super().__init__(base, PowerTransform(minus_one), validate_args=validate_args)

    @property
    def concentration(self):
        return self.base_dist.concentration

    @property
    def rate(self):
        return self.base_dist.rate

    @property
    def mean(self):
        """β/(α - 1) for α > 1, else infinite."""
        return ops.where(self.concentration > 1, self.rate / (self.concentration - 1), math.inf)

    @property
    def mode(self):
        return self.rate / (self.concentration + 1)

    @property
    def variance(self):
        """β²/((α - 1)²(α - 2)) for α > 2, else infinite."""
        a = self.concentration
        finite = self.rate.pow(2) / ((a - 1).pow(2) * (a - 2))
        return ops.where(a > 2, finite, math.inf)

    def entropy(self):
        a = self.concentration
        return a + self.rate.log() + ops.lgamma(a) - (1 + a) * ops.digamma(a)
