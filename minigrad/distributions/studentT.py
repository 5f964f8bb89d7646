# ruff: noqa: N999 - torch.distributions.studentT is the module name PyTorch users import
"""Student's t distribution."""

from __future__ import annotations

import math

from .. import creation, ops
from ..autograd import grad_mode
from . import constraints
from .distribution import Distribution
from .gamma import standard_gamma, standard_gamma_rsample
from .utils import broadcast_all


class StudentT(Distribution):
    """Student's t with ``df`` ν, ``loc`` and ``scale``. ``sample``: loc + scale·z/√(χ²_ν/ν);
    ``rsample`` the same, differentiable in ν through the chi-squared (gamma) draw."""

    arg_constraints = {
        "df": constraints.positive,
        "loc": constraints.real,
        "scale": constraints.positive,
    }
    support = constraints.real
    has_rsample = True

    def __init__(self, df, loc=0.0, scale=1.0, validate_args=None):
        self.df, self.loc, self.scale = broadcast_all(df, loc, scale)
        super().__init__(self.df.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        """``df``, ``loc`` and ``scale`` broadcast to ``batch_shape`` (views)."""
        return self._expanded(
            batch_shape, _instance, df=self.df.expand(batch_shape),
            loc=self.loc.expand(batch_shape), scale=self.scale.expand(batch_shape),
        )  # fmt: skip

    @property
    def mean(self):
        return ops.where(self.df > 1, self.loc, float("nan"))

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        df, s2 = self.df, self.scale.pow(2)
        finite = s2 * df / ops.where(df > 2, df - 2, 1.0)
        return ops.where(df > 2, finite, ops.where(df > 1, float("inf"), float("nan")))

    def sample(self, sample_shape=()):
        shape = tuple(self._extended_shape(sample_shape))
        with grad_mode.no_grad():
            df = self.df.detach()
            z = creation.randn(shape, dtype=df.dtype, device=df.device)
            chi2 = standard_gamma(0.5 * df, shape) / 0.5  # PyTorch's order and formula
            return self.loc.detach() + self.scale.detach() * (z * (chi2 / df).rsqrt())

    def rsample(self, sample_shape=()):
        shape = tuple(self._extended_shape(sample_shape))
        df = self.df
        z = creation.randn(shape, dtype=df.dtype, device=df.device)
        chi2 = standard_gamma_rsample(0.5 * df, shape) / 0.5
        return self.loc + self.scale * (z * (chi2 / df).rsqrt())

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        df = self.df
        y = (value - self.loc) / self.scale
        z = (
            self.scale.log()
            + 0.5 * df.log()
            + 0.5 * math.log(math.pi)
            + ops.lgamma(0.5 * df)
            - ops.lgamma(0.5 * (df + 1.0))
        )
        return -0.5 * (df + 1.0) * (y * y / df).log1p() - z

    def entropy(self):
        df = self.df
        lbeta = ops.lgamma(0.5 * df) + math.lgamma(0.5) - ops.lgamma(0.5 * (df + 1))
        return (
            self.scale.log()
            + 0.5 * (df + 1) * (ops.digamma(0.5 * (df + 1)) - ops.digamma(0.5 * df))
            + 0.5 * df.log()
            + lbeta
        )
