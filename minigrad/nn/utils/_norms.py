"""Helpers shared by weight normalization and spectral normalization (both of their APIs)."""

from __future__ import annotations

from ...autograd.grad_mode import no_grad
from ...creation import randn
from ...linalg import vector_norm
from ...tensor import Tensor
from ..functional import normalize
from ..modules.conv import _ConvTransposeNd


def norm_except_dim(v: Tensor, dim: int) -> Tensor:
    """The 2-norm of ``v`` over every dim but ``dim``, kept as size-1 dims (``torch.norm_except_dim``);
    ``dim=-1`` means the norm of the whole tensor (a 0-dim result)."""
    if dim == -1:
        return vector_norm(v)
    if not -v.ndim <= dim < v.ndim:  # (wrapping it would normalize over another dim)
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-v.ndim}, {v.ndim - 1}], but "
            f"got {dim}) (weight_norm's dim)"
        )
    dim = dim % v.ndim
    return vector_norm(v, 2, dim=tuple(d for d in range(v.ndim) if d != dim), keepdim=True)


def weight_from_g_v(g: Tensor, v: Tensor, dim: int) -> Tensor:
    """``v · g / ‖v‖`` with the norm taken over every dim but ``dim`` (``torch._weight_norm``)."""
    return v * (g / norm_except_dim(v, dim))


def weight_to_matrix(weight: Tensor, dim: int) -> Tensor:
    """``weight`` with ``dim`` moved first and the rest flattened: a (h, w) matrix."""
    if dim != 0:
        weight = weight.permute(dim, *(d for d in range(weight.ndim) if d != dim))
    return weight.reshape(weight.shape[0], -1)


def power_iteration(weight_mat: Tensor, u: Tensor, v: Tensor, steps: int, eps: float,
                    v_first: bool) -> None:  # fmt: skip
    """Run ``steps`` power iterations on ``weight_mat``, updating the vectors ``u`` and ``v`` in
    place (``v ← normalize(Wᵀu)``, ``u ← normalize(Wv)``; the old API updates v first), into
    their own memory as PyTorch's ``out=`` does (so a compiled model replays the update)."""
    with no_grad():
        for _ in range(steps):
            if v_first:
                v.copy_(normalize(weight_mat.t() @ u, dim=0, eps=eps))
            u.copy_(normalize(weight_mat @ v, dim=0, eps=eps))
            if not v_first:
                v.copy_(normalize(weight_mat.t() @ u, dim=0, eps=eps))


def sigma(weight_mat: Tensor, u: Tensor, v: Tensor) -> Tensor:
    """The spectral norm estimate ``uᵀ W v``."""
    return (u * (weight_mat @ v)).sum()


def random_unit(like: Tensor, n: int, eps: float) -> Tensor:
    """A random unit vector of length ``n`` on ``like``'s device and dtype."""
    return normalize(randn(n, dtype=like.dtype, device=like.device), dim=0, eps=eps)


def default_spectral_dim(module) -> int:
    """1 for transposed convolutions (their weight is (in, out, ...)), else 0, as PyTorch."""
    return 1 if isinstance(module, _ConvTransposeNd) else 0


def remove_norm_hook(module, hook_type: type, name: str, what: str):
    """Undo a hook-based normalization: run the ``hook_type`` hook's ``remove`` for tensor
    ``name`` and unregister it. Raises ValueError naming ``what`` when there is none."""
    for key, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, hook_type) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"{what} of '{name}' not found in {module}")
