"""The Gumbel (type-I extreme value) distribution: ``loc - scale·log(-log U)`` for uniform U,
a :class:`TransformedDistribution` as in PyTorch."""

from __future__ import annotations

import math

from .. import creation
from .._typeinfo import finfo
from . import constraints
from .transformed_distribution import TransformedDistribution
from .transforms import AffineTransform, ExpTransform
from .uniform import Uniform
from .utils import broadcast_all

_EULER_GAMMA = 0.5772156649015329


class Gumbel(TransformedDistribution):
    """Gumbel(``loc``, ``scale``): density exp(-(z + e^(-z))) / scale with z = (x - loc)/scale.
    ``rsample`` pushes U(tiny, 1 - eps) through -log, negation, -log and ``loc + scale·``
    (the Gumbel-max trick's noise); ``log_prob`` is the closed form."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        info = finfo(self.loc.dtype)
        base = Uniform(
            creation.full_like(self.loc, info.tiny),
            creation.full_like(self.loc, 1 - info.eps),
            validate_args=validate_args,
        )
        # U -> -log U (exponential) -> log of it -> loc - scale·(that) = loc - scale·log(-log U)
        transforms = [
            ExpTransform().inv,
            AffineTransform(0, -1),
            ExpTransform().inv,
            AffineTransform(self.loc, -self.scale),
        ]
        super().__init__(base, transforms, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = _instance if _instance is not None else type(self).__new__(type(self))
        new.loc, new.scale = self.loc.expand(batch_shape), self.scale.expand(batch_shape)
        return super().expand(batch_shape, _instance=new)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        z = (self.loc - value) / self.scale
        return (z - z.exp()) - self.scale.log()

    @property
    def mean(self):
        return self.loc + self.scale * _EULER_GAMMA

    @property
    def mode(self):
        return self.loc

    @property
    def stddev(self):
        return (math.pi / math.sqrt(6)) * self.scale

    @property
    def variance(self):
        return self.stddev.pow(2)

    def entropy(self):
        return self.scale.log() + (1 + _EULER_GAMMA)
