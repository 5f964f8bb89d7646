"""The beta distribution."""

from __future__ import annotations

from .. import ops
from ..autograd import grad_mode
from . import constraints
from .exp_family import ExponentialFamily
from .gamma import dirichlet_sample
from .utils import broadcast_all


def log_beta(a, b):
    """log B(a, b) = lgamma(a) + lgamma(b) - lgamma(a + b)."""
    return ops.lgamma(a) + ops.lgamma(b) - ops.lgamma(a + b)


class Beta(ExponentialFamily):
    """Beta with ``concentration1`` a and ``concentration0`` b: density x^(a-1)(1-x)^(b-1)/B(a, b).

    ``sample`` draws X/(X + Y) of two gamma draws; ``rsample`` the same with the gamma draws'
    implicit gradients (PyTorch differentiates its Dirichlet draw instead: another unbiased
    estimator of the same gradients).
    """

    arg_constraints = {
        "concentration1": constraints.positive,
        "concentration0": constraints.positive,
    }
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1, concentration0, validate_args=None):
        # kept off the instance's parameter names, as PyTorch's (which keeps them in a
        # Dirichlet): ``repr`` then prints ``Beta()`` as PyTorch's does
        self._concentrations = broadcast_all(concentration1, concentration0)
        super().__init__(self._concentrations[0].shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        """The two concentrations broadcast to ``batch_shape`` (views)."""
        both = tuple(c.expand(batch_shape) for c in self._concentrations)
        return self._expanded(batch_shape, _instance, _concentrations=both)

    @property
    def concentration1(self):
        return self._concentrations[0]

    @property
    def concentration0(self):
        return self._concentrations[1]

    @property
    def mean(self):
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self):
        return (self.concentration1 - 1) / (self.concentration1 + self.concentration0 - 2)

    @property
    def variance(self):
        total = self.concentration1 + self.concentration0
        return self.concentration1 * self.concentration0 / (total.pow(2) * (total + 1))

    def sample(self, sample_shape=()):
        with grad_mode.no_grad():
            return self._draw(
                self.concentration1.detach(), self.concentration0.detach(), sample_shape
            )

    def rsample(self, sample_shape=()):
        return self._draw(self.concentration1, self.concentration0, sample_shape)

    def _draw(self, a, b, sample_shape):
        # as PyTorch: the first part of a Dirichlet draw of the stacked (a, b)
        shape = tuple(self._extended_shape(sample_shape)) + (2,)
        return dirichlet_sample(ops.stack([a, b], -1), shape)[..., 0]

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        a, b = self.concentration1, self.concentration0
        return ops.xlogy(a - 1, value) + ops.xlog1py(b - 1, -value) - log_beta(a, b)

    def entropy(self):
        a, b = self.concentration1, self.concentration0
        return (
            log_beta(a, b)
            - (a - 1) * ops.digamma(a)
            - (b - 1) * ops.digamma(b)
            + (a + b - 2) * ops.digamma(a + b)
        )

    @property
    def _mean_carrier_measure(self):
        """E[k(x)] with k(x) = -log x - log(1 - x) (θ = (a, b), t(x) = (log x, log(1 - x)))."""
        a, b = self.concentration1, self.concentration0
        return 2 * ops.digamma(a + b) - ops.digamma(a) - ops.digamma(b)

    @property
    def _natural_params(self):
        return (self.concentration1, self.concentration0)

    def _log_normalizer(self, x, y):
        return log_beta(x, y)
