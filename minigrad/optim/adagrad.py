"""Adagrad: per-coordinate learning rates from the sum of squared gradients."""

from __future__ import annotations

from .. import _sparse_coo
from .optimizer import (
    Optimizer,
    addcdiv_,
    addcmul_,
    count_step,
    grad_with_decay,
    new_step,
    zeros_state,
)


class Adagrad(Optimizer):
    r"""Adagrad (Duchi et al., 2011), as ``torch.optim.Adagrad``.

    For gradient :math:`g_t` (negated under ``maximize``, plus :math:`\lambda\theta_{t-1}` when
    ``weight_decay`` :math:`\lambda \ne 0`):

    .. math::
        \tilde\gamma_t &= \gamma / (1 + (t - 1)\,\eta) \\
        s_t &= s_{t-1} + g_t^2, \qquad s_0 = \text{initial\_accumulator\_value} \\
        \theta_t &= \theta_{t-1} - \tilde\gamma_t\, g_t / (\sqrt{s_t} + \epsilon)

    with learning-rate decay :math:`\eta` (``lr_decay``). State: ``step`` and ``sum``
    (:math:`s`), created for every parameter when the optimizer is made, as in PyTorch. Unlike
    PyTorch, which fills every accumulator with the constructor's value, a param group's own
    ``initial_accumulator_value`` is used for its parameters.

    Args:
        params: the tensors to optimize, or param groups.
        lr: learning rate :math:`\gamma` (default 1e-2).
        lr_decay: :math:`\eta`.
        weight_decay: :math:`\lambda`, an L2 penalty.
        initial_accumulator_value: the starting value of :math:`s`.
        eps: :math:`\epsilon` (default 1e-10).
        maximize: maximize the objective instead of minimizing it.
    """

    _state_keys = ("step", "sum")
    _tensor_step = True  # state["step"]: a float32 0-d CPU tensor, as in PyTorch

    # PyTorch's order of a group's hyperparameters (groups and state dicts keep it)
    _key_order = (
        "lr lr_decay eps weight_decay initial_accumulator_value foreach maximize "
        "differentiable fused"
    )

    def __init__(
        self,
        params,
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
        fused: bool | None = None,
    ):
        defaults = dict(
            lr=lr,
            lr_decay=lr_decay,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            eps=eps,
            maximize=maximize,
        )
        super().__init__(
            params, dict(defaults, foreach=foreach, differentiable=differentiable, fused=fused)
        )
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, self.state[p], group)

    def _init_state(self, p, state, group) -> None:
        state["step"] = new_step()
        state["sum"] = zeros_state(p, group["initial_accumulator_value"])

    takes_sparse = True  # sparse gradients (nn.Embedding(sparse=True)), as PyTorch's Adagrad

    def _update(self, p, state, group) -> None:
        if type(p.grad._data) is _sparse_coo.SparseCOO:
            self._sparse_update(p, state, group)
            return
        xp = p.device.xp
        step = count_step(state)
        g = grad_with_decay(p, group)
        clr = group["lr"] / (1 + (step - 1) * group["lr_decay"])
        s = state["sum"]._data
        tmp = xp.empty_like(s)
        addcmul_(xp, s, g, g, 1, tmp)
        std = xp.sqrt(s)
        std += group["eps"]
        addcdiv_(xp, p._data, g, std, -clr, tmp)

    def _sparse_update(self, p, state, group) -> None:
        """The update for a sparse gradient: the sum of squares and the parameter change only
        at its (coalesced) rows."""
        if group["weight_decay"] != 0:
            raise RuntimeError("weight_decay option is not compatible with sparse gradients")
        xp, backend = p.device.xp, p.device.backend
        step = count_step(state)
        g = _sparse_coo.coalesced(xp, p.grad._data)
        values = -g.values if group["maximize"] else g.values
        clr = group["lr"] / (1 + (step - 1) * group["lr_decay"])
        key, s = _sparse_coo.key(g), state["sum"]._data
        backend.scatter_add(s, key, values * values)
        std = xp.sqrt(s[key]) + group["eps"]
        backend.scatter_add(p._data, key, values / std * -clr)
