"""Adam and its relatives: Adam (with AMSGrad), AdamW, Adamax and NAdam."""

from __future__ import annotations

from .optimizer import (
    Optimizer,
    addcdiv_,
    addcmul_,
    count_step,
    grad_with_decay,
    lerp_,
    new_scalar_state,
    new_step,
    scale_scalar_state,
    zeros_state,
)


class Adam(Optimizer):
    r"""Adam, as ``torch.optim.Adam`` (Kingma & Ba, 2015), with optional AMSGrad.

    For each parameter :math:`\theta` with gradient :math:`g_t` (negated under ``maximize``),
    at step :math:`t = 1, 2, \dots`:

    .. math::
        \theta_{t-1} &\leftarrow (1 - \gamma\lambda)\,\theta_{t-1}
            \quad\text{if decoupled\_weight\_decay, else }
            g_t \leftarrow g_t + \lambda\,\theta_{t-1} \\
        m_t &= \beta_1 m_{t-1} + (1 - \beta_1)\, g_t \\
        v_t &= \beta_2 v_{t-1} + (1 - \beta_2)\, g_t^2 \\
        \hat v_t &= \max(\hat v_{t-1}, v_t) \text{ with amsgrad, else } v_t \\
        \theta_t &= \theta_{t-1} - \frac{\gamma}{1 - \beta_1^t}\,
            \frac{m_t}{\sqrt{\hat v_t} / \sqrt{1 - \beta_2^t} + \epsilon}

    State: ``step`` (a Python int), ``exp_avg`` (:math:`m`), ``exp_avg_sq`` (:math:`v`) and,
    with amsgrad, ``max_exp_avg_sq`` (:math:`\hat v`).

    Args:
        params: the tensors to optimize, or param groups (see :class:`Optimizer`).
        lr: learning rate :math:`\gamma`.
        betas: :math:`(\beta_1, \beta_2)`, each in [0, 1).
        eps: :math:`\epsilon`, added to the denominator for stability.
        weight_decay: :math:`\lambda`, an L2 penalty (decoupled with ``decoupled_weight_decay``).
        amsgrad: use the running maximum of :math:`v` (Reddi et al., 2018).
        maximize: maximize the objective instead of minimizing it.
        decoupled_weight_decay: decay the weights directly, as AdamW.

    Example:
        >>> opt = minigrad.optim.Adam(model.parameters(), lr=3e-4)
    """

    _state_keys = ("step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    _tensor_step = True  # state["step"]: a float32 0-d CPU tensor, as in PyTorch
    _no_tensor_lr_with_foreach = True

    # PyTorch's order of a group's hyperparameters (groups and state dicts keep it)
    _key_order = (
        "lr betas eps weight_decay amsgrad maximize foreach capturable differentiable "
        "fused decoupled_weight_decay"
    )

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
        decoupled_weight_decay: bool = False,
    ):
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
            decoupled_weight_decay=decoupled_weight_decay,
        )
        super().__init__(
            params,
            dict(
                defaults,
                foreach=foreach,
                capturable=capturable,
                differentiable=differentiable,
                fused=fused,
            ),
        )
        if not all(isinstance(beta, float) for beta in betas):  # Adam's own check, not NAdam's
            raise ValueError("betas must be either both floats or both Tensors")  # (0, 0.99) too

    def _init_state(self, p, state, group) -> None:
        init_moments(p, state)
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = zeros_state(p)

    def _update(self, p, state, group) -> None:
        if group["amsgrad"] and "max_exp_avg_sq" not in state:
            state["max_exp_avg_sq"] = zeros_state(p)
        kit = p.device.backend.fused if group.get("fused") is not False else None
        if kit is not None and kit.supports(*_adam_arrays(p, state)):
            self._fused_update(kit, p, state, group)
            return
        xp = p.device.xp
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        step, _, m, v, tmp = decay_and_moments_(p, state, group)
        if group["amsgrad"]:
            v = xp.maximum(state["max_exp_avg_sq"]._data, v, out=state["max_exp_avg_sq"]._data)
        step_size = lr / (1 - beta1**step)
        denom = xp.sqrt(v)
        denom /= (1 - beta2**step) ** 0.5
        denom += eps
        addcdiv_(xp, p._data, m, denom, -step_size, tmp)

    def _fused_update(self, kit, p, state, group) -> None:
        """The same update as one kernel per parameter (on GPUs; see ``minigrad._fused``)."""
        step = count_step(state)
        _, _, m, v, vmax = _adam_arrays(p, state)
        kit.adam_(
            p._data, p.grad._data, m, v, vmax if group["amsgrad"] else None, lr=group["lr"],
            betas=group["betas"], eps=group["eps"], weight_decay=group["weight_decay"],
            decoupled=group["decoupled_weight_decay"], maximize=group["maximize"],
            step=step,
        )  # fmt: skip


def _adam_arrays(p, state) -> tuple:
    """The arrays an Adam step touches: p, its gradient, m, v and v̂ (None without AMSGrad)."""
    vmax = state.get("max_exp_avg_sq")
    return (
        p._data, p.grad._data, state["exp_avg"]._data, state["exp_avg_sq"]._data,
        None if vmax is None else vmax._data,
    )  # fmt: skip


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter, 2019), as ``torch.optim.AdamW``.

    The update is :class:`Adam`'s with ``decoupled_weight_decay=True``: before the Adam step,
    :math:`\theta_{t-1} \leftarrow (1 - \gamma\lambda)\,\theta_{t-1}`, and the gradient carries
    no L2 term. The default ``weight_decay`` is 1e-2.
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ):
        super().__init__(
            params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize, foreach=foreach,
            capturable=capturable, differentiable=differentiable, fused=fused,
            decoupled_weight_decay=True,
        )  # fmt: skip

    def _fix_loaded_group(self, group: dict) -> None:
        group["decoupled_weight_decay"] = True  # AdamW stays AdamW, whatever was saved


class Adamax(Optimizer):
    r"""Adamax, Adam's infinity-norm variant, as ``torch.optim.Adamax``.

    .. math::
        g_t &\leftarrow g_t + \lambda\,\theta_{t-1} \quad\text{if } \lambda \ne 0 \\
        m_t &= \beta_1 m_{t-1} + (1 - \beta_1)\, g_t \\
        u_t &= \max(\beta_2 u_{t-1},\ |g_t| + \epsilon) \\
        \theta_t &= \theta_{t-1} - \frac{\gamma}{1 - \beta_1^t}\, \frac{m_t}{u_t}

    State: ``step``, ``exp_avg`` (:math:`m`) and ``exp_inf`` (:math:`u`).

    Args:
        params: the tensors to optimize, or param groups.
        lr: learning rate :math:`\gamma` (default 2e-3).
        betas: :math:`(\beta_1, \beta_2)`, each in [0, 1).
        eps: :math:`\epsilon`.
        weight_decay: :math:`\lambda`, an L2 penalty.
        maximize: maximize the objective instead of minimizing it.
    """

    _state_keys = ("step", "exp_avg", "exp_inf")
    _tensor_step = True  # state["step"]: a float32 0-d CPU tensor, as in PyTorch

    # PyTorch's order of a group's hyperparameters (groups and state dicts keep it)
    _key_order = "lr betas eps weight_decay foreach maximize differentiable capturable"

    def __init__(
        self,
        params,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        capturable: bool = False,
        differentiable: bool = False,
    ):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize)
        super().__init__(
            params,
            dict(defaults, foreach=foreach, capturable=capturable, differentiable=differentiable),
        )

    def _init_state(self, p, state, group) -> None:
        state["step"] = new_step()
        state["exp_avg"] = zeros_state(p)
        state["exp_inf"] = zeros_state(p)

    def _update(self, p, state, group) -> None:
        xp = p.device.xp
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        step = count_step(state)
        g = grad_with_decay(p, group)
        m, u = state["exp_avg"]._data, state["exp_inf"]._data
        tmp = xp.empty_like(m)
        lerp_(xp, m, g, 1 - beta1, tmp)
        u *= beta2
        xp.abs(g, out=tmp)
        tmp += eps
        xp.maximum(u, tmp, out=u)
        addcdiv_(xp, p._data, m, u, -lr / (1 - beta1**step), tmp)


class NAdam(Optimizer):
    r"""Adam with Nesterov momentum (Dozat, 2016), as ``torch.optim.NAdam``.

    With the momentum schedule :math:`\mu_t = \beta_1 (1 - \tfrac12\, 0.96^{t\psi})`
    (:math:`\psi` = ``momentum_decay``):

    .. math::
        m_t &= \beta_1 m_{t-1} + (1 - \beta_1)\, g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1 - \beta_2)\, g_t^2 \\
        d_t &= \sqrt{v_t / (1 - \beta_2^t)} + \epsilon \\
        \theta_t &= \theta_{t-1}
            - \gamma \frac{1 - \mu_t}{1 - \prod_{i \le t} \mu_i} \frac{g_t}{d_t}
            - \gamma \frac{\mu_{t+1}}{1 - \prod_{i \le t+1} \mu_i} \frac{m_t}{d_t}

    Weight decay is an L2 term on :math:`g_t`, or with ``decoupled_weight_decay``
    :math:`\theta_{t-1} \leftarrow (1 - \gamma\lambda)\theta_{t-1}` (NAdamW).
    State: ``step`` and ``mu_product`` (0-d CPU tensors of float32, or float64 when that is
    the default dtype, rounded as PyTorch's), ``exp_avg``, ``exp_avg_sq``.

    Args:
        params: the tensors to optimize, or param groups.
        lr: learning rate :math:`\gamma` (default 2e-3).
        betas: :math:`(\beta_1, \beta_2)`, each in [0, 1).
        eps: :math:`\epsilon`.
        weight_decay: :math:`\lambda`.
        momentum_decay: :math:`\psi` (default 4e-3).
        decoupled_weight_decay: decay the weights directly, as AdamW.
        maximize: maximize the objective instead of minimizing it.
    """

    _state_keys = ("step", "mu_product", "exp_avg", "exp_avg_sq")
    _tensor_step = True  # state["step"]: a float32 0-d CPU tensor, as in PyTorch
    _scalar_states = ("mu_product",)

    def __init__(
        self,
        params,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum_decay: float = 4e-3,
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
            momentum_decay=momentum_decay,
            decoupled_weight_decay=decoupled_weight_decay,
            maximize=maximize,
        )
        super().__init__(
            params,
            dict(defaults, foreach=foreach, capturable=capturable, differentiable=differentiable),
        )

    def _init_state(self, p, state, group) -> None:
        init_moments(p, state)
        state["mu_product"] = new_scalar_state(1.0)

    def _update(self, p, state, group) -> None:
        xp = p.device.xp
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        step, g, m, v, tmp = decay_and_moments_(p, state, group)
        psi = group["momentum_decay"]
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * psi))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * psi))
        mu_product = scale_scalar_state(state, "mu_product", mu)
        denom = xp.divide(v, 1 - beta2**step)
        xp.sqrt(denom, out=denom)
        denom += eps
        addcdiv_(xp, p._data, g, denom, -lr * (1.0 - mu) / (1.0 - mu_product), tmp)
        addcdiv_(xp, p._data, m, denom, (-lr * mu_next) / (1.0 - mu_product * mu_next), tmp)


def init_moments(p, state: dict) -> None:
    """Step 0 and zero first and second moments (``exp_avg``, ``exp_avg_sq``)."""
    state["step"] = new_step()
    state["exp_avg"] = zeros_state(p)
    state["exp_avg_sq"] = zeros_state(p)


def decay_and_moments_(p, state: dict, group: dict) -> tuple:
    """The first half of an Adam/NAdam/RAdam step, in place: count the step, apply weight decay
    (decoupled, or an L2 term on the gradient) and update ``m`` and ``v``.

    Returns ``(step, g, m, v, tmp)``: the gradient used, the moment arrays and a scratch array.
    """
    xp = p.device.xp
    (beta1, beta2), decoupled = group["betas"], group["decoupled_weight_decay"]
    step = count_step(state)
    if decoupled and group["weight_decay"] != 0:
        p._data *= 1 - group["lr"] * group["weight_decay"]
    g = grad_with_decay(p, group, decay=not decoupled)
    m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
    tmp = xp.empty_like(m)
    lerp_(xp, m, g, 1 - beta1, tmp)
    v *= beta2
    addcmul_(xp, v, g, g, 1 - beta2, tmp)
    return step, g, m, v, tmp
