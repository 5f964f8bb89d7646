"""Stochastic gradient descent, with momentum, dampening, Nesterov and weight decay."""

from __future__ import annotations

import numpy as np

from .. import _sparse_coo
from ..autograd.graph import version_counter
from ..tensor import Tensor
from .optimizer import Optimizer, add, add_, grad_with_decay, state_tensor


class SGD(Optimizer):
    r"""Stochastic gradient descent (optionally with momentum), as ``torch.optim.SGD``.

    For each parameter :math:`\theta` with gradient :math:`g_t`, at step :math:`t`:

    .. math::
        g_t &\leftarrow -g_t \quad\text{if maximize} \\
        g_t &\leftarrow g_t + \lambda\,\theta_{t-1} \quad\text{if } \lambda \ne 0 \\
        b_t &= g_t \text{ at } t = 1, \quad
            b_t = \mu\, b_{t-1} + (1 - \tau)\, g_t \text{ after} \quad\text{if } \mu \ne 0 \\
        g_t &\leftarrow g_t + \mu\, b_t \text{ if nesterov, else } b_t \\
        \theta_t &= \theta_{t-1} - \gamma\, g_t

    with learning rate :math:`\gamma` (``lr``), momentum :math:`\mu`, dampening :math:`\tau`
    and weight decay :math:`\lambda`. State: ``momentum_buffer`` (when momentum is used).

    Args:
        params: the tensors to optimize, or param groups (see :class:`Optimizer`).
        lr: learning rate (default 1e-3, as PyTorch).
        momentum: momentum factor.
        dampening: dampening for momentum.
        weight_decay: L2 penalty.
        nesterov: Nesterov momentum (needs momentum > 0 and zero dampening).
        maximize: maximize the objective instead of minimizing it.

    Example:
        >>> opt = minigrad.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        >>> opt.zero_grad(); loss.backward(); opt.step()
    """

    _state_keys = ("momentum_buffer",)
    takes_sparse = True  # sparse gradients (nn.Embedding(sparse=True)), as PyTorch's SGD

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
        fused: bool | None = None,
    ):
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            maximize=maximize,
        )
        super().__init__(
            params, dict(defaults, foreach=foreach, differentiable=differentiable, fused=fused)
        )

    def _validate(self, group: dict, where: str) -> None:
        super()._validate(group, where)
        if group.get("nesterov") and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                f"Nesterov momentum requires a momentum and zero dampening, got momentum="
                f"{group['momentum']} and dampening={group['dampening']} in {where}"
            )

    def _update_group(self, group: dict) -> None:
        """Plain SGD (no momentum, weight decay or maximize) of a group's dense real parameters
        on the CPU as one loop over the group (foreach-style): the general loop's calls per
        parameter (``_update``, ``add_``, the state entry) were most of a small model's
        update. The same array operations as :meth:`_update`, so the same results."""
        if (
            group["momentum"] != 0
            or group["weight_decay"] != 0
            or group["maximize"]
            or type(self)._update is not SGD._update  # a subclass's own update
        ):
            super()._update_group(group)
            return
        alpha, rest, plain = -group["lr"], [], Tensor.grad
        for p in group["params"]:
            grad = p._grad if type(p).grad is plain else p.grad  # (the property's call spared)
            if grad is None:
                continue
            g, data = grad._data, p._data
            if (
                type(g) is not np.ndarray
                or type(data) is not np.ndarray
                or g.dtype.kind == "c"
                or p.device.type != "cpu"
            ):
                rest.append(p)  # sparse, complex or not on the CPU: the general loop
                continue
            if alpha == 1:  # add_(np, data, g, alpha), inline
                data += g
            else:
                data += np.multiply(g, alpha)
            counter = p._version_counter
            if counter is None:
                counter = version_counter(p)
            counter.value += 1
        if rest:
            super()._update_group(dict(group, params=rest))

    def _update(self, p, state, group) -> None:
        grad, dev = p.grad._data, p.device
        if type(grad) is _sparse_coo.SparseCOO:
            self._sparse_update(p, state, group)
            return
        buf = state.get("momentum_buffer")
        kit = dev.backend.fused if group.get("fused") is not False else None
        if kit is not None and kit.supports(p._data, grad, None if buf is None else buf._data):
            self._fused_update(kit, p, state, group)
            return
        xp = dev.xp
        plain = not (group.get("maximize") or group.get("weight_decay", 0))
        g = grad if plain else grad_with_decay(p, group)
        momentum = group["momentum"]
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = state_tensor(p, g.copy())
            else:
                buf._data *= momentum
                add_(xp, buf._data, g, 1 - group["dampening"])
            g = add(g, buf._data, momentum) if group["nesterov"] else buf._data
        add_(xp, p._data, g, -group["lr"])

    def _sparse_update(self, p, state, group) -> None:
        """The update for a sparse gradient: only its rows move; a momentum buffer started
        from one stays sparse (its entries accumulate, uncoalesced, as PyTorch's)."""
        xp, g = p.device.xp, p.grad._data
        if group["weight_decay"] != 0:  # PyTorch's error: its grad.add(p) takes dense first
            raise RuntimeError(
                "add(sparse, dense) is not supported. Use add(dense, sparse) instead."
            )
        if group["maximize"]:
            g = _sparse_coo.scaled(g, -1)
        momentum = group["momentum"]
        if momentum != 0:
            buf = state.get("momentum_buffer")
            step = _sparse_coo.scaled(g, 1 - group["dampening"])
            if buf is None:
                buf = state["momentum_buffer"] = state_tensor(p, g.copy())
            elif type(buf._data) is _sparse_coo.SparseCOO:
                buf._data = _sparse_coo.concatenated(
                    xp, _sparse_coo.scaled(buf._data, momentum), step
                )
            else:
                buf._data *= momentum
                p.device.backend.scatter_add(buf._data, _sparse_coo.key(step), step.values)
            b = buf._data
            if group["nesterov"]:
                g = _sparse_coo.concatenated(xp, g, _sparse_coo.scaled(b, momentum))
            elif type(b) is not _sparse_coo.SparseCOO:
                add_(xp, p._data, b, -group["lr"])
                return
            else:
                g = b
        p.device.backend.scatter_add(p._data, _sparse_coo.key(g), g.values * -group["lr"])

    def _fused_update(self, kit, p, state, group) -> None:
        """The same update as one kernel per parameter (on GPUs; see ``minigrad._fused``)."""
        buf, first = None, False
        if group["momentum"] != 0:
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = state_tensor(p, p.device.xp.empty_like(p._data))
                first = True
            buf = state["momentum_buffer"]._data
        kit.sgd_(
            p._data, p.grad._data, buf, lr=group["lr"], momentum=group["momentum"],
            dampening=group["dampening"], weight_decay=group["weight_decay"],
            nesterov=group["nesterov"], maximize=group["maximize"], first=first,
        )  # fmt: skip
