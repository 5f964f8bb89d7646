"""Lion: sign-based updates with two momentum coefficients."""

from __future__ import annotations

from .optimizer import Optimizer, add_, zeros_state


class Lion(Optimizer):
    r"""Lion, EvoLved Sign Momentum (Chen et al., 2023, "Symbolic Discovery of Optimization
    Algorithms", Algorithm 2). PyTorch has no Lion; this follows the paper.

    For gradient :math:`g_t` (negated under ``maximize``):

    .. math::
        c_t &= \beta_1 m_{t-1} + (1 - \beta_1)\, g_t \\
        \theta_t &= (1 - \gamma\lambda)\,\theta_{t-1} - \gamma\, \operatorname{sign}(c_t) \\
        m_t &= \beta_2 m_{t-1} + (1 - \beta_2)\, g_t

    Weight decay :math:`\lambda` is decoupled, as in AdamW. Because every coordinate moves by
    :math:`\pm\gamma`, Lion wants a learning rate 3-10x smaller than AdamW's and a weight
    decay 3-10x larger. State: ``exp_avg`` (:math:`m`).

    Args:
        params: the tensors to optimize, or param groups.
        lr: learning rate :math:`\gamma` (default 1e-4).
        betas: :math:`(\beta_1, \beta_2)`, each in [0, 1) (default (0.9, 0.99)).
        weight_decay: :math:`\lambda` (default 0).
        maximize: maximize the objective instead of minimizing it.
    """

    _state_keys = ("exp_avg",)

    def __init__(
        self,
        params,
        lr: float = 1e-4,
        betas: tuple[float, float] = (0.9, 0.99),
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
    ):
        defaults = dict(lr=lr, betas=betas, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _init_state(self, p, state, group) -> None:
        state["exp_avg"] = zeros_state(p)

    def _update(self, p, state, group) -> None:
        xp = p.device.xp
        lr, (beta1, beta2), wd = group["lr"], group["betas"], group["weight_decay"]
        g = -p.grad._data if group["maximize"] else p.grad._data
        m = state["exp_avg"]._data
        c = xp.multiply(m, beta1)
        add_(xp, c, g, 1 - beta1)
        xp.sign(c, out=c)
        if wd != 0:
            p._data *= 1 - lr * wd
        add_(xp, p._data, c, -lr, c)
        m *= beta2
        add_(xp, m, g, 1 - beta2)
