"""Adadelta: step sizes from running averages of squared gradients and squared updates."""

from __future__ import annotations

from .optimizer import (
    Optimizer,
    add_,
    addcmul_,
    count_step,
    grad_with_decay,
    new_step,
    zeros_state,
)


class Adadelta(Optimizer):
    r"""Adadelta (Zeiler, 2012), as ``torch.optim.Adadelta``.

    For gradient :math:`g_t` (negated under ``maximize``, plus :math:`\lambda\theta_{t-1}` when
    ``weight_decay`` :math:`\lambda \ne 0`):

    .. math::
        v_t &= \rho\, v_{t-1} + (1 - \rho)\, g_t^2 \\
        \Delta_t &= \frac{\sqrt{u_{t-1} + \epsilon}}{\sqrt{v_t + \epsilon}}\, g_t \\
        u_t &= \rho\, u_{t-1} + (1 - \rho)\, \Delta_t^2 \\
        \theta_t &= \theta_{t-1} - \gamma\, \Delta_t

    State: ``step``, ``square_avg`` (:math:`v`) and ``acc_delta`` (:math:`u`).

    Args:
        params: the tensors to optimize, or param groups.
        lr: :math:`\gamma`, a factor on the update (default 1.0).
        rho: :math:`\rho`, the decay of the running averages, in [0, 1] (default 0.9).
        eps: :math:`\epsilon` (default 1e-6).
        weight_decay: :math:`\lambda`, an L2 penalty.
        maximize: maximize the objective instead of minimizing it.
    """

    _state_keys = ("step", "square_avg", "acc_delta")
    _tensor_step = True  # state["step"]: a float32 0-d CPU tensor, as in PyTorch

    # PyTorch's order of a group's hyperparameters (groups and state dicts keep it)
    _key_order = "lr rho eps weight_decay maximize capturable foreach differentiable"

    def __init__(
        self,
        params,
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        capturable: bool = False,
        differentiable: bool = False,
    ):
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
        super().__init__(
            params,
            dict(defaults, foreach=foreach, capturable=capturable, differentiable=differentiable),
        )

    def _init_state(self, p, state, group) -> None:
        state["step"] = new_step()
        state["square_avg"] = zeros_state(p)
        state["acc_delta"] = zeros_state(p)

    def _update(self, p, state, group) -> None:
        xp = p.device.xp
        rho, eps = group["rho"], group["eps"]
        count_step(state)
        g = grad_with_decay(p, group)
        v, u = state["square_avg"]._data, state["acc_delta"]._data
        tmp = xp.empty_like(v)
        v *= rho
        addcmul_(xp, v, g, g, 1 - rho, tmp)
        std = xp.add(v, eps)
        xp.sqrt(std, out=std)
        delta = xp.add(u, eps)
        xp.sqrt(delta, out=delta)
        delta /= std
        delta *= g
        u *= rho
        addcmul_(xp, u, delta, delta, 1 - rho, tmp)
        add_(xp, p._data, delta, -group["lr"], tmp)
