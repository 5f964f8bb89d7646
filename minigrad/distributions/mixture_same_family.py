"""``MixtureSameFamily``: a Categorical choice among the components of one batched
distribution (a Gaussian mixture is ``MixtureSameFamily(Categorical(w), Normal(mu, sigma))``)."""

from __future__ import annotations

from ..autograd import grad_mode
from . import constraints
from .categorical import Categorical
from .distribution import Distribution


class MixtureSameFamily(Distribution):
    """A mixture whose components are the last batch dim of ``component_distribution``, chosen
    with the probabilities of ``mixture_distribution`` (a :class:`Categorical`).

    With K components, ``component_distribution`` has batch shape ``B + (K,)`` and
    ``mixture_distribution`` batch shape ``B`` (or one that broadcasts to it) over K
    categories. The mixture has batch shape ``B`` and the components' event shape.

    ``log_prob`` is a log-sum-exp over the components (no underflow where every component
    density is tiny); ``mean`` and ``variance`` are the mixture's (the law of total variance);
    ``sample`` draws a component per batch element, then a value from it (no ``rsample``, as
    in PyTorch).

    Example:
        >>> mix = Categorical(logits=pi_logits)           # (N, K)
        >>> gmm = MixtureSameFamily(mix, Normal(mu, sigma))  # mu, sigma: (N, K)
        >>> loss = -gmm.log_prob(y).mean()                 # y: (N,)
    """

    arg_constraints: dict = {}
    has_rsample = False

    def __init__(self, mixture_distribution, component_distribution, validate_args=None):
        if not isinstance(mixture_distribution, Categorical):
            raise ValueError(
                "The Mixture distribution needs to be an instance of "
                f"torch.distributions.Categorical, got {type(mixture_distribution).__name__}"
            )
        if not isinstance(component_distribution, Distribution):
            raise ValueError(
                "The Component distribution need to be an instance of "
                f"torch.distributions.Distribution, got {type(component_distribution).__name__}"
            )
        component_batch = tuple(component_distribution.batch_shape)
        if not component_batch:
            raise ValueError(
                "component_distribution needs a batch dim of components (its last batch dim), "
                "got batch_shape ()"
            )
        batch, mixture_batch = component_batch[:-1], tuple(mixture_distribution.batch_shape)
        for m, c in zip(reversed(mixture_batch), reversed(batch)):
            if m != 1 and c != 1 and m != c:
                raise ValueError(
                    f"`mixture_distribution.batch_shape` ({mixture_batch}) is not compatible "
                    f"with `component_distribution.batch_shape`({batch})"
                )
        k_mix, k_comp = mixture_distribution.logits.shape[-1], component_batch[-1]
        if k_mix != k_comp:
            raise ValueError(
                f"`mixture_distribution component` ({k_mix}) does not equal "
                f"`component_distribution.batch_shape[-1]` ({k_comp})"
            )
        self._mixture_distribution = mixture_distribution
        self._component_distribution = component_distribution
        self._num_component = k_mix
        self._event_ndims = len(component_distribution.event_shape)
        super().__init__(batch, component_distribution.event_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        """Both distributions broadcast to ``batch_shape`` (the components to
        ``batch_shape + (K,)``)."""
        batch_shape = tuple(batch_shape)
        return self._expanded(
            batch_shape, _instance,
            _mixture_distribution=self._mixture_distribution.expand(batch_shape),
            _component_distribution=self._component_distribution.expand(
                batch_shape + (self._num_component,)
            ),
            _num_component=self._num_component, _event_ndims=self._event_ndims,
        )  # fmt: skip

    @property
    def mixture_distribution(self):
        return self._mixture_distribution

    @property
    def component_distribution(self):
        return self._component_distribution

    @property
    def support(self):
        return constraints.MixtureSameFamilyConstraint(self._component_distribution.support)

    def _per_component(self, weights):
        """Mixture weights (..., K) shaped to broadcast against component values
        (..., K, *event_shape)."""
        return weights.reshape(tuple(weights.shape) + (1,) * self._event_ndims)

    def _component_dim(self) -> int:
        return -1 - self._event_ndims

    @property
    def mean(self):
        probs = self._per_component(self._mixture_distribution.probs)
        return (probs * self._component_distribution.mean).sum(self._component_dim())

    @property
    def variance(self):
        # law of total variance: E[Var(X | k)] + Var(E[X | k])
        probs = self._per_component(self._mixture_distribution.probs)
        means = self._component_distribution.mean
        within = (probs * self._component_distribution.variance).sum(self._component_dim())
        spread = self.mean.unsqueeze(self._component_dim())
        between = (probs * (means - spread).pow(2)).sum(self._component_dim())
        return within + between

    def log_prob(self, value):
        """log Σₖ wₖ pₖ(value), computed as a log-sum-exp over the K components."""
        if self._validate_args:
            self._validate_sample(value)
        per_component = self._component_distribution.log_prob(
            value.unsqueeze(self._component_dim())
        )  # sample + batch + (K,)
        log_weights = self._mixture_distribution.logits.log_softmax(-1)
        return (per_component + log_weights).logsumexp(-1)

    def cdf(self, value):
        """Σₖ wₖ Fₖ(value) (scalar events only, as the components' cdf)."""
        per_component = self._component_distribution.cdf(value.unsqueeze(self._component_dim()))
        return (per_component * self._mixture_distribution.probs).sum(-1)

    def sample(self, sample_shape=()):
        """One component index per element of ``sample_shape + batch_shape``, then that
        component's draw; shape ``sample_shape + batch_shape + event_shape``."""
        sample_shape = tuple(sample_shape)
        full = sample_shape + tuple(self.batch_shape)
        with grad_mode.no_grad():
            probs = self._mixture_distribution.probs
            choice = Categorical(probs=probs.expand(tuple(self.batch_shape) + probs.shape[-1:]))
            index = choice.sample(sample_shape)  # sample + batch
            draws = self._component_distribution.sample(sample_shape)  # + (K,) + event
            event = tuple(self.event_shape)
            index = index.reshape(full + (1,) + (1,) * len(event)).expand(full + (1,) + event)
            return draws.gather(len(full), index).squeeze(len(full))

    def __repr__(self) -> str:
        return (
            f"MixtureSameFamily(\n  {self._mixture_distribution!r},\n"
            f"  {self._component_distribution!r})"
        )
