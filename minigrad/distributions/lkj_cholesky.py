"""The LKJ distribution over Cholesky factors of correlation matrices (Lewandowski, Kurowicka
and Joe, 2009)."""

from __future__ import annotations

import math

from .. import creation, ops
from .._typeinfo import finfo
from ..autograd import grad_mode
from . import constraints
from .beta import Beta
from .distribution import Distribution
from .utils import broadcast_all


class LKJCholesky(Distribution):
    """LKJCholesky(``dim`` D, ``concentration`` η): the lower Cholesky factor L of a D×D
    correlation matrix LLᵀ whose density is ∝ det(LLᵀ)^(η-1); over L that is
    Π_{i≥2} L_ii^(2η - 2 + D - i) (the Jacobian of L ↦ LLᵀ included). η = 1 is uniform over
    correlation matrices; larger η favours the identity.

    ``sample`` uses the onion method (Sec. 3.2 of the paper), vectorized over rows: the first i
    entries of row i are √y·u, y Beta-distributed and u uniform on the unit sphere, and its
    diagonal entry is √(1 - y).
    """

    arg_constraints = {"concentration": constraints.positive}
    support = constraints.corr_cholesky

    def __init__(self, dim: int, concentration=1.0, validate_args=None):
        if dim < 2:
            raise ValueError(
                f"Expected dim to be an integer greater than or equal to 2. Found dim={dim}."
            )
        self.dim = dim
        (self.concentration,) = broadcast_all(concentration)
        super().__init__(self.concentration.shape, (dim, dim), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        """``concentration`` broadcast to ``batch_shape`` (a view)."""
        return self._expanded(
            batch_shape, _instance, dim=self.dim,
            concentration=self.concentration.expand(batch_shape),
        )  # fmt: skip

    def _row_beta(self):
        """The Beta whose draw y_i is the squared norm of row i's off-diagonal part: for rows
        i ≥ 1, Beta(i/2, η + (D - 2)/2 - (i - 1)/2) (row 0 has none: its y is unused).

        PyTorch 2.13 uses Beta(i - ½, ...), which equals this only for row 1: its draws of
        rows i ≥ 2 do not have LKJ's marginals (each correlation is 2·Beta(b, b) - 1 with
        b = η - 1 + D/2); the tests check these do."""
        eta = self.concentration.detach()
        offset = creation.arange(self.dim - 1, dtype=eta.dtype, device=eta.device)
        offset = ops.cat([creation.zeros(1, dtype=eta.dtype, device=eta.device), offset])
        marginal = eta + 0.5 * (self.dim - 2)
        return Beta(0.5 * offset + 0.5, marginal.unsqueeze(-1) - 0.5 * offset, validate_args=False)

    def sample(self, sample_shape=()):
        with grad_mode.no_grad():
            y = self._row_beta().sample(sample_shape).unsqueeze(-1)
            shape = self._extended_shape(sample_shape)
            normal = creation.randn(shape, dtype=y.dtype, device=y.device).tril(-1)
            norms = normal.norm(dim=-1, keepdim=True)
            sphere = normal / ops.where(norms > 0, norms, 1.0)  # row 0 stays zero
            w = y.sqrt() * sphere
            tiny = finfo(w.dtype).tiny
            diagonal = (1 - w.pow(2).sum(-1)).clamp(min=tiny).sqrt()
            return w + diagonal.diag_embed()

    def log_prob(self, value):
        """Σ_{i≥2} (2η - 2 + D - i)·log L_ii minus the log of the normalizer
        (D - 1)/2·log π + log Γ_{D-1}(η + (D - 2)/2) - (D - 1)·log Γ(η + (D - 1)/2)."""
        if self._validate_args:
            self._validate_sample(value)
        eta, dim = self.concentration, self.dim
        diagonal = value.diagonal(dim1=-1, dim2=-2)[..., 1:]
        order = creation.arange(2, dim + 1, dtype=eta.dtype, device=eta.device)
        order = 2 * (eta - 1).unsqueeze(-1) + dim - order
        unnormalized = (order * diagonal.log()).sum(-1)
        dm1 = dim - 1
        alpha = eta + 0.5 * dm1
        normalizer = (
            0.5 * dm1 * math.log(math.pi) + ops.mvlgamma(alpha - 0.5, dm1) - ops.lgamma(alpha) * dm1
        )
        return unnormalized - normalizer
