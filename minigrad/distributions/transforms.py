"""Invertible maps between spaces of values (``torch.distributions.transforms``): each
transform computes ``y = t(x)``, its inverse ``t.inv(y)`` and ``log |det dy/dx|``, and says on
which constraint it acts (``domain``) and where it lands (``codomain``).

Example (a tanh-squashed Gaussian, as SAC writes it):
    >>> dist = TransformedDistribution(Normal(mu, std), [TanhTransform(cache_size=1)])
    >>> action = dist.rsample()
    >>> log_prob = dist.log_prob(action)  # uses the cached pre-tanh value: no atanh
"""

from __future__ import annotations

import math
import numbers

from .. import creation
from .._typeinfo import finfo
from ..nn import functional as F
from ..ops._size import Size
from ..tensor import Tensor
from . import constraints
from ._transform_base import (
    ComposeTransform,
    IndependentTransform,
    ReshapeTransform,
    Transform,
    _broadcast_shape,
    _InverseTransform,  # noqa: F401 - PyTorch's private name, which zuko renames
    _sum_rightmost,
    identity_transform,
)
from ._transform_joined import CatTransform, StackTransform
from ._transform_matrix import (
    CorrCholeskyTransform,
    LowerCholeskyTransform,
    PositiveDefiniteTransform,
)

__all__ = [
    "AbsTransform",
    "AffineTransform",
    "CatTransform",
    "CumulativeDistributionTransform",
    "ComposeTransform",
    "CorrCholeskyTransform",
    "ExpTransform",
    "IndependentTransform",
    "LowerCholeskyTransform",
    "PositiveDefiniteTransform",
    "PowerTransform",
    "ReshapeTransform",
    "SigmoidTransform",
    "SoftmaxTransform",
    "SoftplusTransform",
    "StackTransform",
    "StickBreakingTransform",
    "TanhTransform",
    "Transform",
    "identity_transform",
]


def _clipped_sigmoid(x):
    """sigmoid(x) kept in [tiny, 1 - eps], so that its inverse (a logit) stays finite."""
    info = finfo(x.dtype)
    return x.sigmoid().clamp(min=info.tiny, max=1.0 - info.eps)


class ExpTransform(Transform):
    """y = exp(x); log |dy/dx| = x."""

    domain = constraints.real
    codomain = constraints.positive
    bijective = True
    sign = +1

    def __eq__(self, other) -> bool:
        return isinstance(other, ExpTransform)

    def _call(self, x):
        return x.exp()

    def _inverse(self, y):
        return y.log()

    def log_abs_det_jacobian(self, x, y):
        return x


class PowerTransform(Transform):
    """y = x^exponent on positive values; log |dy/dx| = log |exponent · y / x|."""

    domain = constraints.positive
    codomain = constraints.positive
    bijective = True

    def __init__(self, exponent, cache_size: int = 0):
        from .utils import broadcast_all

        super().__init__(cache_size=cache_size)
        (self.exponent,) = broadcast_all(exponent)

    def with_cache(self, cache_size: int = 1):
        if self._cache_size == cache_size:
            return self
        return PowerTransform(self.exponent, cache_size=cache_size)

    @property
    def sign(self):
        return self.exponent.sign()

    def __eq__(self, other) -> bool:
        return isinstance(other, PowerTransform) and bool(self.exponent.eq(other.exponent).all())

    def _call(self, x):
        return x.pow(self.exponent)

    def _inverse(self, y):
        return y.pow(1 / self.exponent)

    def log_abs_det_jacobian(self, x, y):
        return (self.exponent * y / x).abs().log()

    def forward_shape(self, shape):
        return _broadcast_shape(shape, self.exponent.shape)

    def inverse_shape(self, shape):
        return _broadcast_shape(shape, self.exponent.shape)


class SigmoidTransform(Transform):
    """y = sigmoid(x) (clipped away from 0 and 1); log |dy/dx| = -softplus(-x) - softplus(x)."""

    domain = constraints.real
    codomain = constraints.unit_interval
    bijective = True
    sign = +1

    def __eq__(self, other) -> bool:
        return isinstance(other, SigmoidTransform)

    def _call(self, x):
        return _clipped_sigmoid(x)

    def _inverse(self, y):
        info = finfo(y.dtype)
        y = y.clamp(min=info.tiny, max=1.0 - info.eps)
        return y.log() - (-y).log1p()

    def log_abs_det_jacobian(self, x, y):
        # log σ(x)(1-σ(x)) = log σ(x) + log σ(-x), each a softplus: finite for any |x|
        return -F.softplus(-x) - F.softplus(x)


class TanhTransform(Transform):
    """y = tanh(x); log |dy/dx| = log(1 - tanh²x) = 2·(log 2 - x - softplus(-2x)), a form that
    stays finite where 1 - tanh²x rounds to 0. ``cache_size=1`` avoids atanh of ±1 when the
    value came from this transform (SAC's squashed actions)."""

    domain = constraints.real
    codomain = constraints.interval(-1.0, 1.0)
    bijective = True
    sign = +1

    def __eq__(self, other) -> bool:
        return isinstance(other, TanhTransform)

    def _call(self, x):
        return x.tanh()

    def _inverse(self, y):
        return y.atanh()

    def log_abs_det_jacobian(self, x, y):
        return 2.0 * (math.log(2.0) - x - F.softplus(-2.0 * x))


class SoftplusTransform(Transform):
    """y = log(1 + exp(x)); log |dy/dx| = log sigmoid(x) = -softplus(-x)."""

    domain = constraints.real
    codomain = constraints.positive
    bijective = True
    sign = +1

    def __eq__(self, other) -> bool:
        return isinstance(other, SoftplusTransform)

    def _call(self, x):
        return F.softplus(x)

    def _inverse(self, y):
        # x = log(exp(y) - 1) = y + log(1 - exp(-y)), without overflow for large y
        return y + (-(-y).expm1()).log()

    def log_abs_det_jacobian(self, x, y):
        return -F.softplus(-x)


class AbsTransform(Transform):
    """y = |x| (not injective: the inverse returns the positive root)."""

    domain = constraints.real
    codomain = constraints.positive

    def __eq__(self, other) -> bool:
        return isinstance(other, AbsTransform)

    def _call(self, x):
        return x.abs()

    def _inverse(self, y):
        return y


def _scalar_or_tensor_equal(a, b) -> bool:
    if isinstance(a, numbers.Number) and isinstance(b, numbers.Number):
        return a == b
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        return tuple(a.shape) == tuple(b.shape) and bool((a == b).all())
    return False


class AffineTransform(Transform):
    """y = loc + scale · x; log |dy/dx| = log |scale|, summed over the last ``event_dim`` dims
    (``event_dim=1`` for vectors, 2 for matrices)."""

    bijective = True

    def __init__(self, loc, scale, event_dim: int = 0, cache_size: int = 0):
        super().__init__(cache_size=cache_size)
        self.loc, self.scale = loc, scale
        self._event_dim = event_dim

    @property
    def event_dim(self) -> int:
        return self._event_dim

    @property
    def domain(self):
        if self._event_dim == 0:
            return constraints.real
        return constraints.independent(constraints.real, self._event_dim)

    codomain = domain

    def with_cache(self, cache_size: int = 1):
        if self._cache_size == cache_size:
            return self
        return AffineTransform(self.loc, self.scale, self._event_dim, cache_size=cache_size)

    def __eq__(self, other) -> bool:
        return (
            isinstance(other, AffineTransform)
            and _scalar_or_tensor_equal(self.loc, other.loc)
            and _scalar_or_tensor_equal(self.scale, other.scale)
        )

    @property
    def sign(self):
        if isinstance(self.scale, numbers.Real):
            return 1 if float(self.scale) > 0 else -1 if float(self.scale) < 0 else 0
        return self.scale.sign()

    def _call(self, x):
        return self.loc + self.scale * x

    def _inverse(self, y):
        return (y - self.loc) / self.scale

    def log_abs_det_jacobian(self, x, y):
        shape = tuple(x.shape)
        if isinstance(self.scale, numbers.Real):
            result = creation.full_like(x, math.log(abs(self.scale)))
        else:
            result = self.scale.abs().log()
        if self._event_dim:
            result = _sum_rightmost(result, self._event_dim)
            shape = shape[: len(shape) - self._event_dim]
        return result.expand(shape)

    def forward_shape(self, shape):
        return _broadcast_shape(
            shape, getattr(self.loc, "shape", ()), getattr(self.scale, "shape", ())
        )

    inverse_shape = forward_shape


class SoftmaxTransform(Transform):
    """Real vectors to the simplex by softmax over the last dim (not injective; the inverse
    returns log y, one of the preimages)."""

    domain = constraints.real_vector
    codomain = constraints.simplex

    def __eq__(self, other) -> bool:
        return isinstance(other, SoftmaxTransform)

    def _call(self, x):
        return x.softmax(-1)

    def _inverse(self, y):
        return y.log()

    def forward_shape(self, shape):
        if len(shape) < 1:
            raise ValueError("Too few dimensions on input")
        return Size(shape)

    inverse_shape = forward_shape


class StickBreakingTransform(Transform):
    """A bijection from vectors of length K-1 to the K-simplex: the k-th entry breaks off the
    fraction ``z_k = sigmoid(x_k - log(K-1-k))`` of the stick left, so x = 0 maps to the
    uniform point. The Jacobian is triangular: log |det| = Σ_k log y_k + log(1 - z_k)."""

    domain = constraints.real_vector
    codomain = constraints.simplex
    bijective = True

    def __eq__(self, other) -> bool:
        return isinstance(other, StickBreakingTransform)

    @staticmethod
    def _shifted(x):
        """x_k - log(K-1-k): the logits of the fractions broken off."""
        n = x.shape[-1]
        remaining = n + 1 - x.new_ones(n).cumsum(-1)  # n, n-1, ..., 1
        return x - remaining.log()

    def _call(self, x):
        z = _clipped_sigmoid(self._shifted(x))
        left = (1 - z).cumprod(-1)  # the stick left after each break
        return F.pad(z, (0, 1), value=1.0) * F.pad(left, (1, 0), value=1.0)

    def _inverse(self, y):
        head = y[..., :-1]
        n = head.shape[-1]
        remaining = n + 1 - y.new_ones(n).cumsum(-1)
        left = (1 - head.cumsum(-1)).clamp(min=finfo(y.dtype).tiny)
        # z_k = y_k / (y_k + left_k), so logit(z_k) = log y_k - log left_k
        return head.log() - left.log() + remaining.log()

    def log_abs_det_jacobian(self, x, y):
        s = self._shifted(x)
        # log(1 - sigmoid(s)) = logsigmoid(s) - s
        return (F.logsigmoid(s) - s + y[..., :-1].log()).sum(-1)

    def forward_shape(self, shape):
        if len(shape) < 1:
            raise ValueError("Too few dimensions on input")
        return Size(tuple(shape[:-1]) + (shape[-1] + 1,))

    def inverse_shape(self, shape):
        if len(shape) < 1:
            raise ValueError("Too few dimensions on input")
        return Size(tuple(shape[:-1]) + (shape[-1] - 1,))


class CumulativeDistributionTransform(Transform):
    """y = F(x), the cdf of a one-dimensional ``distribution`` (onto the unit interval);
    log |dy/dx| = the distribution's ``log_prob(x)``. The inverse is its ``icdf``."""

    bijective = True
    codomain = constraints.unit_interval
    sign = +1

    def __init__(self, distribution, cache_size: int = 0):
        super().__init__(cache_size=cache_size)
        self.distribution = distribution

    @property
    def domain(self):
        return self.distribution.support

    def with_cache(self, cache_size: int = 1):
        if self._cache_size == cache_size:
            return self
        return CumulativeDistributionTransform(self.distribution, cache_size=cache_size)

    def _call(self, x):
        return self.distribution.cdf(x)

    def _inverse(self, y):
        return self.distribution.icdf(y)

    def log_abs_det_jacobian(self, x, y):
        return self.distribution.log_prob(x)
