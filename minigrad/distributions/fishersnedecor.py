"""The Fisher-Snedecor (F) distribution."""

from __future__ import annotations

import math

from .. import ops
from .._typeinfo import finfo
from . import constraints
from .distribution import Distribution
from .gamma import Gamma
from .utils import broadcast_all


class FisherSnedecor(Distribution):
    """F(``df1`` d₁, ``df2`` d₂): the ratio (X₁/d₁)/(X₂/d₂) of two independent chi-squared
    variables; density ∝ x^(d₁/2 - 1)·(1 + d₁x/d₂)^(-(d₁+d₂)/2) on x > 0. Drawn as the ratio
    of Gamma(d₁/2, d₁) and Gamma(d₂/2, d₂) draws (``rsample`` through Gamma's)."""

    arg_constraints = {"df1": constraints.positive, "df2": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, df1, df2, validate_args=None):
        self.df1, self.df2 = broadcast_all(df1, df2)
        self._gamma1 = Gamma(self.df1 * 0.5, self.df1, validate_args=False)
        self._gamma2 = Gamma(self.df2 * 0.5, self.df2, validate_args=False)
        super().__init__(self.df1.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        """``df1`` and ``df2`` broadcast to ``batch_shape`` (views)."""
        df1, df2 = self.df1.expand(batch_shape), self.df2.expand(batch_shape)
        return self._expanded(
            batch_shape, _instance, df1=df1, df2=df2,
            _gamma1=Gamma(df1 * 0.5, df1, validate_args=False),
            _gamma2=Gamma(df2 * 0.5, df2, validate_args=False),
        )  # fmt: skip

    @property
    def mean(self):
        """d₂/(d₂ - 2) for d₂ > 2, else NaN."""
        df2 = ops.where(self.df2 > 2, self.df2, math.nan)
        return df2 / (df2 - 2)

    @property
    def mode(self):
        """(d₁ - 2)/d₁ · d₂/(d₂ + 2) for d₁ > 2, else NaN."""
        mode = (self.df1 - 2) / self.df1 * self.df2 / (self.df2 + 2)
        return ops.where(self.df1 > 2, mode, math.nan)

    @property
    def variance(self):
        """2d₂²(d₁ + d₂ - 2)/(d₁(d₂ - 2)²(d₂ - 4)) for d₂ > 4, else NaN."""
        df1, df2 = self.df1, ops.where(self.df2 > 4, self.df2, math.nan)
        return 2 * df2.pow(2) * (df1 + df2 - 2) / (df1 * (df2 - 2).pow(2) * (df2 - 4))

    def _ratio(self, x1, x2):
        tiny = finfo(x2.dtype).tiny
        return (x1 / x2.clamp(min=tiny)).clamp(min=tiny)

    def sample(self, sample_shape=()):
        return self._ratio(self._gamma1.sample(sample_shape), self._gamma2.sample(sample_shape))

    def rsample(self, sample_shape=()):
        return self._ratio(self._gamma1.rsample(sample_shape), self._gamma2.rsample(sample_shape))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        a, b = self.df1 * 0.5, self.df2 * 0.5
        ratio = self.df1 / self.df2
        log_norm = ops.lgamma(a + b) - ops.lgamma(a) - ops.lgamma(b)
        return (
            log_norm + a * ratio.log() + (a - 1) * value.log() - (a + b) * (ratio * value).log1p()
        )
