"""The multivariate normal with a low-rank-plus-diagonal covariance, Σ = W·Wᵀ + diag(D), whose
density costs O(k·r²) instead of O(k³) through the capacitance matrix C = I + Wᵀ D⁻¹ W."""

from __future__ import annotations

import math

from .. import creation, linalg
from ..ops import broadcast_tensors
from . import constraints
from .distribution import Distribution


class LowRankMultivariateNormal(Distribution):
    """N(loc, W·Wᵀ + diag(D)) on vectors of size k, with ``cov_factor`` W (…, k, r) and
    ``cov_diag`` D (…, k) positive. ``rsample``: loc + W·ε₁ + √D·ε₂ (r + k standard normals).

    By Woodbury's identity, with C = I + Wᵀ D⁻¹ W: log det Σ = log det C + Σ log D, and
    xᵀΣ⁻¹x = xᵀD⁻¹x - (WᵀD⁻¹x)ᵀ C⁻¹ (WᵀD⁻¹x)."""

    arg_constraints = {
        "loc": constraints.real_vector,
        "cov_factor": constraints.independent(constraints.real, 2),
        "cov_diag": constraints.independent(constraints.positive, 1),
    }
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, cov_factor, cov_diag, validate_args=None):
        if loc.ndim < 1:
            raise ValueError("loc must be at least one-dimensional.")
        k = loc.shape[-1]
        if cov_factor.ndim < 2:
            raise ValueError(
                "cov_factor must be at least two-dimensional, with optional leading batch "
                "dimensions"
            )
        if tuple(cov_factor.shape[-2:-1]) != (k,):
            raise ValueError(
                f"cov_factor must be a batch of matrices with shape {k} x m, got "
                f"{list(cov_factor.shape)}"
            )
        if tuple(cov_diag.shape[-1:]) != (k,):
            raise ValueError(f"cov_diag must be a batch of vectors with shape ({k},)")
        loc_, factor_first, diag_ = broadcast_tensors(loc, cov_factor[..., 0], cov_diag)
        batch = tuple(loc_.shape[:-1])
        self.loc, self.cov_diag = loc_, diag_
        self.cov_factor = cov_factor.expand(*batch, k, cov_factor.shape[-1])
        super().__init__(batch, (k,), validate_args=validate_args)

    # -- Woodbury pieces --------------------------------------------------------------------------
    def _capacitance(self):
        """C = I + Wᵀ D⁻¹ W, (…, r, r)."""
        w, d = self.cov_factor, self.cov_diag
        rank = w.shape[-1]
        eye = creation.eye(rank, dtype=w.dtype, device=w.device)
        return eye + (w.mT / d.unsqueeze(-2)) @ w

    def _log_det(self):
        return linalg.slogdet(self._capacitance()).logabsdet + self.cov_diag.log().sum(-1)

    # -- the distribution -------------------------------------------------------------------------
    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        return self.cov_factor.pow(2).sum(-1) + self.cov_diag

    @property
    def covariance_matrix(self):
        return self.cov_factor @ self.cov_factor.mT + self.cov_diag.diag_embed()

    @property
    def scale_tril(self):
        return linalg.cholesky(self.covariance_matrix)

    @property
    def precision_matrix(self):
        """D⁻¹ - D⁻¹ W C⁻¹ Wᵀ D⁻¹ (Woodbury)."""
        d_inv_w = self.cov_factor / self.cov_diag.unsqueeze(-1)
        correction = d_inv_w @ linalg.solve(self._capacitance(), d_inv_w.mT)
        return self.cov_diag.reciprocal().diag_embed() - correction

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        rank = self.cov_factor.shape[-1]
        dtype, device = self.loc.dtype, self.loc.device
        eps_w = creation.randn(tuple(shape[:-1]) + (rank,), dtype=dtype, device=device)
        eps_d = creation.randn(tuple(shape), dtype=dtype, device=device)
        return (
            self.loc
            + (self.cov_factor @ eps_w.unsqueeze(-1)).squeeze(-1)
            + (self.cov_diag.sqrt() * eps_d)
        )

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        diff = value - self.loc
        d_inv_diff = diff / self.cov_diag
        projected = (self.cov_factor.mT @ d_inv_diff.unsqueeze(-1)).squeeze(-1)  # Wᵀ D⁻¹ x
        capacitance = self._capacitance().expand(*projected.shape[:-1], *2 * projected.shape[-1:])
        solved = linalg.solve(capacitance, projected)
        mahalanobis = (diff * d_inv_diff).sum(-1) - (projected * solved).sum(-1)
        k = self.event_shape[0]
        return -0.5 * (k * math.log(2 * math.pi) + self._log_det() + mahalanobis)

    def entropy(self):
        k = self.event_shape[0]
        return 0.5 * k * (1.0 + math.log(2 * math.pi)) + 0.5 * self._log_det()

    def expand(self, batch_shape, _instance=None):
        batch_shape = tuple(batch_shape)
        k, rank = self.event_shape[0], self.cov_factor.shape[-1]
        return self._expanded(
            batch_shape, _instance, loc=self.loc.expand(*batch_shape, k),
            cov_diag=self.cov_diag.expand(*batch_shape, k),
            cov_factor=self.cov_factor.expand(*batch_shape, k, rank),
        )  # fmt: skip
