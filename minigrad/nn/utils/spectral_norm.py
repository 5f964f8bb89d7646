"""``spectral_norm``/``remove_spectral_norm``: PyTorch's hook-based spectral normalization.

Prefer :func:`minigrad.nn.utils.parametrizations.spectral_norm`, PyTorch's newer API.
"""

from __future__ import annotations

from ...autograd.grad_mode import no_grad
from ..parameter import Parameter
from ._norms import (
    default_spectral_dim,
    power_iteration,
    random_unit,
    remove_norm_hook,
    sigma,
    weight_to_matrix,
)
from .weight_norm import _check_initialized


class SpectralNorm:
    """The forward pre-hook that sets ``module.<name> = <name>_orig / σ``, σ estimated by power
    iteration on the vectors ``<name>_u`` and ``<name>_v`` (one step per training forward)."""

    def __init__(self, name="weight", n_power_iterations=1, dim=0, eps=1e-12):
        if n_power_iterations <= 0:
            raise ValueError(
                "Expected n_power_iterations to be positive, but got "
                f"n_power_iterations={n_power_iterations}"
            )
        self.name, self.dim, self.n_power_iterations, self.eps = name, dim, n_power_iterations, eps

    def compute_weight(self, module, do_power_iteration: bool):
        weight = getattr(module, self.name + "_orig")
        u = getattr(module, self.name + "_u")
        v = getattr(module, self.name + "_v")
        weight_mat = weight_to_matrix(weight, self.dim)
        if do_power_iteration:
            power_iteration(weight_mat, u, v, self.n_power_iterations, self.eps, v_first=True)
            u, v = u.detach().clone(), v.detach().clone()
        return weight / sigma(weight_mat, u, v)

    @staticmethod
    def apply(module, name, n_power_iterations, dim, eps) -> SpectralNorm:
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, SpectralNorm) and hook.name == name:
                raise RuntimeError(
                    f"Cannot register two spectral_norm hooks on the same parameter {name}"
                )
        fn = SpectralNorm(name, n_power_iterations, dim, eps)
        if name not in module._parameters:  # (PyTorch's lookup: a KeyError naming it)
            raise KeyError(f"spectral_norm: {type(module).__name__} has no parameter {name!r}")
        weight = module._parameters[name]
        if weight is None:
            raise ValueError(f"`SpectralNorm` cannot be applied as parameter `{name}` is None")
        _check_initialized(weight, "SpectralNorm")
        with no_grad():
            h, w = weight_to_matrix(weight, dim).shape
            u, v = random_unit(weight, h, eps), random_unit(weight, w, eps)
        delattr(module, name)
        module.register_parameter(name + "_orig", weight)
        setattr(module, name, weight.detach())
        module.register_buffer(name + "_u", u)
        module.register_buffer(name + "_v", v)
        module.register_forward_pre_hook(fn)
        return fn

    def remove(self, module) -> None:
        with no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        delattr(module, self.name)
        delattr(module, self.name + "_u")
        delattr(module, self.name + "_v")
        delattr(module, self.name + "_orig")
        module.register_parameter(self.name, Parameter(weight.detach()))

    def __call__(self, module, inputs) -> None:
        setattr(module, self.name, self.compute_weight(module, module.training))


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    r"""Divide ``module.<name>`` by its spectral norm σ (Miyato et al., 2018) at every forward.

    The weight moves to ``<name>_orig``; buffers ``<name>_u``, ``<name>_v`` (random unit
    vectors at first) carry the power iteration, ``n_power_iterations`` steps per forward in
    training mode. ``dim`` (default 0, 1 for transposed convolutions) is the output dim.
    Returns the module.

    Example:
        >>> m = spectral_norm(nn.Linear(20, 40))
        >>> m.weight_u.shape
        minigrad.Size([40])
    """
    dim = default_spectral_dim(module) if dim is None else dim
    SpectralNorm.apply(module, name, n_power_iterations, dim, eps)
    return module


def remove_spectral_norm(module, name="weight"):
    """Undo :func:`spectral_norm`: ``<name>`` becomes a Parameter holding ``<name>_orig / σ``.

    Raises:
        ValueError: ``module`` has no spectral norm on ``name``.
    """
    return remove_norm_hook(module, SpectralNorm, name, "spectral_norm")
