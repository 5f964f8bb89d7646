"""The normal (Gaussian) distribution."""

from __future__ import annotations

import math

from .. import creation
from .distribution import LocationScale
from .exp_family import ExponentialFamily


class Normal(ExponentialFamily, LocationScale):
    """N(loc, scale²). ``rsample``: loc + scale·ε with ε ~ N(0, 1).

    Example:
        >>> d = Normal(minigrad.zeros(2), minigrad.ones(2))
        >>> d.log_prob(minigrad.tensor([0.0, 1.0]))
    """

    @property
    def stddev(self):
        return self.scale

    @property
    def variance(self):
        return self.scale.pow(2)

    def rsample(self, sample_shape=()):
        return self.loc + self._standard_draw(sample_shape, creation.randn) * self.scale

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return (
            -((value - self.loc) ** 2) / (2 * self.variance)
            - self.scale.log()
            - math.log(math.sqrt(2 * math.pi))
        )

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 0.5 * (1 + ((value - self.loc) / (self.scale * math.sqrt(2))).erf())

    def icdf(self, value):
        return self.loc + self.scale * (2 * value - 1).erfinv() * math.sqrt(2)

    def entropy(self):
        return 0.5 + 0.5 * math.log(2 * math.pi) + self.scale.log()

    _mean_carrier_measure = 0

    @property
    def _natural_params(self):
        return (self.loc / self.scale.pow(2), -0.5 * self.scale.pow(2).reciprocal())

    def _log_normalizer(self, x, y):
        return -0.25 * x.pow(2) / y + 0.5 * (-math.pi / y).log()
