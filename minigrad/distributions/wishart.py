"""The Wishart distribution over positive-definite matrices."""

from __future__ import annotations

import math

from .. import creation, linalg, ops
from .._typeinfo import finfo
from .._warnings import warn_user
from .._windows_indices import tril_indices
from ..ops import broadcast_tensors
from . import constraints
from .chi2 import Chi2
from .exp_family import ExponentialFamily
from .utils import lazy_property, one_matrix

_LOG_2 = math.log(2)


def _mvdigamma(x, p: int):
    """The multivariate digamma Σ_{i<p} ψ(x - i/2), the derivative of log Γ_p(x)."""
    halves = creation.arange(p, dtype=x.dtype, device=x.device) / 2
    return ops.digamma(x.unsqueeze(-1) - halves).sum(-1)


class Wishart(ExponentialFamily):
    """Wishart(``df`` ν, Σ) over p×p positive-definite matrices: the law of Σᵢ xᵢxᵢᵀ for ν
    draws xᵢ ~ N(0, Σ) when ν is an integer; density
    |X|^((ν-p-1)/2)·e^(-tr(Σ⁻¹X)/2) / (2^(νp/2)·|Σ|^(ν/2)·Γ_p(ν/2)), for real ν > p - 1.
    Σ is given by exactly one of ``covariance_matrix``, ``precision_matrix`` (Σ⁻¹) or
    ``scale_tril`` (L with Σ = LLᵀ).

    ``rsample`` uses the Bartlett decomposition X = (LA)(LA)ᵀ, A lower triangular with
    A_ii = √χ²(ν - i) and standard normals below the diagonal; draws that are not positive
    definite (possible for ν < p) are redrawn up to ``max_try_correction`` times.

    Example:
        >>> d = Wishart(torch.tensor(5.0), covariance_matrix=torch.eye(3))
        >>> d.sample().shape  # (3, 3)
    """

    support = constraints.positive_definite
    has_rsample = True
    _mean_carrier_measure = 0

    def __init__(
        self, df, covariance_matrix=None, precision_matrix=None, scale_tril=None,
        validate_args=None,
    ):  # fmt: skip
        param = one_matrix(covariance_matrix, precision_matrix, scale_tril)
        if param.dim() < 2:
            raise ValueError(
                "scale_tril must be at least two-dimensional, with optional leading batch "
                "dimensions"
            )
        p = param.shape[-1]
        if isinstance(df, (int, float)):
            self.df = creation.tensor(float(df), dtype=param.dtype, device=param.device)
            batch_shape = tuple(param.shape[:-2])
        else:
            batch_shape = tuple(broadcast_tensors(param[..., 0, 0], df)[0].shape)
            self.df = df.expand(batch_shape)
        if bool((self.df <= p - 1).any()):
            raise ValueError(f"Value of df={df} expected to be greater than ndim - 1 = {p - 1}.")
        if bool((self.df < p).any()):
            warn_user(
                "Low df values detected. Singular samples are highly likely to occur for "
                "ndim - 1 < df < ndim.",
            )
        matrix_shape = batch_shape + (p, p)
        if scale_tril is not None:
            self.scale_tril = param.expand(matrix_shape)
            self._unbroadcasted_scale_tril = scale_tril
        elif covariance_matrix is not None:
            self.covariance_matrix = param.expand(matrix_shape)
            self._unbroadcasted_scale_tril = linalg.cholesky(covariance_matrix)
        else:
            self.precision_matrix = param.expand(matrix_shape)
            self._unbroadcasted_scale_tril = linalg.cholesky(linalg.inv(precision_matrix))
        super().__init__(batch_shape, (p, p), validate_args=validate_args)

    @property
    def arg_constraints(self):
        return {
            "covariance_matrix": constraints.positive_definite,
            "precision_matrix": constraints.positive_definite,
            "scale_tril": constraints.lower_cholesky,
            "df": constraints.greater_than(self.event_shape[-1] - 1),
        }

    def expand(self, batch_shape, _instance=None):
        """``df`` and the scale matrix broadcast to ``batch_shape`` (views)."""
        batch_shape = tuple(batch_shape)
        matrix_shape = batch_shape + tuple(self.event_shape)
        given = {
            name: self.__dict__[name].expand(matrix_shape)
            for name in ("covariance_matrix", "precision_matrix", "scale_tril")
            if name in self.__dict__
        }
        return self._expanded(
            batch_shape, _instance, df=self.df.expand(batch_shape),
            _unbroadcasted_scale_tril=self._unbroadcasted_scale_tril.expand(matrix_shape),
            **given,
        )  # fmt: skip

    @lazy_property
    def scale_tril(self):
        return self._unbroadcasted_scale_tril.expand(*self.batch_shape, *self.event_shape)

    @lazy_property
    def covariance_matrix(self):
        tril = self._unbroadcasted_scale_tril
        return (tril @ tril.mT).expand(*self.batch_shape, *self.event_shape)

    @lazy_property
    def precision_matrix(self):
        tril = self._unbroadcasted_scale_tril
        eye = creation.eye(tril.shape[-1], dtype=tril.dtype, device=tril.device)
        tril_inv = linalg.solve_triangular(tril, eye, upper=False)
        return (tril_inv.mT @ tril_inv).expand(*self.batch_shape, *self.event_shape)

    def _df_matrix(self, values):
        return values.reshape(*self.batch_shape, 1, 1)

    @property
    def mean(self):
        return self._df_matrix(self.df) * self.covariance_matrix

    @property
    def mode(self):
        """(ν - p - 1)Σ where ν > p + 1, else NaN."""
        factor = self.df - self.event_shape[-1] - 1
        factor = ops.where(factor > 0, factor, math.nan)
        return self._df_matrix(factor) * self.covariance_matrix

    @property
    def variance(self):
        """Var X_ij = ν(Σ_ij² + Σ_ii Σ_jj)."""
        cov = self.covariance_matrix
        diag = cov.diagonal(dim1=-2, dim2=-1)
        return self._df_matrix(self.df) * (cov.pow(2) + diag.unsqueeze(-1) * diag.unsqueeze(-2))

    # -- sampling ---------------------------------------------------------------------------------
    def _bartlett(self, sample_shape):
        p = self.event_shape[-1]
        tril = self._unbroadcasted_scale_tril
        dofs = self.df.unsqueeze(-1) - creation.arange(p, dtype=tril.dtype, device=tril.device)
        chi2 = Chi2(dofs, validate_args=False).rsample(sample_shape)
        eps = finfo(chi2.dtype).eps
        shape = tuple(self._extended_shape(sample_shape))
        # as PyTorch: p(p-1)/2 normals laid out row by row below the diagonal
        rows, cols = tril_indices(p, p, -1, device=tril.device).unbind()
        below = creation.zeros(shape, dtype=tril.dtype, device=tril.device)
        below[..., rows, cols] = creation.randn(
            shape[:-2] + (p * (p - 1) // 2,), dtype=tril.dtype, device=tril.device
        )
        factor = tril @ (below + chi2.sqrt().clamp(min=eps).diag_embed())
        return factor @ factor.mT

    def rsample(self, sample_shape=(), max_try_correction=None):
        """A draw by the Bartlett decomposition (PyTorch's stream); singular draws are
        redrawn (with a warning) up to ``max_try_correction`` (10) times. PyTorch 2.13 tests
        for singularity the wrong way round: it warns on every valid draw and replaces it by
        a second one, so its values are those of minigrad's second draw."""
        tries = 10 if max_try_correction is None else max_try_correction
        sample = self._bartlett(sample_shape)
        singular = ~self.support.check(sample.detach())
        if bool(singular.any()):
            warn_user("Singular sample detected.")
            for _ in range(tries):
                fresh = self._bartlett(sample_shape)
                sample = ops.where(singular.unsqueeze(-1).unsqueeze(-1), fresh, sample)
                singular = ~self.support.check(sample.detach())
                if not bool(singular.any()):
                    break
        return sample

    # -- densities --------------------------------------------------------------------------------
    def _half_log_det_scale(self):
        """½·log|Σ| = Σ log L_ii."""
        return self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        nu, p = self.df, self.event_shape[-1]
        tril = self._unbroadcasted_scale_tril
        tril, value_b = _broadcast_matrices(tril, value)
        # tr(Σ⁻¹X) with Σ⁻¹X = L⁻ᵀ(L⁻¹X): two triangular solves
        half_solved = linalg.solve_triangular(tril, value_b, upper=False)
        trace = linalg.solve_triangular(tril.mT, half_solved, upper=True)
        trace = trace.diagonal(dim1=-2, dim2=-1).sum(-1)
        return (
            -nu * (p * _LOG_2 / 2 + self._half_log_det_scale())
            - ops.mvlgamma(nu / 2, p)
            + (nu - p - 1) / 2 * linalg.slogdet(value).logabsdet
            - trace / 2
        )

    def entropy(self):
        nu, p = self.df, self.event_shape[-1]
        return (
            (p + 1) * (p * _LOG_2 / 2 + self._half_log_det_scale())
            + ops.mvlgamma(nu / 2, p)
            - (nu - p - 1) / 2 * _mvdigamma(nu / 2, p)
            + nu * p / 2
        )

    # -- exponential family -----------------------------------------------------------------------
    @property
    def _natural_params(self):
        p = self.event_shape[-1]
        return -self.precision_matrix / 2, (self.df - p - 1) / 2

    def _log_normalizer(self, x, y):
        p = self.event_shape[-1]
        shifted = y + (p + 1) / 2
        return shifted * (p * _LOG_2 - linalg.slogdet(-2 * x).logabsdet) + ops.mvlgamma(shifted, p)


def _broadcast_matrices(a, b):
    batch = broadcast_tensors(a[..., 0, 0], b[..., 0, 0])[0].shape
    return a.expand(*batch, *a.shape[-2:]), b.expand(*batch, *b.shape[-2:])
