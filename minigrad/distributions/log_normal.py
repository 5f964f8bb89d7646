"""The log-normal distribution: exp(X) for X ~ Normal(loc, scale)."""

from __future__ import annotations

import math

from .. import creation
from . import constraints
from .distribution import LocationScale


class LogNormal(LocationScale):
    """Log-normal: log of the value is Normal(``loc``, ``scale``). ``rsample``: exp(loc + σz)."""

    support = constraints.positive

    @property
    def mean(self):
        return (self.loc + 0.5 * self.scale.pow(2)).exp()

    @property
    def mode(self):
        return (self.loc - self.scale.pow(2)).exp()

    @property
    def variance(self):
        s2 = self.scale.pow(2)
        return s2.expm1() * (2 * self.loc + s2).exp()

    def rsample(self, sample_shape=()):
        return (self.loc + self.scale * self._standard_draw(sample_shape, creation.randn)).exp()

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        y = value.log()
        z = (y - self.loc) / self.scale
        return -0.5 * z * z - self.scale.log() - 0.5 * math.log(2 * math.pi) - y

    def entropy(self):
        return 0.5 + 0.5 * math.log(2 * math.pi) + self.scale.log() + self.loc
