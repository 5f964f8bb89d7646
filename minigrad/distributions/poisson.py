"""The Poisson distribution."""

from __future__ import annotations

from .. import _sampling, ops
from ..autograd import grad_mode
from . import constraints
from .exp_family import ExponentialFamily
from .utils import broadcast_all


class Poisson(ExponentialFamily):
    """Poisson with ``rate`` λ: P(k) = λ^k e^(-λ)/k!.

    ``sample`` is :func:`minigrad.poisson` (on the CPU PyTorch's sampler: the same seed, the
    same counts).
    """

    arg_constraints = {"rate": constraints.nonnegative}
    support = constraints.nonnegative_integer

    def __init__(self, rate, validate_args=None):
        (self.rate,) = broadcast_all(rate)
        super().__init__(self.rate.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        """``rate`` broadcast to ``batch_shape`` (a view)."""
        return self._expanded(batch_shape, _instance, rate=self.rate.expand(batch_shape))

    @property
    def mean(self):
        return self.rate

    @property
    def mode(self):
        return self.rate.floor()

    @property
    def variance(self):
        return self.rate

    def sample(self, sample_shape=()):
        shape = tuple(self._extended_shape(sample_shape))
        with grad_mode.no_grad():
            return _sampling.poisson(self.rate.detach().expand(shape))  # as PyTorch

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return ops.xlogy(value, self.rate) - self.rate - ops.lgamma(value + 1)

    @property
    def _natural_params(self):
        return (self.rate.log(),)

    def _log_normalizer(self, x):
        return x.exp()
