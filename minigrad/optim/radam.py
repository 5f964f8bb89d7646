"""RAdam: Adam with a rectified adaptive learning rate."""

from __future__ import annotations

from .adam import decay_and_moments_, init_moments
from .optimizer import Optimizer


class RAdam(Optimizer):
    r"""RAdam (Liu et al., 2020), as ``torch.optim.RAdam``.

    With :math:`\rho_\infty = 2/(1 - \beta_2) - 1` and
    :math:`\rho_t = \rho_\infty - 2t\beta_2^t/(1 - \beta_2^t)`:

    .. math::
        m_t &= \beta_1 m_{t-1} + (1 - \beta_1)\, g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1 - \beta_2)\, g_t^2 \\
        \hat m_t &= m_t / (1 - \beta_1^t) \\
        \theta_t &= \theta_{t-1} - \gamma\, \hat m_t\, r_t\,
            \frac{\sqrt{1 - \beta_2^t}}{\sqrt{v_t} + \epsilon} \quad\text{if } \rho_t > 5,
            \text{ else } \theta_{t-1} - \gamma\, \hat m_t

    where :math:`r_t = \sqrt{(\rho_t - 4)(\rho_t - 2)\rho_\infty /
    ((\rho_\infty - 4)(\rho_\infty - 2)\rho_t)}`. Weight decay is an L2 term on :math:`g_t`, or
    with ``decoupled_weight_decay`` :math:`\theta_{t-1} \leftarrow (1 - \gamma\lambda)
    \theta_{t-1}` (RAdamW). State: ``step``, ``exp_avg`` (:math:`m`), ``exp_avg_sq`` (:math:`v`).

    Args:
        params: the tensors to optimize, or param groups.
        lr: learning rate :math:`\gamma` (default 1e-3).
        betas: :math:`(\beta_1, \beta_2)`, each in [0, 1).
        eps: :math:`\epsilon` (default 1e-8).
        weight_decay: :math:`\lambda`.
        decoupled_weight_decay: decay the weights directly, as AdamW.
        maximize: maximize the objective instead of minimizing it.
    """

    _state_keys = ("step", "exp_avg", "exp_avg_sq")
    _tensor_step = True  # state["step"]: a float32 0-d CPU tensor, as in PyTorch

    # PyTorch's order of a group's hyperparameters (groups and state dicts keep it)
    _key_order = (
        "lr betas eps weight_decay maximize foreach capturable decoupled_weight_decay "
        "differentiable"
    )

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        decoupled_weight_decay: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        capturable: bool = False,
        differentiable: bool = False,
    ):
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            decoupled_weight_decay=decoupled_weight_decay,
            maximize=maximize,
        )
        super().__init__(
            params,
            dict(defaults, foreach=foreach, capturable=capturable, differentiable=differentiable),
        )

    def _init_state(self, p, state, group) -> None:
        init_moments(p, state)

    def _update(self, p, state, group) -> None:
        xp = p.device.xp
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        step, _, m, v, _ = decay_and_moments_(p, state, group)
        correction1, correction2 = 1 - beta1**step, 1 - beta2**step
        update = m / correction1
        update *= lr
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2**step) / correction2
        if rho_t > 5.0:
            denom = xp.sqrt(v)
            denom += eps
            update *= correction2**0.5 / denom
            update *= (
                (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
            ) ** 0.5
        p._data -= update
