"""The Cauchy distribution."""

from __future__ import annotations

import math

from .. import creation
from .distribution import LocationScale


class Cauchy(LocationScale):
    """Cauchy with median ``loc`` and half-width ``scale``: density 1/(πs(1 + ((x-loc)/s)²)).

    Its mean is undefined (NaN) and its variance infinite, as PyTorch reports them.
    ``rsample``: loc + scale·tan(π(u - ½)).
    """

    @property
    def mean(self):
        return self.loc * float("nan")

    @property
    def variance(self):
        return self.loc * 0 + float("inf")

    def rsample(self, sample_shape=()):
        eps = self._standard_draw(sample_shape, creation.empty).cauchy_()  # as PyTorch
        return self.loc + eps * self.scale

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        z = (value - self.loc) / self.scale
        return -math.log(math.pi) - self.scale.log() - (z * z).log1p()

    def cdf(self, value):
        return ((value - self.loc) / self.scale).atan() / math.pi + 0.5

    def icdf(self, value):
        return self.loc + self.scale * (math.pi * (value - 0.5)).tan()

    def entropy(self):
        return math.log(4 * math.pi) + self.scale.log()
