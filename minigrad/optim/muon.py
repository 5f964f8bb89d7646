"""Muon: momentum orthogonalised by a Newton–Schulz iteration, for 2-D parameters."""

from __future__ import annotations

from ..tensor import Tensor
from .optimizer import Optimizer, zeros_state

_ADJUSTMENTS = ("original", "match_rms_adamw")


def _bf16(xp, a):
    """Float32 ``a`` rounded to the nearest bfloat16 (ties to even), kept in float32: the
    bfloat16 arithmetic of PyTorch's Newton-Schulz on every backend (CuPy has no bfloat16)."""
    bits = a.astype(xp.float32).view(xp.uint32)
    bits = (bits + xp.uint32(0x7FFF) + ((bits >> 16) & xp.uint32(1))) & xp.uint32(0xFFFF0000)
    return bits.view(xp.float32)


def zeropower_via_newtonschulz(grad, ns_coefficients, ns_steps: int, eps: float):
    """The orthogonal factor ``U Vᵀ`` of ``grad = U S Vᵀ``, approximately: ``ns_steps`` steps of
    ``X ← a·X + (b·A + c·A²)·X`` with ``A = X Xᵀ``, from ``X = grad / (‖grad‖_F + eps)``, on
    the wide orientation of the matrix, with bfloat16 rounding after each operation as
    PyTorch's (products accumulate in float32 and round once, as its fused ``addmm``).
    Returns a float32 tensor."""
    if grad.ndim != 2:
        raise ValueError(f"Muon: Newton-Schulz expects a 2-D tensor, got shape {tuple(grad.shape)}")
    a, b, c = ns_coefficients
    xp = grad.device.xp
    x = _bf16(xp, grad._data)
    tall = x.shape[0] > x.shape[1]
    if tall:
        x = x.T
    norm = _bf16(xp, xp.sqrt(xp.sum(x * x, dtype=xp.float32)))
    x = _bf16(xp, x / _bf16(xp, norm + xp.float32(eps)))
    for _ in range(ns_steps):
        gram = _bf16(xp, x @ x.T)
        update = _bf16(xp, gram * xp.float32(b) + (gram @ gram) * xp.float32(c))
        x = _bf16(xp, x * xp.float32(a) + update @ x)
    return Tensor._make(xp.ascontiguousarray(x.T if tall else x), grad.device)


def _adjusted_lr(lr: float, shape, adjust_lr_fn) -> float:
    rows, cols = shape
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        return lr * max(1.0, rows / cols) ** 0.5
    return 0.2 * lr * max(rows, cols) ** 0.5


class Muon(Optimizer):
    r"""Muon (Jordan et al., 2024), as ``torch.optim.Muon``: SGD momentum whose update is
    replaced by its nearest semi-orthogonal matrix, for the 2-D weights of hidden layers
    (optimize biases, embeddings and other parameters with e.g. AdamW).

    For gradient :math:`g_t`, momentum buffer :math:`B` (state ``momentum_buffer``):

    .. math::
        B_t &= \mu B_{t-1} + (1 - \mu)\, g_t \\
        \tilde B_t &= (1 - \mu)\, g_t + \mu B_t \ \text{(nesterov)} \quad\text{or}\quad B_t \\
        O_t &= \mathrm{NS}^{(a,b,c)}_k(\tilde B_t;\ \varepsilon) \\
        \theta_t &= (1 - \gamma\lambda)\,\theta_{t-1} - \gamma'\, O_t

    where NS is :func:`zeropower_via_newtonschulz` (in bfloat16, as PyTorch's) and
    :math:`\gamma' = \gamma\sqrt{\max(1, A/B)}` for an :math:`A \times B` parameter
    (``adjust_lr_fn="original"``, the default) or :math:`0.2\,\gamma\sqrt{\max(A, B)}`
    (``"match_rms_adamw"``). (PyTorch's documented :math:`B_t = \mu B_{t-1} + g_t` differs from
    this only by the factor :math:`1-\mu` of the buffer, which the normalisation removes; the
    state holds what PyTorch's does.)

    Args:
        params: 2-D tensors to optimize, or param groups (others raise ``ValueError``).
        lr: learning rate :math:`\gamma` (default 1e-3).
        weight_decay: decoupled weight decay :math:`\lambda` (default 0.1).
        momentum: :math:`\mu` (default 0.95).
        nesterov: use the Nesterov form (default True).
        ns_coefficients: :math:`(a, b, c)` (default (3.4445, -4.775, 2.0315)).
        eps: :math:`\varepsilon` of the normalisation (default 1e-7).
        ns_steps: :math:`k` (default 5).
        adjust_lr_fn: ``None``/``"original"`` or ``"match_rms_adamw"``.

    Example:
        >>> hidden = [p for p in model.parameters() if p.ndim == 2]
        >>> opt = minigrad.optim.Muon(hidden, lr=0.02)
    """

    _state_keys = ("momentum_buffer",)

    def __init__(self, params, lr: float = 1e-3, weight_decay: float = 0.1,
                 momentum: float = 0.95, nesterov: bool = True,
                 ns_coefficients: tuple[float, float, float] = (3.4445, -4.775, 2.0315),
                 eps: float = 1e-7, ns_steps: int = 5, adjust_lr_fn: str | None = None):  # fmt: skip
        if adjust_lr_fn is not None and adjust_lr_fn not in _ADJUSTMENTS:
            raise ValueError(f"Adjust learning rate function {adjust_lr_fn} is not supported")
        defaults = dict(lr=lr, weight_decay=weight_decay, momentum=momentum, nesterov=nesterov,
                        ns_coefficients=tuple(ns_coefficients), eps=eps, ns_steps=ns_steps,
                        adjust_lr_fn=adjust_lr_fn)  # fmt: skip
        super().__init__(params, defaults)

    def add_param_group(self, param_group: dict) -> None:
        """As :meth:`Optimizer.add_param_group`, refusing parameters that are not 2-D."""
        super().add_param_group(param_group)
        for p in self.param_groups[-1]["params"]:
            if p.ndim != 2:
                self.param_groups.pop()
                raise ValueError(
                    "Muon only supports 2D parameters whereas we found a parameter with size: "
                    f"{p.shape}"
                )

    def _init_state(self, p, state, group) -> None:
        state["momentum_buffer"] = zeros_state(p)

    def _update(self, p, state, group) -> None:
        lr, wd, mu = group["lr"], group["weight_decay"], group["momentum"]
        grad, buf = p.grad, state["momentum_buffer"]
        buf.lerp_(grad, 1 - mu)
        update = grad.lerp(buf, mu) if group["nesterov"] else buf
        ortho = zeropower_via_newtonschulz(
            update, group["ns_coefficients"], group["ns_steps"], group["eps"]
        )
        p.mul_(1 - lr * wd)
        step = _adjusted_lr(lr, p.shape, group["adjust_lr_fn"])
        p.add_(ortho.to(p.dtype), alpha=-step)
