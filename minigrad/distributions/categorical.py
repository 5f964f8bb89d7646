"""The categorical distribution over ``{0, ..., K-1}``."""

from __future__ import annotations

from .. import creation, dtypes
from .._typeinfo import finfo
from ..ops import broadcast_tensors
from . import constraints
from .distribution import Distribution
from .utils import ProbsOrLogits


class Categorical(ProbsOrLogits, Distribution):
    """Categories drawn with ``probs`` (normalized over the last dim) or ``logits`` (log-odds up
    to a constant): exactly one of them. The batch is every dim but the last.

    Example:
        >>> d = Categorical(logits=policy(state))
        >>> action = d.sample()
        >>> loss = -d.log_prob(action) * reward
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    has_enumerate_support = True
    _is_binary = False

    def __init__(self, probs=None, logits=None, validate_args=None):
        given = self._given(probs, logits)
        if given.ndim < 1:
            raise ValueError("`probs` or `logits` parameter must be at least one-dimensional.")
        if probs is not None:
            self.probs = given / given.sum(-1, keepdim=True)
        else:
            self.logits = given - given.logsumexp(-1, keepdim=True)
        self._num_events = given.shape[-1]
        super().__init__(given.shape[:-1], validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        """The given ``probs`` or ``logits`` broadcast to ``batch_shape`` (a view)."""
        shape = tuple(batch_shape) + (self._num_events,)
        new = self._expanded(batch_shape, _instance, **self._given_expanded(shape))
        new._num_events = self._num_events
        return new

    @property
    def support(self):
        return constraints.integer_interval(0, self._num_events - 1)

    @property
    def mean(self):
        return self.probs.new_full(self._extended_shape(), float("nan"))

    @property
    def mode(self):
        return self.probs.argmax(-1)

    @property
    def variance(self):
        return self.probs.new_full(self._extended_shape(), float("nan"))

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        count = max(1, shape.numel() // max(self.batch_shape.numel(), 1))
        rows = self.probs.detach().reshape(-1, self._num_events)
        draws = creation.multinomial(rows, count, True)  # (batch, count)
        return draws.T.reshape(shape)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value = value.to(dtypes.int64).unsqueeze(-1)
        value, log_pmf = broadcast_tensors(value, self.logits)
        return log_pmf.gather(-1, value[..., :1]).squeeze(-1)

    def entropy(self):
        smallest = float(finfo(self.logits.dtype).min)
        logits = self.logits.clamp(min=smallest)
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand=True):
        values = creation.arange(self._num_events, device=self.probs.device)
        values = values.reshape((-1,) + (1,) * len(self.batch_shape))
        return values.expand(-1, *self.batch_shape) if expand else values


class OnCategorical:
    """A family built on a :class:`Categorical` ``_categorical`` (OneHotCategorical,
    Multinomial, ExpRelaxedCategorical): its ``probs``, ``logits`` and ``param_shape`` are the
    Categorical's, not stored on the instance (so ``repr`` shows neither, as PyTorch's)."""

    @property
    def probs(self):
        return self._categorical.probs

    @property
    def logits(self):
        return self._categorical.logits

    @property
    def param_shape(self):
        """The shape of ``probs`` (and of ``logits``)."""
        return self._categorical.param_shape
