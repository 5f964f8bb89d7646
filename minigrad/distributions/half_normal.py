"""The half-normal distribution: |X| for X ~ Normal(0, scale)."""

from __future__ import annotations

import math

from .. import creation, ops
from . import constraints
from .distribution import Distribution
from .utils import broadcast_all


class HalfNormal(Distribution):
    """Half-normal with ``scale`` σ: density √(2/π)/σ · exp(-x²/(2σ²)) on x ≥ 0."""

    arg_constraints = {"scale": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, scale, validate_args=None):
        # kept off the instance's parameter names, as PyTorch's (which keeps it in its base
        # Normal): ``repr`` then prints ``HalfNormal()`` as PyTorch's does
        (self._scale,) = broadcast_all(scale)
        super().__init__(self._scale.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        """``scale`` broadcast to ``batch_shape`` (a view)."""
        return self._expanded(batch_shape, _instance, _scale=self._scale.expand(batch_shape))

    @property
    def scale(self):
        return self._scale

    @property
    def mean(self):
        return self.scale * math.sqrt(2 / math.pi)

    @property
    def mode(self):
        return self.scale * 0

    @property
    def variance(self):
        return self.scale.pow(2) * (1 - 2 / math.pi)

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        z = creation.randn(shape, dtype=self.scale.dtype, device=self.scale.device)
        return (self.scale * z).abs()

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        z = value / self.scale
        inside = 0.5 * math.log(2 / math.pi) - self.scale.log() - 0.5 * z * z
        return ops.where(value >= 0, inside, float("-inf"))

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return ops.erf(value / (self.scale * math.sqrt(2)))

    def icdf(self, prob):
        return self.scale * math.sqrt(2) * ops.erfinv(prob)

    def entropy(self):
        return 0.5 * math.log(math.pi / 2) + self.scale.log() + 0.5
