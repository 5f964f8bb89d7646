"""The chi-squared distribution: Gamma(df/2, 1/2)."""

from __future__ import annotations

from . import constraints
from .gamma import Gamma
from .utils import broadcast_all


class Chi2(Gamma):
    """Chi-squared with ``df`` degrees of freedom (a Gamma with α = df/2, β = 1/2)."""

    arg_constraints = {"df": constraints.positive}

    def __init__(self, df, validate_args=None):
        (df,) = broadcast_all(df)
        super().__init__(0.5 * df, 0.5 * df * 0 + 0.5, validate_args=validate_args)

    @property
    def df(self):
        return self.concentration * 2
