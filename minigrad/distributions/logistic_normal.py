"""The logistic-normal distribution on the simplex: a Normal pushed through
:class:`StickBreakingTransform` (``torch.distributions.LogisticNormal``)."""

from __future__ import annotations

from . import constraints
from .normal import Normal
from .transformed_distribution import TransformedDistribution
from .transforms import StickBreakingTransform


class LogisticNormal(TransformedDistribution):
    """Draws ``y`` on the (K+1)-simplex with ``StickBreakingTransform().inv(y)`` distributed as
    Normal(``loc``, ``scale``) over K-vectors; ``rsample`` is differentiable. A scalar ``loc``
    gives a 2-simplex (the base is expanded to one element, as in PyTorch).

    Example:
        >>> d = LogisticNormal(torch.zeros(2), torch.ones(2))  # over 3 proportions
        >>> d.rsample().sum()  # 1
    """

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        base = Normal(loc, scale, validate_args=validate_args)
        if not base.batch_shape:
            base = base.expand((1,))
        super().__init__(base, StickBreakingTransform(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = _instance if _instance is not None else type(self).__new__(type(self))
        return super().expand(batch_shape, _instance=new)

    @property
    def loc(self):
        return self.base_dist.base_dist.loc

    @property
    def scale(self):
        return self.base_dist.base_dist.scale
