"""``TransformedDistribution``: a base distribution pushed through a chain of transforms
(``torch.distributions.TransformedDistribution``)."""

from __future__ import annotations

from ..autograd import grad_mode
from ..ops._size import Size
from . import constraints
from .distribution import Distribution
from .independent import Independent
from .transforms import ComposeTransform, Transform, _sum_rightmost


class TransformedDistribution(Distribution):
    """The law of ``y = t_n(...t_1(x))`` for ``x ~ base_distribution``.

    ``log_prob(y)`` is the base log-density at ``x`` minus each transform's
    ``log_abs_det_jacobian``, summed over the event dims the transforms act on; ``rsample`` is
    differentiable wherever the base one is. The shapes are PyTorch's: when the transforms act
    on more dims than the base's event, the base's rightmost batch dims are read as event dims
    (``Independent``); ``event_shape`` is then the transforms' output event.

    Example:
        >>> base = Normal(torch.zeros(2), torch.ones(2))
        >>> squashed = TransformedDistribution(base, [TanhTransform(cache_size=1)])
        >>> a = squashed.rsample(); squashed.log_prob(a)
    """

    arg_constraints: dict = {}

    def __init__(self, base_distribution, transforms, validate_args=None):
        if isinstance(transforms, Transform):
            self.transforms = [transforms]
        elif isinstance(transforms, (list, tuple)):
            for t in transforms:
                if not isinstance(t, Transform):
                    raise ValueError(
                        f"transforms must be a Transform or a list of Transforms, but found "
                        f"{type(t).__name__} in the list"
                    )
            self.transforms = list(transforms)
        else:
            raise ValueError(f"transforms must be a Transform or list, but was {transforms}")

        base_shape = Size(
            tuple(base_distribution.batch_shape) + tuple(base_distribution.event_shape)
        )
        base_event_dim = len(base_distribution.event_shape)
        chain = ComposeTransform(self.transforms)
        domain_event_dim = chain.domain.event_dim
        if len(base_shape) < domain_event_dim:
            raise ValueError(
                f"base_distribution needs to have shape with size at least {domain_event_dim}, "
                f"but got {base_shape}."
            )
        forward_shape = chain.forward_shape(base_shape)
        expanded_base_shape = chain.inverse_shape(forward_shape)
        if tuple(base_shape) != tuple(expanded_base_shape):
            # a transform's parameters broadcast the base to a larger batch
            cut = len(expanded_base_shape) - base_event_dim
            base_distribution = base_distribution.expand(Size(expanded_base_shape[:cut]))
        if domain_event_dim > base_event_dim:
            base_distribution = Independent(base_distribution, domain_event_dim - base_event_dim)
        self.base_dist = base_distribution

        event_dim = chain.codomain.event_dim + max(base_event_dim - domain_event_dim, 0)
        cut = len(forward_shape) - event_dim
        super().__init__(forward_shape[:cut], forward_shape[cut:], validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        """The same transforms over a base expanded to ``batch_shape`` (new view, no copy)."""
        batch_shape = Size(batch_shape)
        shape = tuple(batch_shape) + tuple(self.event_shape)
        for t in reversed(self.transforms):
            shape = t.inverse_shape(shape)
        cut = len(shape) - len(self.base_dist.event_shape)
        return self._expanded(
            batch_shape, _instance, base_dist=self.base_dist.expand(Size(shape[:cut])),
            transforms=self.transforms,
        )  # fmt: skip

    @property
    def support(self):
        if not self.transforms:
            return self.base_dist.support
        support = self.transforms[-1].codomain
        if len(self.event_shape) > support.event_dim:
            support = constraints.independent(support, len(self.event_shape) - support.event_dim)
        return support

    @property
    def has_rsample(self):
        return self.base_dist.has_rsample

    def sample(self, sample_shape=()):
        with grad_mode.no_grad():
            x = self.base_dist.sample(sample_shape)
            for t in self.transforms:
                x = t(x)
            return x

    def rsample(self, sample_shape=()):
        x = self.base_dist.rsample(sample_shape)
        for t in self.transforms:
            x = t(x)
        return x

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        event_dim = len(self.event_shape)
        log_prob = 0.0
        y = value
        for t in reversed(self.transforms):
            x = t.inv(y)
            event_dim += t.domain.event_dim - t.codomain.event_dim
            log_prob = log_prob - _sum_rightmost(
                t.log_abs_det_jacobian(x, y), event_dim - t.domain.event_dim
            )
            y = x
        base = _sum_rightmost(
            self.base_dist.log_prob(y), event_dim - len(self.base_dist.event_shape)
        )
        return log_prob + base

    def _monotonize_cdf(self, value):
        """The base cdf turned into this one: 1 - F where the chain is decreasing."""
        sign = 1
        for t in self.transforms:
            sign = sign * t.sign
        if isinstance(sign, int) and sign == 1:
            return value
        return sign * (value - 0.5) + 0.5

    def cdf(self, value):
        """P(Y <= value), for chains of monotone scalar transforms (each with a ``sign``)."""
        for t in reversed(self.transforms):
            value = t.inv(value)
        if self._validate_args:
            self.base_dist._validate_sample(value)
        return self._monotonize_cdf(self.base_dist.cdf(value))

    def icdf(self, value):
        """The quantile function, for chains of monotone scalar transforms."""
        value = self.base_dist.icdf(self._monotonize_cdf(value))
        for t in self.transforms:
            value = t(value)
        return value
