"""The multinomial distribution: counts of ``total_count`` categorical draws."""

from __future__ import annotations

import math

from .. import creation, ops
from ..autograd import grad_mode
from ..nn import functional as F
from . import constraints
from .categorical import Categorical, OnCategorical
from .distribution import Distribution
from .utils import broadcast_all


class Multinomial(OnCategorical, Distribution):
    """Counts over K categories of ``total_count`` n independent draws with ``probs`` (or
    ``logits``): P(x) = n!/Πx_k! · Π p_k^(x_k). ``log_prob`` does not need n (any count vector
    is scored); ``sample`` and ``entropy`` do. n must be a single int, as in PyTorch.

    Example:
        >>> d = Multinomial(10, probs=torch.tensor([0.2, 0.3, 0.5]))
        >>> d.sample()  # e.g. tensor([2., 3., 5.])
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        if not isinstance(total_count, int):
            raise NotImplementedError("inhomogeneous total_count is not supported")
        self.total_count = total_count
        self._categorical = Categorical(probs=probs, logits=logits, validate_args=validate_args)
        batch_shape = self._categorical.batch_shape
        event_shape = self._categorical.param_shape[-1:]
        super().__init__(batch_shape, event_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        """The categorical broadcast to ``batch_shape`` (views)."""
        return self._expanded(
            batch_shape, _instance, total_count=self.total_count,
            _categorical=self._categorical.expand(batch_shape),
        )  # fmt: skip

    @property
    def support(self):
        return constraints.multinomial(self.total_count)

    @property
    def mean(self):
        return self.probs * self.total_count

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=()):
        """The one-hot sum of ``total_count`` categorical draws per event."""
        like = dict(dtype=self.probs.dtype, device=self.probs.device)
        if self.total_count == 0:
            return creation.zeros(tuple(self._extended_shape(sample_shape)), **like)
        with grad_mode.no_grad():
            k = self._categorical._num_events
            draws = self._categorical.sample((self.total_count,) + tuple(sample_shape))
            return F.one_hot(draws, k).sum(0).to(self.probs.dtype)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        # 0·log 0 = 0: a category of probability 0 that was never drawn adds nothing
        logits = logits.masked_fill((value == 0) & (logits == -math.inf), 0.0)
        log_factorials = ops.lgamma(value.sum(-1) + 1) - ops.lgamma(value + 1).sum(-1)
        return log_factorials + (logits * value).sum(-1)

    def entropy(self):
        """n·H(p) - log n! + Σ_k E[log x_k!], the last with x_k ~ Binomial(n, p_k) summed
        over its support."""
        n = self.total_count
        probs = self.probs
        like = dict(dtype=probs.dtype, device=probs.device)
        counts = creation.arange(1, n + 1, **like).reshape((-1,) + (1,) * probs.dim())
        log_choose = math.lgamma(n + 1) - ops.lgamma(counts + 1) - ops.lgamma(n - counts + 1)
        log_pmf = log_choose + ops.xlogy(counts, probs) + ops.xlog1py(n - counts, -probs)
        expected = (log_pmf.exp() * ops.lgamma(counts + 1)).sum(0).sum(-1)
        return n * self._categorical.entropy() - math.lgamma(n + 1) + expected
