"""Adafactor: Adam-like steps with a factored (row × column) second moment."""

from __future__ import annotations

import numbers

import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer, add_, count_step, lerp_, new_step, state_tensor, zeros_state


class Adafactor(Optimizer):
    r"""Adafactor (Shazeer & Stern, 2018), as ``torch.optim.Adafactor``.

    At step :math:`t`, with :math:`\hat\beta_{2t} = 1 - t^{c}` (:math:`c` = ``beta2_decay``),
    :math:`\rho_t = \min(\gamma, 1/\sqrt t)` and
    :math:`\alpha_t = \max(\epsilon_2, \mathrm{RMS}(\theta_{t-1}))\,\rho_t`:

    .. math::
        R_t &= \hat\beta_{2t} R_{t-1} + (1 - \hat\beta_{2t})\, \mathrm{mean}_{cols}(g_t^2), \quad
        C_t = \hat\beta_{2t} C_{t-1} + (1 - \hat\beta_{2t})\, \mathrm{mean}_{rows}(g_t^2) \\
        \hat v_t &= R_t C_t / \max(\mathrm{mean}(R_t), \epsilon_1)
            \quad(\text{for a vector: } v_t = \hat\beta_{2t} v_{t-1} + (1-\hat\beta_{2t})g_t^2) \\
        u_t &= g_t / \sqrt{\max(\hat v_t, \epsilon_1^2)} \\
        \theta_t &= (1 - \gamma\lambda)\,\theta_{t-1}
            - \alpha_t\, u_t / \max(1, \mathrm{RMS}(u_t) / d)

    (weight decay :math:`\lambda` is decoupled). Tensors of two or more dimensions keep the
    factors over their last two dimensions. State: ``step``, and ``row_var``/``col_var``
    (matrices) or ``variance`` (vectors and scalars).

    Args:
        params: the tensors to optimize, or param groups.
        lr: :math:`\gamma`, the cap of the relative step size (default 1e-2).
        beta2_decay: :math:`c \le 0` (default -0.8).
        eps: :math:`(\epsilon_1, \epsilon_2)`; :math:`\epsilon_1` None means the machine
            epsilon of the parameter's dtype (default (None, 1e-3)).
        d: the update clipping threshold, >= 1 (default 1.0).
        weight_decay: :math:`\lambda`.
        maximize: maximize the objective instead of minimizing it.
    """

    _state_keys = ("step", "row_var", "col_var", "variance")
    _tensor_step = True  # state["step"]: a float32 0-d CPU tensor, as in PyTorch

    # PyTorch's order of a group's hyperparameters (groups and state dicts keep it)
    _key_order = "lr beta2_decay eps d weight_decay foreach maximize"

    def __init__(
        self,
        params,
        lr: float = 1e-2,
        beta2_decay: float = -0.8,
        eps: tuple = (None, 1e-3),
        d: float = 1.0,
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
    ):
        defaults = dict(
            lr=lr, beta2_decay=beta2_decay, eps=eps, d=d, weight_decay=weight_decay,
            maximize=maximize,
        )  # fmt: skip
        super().__init__(params, dict(defaults, foreach=foreach))

    def _validate(self, group: dict, where: str) -> None:
        """PyTorch's checks, in its order and words (the base class's then pass)."""
        if "eps" in group:
            eps = group["eps"]
            if not isinstance(eps, (tuple, list)) or len(eps) != 2:
                raise ValueError(f"eps must be a pair (eps1, eps2), got {eps!r} in {where}")
        lr = group.get("lr", 0.0)
        lr = lr.item() if isinstance(lr, Tensor) and lr.numel() == 1 else lr
        eps1, eps2 = group.get("eps", (None, 0.0))
        checks = (
            ("Learning rate should be >= 0", lr, lambda v: v >= 0.0),
            ("beta2_decay should be <= 0", group.get("beta2_decay", 0.0), lambda v: v <= 0.0),
            ("epsilon1 should be >= 0", 0.0 if eps1 is None else eps1, lambda v: v >= 0.0),
            ("epsilon2 should be >= 0", eps2, lambda v: v >= 0.0),
            ("Clipping threshold d should be >= 1", group.get("d", 1.0), lambda v: v >= 1.0),
            ("weight_decay should be >= 0", group.get("weight_decay", 0.0), lambda v: v >= 0.0),
        )
        for words, value, valid in checks:
            if not isinstance(value, Tensor) and not valid(_real(value)):
                raise ValueError(f"{words} but is: {value} in {where}")
        super()._validate({k: v for k, v in group.items() if k != "eps"}, where)

    def _update_one(self, p, state, group) -> None:
        if p._data.dtype.kind == "c":  # (PyTorch's Adafactor takes real parameters only)
            raise RuntimeError("Adafactor does not support complex parameters")
        super()._update_one(p, state, group)

    def _init_state(self, p, state, group) -> None:
        state["step"] = new_step()
        if p.ndim > 1:
            xp = p.device.xp
            rows, cols = list(p.shape), list(p.shape)
            rows[-1], cols[-2] = 1, 1
            state["row_var"] = state_tensor(p, xp.zeros(rows, dtype=p._data.dtype))
            state["col_var"] = state_tensor(p, xp.zeros(cols, dtype=p._data.dtype))
        else:
            state["variance"] = zeros_state(p)

    def _load_param_state(self, p, key, saved) -> dict:
        """As the base class, with the factors checked against their own reduced shapes."""
        if not isinstance(saved, dict):
            return super()._load_param_state(p, key, saved)
        factors = {k: v for k, v in saved.items() if k in ("row_var", "col_var")}
        state = super()._load_param_state(
            p, key, {k: v for k, v in saved.items() if k not in factors}
        )
        for name, value in factors.items():
            expected = list(p.shape)
            expected[-1 if name == "row_var" else -2] = 1
            if p.ndim < 2 or list(value.shape) != expected:
                raise ValueError(
                    f"state {name!r} of parameter {key} has shape {list(value.shape)}, but "
                    f"Adafactor expects {expected} for a parameter of shape {list(p.shape)}"
                )
            state[name] = value.to(p.device, p.dtype)  # (the saved tensor itself, as PyTorch)
        return state

    def _update(self, p, state, group) -> None:
        xp = p.device.xp
        lr, c, d = group["lr"], group["beta2_decay"], group["d"]
        eps1, eps2 = group["eps"]
        if eps1 is None:
            eps1 = float(np.finfo(p._data.dtype).eps)
        g = -p.grad._data if group["maximize"] else p.grad._data
        step = count_step(state)
        weight = step**c  # 1 - beta2_t, the weight of the new moment
        rho = min(lr, 1 / (step**0.5))
        alpha = max(eps2, _norm(xp, p._data) / (p._data.size**0.5)) * rho
        if group["weight_decay"] != 0:
            p._data *= 1 - lr * group["weight_decay"]
        if g.ndim > 1:
            row, col = state["row_var"]._data, state["col_var"]._data
            lerp_(xp, row, _mean_square(xp, g, -1), weight)
            lerp_(xp, col, _mean_square(xp, g, -2), weight)
            estimate = row @ col
            estimate /= xp.maximum(row.mean(axis=-2, keepdims=True), eps1)
        else:
            variance = state["variance"]._data
            lerp_(xp, variance, g * g, weight)
            estimate = variance.copy()
        update = xp.maximum(estimate, eps1 * eps1, out=estimate)  # (0-d too: an array out)
        xp.sqrt(update, out=update)
        xp.divide(1.0, update, out=update)
        update *= g
        denom = max(1.0, _norm(xp, update) / ((update.size**0.5) * d))
        add_(xp, p._data, update, -alpha / denom)


def _real(value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"Adafactor hyperparameters must be Python numbers, got {value!r}")
    return value


def _norm(xp, a) -> float:
    """The 2-norm of an array, as a Python float."""
    return float(xp.sqrt(xp.vdot(a.ravel(), a.ravel()).real))


def _mean_square(xp, g, axis: int):
    """``norm(g, dim=axis, keepdim=True)² / g.shape[axis]``, in PyTorch's order of rounding."""
    out = xp.sqrt(xp.sum(g * g, axis=axis, keepdims=True))
    out *= out
    out /= g.shape[axis]
    return out
