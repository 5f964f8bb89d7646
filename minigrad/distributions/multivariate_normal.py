"""The multivariate normal distribution, parameterized by a covariance, a precision or a
lower-triangular scale matrix."""

from __future__ import annotations

import math

from .. import creation, linalg
from ..ops import broadcast_tensors
from . import constraints
from .distribution import Distribution
from .utils import lazy_property, one_matrix


class MultivariateNormal(Distribution):
    """N(loc, Σ) on vectors of size k: give exactly one of ``covariance_matrix`` (Σ),
    ``precision_matrix`` (Σ⁻¹) or ``scale_tril`` (L with Σ = L·Lᵀ). ``rsample``: loc + L·ε."""

    arg_constraints = {
        "loc": constraints.real_vector,
        "covariance_matrix": constraints.positive_definite,
        "precision_matrix": constraints.positive_definite,
        "scale_tril": constraints.lower_cholesky,
    }
    support = constraints.real_vector
    has_rsample = True

    def __init__(
        self, loc, covariance_matrix=None, precision_matrix=None, scale_tril=None,
        validate_args=None,
    ):  # fmt: skip
        matrix = one_matrix(covariance_matrix, precision_matrix, scale_tril)
        if loc.ndim < 1:
            raise ValueError("loc must be at least one-dimensional.")
        if matrix.ndim < 2:
            raise ValueError(
                "scale_tril, covariance_matrix or precision_matrix must be at least "
                "two-dimensional, with optional leading batch dimensions"
            )
        k = loc.shape[-1]
        batch = broadcast_tensors(loc[..., 0], matrix[..., 0, 0])[0].shape
        self.loc = loc.expand(*batch, k)
        name = "scale_tril" if scale_tril is not None else "covariance_matrix"
        name = "precision_matrix" if precision_matrix is not None else name
        setattr(self, name, matrix.expand(*batch, k, k))  # as given, broadcast to the batch
        super().__init__(batch, (k,), validate_args=validate_args)  # checks it (ValueError)
        if scale_tril is not None:
            self._unbroadcasted_scale_tril = scale_tril
        elif covariance_matrix is not None:
            self._unbroadcasted_scale_tril = linalg.cholesky(covariance_matrix)
        else:
            self._unbroadcasted_scale_tril = linalg.cholesky(linalg.inv(precision_matrix))

    @lazy_property
    def scale_tril(self):
        return self._unbroadcasted_scale_tril.expand(*self.batch_shape, *self.event_shape * 2)

    @lazy_property
    def covariance_matrix(self):
        return self._covariance.expand(*self.batch_shape, *self.event_shape * 2)

    @lazy_property
    def precision_matrix(self):
        tril = self._unbroadcasted_scale_tril
        eye = creation.eye(tril.shape[-1], dtype=tril.dtype, device=tril.device)
        tril_inv = linalg.solve_triangular(tril, eye, upper=False)
        return (tril_inv.mT @ tril_inv).expand(*self.batch_shape, *self.event_shape * 2)

    def expand(self, batch_shape, _instance=None):
        """``loc`` and the given matrix broadcast to ``batch_shape`` (views; the Cholesky
        factor is shared)."""
        batch_shape = tuple(batch_shape)
        k = self.event_shape[0]
        given = {
            name: self.__dict__[name].expand(*batch_shape, k, k)
            for name in ("covariance_matrix", "precision_matrix", "scale_tril")
            if name in self.__dict__
        }
        return self._expanded(
            batch_shape, _instance, loc=self.loc.expand(*batch_shape, k),
            _unbroadcasted_scale_tril=self._unbroadcasted_scale_tril, **given,
        )  # fmt: skip

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        tril = self._unbroadcasted_scale_tril
        return tril.pow(2).sum(-1).expand(*self._batch_shape, *self._event_shape)

    @property
    def _covariance(self):
        tril = self._unbroadcasted_scale_tril
        return tril @ tril.mT

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        eps = creation.randn(shape, dtype=self.loc.dtype, device=self.loc.device)
        return self.loc + (self._unbroadcasted_scale_tril @ eps.unsqueeze(-1)).squeeze(-1)

    def _half_log_det(self):
        return self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        diff = value - self.loc
        tril = self._unbroadcasted_scale_tril
        tril, diff = _broadcast_matrix_vector(tril, diff)
        whitened = linalg.solve(tril, diff.unsqueeze(-1)).squeeze(-1)  # L⁻¹(x - μ)
        mahalanobis = whitened.pow(2).sum(-1)
        k = self._event_shape[0]
        return -0.5 * (k * math.log(2 * math.pi) + mahalanobis) - self._half_log_det()

    def entropy(self):
        k = self._event_shape[0]
        entropy = 0.5 * k * (1.0 + math.log(2 * math.pi)) + self._half_log_det()
        return entropy.expand(*self._batch_shape) if self._batch_shape else entropy


def _broadcast_matrix_vector(matrix, vector):
    """``matrix`` (..., k, k) and ``vector`` (..., k) with their batch dims broadcast."""
    batch = broadcast_tensors(matrix[..., 0, 0], vector[..., 0])[0].shape
    k = vector.shape[-1]
    return matrix.expand(*batch, k, k), vector.expand(*batch, k)
