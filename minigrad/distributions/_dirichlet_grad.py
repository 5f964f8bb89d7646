"""The reparameterization gradient of Dirichlet (and Beta) draws that PyTorch uses: each
component held at its quantile of its Beta(α_i, Σα - α_i) marginal, the rest rescaled."""

from __future__ import annotations

from .. import creation, dtypes, ops
from ..autograd import grad_mode
from ..autograd.function import Function, once_differentiable
from ..tensor import Tensor

_CHUNK = 32
_MAX_TERMS = 200_000


def beta_quantile_slope(x, a, b):
    """dx/da of the Beta(a, b) quantile x held at its cdf value, b fixed, divided by 1 - x.

    With I_x(a, b) the regularized incomplete beta function and p its density,
    dx/da = -∂I_x/∂a / p. From the series I_x(a, b) = Σ_n t_n,
    t_n = x^(a+n) (1-x)^b Γ(a+b+n) / (Γ(a+n+1) Γ(b)):
    dx/da = -Σ_n w_n (log x + ψ(a+b+n) - ψ(a+n+1)), w_0 = x(1-x)/a,
    w_(n+1) = w_n x (a+b+n)/(a+n+1). Beyond x = (a+1)/(a+b+2) the series of
    I_(1-x)(b, a) = 1 - I_x(a, b) converges faster:
    dx/da = Σ_n w_n (log x + ψ(a+b+n) - ψ(a)), w_0 = x(1-x)/b, w_(n+1) = w_n (1-x)(a+b+n)/(b+n+1).
    Computed in float64 without gradient; 0 where x is 0.
    """
    with grad_mode.no_grad():
        x, a, b = (v.detach().to(dtype=dtypes.float64) for v in ops.broadcast_tensors(x, a, b))
        flip = x > (a + 1) / (a + b + 2)
        psi_ab = ops.digamma(a + b)
        psi_fixed = ops.where(flip, ops.digamma(a), ops.digamma(a + 1))  # ψ(a) or ψ(a+n+1)
        slope = _series(x.device.xp, x._data, a._data, b._data, flip._data, psi_ab, psi_fixed)
        return Tensor._make(slope.reshape(x.shape), x.device)


def _series(xp, x, a, b, flip, psi_ab, psi_fixed):
    """The sum of :func:`beta_quantile_slope` on float64 arrays (ψ's at n = 0 given), in
    chunks of terms at once: the weights fall from the first term on, in either branch."""
    psi_ab, psi_fixed = psi_ab._data.ravel(), psi_fixed._data.ravel()
    x, a, b, flip = (xp.ravel(v) for v in (x, a, b, flip))
    p = xp.where(flip, b, a)
    z = xp.where(flip, 1 - x, x)
    inside = x > 0
    x_safe = xp.where(inside, x, 1.0)
    log_x = xp.log(x_safe)
    step_fixed = xp.where(flip, 0.0, 1.0)  # ψ(a+n+1) moves with n, ψ(a) does not
    weight = x_safe / p  # w_n / (1 - x)
    total = weight * (log_x + psi_ab - psi_fixed)
    start, size = 0, _CHUNK
    while start < _MAX_TERMS:
        n = xp.arange(start, start + size, dtype=x.dtype)[:, None]
        weights = weight * xp.cumprod(z * (a + b + n) / (p + n + 1), axis=0)
        psi_abs = psi_ab + xp.cumsum(1 / (a + b + n), axis=0)
        psi_fixeds = psi_fixed + xp.cumsum(step_fixed / (a + n + 1), axis=0)
        terms = weights * (log_x + psi_abs - psi_fixeds)
        total = total + terms.sum(0)
        weight, psi_ab, psi_fixed = weights[-1], psi_abs[-1], psi_fixeds[-1]
        if bool(xp.all(xp.abs(terms[-1]) <= 1e-17 * xp.abs(total))):
            break
        start, size = start + size, 2 * size
    return xp.where(inside, xp.where(flip, total, -total), 0.0)


class _DirichletSlope(Function):
    """Zero, whose gradient in the concentrations α is that of a Dirichlet draw x:
    ∂L/∂α_i = G_i (∂L/∂x_i - Σ_j x_j ∂L/∂x_j), G_i the Beta-marginal slope of x_i. First
    order only, as PyTorch's."""

    @staticmethod
    def forward(ctx, alpha, x, slope):
        ctx.save_for_backward(x, slope)
        return creation.zeros_like(x)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        x, slope = ctx.saved_tensors
        return slope * (grad - (x * grad).sum(-1, keepdim=True)), None, None


def dirichlet_slope(alpha, x):
    """A zero tensor shaped as the draw ``x`` that carries the gradient of ``x`` in ``alpha``
    (both of the same shape, the categories along the last dim)."""
    with grad_mode.no_grad():
        a = alpha.detach()
        slope = beta_quantile_slope(x, a, a.sum(-1, keepdim=True) - a).to(x.dtype)
    return _DirichletSlope.apply(alpha, x.detach(), slope)
