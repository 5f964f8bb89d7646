"""The binomial distribution."""

from __future__ import annotations

from .. import _sampling, creation, ops
from ..autograd import grad_mode
from . import constraints
from .distribution import Distribution
from .utils import ProbsOrLogits, broadcast_all


class Binomial(ProbsOrLogits, Distribution):
    """Binomial with ``total_count`` n trials of success probability ``probs`` p (or
    ``logits``): P(k) = C(n, k) p^k (1-p)^(n-k). ``sample`` counts n Bernoulli draws, so its
    cost grows with max n."""

    arg_constraints = {
        "total_count": constraints.greater_than_eq(0),
        "probs": constraints.unit_interval,
        "logits": constraints.real,
    }
    has_enumerate_support = True

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        given = self._given(probs, logits)
        self.total_count, given = broadcast_all(total_count, given)
        self.__dict__["probs" if probs is not None else "logits"] = given
        self.total_count = self.total_count.to(given.dtype)
        super().__init__(given.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        """``total_count`` and the given ``probs`` or ``logits`` broadcast to ``batch_shape``."""
        return self._expanded(
            batch_shape, _instance, total_count=self.total_count.expand(batch_shape),
            **self._given_expanded(batch_shape),
        )  # fmt: skip

    @property
    def support(self):
        return constraints.integer_interval(0, self.total_count)

    @property
    def mean(self):
        return self.total_count * self.probs

    @property
    def mode(self):
        return ((self.total_count + 1) * self.probs).floor().clamp(max=self.total_count)

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=()):
        shape = tuple(self._extended_shape(sample_shape))
        with grad_mode.no_grad():
            n, p = self.total_count.detach().expand(shape), self.probs.detach().expand(shape)
            return _sampling.binomial(n.to(p.dtype), p)  # as PyTorch's torch.binomial

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        n, p = self.total_count, self.probs
        log_choose = ops.lgamma(n + 1) - ops.lgamma(value + 1) - ops.lgamma(n - value + 1)
        return log_choose + ops.xlogy(value, p) + ops.xlog1py(n - value, -p)

    def entropy(self):
        """-sum_k P(k) log P(k) over k = 0..n (one n shared by the batch, as PyTorch requires)."""
        values = self.enumerate_support(expand=False)
        prob = self.log_prob(values).exp()
        return -ops.xlogy(prob, prob).sum(0)  # 0 log 0 = 0 where p is 0 or 1

    def enumerate_support(self, expand=True):
        """0, ..., n along a new first dim (one n shared by the batch, as PyTorch requires)."""
        total = int(self.total_count.max().item())
        if int(self.total_count.min().item()) != total:
            raise NotImplementedError(
                "Inhomogeneous total count not supported by `enumerate_support`."
            )
        values = creation.arange(total + 1, dtype=self.probs.dtype, device=self.probs.device)
        values = values.reshape((-1,) + (1,) * len(self.batch_shape))
        return values.expand(-1, *self.batch_shape) if expand else values
