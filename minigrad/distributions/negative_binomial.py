"""The negative binomial distribution."""

from __future__ import annotations

from .. import ops
from ..autograd import grad_mode
from ..nn import functional as F
from . import constraints
from .distribution import Distribution
from .gamma import Gamma
from .poisson import Poisson
from .utils import broadcast_all, lazy_property, logits_to_probs, probs_to_logits


class NegativeBinomial(Distribution):
    """The number of successes before ``total_count`` r failures, in Bernoulli trials of
    success probability ``probs`` p (or ``logits``): P(k) = C(k + r - 1, k)·p^k·(1 - p)^r.
    r may be any nonnegative real. ``sample`` draws the Gamma-Poisson mixture
    Poisson(Gamma(r, (1 - p)/p)), so its cost grows with the largest mean."""

    arg_constraints = {
        "total_count": constraints.greater_than_eq(0),
        "probs": constraints.half_open_interval(0.0, 1.0),
        "logits": constraints.real,
    }
    support = constraints.nonnegative_integer

    def __init__(self, total_count, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            self.total_count, self.probs = broadcast_all(total_count, probs)
            self.total_count = self.total_count.to(self.probs.dtype)
            self._param_name = "probs"
        else:
            self.total_count, self.logits = broadcast_all(total_count, logits)
            self.total_count = self.total_count.to(self.logits.dtype)
            self._param_name = "logits"
        super().__init__(self.total_count.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        """The parameters broadcast to ``batch_shape`` (views)."""
        given = {self._param_name: getattr(self, self._param_name).expand(batch_shape)}
        new = self._expanded(
            batch_shape, _instance, total_count=self.total_count.expand(batch_shape), **given
        )
        new._param_name = self._param_name
        return new

    # the parameter not given is derived from the other one on first use
    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def param_shape(self):
        return getattr(self, self._param_name).shape

    @property
    def mean(self):
        return self.total_count * self.logits.exp()

    @property
    def mode(self):
        return ((self.total_count - 1) * self.logits.exp()).floor().clamp(min=0.0)

    @property
    def variance(self):
        return self.mean / (-self.logits).sigmoid()

    def sample(self, sample_shape=()):
        with grad_mode.no_grad():
            gamma = Gamma(self.total_count, (-self.logits).exp(), validate_args=False)
            rate = gamma.sample(sample_shape)
            return Poisson(rate, validate_args=False).sample()

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        r, logits = self.total_count, self.logits
        unnormalized = r * F.logsigmoid(-logits) + value * F.logsigmoid(logits)
        log_norm = ops.lgamma(1.0 + value) + ops.lgamma(r) - ops.lgamma(r + value)
        # r = 0 and k = 0: probability 1, where lgamma(0) would give inf - inf
        log_norm = log_norm.masked_fill(r + value == 0.0, 0.0)
        return unnormalized - log_norm
