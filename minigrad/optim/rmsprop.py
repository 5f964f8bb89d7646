"""RMSprop, with optional momentum and centering."""

from __future__ import annotations

from .optimizer import (
    Optimizer,
    add_,
    addcdiv_,
    addcmul_,
    count_step,
    grad_with_decay,
    lerp_,
    new_step,
    zeros_state,
)


class RMSprop(Optimizer):
    r"""RMSprop (Hinton's lecture 6e), as ``torch.optim.RMSprop``.

    For gradient :math:`g_t` (negated under ``maximize``, plus :math:`\lambda\theta_{t-1}` when
    ``weight_decay`` :math:`\lambda \ne 0`):

    .. math::
        v_t &= \alpha\, v_{t-1} + (1 - \alpha)\, g_t^2 \\
        \bar g_t &= \alpha\, \bar g_{t-1} + (1 - \alpha)\, g_t \quad\text{if centered} \\
        d_t &= \sqrt{v_t - \bar g_t^2} + \epsilon \text{ if centered, else }
            \sqrt{v_t} + \epsilon \\
        b_t &= \mu\, b_{t-1} + g_t / d_t, \quad \theta_t = \theta_{t-1} - \gamma\, b_t
            \quad\text{if } \mu > 0 \\
        \theta_t &= \theta_{t-1} - \gamma\, g_t / d_t \quad\text{otherwise}

    State: ``step``, ``square_avg`` (:math:`v`), ``grad_avg`` (:math:`\bar g`, centered only)
    and ``momentum_buffer`` (:math:`b`, momentum only).

    Args:
        params: the tensors to optimize, or param groups.
        lr: learning rate :math:`\gamma` (default 1e-2).
        alpha: smoothing constant :math:`\alpha` (default 0.99).
        eps: :math:`\epsilon` (default 1e-8).
        weight_decay: :math:`\lambda`, an L2 penalty.
        momentum: :math:`\mu`.
        centered: normalize by an estimate of the gradient's variance.
        maximize: maximize the objective instead of minimizing it.
    """

    _state_keys = ("step", "square_avg", "grad_avg", "momentum_buffer")
    _tensor_step = True  # state["step"]: a float32 0-d CPU tensor, as in PyTorch

    # PyTorch's order of a group's hyperparameters (groups and state dicts keep it)
    _key_order = (
        "lr momentum alpha eps centered weight_decay capturable foreach maximize differentiable"
    )

    def __init__(
        self,
        params,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        capturable: bool = False,
        differentiable: bool = False,
    ):
        defaults = dict(
            lr=lr,
            alpha=alpha,
            eps=eps,
            weight_decay=weight_decay,
            momentum=momentum,
            centered=centered,
            maximize=maximize,
        )
        super().__init__(
            params,
            dict(defaults, foreach=foreach, capturable=capturable, differentiable=differentiable),
        )

    def _init_state(self, p, state, group) -> None:
        state["step"] = new_step()
        state["square_avg"] = zeros_state(p)
        if group["momentum"] > 0:
            state["momentum_buffer"] = zeros_state(p)
        if group["centered"]:
            state["grad_avg"] = zeros_state(p)

    def _update(self, p, state, group) -> None:
        xp = p.device.xp
        alpha, momentum = group["alpha"], group["momentum"]
        count_step(state)
        g = grad_with_decay(p, group)
        v = state["square_avg"]._data
        tmp = xp.empty_like(v)
        v *= alpha
        addcmul_(xp, v, g, g, 1 - alpha, tmp)
        if group["centered"]:
            g_avg = _buffer(p, state, "grad_avg")
            lerp_(xp, g_avg, g, 1 - alpha, tmp)
            avg = v.copy()
            addcmul_(xp, avg, g_avg, g_avg, -1, tmp)
            xp.sqrt(avg, out=avg)
        else:
            avg = xp.sqrt(v)
        avg += group["eps"]
        if momentum > 0:
            buf = _buffer(p, state, "momentum_buffer")
            buf *= momentum
            addcdiv_(xp, buf, g, avg, 1, tmp)
            add_(xp, p._data, buf, -group["lr"], tmp)
        else:
            addcdiv_(xp, p._data, g, avg, -group["lr"], tmp)


def _buffer(p, state: dict, name: str):
    """The array of state ``name``, made (zeros) if the option was switched on after step 1."""
    if name not in state:
        state[name] = zeros_state(p)
    return state[name]._data
