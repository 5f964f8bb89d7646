"""The categorical distribution with one-hot vectors as values."""

from __future__ import annotations

from .. import creation
from ..nn import functional as F
from . import constraints
from .categorical import Categorical, OnCategorical
from .distribution import Distribution


class OneHotCategorical(OnCategorical, Distribution):
    """:class:`Categorical` whose draws are one-hot vectors of length K (event shape (K,))."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.one_hot
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        self._categorical = Categorical(probs, logits, validate_args=False)
        super().__init__(
            self._categorical.batch_shape,
            self._categorical.param_shape[-1:],
            validate_args=validate_args,
        )

    def expand(self, batch_shape, _instance=None):
        """The underlying :class:`Categorical` broadcast to ``batch_shape`` (views)."""
        categorical = self._categorical.expand(batch_shape)
        return self._expanded(batch_shape, _instance, _categorical=categorical)

    @property
    def mean(self):
        return self.probs

    @property
    def mode(self):
        return F.one_hot(self.probs.argmax(-1), self.probs.shape[-1]).to(self.probs.dtype)

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=()):
        indices = self._categorical.sample(sample_shape)
        return F.one_hot(indices, self.probs.shape[-1]).to(self.probs.dtype)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return self._categorical.log_prob(value.argmax(-1))

    def entropy(self):
        return self._categorical.entropy()

    def enumerate_support(self, expand=True):
        """The K one-hot vectors, shape ``(K,) + batch_shape + (K,)`` (``(K, 1, ..., 1, K)``
        unexpanded)."""
        n, like = self.event_shape[0], self._categorical._param
        values = creation.eye(n, dtype=like.dtype, device=like.device)
        values = values.view((n,) + (1,) * len(self.batch_shape) + (n,))
        return values.expand((n, *self.batch_shape, n)) if expand else values


class OneHotCategoricalStraightThrough(OneHotCategorical):
    """:class:`OneHotCategorical` with the straight-through gradient estimator (Bengio et al.,
    2013): ``rsample`` returns the one-hot draw in the forward pass and passes its gradient to
    ``probs`` as if the draw were ``probs`` (``draw + probs - probs.detach()``)."""

    has_rsample = True

    def rsample(self, sample_shape=()):
        draw = self.sample(sample_shape)
        probs = self._categorical.probs
        return draw + (probs - probs.detach())
