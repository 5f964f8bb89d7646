"""Families that PyTorch defines as a simple base distribution pushed through transforms:
Pareto, Weibull, HalfCauchy and Kumaraswamy. Sampling, ``log_prob``, ``cdf`` and ``icdf``
come from :class:`TransformedDistribution`; the moments and entropy are the closed forms."""

from __future__ import annotations

import math

from .. import creation
from ..ops import special
from . import constraints
from .cauchy import Cauchy
from .exponential import Exponential
from .transformed_distribution import TransformedDistribution
from .transforms import AbsTransform, AffineTransform, ExpTransform, PowerTransform
from .uniform import Uniform
from .utils import broadcast_all

_EULER_GAMMA = 0.5772156649015329


class _Family(TransformedDistribution):
    """A transformed family with named parameters: ``expand`` carries them over."""

    _parameters: tuple = ()

    def expand(self, batch_shape, _instance=None):
        new = _instance if _instance is not None else type(self).__new__(type(self))
        for name in self._parameters:
            setattr(new, name, getattr(self, name).expand(batch_shape))
        return super().expand(batch_shape, _instance=new)


class Pareto(_Family):
    """Pareto(``scale``, ``alpha``): density α·scaleᵅ / x^(α+1) on x ≥ scale; scale·e^E for
    E ~ Exponential(α)."""

    arg_constraints = {"alpha": constraints.positive, "scale": constraints.positive}
    _parameters = ("scale", "alpha")

    def __init__(self, scale, alpha, validate_args=None):
        self.scale, self.alpha = broadcast_all(scale, alpha)
        base = Exponential(self.alpha, validate_args=validate_args)
        transforms = [ExpTransform(), AffineTransform(loc=0, scale=self.scale)]
        super().__init__(base, transforms, validate_args=validate_args)

    @property
    def support(self):
        return constraints.greater_than_eq(self.scale)

    @property
    def mean(self):
        a = self.alpha.clamp(min=1)  # infinite for α ≤ 1
        return a * self.scale / (a - 1)

    @property
    def mode(self):
        return self.scale

    @property
    def variance(self):
        a = self.alpha.clamp(min=2)  # infinite for α ≤ 2
        return self.scale.pow(2) * a / ((a - 1).pow(2) * (a - 2))

    def entropy(self):
        return (self.scale / self.alpha).log() + (1 + self.alpha.reciprocal())


class Weibull(_Family):
    """Weibull(``scale``, ``concentration`` k): density (k/λ)(x/λ)^(k-1)·e^(-(x/λ)^k) on x ≥ 0;
    λ·E^(1/k) for E ~ Exponential(1)."""

    arg_constraints = {"scale": constraints.positive, "concentration": constraints.positive}
    support = constraints.positive
    _parameters = ("scale", "concentration")

    def __init__(self, scale, concentration, validate_args=None):
        self.scale, self.concentration = broadcast_all(scale, concentration)
        self.concentration_reciprocal = self.concentration.reciprocal()
        base = Exponential(creation.ones_like(self.scale), validate_args=validate_args)
        transforms = [
            PowerTransform(exponent=self.concentration_reciprocal),
            AffineTransform(loc=0, scale=self.scale),
        ]
        super().__init__(base, transforms, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = super().expand(batch_shape, _instance)
        new.concentration_reciprocal = new.concentration.reciprocal()
        return new

    @property
    def mean(self):
        return self.scale * special.lgamma(1 + self.concentration_reciprocal).exp()

    @property
    def mode(self):
        k = self.concentration
        return self.scale * ((k - 1) / k).pow(self.concentration_reciprocal)  # NaN for k < 1

    @property
    def variance(self):
        first = special.lgamma(1 + self.concentration_reciprocal).exp()
        second = special.lgamma(1 + 2 * self.concentration_reciprocal).exp()
        return self.scale.pow(2) * (second - first.pow(2))

    def entropy(self):
        return (
            _EULER_GAMMA * (1 - self.concentration_reciprocal)
            + (self.scale * self.concentration_reciprocal).log()
            + 1
        )


class HalfCauchy(_Family):
    """HalfCauchy(``scale``): |C| for C ~ Cauchy(0, scale); density 2/(π·scale·(1 + (x/scale)²))
    on x ≥ 0. Its mean and variance are infinite."""

    arg_constraints = {"scale": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, scale, validate_args=None):
        (scale,) = broadcast_all(scale)
        base = Cauchy(creation.zeros_like(scale), scale, validate_args=validate_args)
        super().__init__(base, AbsTransform(), validate_args=validate_args)

    @property
    def scale(self):
        """The base Cauchy's scale (PyTorch keeps it there: ``repr`` prints ``HalfCauchy()``)."""
        return self.base_dist.scale

    @property
    def mean(self):
        return creation.full_like(self.scale, math.inf)

    @property
    def mode(self):
        return creation.zeros_like(self.scale)

    @property
    def variance(self):
        return creation.full_like(self.scale, math.inf)

    def log_prob(self, value):
        """log 2 + the Cauchy density at ``value`` where ``value ≥ 0``, -inf below (|C| folds
        the two halves together; the absolute value has no log-det to correct)."""
        if self._validate_args:
            self._validate_sample(value)
        value = creation.as_tensor(value, dtype=self.scale.dtype, device=self.scale.device)
        inside = self.base_dist.log_prob(value) + math.log(2)
        return inside.where(value >= 0, -math.inf)

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 2 * self.base_dist.cdf(value) - 1

    def icdf(self, prob):
        return self.base_dist.icdf((prob + 1) / 2)

    def entropy(self):
        return (2 * math.pi * self.scale).log()  # the Cauchy's log(4π·scale), less log 2


class Kumaraswamy(_Family):
    """Kumaraswamy(a, b): density a·b·x^(a-1)·(1 - x^a)^(b-1) on (0, 1);
    (1 - U^(1/b))^(1/a) for U ~ Uniform(0, 1)."""

    arg_constraints = {
        "concentration1": constraints.positive,
        "concentration0": constraints.positive,
    }
    support = constraints.unit_interval
    has_rsample = True
    _parameters = ("concentration1", "concentration0")

    def __init__(self, concentration1, concentration0, validate_args=None):
        self.concentration1, self.concentration0 = broadcast_all(concentration1, concentration0)
        base = Uniform(
            creation.zeros_like(self.concentration0),
            creation.ones_like(self.concentration0),
            validate_args=validate_args,
        )
        transforms = [
            PowerTransform(exponent=self.concentration0.reciprocal()),
            AffineTransform(loc=1.0, scale=-1.0),
            PowerTransform(exponent=self.concentration1.reciprocal()),
        ]
        super().__init__(base, transforms, validate_args=validate_args)

    def _raw_moment(self, n):
        """E[Xⁿ] = b·B(1 + n/a, b)."""
        a, b = self.concentration1, self.concentration0
        argument = 1 + n / a
        log_beta = special.lgamma(argument) + special.lgamma(b) - special.lgamma(argument + b)
        return b * log_beta.exp()

    @property
    def mean(self):
        return self._raw_moment(1)

    @property
    def mode(self):
        """((a - 1)/(ab - 1))^(1/a) where a, b ≥ 1 and not both 1, else NaN. Differs from
        PyTorch 2.13, whose formula gives NaN also where the mode exists."""
        a, b = self.concentration1, self.concentration0
        inside = ((a - 1) / (a * b - 1)).pow(a.reciprocal())
        return inside.where((a >= 1) & (b >= 1) & ((a > 1) | (b > 1)), math.nan)

    @property
    def variance(self):
        return self._raw_moment(2) - self._raw_moment(1).pow(2)

    def entropy(self):
        a, b = self.concentration1, self.concentration0
        harmonic_b = special.digamma(b + 1) + _EULER_GAMMA  # H(b), the b-th harmonic number
        return (1 - b.reciprocal()) + (1 - a.reciprocal()) * harmonic_b - (a * b).log()
