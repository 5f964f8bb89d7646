"""Transforms onto sets of matrices: lower Cholesky factors, positive-definite matrices and
Cholesky factors of correlation matrices (``torch.distributions.transforms``' matrix ones)."""

from __future__ import annotations

import math

from .. import creation
from .._typeinfo import finfo
from ..nn import functional as F
from ..ops._size import Size
from . import constraints
from ._transform_base import Transform


class LowerCholeskyTransform(Transform):
    """Square matrices to lower-triangular ones with a positive diagonal: the strictly lower
    part kept, the diagonal exponentiated (no log-determinant, as in PyTorch)."""

    domain = constraints.independent(constraints.real, 2)
    codomain = constraints.lower_cholesky

    def __eq__(self, other) -> bool:
        return isinstance(other, LowerCholeskyTransform)

    def _call(self, x):
        return x.tril(-1) + x.diagonal(dim1=-2, dim2=-1).exp().diag_embed()

    def _inverse(self, y):
        return y.tril(-1) + y.diagonal(dim1=-2, dim2=-1).log().diag_embed()


class PositiveDefiniteTransform(Transform):
    """Square matrices to symmetric positive-definite ones: ``L Lᵀ`` with ``L`` from
    :class:`LowerCholeskyTransform` (no log-determinant, as in PyTorch)."""

    domain = constraints.independent(constraints.real, 2)
    codomain = constraints.positive_definite

    def __eq__(self, other) -> bool:
        return isinstance(other, PositiveDefiniteTransform)

    def _call(self, x):
        lower = LowerCholeskyTransform()(x)
        return lower @ lower.mT

    def _inverse(self, y):
        from .. import linalg

        return LowerCholeskyTransform().inv(linalg.cholesky(y))


class CorrCholeskyTransform(Transform):
    """Vectors of length D(D-1)/2 to Cholesky factors of D×D correlation matrices (LKJ priors).

    The vector fills the strictly lower triangle row by row (PyTorch's order) after a tanh,
    giving partial correlations z in (-1, 1); each row is then built by stick-breaking on
    squared lengths: ``L_ij = z_ij · sqrt(r_ij)`` with ``r_ij = 1 - Σ_{k<j} L_ik²`` the squared
    length left, and ``L_ii = sqrt(r_ii)``, so every row has unit norm. The Jacobian of z ↦ L
    is triangular with entries sqrt(r_ij): log |det| = Σ_{j<i} ½ log r_ij plus tanh's term.
    """

    domain = constraints.real_vector
    codomain = constraints.corr_cholesky
    bijective = True

    def __eq__(self, other) -> bool:
        return isinstance(other, CorrCholeskyTransform)

    @staticmethod
    def _size(n: int) -> int:
        size = round((0.25 + 2 * n) ** 0.5 + 0.5)
        if size * (size - 1) // 2 != n:
            raise ValueError("Input is not a flattened lower-diagonal number")
        return size

    @staticmethod
    def _scatter(n: int, size: int, like):
        """The 0/1 matrix mapping the vector onto the flattened strictly lower triangle."""
        rows = []
        for i in range(size):
            for j in range(i):
                rows.append(i * size + j)
        scatter = creation.zeros(size * size, n, dtype=like.dtype, device=like.device)
        if n:
            scatter[rows, list(range(n))] = 1.0
        return scatter

    def _call(self, x):
        n = x.shape[-1]
        size = self._size(n)
        z = x.tanh()
        lower = (z @ self._scatter(n, size, x).mT).reshape(tuple(x.shape[:-1]) + (size, size))
        eye = creation.eye(size, dtype=x.dtype, device=x.device)
        z_full = lower + eye  # z_ii = 1: the diagonal takes the whole length left
        left = F.pad((1 - z_full.pow(2)).cumprod(-1)[..., :-1], (1, 0), value=1.0)
        # above the diagonal left = 0 and z = 0; the clamp keeps sqrt's gradient finite there
        return z_full * left.clamp(min=finfo(x.dtype).tiny).sqrt()

    def _inverse(self, y):
        size = y.shape[-1]
        n = size * (size - 1) // 2
        left = 1 - F.pad(y.pow(2).cumsum(-1)[..., :-1], (1, 0), value=0.0)
        info = finfo(y.dtype)
        z = (y / left.clamp(min=info.tiny).sqrt()).tril(-1).clamp(-1 + info.eps, 1 - info.eps)
        flat = z.reshape(tuple(y.shape[:-2]) + (size * size,))
        return (flat @ self._scatter(n, size, y)).atanh()

    def log_abs_det_jacobian(self, x, y):
        size = y.shape[-1]
        left = 1 - F.pad(y.pow(2).cumsum(-1)[..., :-1], (1, 0), value=0.0)
        mask = creation.ones(size, size, dtype=y.dtype, device=y.device).tril(-1)
        stick = (0.5 * left.clamp(min=finfo(y.dtype).tiny).log() * mask).sum((-2, -1))
        tanh = (2.0 * (math.log(2.0) - x - F.softplus(-2.0 * x))).sum(-1)
        return stick + tanh

    def forward_shape(self, shape):
        if len(shape) < 1:
            raise ValueError("Too few dimensions on input")
        size = self._size(shape[-1])
        return Size(tuple(shape[:-1]) + (size, size))

    def inverse_shape(self, shape):
        if len(shape) < 2:
            raise ValueError("Too few dimensions on input")
        if shape[-1] != shape[-2]:
            raise ValueError("Input is not square")
        size = shape[-1]
        return Size(tuple(shape[:-2]) + (size * (size - 1) // 2,))
