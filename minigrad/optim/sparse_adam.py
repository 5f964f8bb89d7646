"""SparseAdam: Adam for sparse gradients, updating only the rows a gradient holds."""

from __future__ import annotations

from .. import _sparse_coo
from .optimizer import Optimizer, count_step, zeros_state


class SparseAdam(Optimizer):
    r"""Adam for sparse gradients (``nn.Embedding(sparse=True)``), as ``torch.optim.SparseAdam``.

    Only the entries :math:`I` that the (coalesced) gradient :math:`g_t` holds change; at step
    :math:`t` (counted per parameter):

    .. math::
        m_I &\leftarrow m_I + (1 - \beta_1)(g_t - m_I) \\
        v_I &\leftarrow v_I + (1 - \beta_2)(g_t^2 - v_I) \\
        \theta_I &\leftarrow \theta_I - \gamma\,\frac{\sqrt{1 - \beta_2^t}}{1 - \beta_1^t}
            \,\frac{m_I}{\sqrt{v_I} + \epsilon}

    (note :math:`\epsilon` is added before the bias correction, as PyTorch's). Dense gradients
    are refused. State: ``step``, ``exp_avg`` (:math:`m`), ``exp_avg_sq`` (:math:`v`).

    Args:
        params: the tensors to optimize, or param groups.
        lr: learning rate :math:`\gamma` (default 1e-3).
        betas: :math:`(\beta_1, \beta_2)` (default (0.9, 0.999)).
        eps: :math:`\epsilon` (default 1e-8).
        maximize: maximize the objective instead of minimizing it.

    Example:
        >>> emb = nn.Embedding(100, 16, sparse=True)
        >>> opt = minigrad.optim.SparseAdam(emb.parameters(), lr=0.01)
    """

    _state_keys = ("step", "exp_avg", "exp_avg_sq")
    takes_sparse = True

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 maximize: bool = False):  # fmt: skip
        if not 0.0 < lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        for i, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, maximize=maximize)
        super().__init__(params, defaults)

    def _init_state(self, p, state, group) -> None:
        state["step"] = 0
        state["exp_avg"] = zeros_state(p)
        state["exp_avg_sq"] = zeros_state(p)

    def _update(self, p, state, group) -> None:
        if type(p.grad._data) is not _sparse_coo.SparseCOO:
            raise RuntimeError(
                "SparseAdam does not support dense gradients, please consider Adam instead"
            )
        xp = p.device.xp
        g = _sparse_coo.coalesced(xp, p.grad._data)
        values = -g.values if group["maximize"] else g.values
        key = _sparse_coo.key(g)
        step = count_step(state)
        beta1, beta2 = group["betas"]
        m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
        m_new = m[key] + (1 - beta1) * (values - m[key])
        v_new = v[key] + (1 - beta2) * (values * values - v[key])
        m[key], v[key] = m_new, v_new  # (the entries are distinct: coalesced)
        step_size = group["lr"] * (1 - beta2**step) ** 0.5 / (1 - beta1**step)
        p._data[key] -= step_size * m_new / (xp.sqrt(v_new) + group["eps"])
