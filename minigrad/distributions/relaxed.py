"""The relaxed (Concrete, Gumbel-softmax) distributions: continuous stand-ins for Bernoulli and
one-hot categorical draws whose samples are differentiable in the probabilities, sharper as
the ``temperature`` falls (Maddison et al. 2017; Jang et al. 2017).

``LogitRelaxedBernoulli`` and ``ExpRelaxedCategorical`` live in log space, where the densities
are stable; ``RelaxedBernoulli`` and ``RelaxedOneHotCategorical`` push them through a sigmoid
and an exponential (:class:`TransformedDistribution`), as PyTorch defines them.
"""

from __future__ import annotations

import math

from .. import creation
from .._typeinfo import finfo
from ..nn import functional as F
from . import constraints
from .categorical import Categorical, OnCategorical
from .distribution import Distribution
from .transformed_distribution import TransformedDistribution
from .transforms import ExpTransform, SigmoidTransform
from .utils import ProbsOrLogits, broadcast_all


def _open_unit_uniform(shape, like):
    """U(0, 1) draws kept inside (tiny, 1 - eps), where their logs are finite."""
    info = finfo(like.dtype)
    u = creation.rand(shape, dtype=like.dtype, device=like.device)
    return u.clamp(min=info.tiny, max=1 - info.eps)


class LogitRelaxedBernoulli(ProbsOrLogits, Distribution):
    """The logit of a relaxed Bernoulli draw: (logits + log u - log(1 - u)) / temperature for
    u ~ U(0, 1), density τ·e^(l - τx) / (1 + e^(l - τx))² (l the logits, τ the temperature)."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.real
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        given = self._given(probs, logits)
        # kept as given (not broadcast to the batch), as PyTorch's
        self.temperature = broadcast_all(temperature, given.new_zeros(()))[0]
        super().__init__(given.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        """The parameters broadcast to ``batch_shape`` (views)."""
        return self._expanded(
            batch_shape, _instance, temperature=self.temperature,
            **self._given_expanded(batch_shape),
        )  # fmt: skip

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        u = _open_unit_uniform(shape, self.logits)
        return (self.logits + u.log() - (-u).log1p()) / self.temperature

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        diff = self.logits - value * self.temperature
        return self.temperature.log() + diff - 2 * F.softplus(diff)


class _RelaxedParameters:
    """``temperature``, ``logits`` and ``probs`` of a relaxed distribution, read from its
    log-space base."""

    @property
    def temperature(self):
        return self.base_dist.temperature

    @property
    def logits(self):
        return self.base_dist.logits

    @property
    def probs(self):
        return self.base_dist.probs


class RelaxedBernoulli(_RelaxedParameters, TransformedDistribution):
    """A draw in (0, 1) that tends to a Bernoulli(``probs``) draw as ``temperature`` → 0: the
    sigmoid of a :class:`LogitRelaxedBernoulli` draw."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        base = LogitRelaxedBernoulli(temperature, probs, logits, validate_args=validate_args)
        super().__init__(base, SigmoidTransform(), validate_args=validate_args)


class ExpRelaxedCategorical(OnCategorical, Distribution):
    """The log of a relaxed one-hot draw (Gumbel-softmax in log space):
    log_softmax((logits + g) / τ) for standard Gumbel noise g; its density over the K
    log-weights is (K - 1)!·τ^(K-1)·Πₖ pₖ e^(-τxₖ) / (Σₖ pₖ e^(-τxₖ))^K."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        self._categorical = Categorical(probs=probs, logits=logits, validate_args=validate_args)
        self.temperature = creation.as_tensor(
            temperature,
            dtype=self._categorical.logits.dtype,
            device=self._categorical.logits.device,
        )
        batch_shape = self._categorical.batch_shape
        event_shape = self._categorical.param_shape[-1:]
        super().__init__(batch_shape, event_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        """The categorical broadcast to ``batch_shape`` (views; one temperature)."""
        return self._expanded(
            batch_shape, _instance, temperature=self.temperature,
            _categorical=self._categorical.expand(batch_shape),
        )  # fmt: skip

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        gumbels = -(-_open_unit_uniform(shape, self.logits).log()).log()
        scores = (self.logits + gumbels) / self.temperature
        return scores - scores.logsumexp(-1, keepdim=True)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        k = self._categorical.param_shape[-1]
        log_scale = math.lgamma(k) + (k - 1) * self.temperature.log()
        score = self.logits - value * self.temperature
        return (score - score.logsumexp(-1, keepdim=True)).sum(-1) + log_scale


class RelaxedOneHotCategorical(_RelaxedParameters, TransformedDistribution):
    """A point of the simplex that tends to a one-hot Categorical(``probs``) draw as
    ``temperature`` → 0 (the Gumbel-softmax sample): exp of an :class:`ExpRelaxedCategorical`
    draw."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        base = ExpRelaxedCategorical(temperature, probs, logits, validate_args=validate_args)
        super().__init__(base, ExpTransform(), validate_args=validate_args)
