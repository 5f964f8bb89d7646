"""``weight_norm``/``remove_weight_norm``: PyTorch's hook-based weight normalization.

Prefer :func:`minigrad.nn.utils.parametrizations.weight_norm`, PyTorch's newer API.
"""

from __future__ import annotations

from ..._warnings import warn_user
from ..parameter import Parameter, UninitializedParameter
from ._norms import norm_except_dim, remove_norm_hook, weight_from_g_v


class WeightNorm:
    """The forward pre-hook that recomputes ``module.<name>`` from ``<name>_g`` and ``<name>_v``."""

    def __init__(self, name: str, dim: int):
        self.name = name
        self.dim = -1 if dim is None else dim

    def compute_weight(self, module):
        g = getattr(module, self.name + "_g")
        v = getattr(module, self.name + "_v")
        return weight_from_g_v(g, v, self.dim)

    @staticmethod
    def apply(module, name: str, dim: int) -> WeightNorm:
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, WeightNorm) and hook.name == name:
                raise RuntimeError(
                    f"Cannot register two weight_norm hooks on the same parameter {name}"
                )
        fn = WeightNorm(name, dim)
        weight = getattr(module, name)
        _check_initialized(weight, "weight_norm")
        del module._parameters[name]
        module.register_parameter(name + "_g", Parameter(norm_except_dim(weight, fn.dim).detach()))
        module.register_parameter(name + "_v", Parameter(weight.detach()))
        setattr(module, name, fn.compute_weight(module))
        module.register_forward_pre_hook(fn)
        return fn

    def remove(self, module) -> None:
        weight = self.compute_weight(module)
        delattr(module, self.name)
        del module._parameters[self.name + "_g"]
        del module._parameters[self.name + "_v"]
        setattr(module, self.name, Parameter(weight.detach()))

    def __call__(self, module, inputs) -> None:
        setattr(module, self.name, self.compute_weight(module))


def _check_initialized(weight, what: str) -> None:
    if isinstance(weight, UninitializedParameter):
        raise ValueError(
            f"The module passed to `{what}` can't have uninitialized parameters. Make sure to "
            f"run the dummy forward before applying {what}"
        )


def weight_norm(module, name: str = "weight", dim: int | None = 0):
    r"""Reparametrize ``module.<name>`` as :math:`w = g\, v / \|v\|` (Salimans & Kingma, 2016).

    Replaces the parameter by two, ``<name>_g`` (the magnitude, norm over every dim but
    ``dim``; the whole norm when ``dim`` is None) and ``<name>_v`` (the direction), and
    recomputes ``<name>`` before every forward. Returns the module.

    Example:
        >>> m = weight_norm(nn.Linear(20, 40), name="weight")
        >>> m.weight_g.shape, m.weight_v.shape
        (minigrad.Size([40, 1]), minigrad.Size([40, 20]))
    """
    warn_user(
        "`minigrad.nn.utils.weight_norm` is deprecated in favor of "
        "`minigrad.nn.utils.parametrizations.weight_norm` (as in PyTorch).",
        FutureWarning,
    )
    WeightNorm.apply(module, name, dim)
    return module


def remove_weight_norm(module, name: str = "weight"):
    """Undo :func:`weight_norm`: ``<name>`` becomes a plain Parameter with its current value.

    Raises:
        ValueError: ``module`` has no weight norm on ``name``.
    """
    return remove_norm_hook(module, WeightNorm, name, "weight_norm")
