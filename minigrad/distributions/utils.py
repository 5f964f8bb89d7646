"""Helpers shared by the distributions (``torch.distributions.utils``)."""

from __future__ import annotations

import numbers

from .. import creation, dtypes
from .._typeinfo import finfo
from ..ops import broadcast_tensors
from ..overrides import is_tensor_like  # noqa: F401 - PyTorch's module has it too
from ..tensor import Tensor


def broadcast_all(*values):
    """The values as tensors of one broadcast shape; numbers take the dtype and device of the
    tensors among them (the default float dtype when there are none)."""
    tensors = [v for v in values if isinstance(v, Tensor)]
    for v in values:
        if not isinstance(v, (Tensor, numbers.Number)):
            raise ValueError("Input arguments must all be instances of numbers.Number or Tensor.")
    ref = tensors[0] if tensors else None
    dtype = (
        ref.dtype if ref is not None and ref.dtype.is_floating_point else dtypes.get_default_dtype()
    )
    device = ref.device if ref is not None else None
    as_tensors = [
        v if isinstance(v, Tensor) else creation.tensor(v, dtype=dtype, device=device)
        for v in values
    ]
    return broadcast_tensors(*as_tensors)


def clamp_probs(probs):
    """Probabilities kept inside (eps, 1 - eps), so that their logarithms stay finite."""
    eps = finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def logits_to_probs(logits, is_binary: bool = False):
    """Sigmoid of binary logits, softmax of categorical logits (over the last dim)."""
    return logits.sigmoid() if is_binary else logits.softmax(-1)


def probs_to_logits(probs, is_binary: bool = False):
    """log(p / (1 - p)) for binary probabilities, log(p) for categorical ones (clamped)."""
    clamped = clamp_probs(probs)
    return (clamped.log() - (-clamped).log1p()) if is_binary else clamped.log()


class lazy_property:  # noqa: N801 - torch.distributions.utils.lazy_property
    """A property computed on first access and then stored on the instance (so that a
    constructor may also set it directly, as Wishart's given parameter)."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        self.__doc__ = wrapped.__doc__

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        value = self.wrapped(instance)
        instance.__dict__[self.wrapped.__name__] = value
        return value


class ProbsOrLogits:
    """A family given by exactly one of ``probs`` and ``logits`` (Bernoulli, Categorical, ...).
    As PyTorch, only the one given is stored on the instance and the other is derived on first
    use, so that ``repr`` and ``expand`` show the parametrization the user chose."""

    _is_binary = True  # sigmoid / log-odds; False: softmax / log over the last dim

    def _given(self, probs, logits):
        """Store whichever of ``probs`` and ``logits`` was given (``ValueError`` unless exactly
        one was) and return it."""
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        name = "probs" if probs is not None else "logits"
        (value,) = broadcast_all(probs if probs is not None else logits)
        self.__dict__[name] = value
        return value

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=self._is_binary)

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=self._is_binary)

    @property
    def param_shape(self):
        """The shape of ``probs`` (and of ``logits``)."""
        return self._param.shape

    @property
    def _param(self):
        """The parametrization the instance stores (PyTorch's ``_param``)."""
        return self.__dict__["probs"] if "probs" in self.__dict__ else self.__dict__["logits"]

    def _given_expanded(self, shape):
        """The stored parametrization broadcast to ``shape``, as ``expand``'s keywords."""
        return {
            k: self.__dict__[k].expand(shape) for k in ("probs", "logits") if k in self.__dict__
        }


def one_matrix(covariance_matrix, precision_matrix, scale_tril):
    """The one of the three parametrizations of a positive-definite matrix that was given
    (MultivariateNormal, Wishart): ``ValueError`` unless exactly one was."""
    given = [m for m in (covariance_matrix, precision_matrix, scale_tril) if m is not None]
    if len(given) != 1:
        raise ValueError(
            "Exactly one of covariance_matrix or precision_matrix or scale_tril may be specified."
        )
    return given[0]


euler_constant = 0.5772156649015329  # Euler–Mascheroni constant (torch.distributions.utils)


def _sum_rightmost(value, dim: int):
    """``value`` summed over its rightmost ``dim`` dims (unchanged for ``dim <= 0``)."""
    if dim <= 0:
        return value
    return value.reshape(tuple(value.shape[: value.dim() - dim]) + (-1,)).sum(-1)


def _standard_normal(shape, dtype, device):
    """Standard normal draws of ``shape`` (PyTorch's helper: ``empty(shape).normal_()``)."""
    return creation.empty(shape, dtype=dtype, device=device).normal_()


def _tril_mask(n: int, diag: int, device):
    arange = creation.arange(n, device=device)
    return arange < arange.view(-1, 1) + (diag + 1)


def tril_matrix_to_vec(mat, diag: int = 0):
    """The lower-triangular elements (below diagonal ``diag``) of a (batch of) D×D matrix, in
    row order."""
    n = mat.shape[-1]
    if diag < -n or diag >= n:
        raise ValueError(f"diag ({diag}) provided is outside [{-n}, {n - 1}].")
    return mat[..., _tril_mask(n, diag, mat.device)]


def vec_to_tril_matrix(vec, diag: int = 0):
    """The D×D lower-triangular matrix (below diagonal ``diag``) whose elements, in row order,
    are ``vec``'s last dimension (the inverse of :func:`tril_matrix_to_vec`)."""
    k = vec.shape[-1]
    n = (-(1 + 2 * diag) + ((1 + 2 * diag) ** 2 + 8 * k + 4 * abs(diag) * (diag + 1)) ** 0.5) / 2
    if round(n) - n > finfo(vec.dtype).eps:
        raise ValueError(
            f"The size of last dimension is {k} which cannot be expressed as "
            "the lower triangular part of a square D x D matrix."
        )
    n = round(n)
    mat = vec.new_zeros(tuple(vec.shape[:-1]) + (n, n))
    mat[..., _tril_mask(n, diag, vec.device)] = vec
    return mat
