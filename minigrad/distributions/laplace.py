"""The Laplace (double exponential) distribution."""

from __future__ import annotations

from .. import creation
from .._typeinfo import finfo
from .distribution import LocationScale


class Laplace(LocationScale):
    """Laplace(loc, scale): density e^(-|x - loc|/scale) / (2·scale)."""

    @property
    def variance(self):
        return 2 * self.scale.pow(2)

    def rsample(self, sample_shape=()):
        tiny = finfo(self.loc.dtype).eps
        u = self._standard_draw(sample_shape, creation.empty).uniform_(tiny - 1, 1)  # as PyTorch
        return self.loc - self.scale * u.sign() * (-u.abs()).log1p()

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return -(2 * self.scale).log() - (value - self.loc).abs() / self.scale

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        z = (value - self.loc) / self.scale
        return 0.5 - 0.5 * z.sign() * (-z.abs()).expm1()

    def icdf(self, value):
        """x = loc - scale·sign(p - ½)·log(1 - 2|p - ½|), the inverse of ``cdf``."""
        term = value - 0.5
        return self.loc - self.scale * term.sign() * (-2 * term.abs()).log1p()

    def entropy(self):
        return 1 + (2 * self.scale).log()
