"""ASGD: averaged stochastic gradient descent."""

from __future__ import annotations

from .optimizer import (
    Optimizer,
    add_,
    count_step,
    grad_with_decay,
    new_scalar_state,
    new_step,
    read_scalar_state,
    set_scalar_state,
    zeros_state,
)


class ASGD(Optimizer):
    r"""Averaged SGD (Polyak & Juditsky, 1992), as ``torch.optim.ASGD``.

    .. math::
        \theta_t &= (1 - \lambda\eta_{t-1})\,\theta_{t-1} - \eta_{t-1}\, g_t \\
        \bar\theta_t &= \bar\theta_{t-1} + \mu_{t-1} (\theta_t - \bar\theta_{t-1})
            \quad(\text{a copy of } \theta_t \text{ while } \mu = 1) \\
        \eta_t &= \gamma / (1 + \lambda\gamma t)^{\alpha}, \qquad
        \mu_t = 1 / \max(1, t - t_0)

    with :math:`g_t` negated under ``maximize`` and carrying an L2 term ``weight_decay·θ``.
    State: ``step``, ``eta``, ``mu`` and ``ax`` (:math:`\bar\theta`, the averaged parameters).
    ``eta`` and ``mu`` are 0-d CPU tensors of float32 (float64 when that is the default
    dtype), rounded as PyTorch's; on the CPU also for a parameter on a GPU (PyTorch puts them
    on the parameter's device and reads them back every step).

    Args:
        params: the tensors to optimize, or param groups.
        lr: learning rate :math:`\gamma` (default 1e-2).
        lambd: decay term :math:`\lambda` (default 1e-4).
        alpha: power :math:`\alpha` of the :math:`\eta` update (default 0.75).
        t0: the step at which averaging starts (default 1e6).
        weight_decay: an L2 penalty.
        maximize: maximize the objective instead of minimizing it.
    """

    _state_keys = ("step", "eta", "mu", "ax")
    _tensor_step = True  # state["step"]: a float32 0-d CPU tensor, as in PyTorch
    _scalar_states = ("eta", "mu")

    # PyTorch's order of a group's hyperparameters (groups and state dicts keep it)
    _key_order = "lr lambd alpha t0 weight_decay foreach maximize differentiable capturable"

    def __init__(
        self,
        params,
        lr: float = 1e-2,
        lambd: float = 1e-4,
        alpha: float = 0.75,
        t0: float = 1e6,
        weight_decay: float = 0,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        capturable: bool = False,
        differentiable: bool = False,
    ):
        defaults = dict(
            lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay, maximize=maximize
        )
        super().__init__(
            params,
            dict(defaults, foreach=foreach, capturable=capturable, differentiable=differentiable),
        )

    def _init_state(self, p, state, group) -> None:
        state["step"] = new_step()
        state["eta"] = new_scalar_state(group["lr"])
        state["mu"] = new_scalar_state(1.0)
        state["ax"] = zeros_state(p)

    def _update(self, p, state, group) -> None:
        xp = p.device.xp
        lr, lambd = group["lr"], group["lambd"]
        step = count_step(state)
        g = grad_with_decay(p, group)
        eta, mu = read_scalar_state(state, "eta"), read_scalar_state(state, "mu")
        param, ax = p._data, state["ax"]._data
        param *= 1 - lambd * eta
        add_(xp, param, g, -eta)
        if mu != 1:
            diff = param - ax
            diff *= mu
            ax += diff
        else:
            ax[...] = param
        set_scalar_state(state, "eta", lr / ((1 + lambd * lr * step) ** group["alpha"]))
        set_scalar_state(state, "mu", 1 / max(1, step - group["t0"]))
