"""The Dirichlet distribution over the probability simplex."""

from __future__ import annotations

from .. import ops
from ..autograd import grad_mode
from ..nn import functional as F
from . import constraints
from .exp_family import ExponentialFamily
from .gamma import dirichlet_sample


class Dirichlet(ExponentialFamily):
    """Dirichlet with ``concentration`` c (last dim: the K categories): density
    Γ(Σc)/ΠΓ(c_k) · Π x_k^(c_k - 1) on the simplex. ``sample``: normalized gamma draws;
    ``rsample``: the same, differentiable through the gamma draws' implicit gradients."""

    arg_constraints = {"concentration": constraints.positive}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration, validate_args=None):
        if concentration.dim() < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        shape = tuple(concentration.shape)
        super().__init__(shape[:-1], shape[-1:], validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        """``concentration`` broadcast to ``batch_shape`` (a view)."""
        shape = tuple(batch_shape) + tuple(self.event_shape)
        return self._expanded(
            batch_shape, _instance, concentration=self.concentration.expand(shape)
        )

    @property
    def mean(self):
        return self.concentration / self.concentration.sum(-1, keepdim=True)

    @property
    def mode(self):
        """(α - 1) / Σ(α - 1) with α - 1 clamped at 0; where every α < 1 the density is
        unbounded at every vertex and the first one is given (a one-hot vector, as PyTorch)."""
        c = self.concentration
        shifted = (c - 1).clamp(min=0.0)
        interior = shifted / shifted.sum(-1, keepdim=True)
        vertex = F.one_hot(shifted.argmax(-1), c.shape[-1]).to(c.dtype)
        return ops.where((c < 1).all(-1, keepdim=True), vertex, interior)

    @property
    def variance(self):
        c = self.concentration
        total = c.sum(-1, keepdim=True)
        return c * (total - c) / (total.pow(2) * (total + 1))

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        with grad_mode.no_grad():
            return dirichlet_sample(self.concentration.detach(), shape)

    def rsample(self, sample_shape=()):
        return dirichlet_sample(self.concentration, self._extended_shape(sample_shape))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        c = self.concentration
        return ops.xlogy(c - 1.0, value).sum(-1) + ops.lgamma(c.sum(-1)) - ops.lgamma(c).sum(-1)

    def entropy(self):
        c = self.concentration
        k = c.shape[-1]
        total = c.sum(-1)
        return (
            ops.lgamma(c).sum(-1)
            - ops.lgamma(total)
            - (k - total) * ops.digamma(total)
            - ((c - 1.0) * ops.digamma(c)).sum(-1)
        )

    @property
    def _mean_carrier_measure(self):
        """E[k(x)] with k(x) = -Σ log x_k (θ = c, t(x) = log x)."""
        c = self.concentration
        return (ops.digamma(c.sum(-1, keepdim=True)) - ops.digamma(c)).sum(-1)

    @property
    def _natural_params(self):
        return (self.concentration,)

    def _log_normalizer(self, x):
        return ops.lgamma(x).sum(-1) - ops.lgamma(x.sum(-1))
