"""The exponential distribution."""

from __future__ import annotations

from .. import creation
from . import constraints
from .exp_family import ExponentialFamily
from .utils import broadcast_all


class Exponential(ExponentialFamily):
    """Exponential with ``rate`` λ: density λ·e^(-λx) on x ≥ 0. ``rsample``: -log(1 - u)/λ."""

    arg_constraints = {"rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, rate, validate_args=None):
        (self.rate,) = broadcast_all(rate)
        super().__init__(self.rate.shape, validate_args=validate_args)

    @property
    def mean(self):
        return self.rate.reciprocal()

    @property
    def mode(self):
        return self.rate * 0

    @property
    def variance(self):
        return self.rate.pow(-2)

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        # PyTorch's order: exponential_ draws in the rate's dtype, then the division
        draw = creation.empty(shape, dtype=self.rate.dtype, device=self.rate.device)
        return draw.exponential_() / self.rate

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return self.rate.log() - self.rate * value

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 1 - (-self.rate * value).exp()

    def icdf(self, value):
        """The quantile: -log(1 - p)/λ."""
        return -(-value).log1p() / self.rate

    def expand(self, batch_shape, _instance=None):
        """``rate`` broadcast to ``batch_shape`` (a view)."""
        return self._expanded(batch_shape, _instance, rate=self.rate.expand(batch_shape))

    def entropy(self):
        return 1.0 - self.rate.log()

    _mean_carrier_measure = 0

    @property
    def _natural_params(self):
        return (-self.rate,)

    def _log_normalizer(self, x):
        return -(-x).log()
