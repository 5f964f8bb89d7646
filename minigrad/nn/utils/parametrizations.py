"""``nn.utils.parametrizations``, as ``torch.nn.utils.parametrizations``: weight normalization,
spectral normalization and orthogonality written as parametrizations (see :mod:`.parametrize`)."""

from __future__ import annotations

from ...tensor import Tensor
from ..functional import normalize
from ..modules.module import Module
from . import parametrize
from ._norms import (
    default_spectral_dim,
    norm_except_dim,
    power_iteration,
    random_unit,
    sigma,
    weight_from_g_v,
    weight_to_matrix,
)
from ._orthogonal import MAPS, _Orthogonal


class _WeightNorm(Module):
    """``weight = g · v / ‖v‖``, from ``original0 = g`` and ``original1 = v``."""

    def __init__(self, dim: int | None = 0):
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g, weight_v):
        return weight_from_g_v(weight_g, weight_v, self.dim)

    def right_inverse(self, weight):
        return norm_except_dim(weight, self.dim), weight


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    r"""Weight normalization as a parametrization: ``module.<name>`` becomes
    :math:`g\, v / \|v\|`, with ``parametrizations.<name>.original0`` :math:`= g` (norm over every
    dim but ``dim``; the whole norm when ``dim`` is None) and ``original1`` :math:`= v`.

    PyTorch also renames ``<name>_g``/``<name>_v`` keys of an old-API state dict when loading;
    minigrad does not (load with the new names).

    Example:
        >>> m = weight_norm(nn.Linear(20, 40))
        >>> m.parametrizations.weight.original0.shape
        minigrad.Size([40, 1])
    """
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)
    return module


class _SpectralNorm(Module):
    """``weight / σ(weight)``, σ by power iteration on the buffers ``_u`` and ``_v`` (one step
    per training forward, 15 at creation); a vector is just normalized."""

    def __init__(self, weight: Tensor, n_power_iterations: int = 1, dim: int = 0,
                 eps: float = 1e-12):  # fmt: skip
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError(
                f"Dimension out of range (expected to be in range of [-{ndim}, {ndim - 1}] but "
                f"got {dim})"
            )
        if n_power_iterations <= 0:
            raise ValueError(
                "Expected n_power_iterations to be positive, but got "
                f"n_power_iterations={n_power_iterations}"
            )
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            weight_mat = weight_to_matrix(weight.detach(), self.dim)
            h, w = weight_mat.shape
            self.register_buffer("_u", random_unit(weight, h, eps))
            self.register_buffer("_v", random_unit(weight, w, eps))
            power_iteration(weight_mat, self._u, self._v, 15, eps, v_first=False)

    def forward(self, weight: Tensor) -> Tensor:
        if weight.ndim == 1:
            return normalize(weight, dim=0, eps=self.eps)
        weight_mat = weight_to_matrix(weight, self.dim)
        if self.training:
            power_iteration(weight_mat, self._u, self._v, self.n_power_iterations, self.eps,
                            v_first=False)  # fmt: skip
        return weight / sigma(weight_mat, self._u.detach().clone(), self._v.detach().clone())

    def right_inverse(self, value: Tensor) -> Tensor:
        return value


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, dim: int | None = None) -> Module:  # fmt: skip
    """Spectral normalization as a parametrization: ``module.<name>`` becomes ``original / σ``.

    ``dim`` defaults to 0 (1 for transposed convolutions). The power-iteration vectors are the
    buffers ``parametrizations.<name>.0._u`` and ``._v``.

    Raises:
        ValueError: ``module`` has no tensor ``name``.

    Example:
        >>> m = spectral_norm(nn.Linear(20, 40))
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    dim = default_spectral_dim(module) if dim is None else dim
    parametrize.register_parametrization(
        module, name, _SpectralNorm(weight, n_power_iterations, dim, eps)
    )
    return module


def orthogonal(module: Module, name: str = "weight", orthogonal_map: str | None = None, *,
               use_trivialization: bool = True) -> Module:  # fmt: skip
    """Constrain the matrix (or batch of matrices) ``module.<name>`` to be orthogonal.

    ``orthogonal_map`` is ``"matrix_exp"`` (default for square matrices), ``"cayley"`` or
    ``"householder"`` (default otherwise). With ``use_trivialization`` (the default) the
    orthogonal ``base`` is kept in a buffer and the parameter starts at ``−I``, as PyTorch.
    ``use_trivialization=False`` is not implemented.

    Raises:
        ValueError: no tensor ``name``, fewer than 2 dims, or an unknown map.
        NotImplementedError: ``use_trivialization=False``.

    Example:
        >>> m = orthogonal(nn.Linear(5, 5))
        >>> (m.weight @ m.weight.T - minigrad.eye(5)).abs().max() < 1e-5
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError(
            f"Expected a matrix or batch of matrices. Got a tensor of {weight.ndim} dimensions."
        )
    if orthogonal_map is None:
        square = weight.shape[-2] == weight.shape[-1]
        orthogonal_map = "matrix_exp" if square else "householder"
    if orthogonal_map not in MAPS:
        raise ValueError(
            f'orthogonal_map has to be one of "matrix_exp", "cayley", "householder". Got: '
            f"{orthogonal_map}"
        )
    if not use_trivialization:
        raise NotImplementedError(
            "nn.utils.parametrizations.orthogonal(use_trivialization=False) is not implemented "
            "in minigrad"
        )
    orth = _Orthogonal(weight, orthogonal_map, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module
