"""Rprop: resilient backpropagation, steps from gradient signs only."""

from __future__ import annotations

import numbers

from .optimizer import Optimizer, addcmul_, count_step, new_step, zeros_state


class Rprop(Optimizer):
    r"""Rprop (Riedmiller & Braun, 1993), as ``torch.optim.Rprop``.

    Each coordinate keeps its own step size :math:`\Delta`, grown by :math:`\eta_+` while its
    gradient keeps its sign and shrunk by :math:`\eta_-` when the sign flips:

    .. math::
        \Delta_t &= \operatorname{clamp}(\Delta_{t-1} \cdot
            \{\eta_+ \text{ if } g_t g_{t-1} > 0;\ \eta_- \text{ if } < 0;\ 1 \text{ else}\},
            \Delta_{min}, \Delta_{max}) \\
        g_t &\leftarrow 0 \text{ where the sign flipped} \\
        \theta_t &= \theta_{t-1} - \operatorname{sign}(g_t)\, \Delta_t

    State: ``step``, ``prev`` (the previous :math:`g`, zeroed where it flipped) and
    ``step_size`` (:math:`\Delta`, starting at ``lr``).

    Args:
        params: the tensors to optimize, or param groups.
        lr: the initial step size (default 1e-2).
        etas: :math:`(\eta_-, \eta_+)`, with :math:`0 < \eta_- < 1 < \eta_+`
            (default (0.5, 1.2)).
        step_sizes: :math:`(\Delta_{min}, \Delta_{max})` (default (1e-6, 50)).
        maximize: maximize the objective instead of minimizing it.
    """

    _state_keys = ("step", "prev", "step_size")
    _tensor_step = True  # state["step"]: a float32 0-d CPU tensor, as in PyTorch

    # PyTorch's order of a group's hyperparameters (groups and state dicts keep it)
    _key_order = "lr etas step_sizes foreach maximize differentiable capturable"

    def __init__(
        self,
        params,
        lr: float = 1e-2,
        etas: tuple[float, float] = (0.5, 1.2),
        step_sizes: tuple[float, float] = (1e-6, 50),
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        capturable: bool = False,
        differentiable: bool = False,
    ):
        defaults = dict(lr=lr, etas=etas, step_sizes=step_sizes, maximize=maximize)
        super().__init__(
            params,
            dict(defaults, foreach=foreach, capturable=capturable, differentiable=differentiable),
        )

    def _validate(self, group: dict, where: str) -> None:
        super()._validate(group, where)
        if "etas" in group:
            etas = group["etas"]
            if not _real_pair(etas) or not 0.0 < etas[0] < 1.0 < etas[1]:
                raise ValueError(
                    f"Invalid eta values: {etas!r} in {where}; Rprop expects etas = "
                    f"(etaminus, etaplus) with 0 < etaminus < 1 < etaplus"
                )
        if "step_sizes" in group and not _real_pair(group["step_sizes"]):
            raise ValueError(
                f"Invalid step_sizes: {group['step_sizes']!r} in {where}; Rprop expects a pair "
                f"(min_step, max_step) of numbers"
            )

    def _init_state(self, p, state, group) -> None:
        state["step"] = new_step()
        state["prev"] = zeros_state(p)
        state["step_size"] = zeros_state(p, group["lr"])

    def _update(self, p, state, group) -> None:
        xp = p.device.xp
        (etaminus, etaplus), (lo, hi) = group["etas"], group["step_sizes"]
        count_step(state)
        g = p.grad._data
        g = -g if group["maximize"] else g.copy()
        prev, step_size = state["prev"]._data, state["step_size"]._data
        sign = xp.sign(g * prev)
        factor = xp.where(sign > 0, etaplus, xp.where(sign < 0, etaminus, 1.0))
        step_size *= factor.astype(step_size.dtype, copy=False)
        xp.clip(step_size, lo, hi, out=step_size)
        g[sign < 0] = 0
        addcmul_(xp, p._data, xp.sign(g), step_size, -1)
        prev[...] = g


def _real_pair(value) -> bool:
    return (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in value)
    )
