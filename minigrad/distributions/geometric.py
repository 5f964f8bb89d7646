"""The geometric distribution: the number of failures before the first success."""

from __future__ import annotations

from .. import creation, ops
from ..autograd import grad_mode
from . import constraints
from .distribution import Distribution
from .utils import ProbsOrLogits


class Geometric(ProbsOrLogits, Distribution):
    """Geometric with success probability p (``probs`` or ``logits``): P(k) = (1-p)^k·p."""

    arg_constraints = {"probs": constraints.interval(0.0, 1.0), "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, probs=None, logits=None, validate_args=None):
        super().__init__(self._given(probs, logits).shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        """The given ``probs`` or ``logits`` broadcast to ``batch_shape`` (a view)."""
        return self._expanded(batch_shape, _instance, **self._given_expanded(batch_shape))

    @property
    def mean(self):
        return 1.0 / self.probs - 1.0

    @property
    def mode(self):
        return self.probs * 0

    @property
    def variance(self):
        return (1.0 / self.probs - 1.0) / self.probs

    def sample(self, sample_shape=()):
        shape = tuple(self._extended_shape(sample_shape))
        with grad_mode.no_grad():
            p = self.probs.detach()
            tiny = 2.0**-1000
            u = creation.rand(shape, dtype=p.dtype, device=p.device).clamp(min=tiny)
            return (u.log() / (-p).log1p()).floor()

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        p = self.probs
        # at p = 1 only k = 0 has mass: 0·log 0 is taken as 0, as PyTorch
        return ops.xlog1py(value, -p) + p.log()

    def entropy(self):
        from ..nn import functional as F

        bce = F.binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")
        return bce / self.probs
