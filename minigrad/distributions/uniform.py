"""The uniform distribution on [low, high)."""

from __future__ import annotations

from .. import creation
from . import constraints
from .distribution import Distribution
from .utils import broadcast_all


class Uniform(Distribution):
    """Uniform on [low, high). ``rsample``: low + (high - low)·u with u ~ U[0, 1)."""

    arg_constraints = {"low": constraints.dependent, "high": constraints.dependent}
    has_rsample = True

    def __init__(self, low, high, validate_args=None):
        self.low, self.high = broadcast_all(low, high)
        super().__init__(self.low.shape, validate_args=validate_args)
        if self._validate_args and not bool((self.low < self.high).all()):
            raise ValueError("Uniform is not defined when low >= high")

    def expand(self, batch_shape, _instance=None):
        """``low`` and ``high`` broadcast to ``batch_shape`` (views)."""
        return self._expanded(
            batch_shape, _instance, low=self.low.expand(batch_shape),
            high=self.high.expand(batch_shape),
        )  # fmt: skip

    @property
    def support(self):
        return constraints.interval(self.low, self.high)

    @property
    def mean(self):
        return (self.high + self.low) / 2

    @property
    def mode(self):
        """NaN: every point of [low, high) is a mode (as PyTorch)."""
        return (self.high - self.low) * float("nan")

    @property
    def variance(self):
        return (self.high - self.low).pow(2) / 12

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        u = creation.rand(shape, dtype=self.low.dtype, device=self.low.device)
        return self.low + u * (self.high - self.low)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        inside = ((self.low <= value) & (value < self.high)).to(self.low.dtype)
        return inside.log() - (self.high - self.low).log()

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return ((value - self.low) / (self.high - self.low)).clamp(0, 1)

    def icdf(self, value):
        """The quantile: low + p·(high - low)."""
        return self.low + value * (self.high - self.low)

    def entropy(self):
        return (self.high - self.low).log()
