"""The gamma distribution, and the Marsaglia-Tsang sampler that Chi2, Beta, Dirichlet and
StudentT draw through."""

from __future__ import annotations

import numpy as np

from .. import backend, creation, dtypes, ops, special
from ..autograd import grad_mode
from ..autograd.function import Function, once_differentiable
from ..tensor import Tensor
from . import constraints
from ._dirichlet_grad import dirichlet_slope
from .exp_family import ExponentialFamily
from .utils import broadcast_all

_EXACT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def standard_gamma(concentration, shape):
    """Gamma(α, 1) draws of ``shape`` (α broadcast to it), without gradient.

    Marsaglia & Tsang (2000): for α ≥ 1, d = α - 1/3, c = 1/√(9d), draw x ~ N(0, 1),
    v = (1 + cx)³ and accept d·v when log u < x²/2 + d - dv + d·log v (over 95% accepted).
    For α < 1 the draw for α + 1 is scaled by u^(1/α).
    """
    with grad_mode.no_grad():
        alpha = concentration.detach().expand(tuple(shape))
        drawn = _torch_draw("standard_gamma", alpha)
        if drawn is not None:  # the CPU: PyTorch's sequential sampler, the same numbers
            return Tensor._make(drawn, alpha.device)
        like = dict(dtype=alpha.dtype, device=alpha.device)
        boosted = alpha + (alpha < 1).to(alpha.dtype)
        d = boosted - 1.0 / 3.0
        c = (9.0 * d).rsqrt()
        out = creation.zeros(tuple(shape), **like)
        pending = creation.ones(tuple(shape), dtype=ops.isnan(alpha).dtype, device=alpha.device)
        while bool(pending.any()):
            x = creation.randn(tuple(shape), **like)
            v = (1.0 + c * x) ** 3
            u = creation.rand(tuple(shape), **like)
            safe_v = ops.where(v > 0, v, 1.0)
            accept = (v > 0) & (u.log() < 0.5 * x * x + d - d * safe_v + d * safe_v.log())
            take = pending & accept
            out = ops.where(take, d * safe_v, out)
            pending = pending & ~take
        u = creation.rand(tuple(shape), **like)
        scale = ops.where(alpha < 1, u ** (1.0 / alpha), 1.0)
        return (out * scale).clamp(min=_tiny(alpha.dtype))


def _torch_draw(name, alpha):
    """The CPU generator's PyTorch-exact ``standard_gamma``/``dirichlet`` of ``alpha``
    (float32/float64, outside vmap); None where the vectorized sampler here is used."""
    cpu = alpha.device.type == "cpu"
    if not cpu or backend.random_hook is not None or alpha._data.dtype not in _EXACT_DTYPES:
        return None
    gen = backend.default_generator(alpha.device)
    return getattr(gen, name)(np.ascontiguousarray(alpha._data))


def dirichlet_sample(concentration, shape):
    """Dirichlet draws of ``shape`` (the concentrations broadcast to it), as PyTorch's
    ``_sample_dirichlet`` on the CPU: differentiable in the concentrations with PyTorch's
    reparameterization (each component held at its quantile of its Beta marginal, see
    :func:`~minigrad.distributions._dirichlet_grad.beta_quantile_slope`)."""
    alpha = concentration.expand(tuple(shape))
    with grad_mode.no_grad():
        drawn = _torch_draw("dirichlet", alpha.detach())
        if drawn is None:
            g = standard_gamma(alpha.detach(), shape)
            x = g / g.sum(-1, keepdim=True)
        else:
            x = Tensor._make(drawn[1], alpha.device)
    if not (alpha.requires_grad and grad_mode.is_grad_enabled()):
        return x
    return x + dirichlet_slope(alpha, x)


def standard_gamma_grad(concentration, sample):
    """dx/dα of a Gamma(α, 1) draw x held at a fixed quantile (implicit reparameterization,
    Figurnov et al. 2018): -∂P(α, x)/∂α / p(x; α), P the regularized lower incomplete gamma.

    From the series P(α, x) = Σ_n e^(-x) x^(α+n)/Γ(α+n+1), the ratio to the density is
    dx/dα = -Σ_n r_n·(log x - ψ(α+n+1)) with r_n = x^(n+1)·Γ(α)/Γ(α+n+1); both factors are
    updated by recurrence. The terms are summed until they are negligible: past n ≈ x - α,
    about 10·√(α + x) more. Computed in float64, without gradient.
    """
    with grad_mode.no_grad():
        alpha = concentration.detach().to(dtype=dtypes.float64)
        x = sample.detach().to(dtype=dtypes.float64)
        alpha, x = ops.broadcast_tensors(alpha, x)
        log_ratio = x.log() - alpha.log()  # log r_0: Γ(α)/Γ(α+1) = 1/α
        psi = ops.digamma(alpha + 1)  # ψ(α + n + 1)
        xp = x.device.xp
        total = _gamma_series(xp, x._data, alpha._data, log_ratio._data, psi._data)
        return Tensor._make(-total, x.device).to(concentration.dtype)


def _gamma_series(xp, x, alpha, log_ratio, psi):
    """Σ_n r_n·(log x - ψ(α+n+1)) of :func:`standard_gamma_grad` on float64 arrays."""
    if not x.size:
        return x
    log_x = xp.log(x)
    total = xp.exp(log_ratio) * (log_x - psi)
    reach = xp.clip(x - alpha, 0, None) + 10 * xp.sqrt(alpha + x)
    for n in range(1, int(reach.max()) + 30):
        shift = alpha + n
        log_ratio = log_ratio + log_x - xp.log(shift)
        psi = psi + 1 / shift
        total = total + xp.exp(log_ratio) * (log_x - psi)
    return total


def _lower_gamma_grad_alpha(alpha, x, log_prefix):
    """∂P(α, x)/∂α = Σ_n T_n·(log x - ψ(α+n+1)) with T_n = e^(-x) x^(α+n)/Γ(α+n+1) ≤ 1, for
    x > 0 (float64 inputs). Where x lies over 40 standard deviations above α the upper tail,
    and so the derivative, is below the smallest float64 and 0 is returned."""
    far = x > alpha + 40 * (alpha + x).sqrt() + 50
    x = ops.where(far, alpha, x)
    log_x = x.log()
    log_term = log_prefix.where(~far, 0.0) - ops.log(alpha)  # log T_0
    psi = ops.digamma(alpha + 1)
    total = log_term.exp() * (log_x - psi)
    reach = (x - alpha).clamp(min=0) + 10 * (alpha + x).sqrt()
    steps = int(reach.max().item()) + 30 if x.numel() else 0
    for n in range(1, steps):
        shift = alpha + n
        log_term = log_term + log_x - shift.log()
        psi = psi + shift.reciprocal()
        total = total + log_term.exp() * (log_x - psi)
    return total.where(~far, 0.0)


def regularized_gamma(concentration, x):
    """P(α, x) = γ(α, x)/Γ(α), the Gamma(α, 1) cdf: :func:`minigrad.special.gammainc`
    (differentiable in x to any order) with, beyond it, the exact first-order gradient in α,
    the series of :func:`_lower_gamma_grad_alpha` (PyTorch refuses it; a second derivative
    through it raises)."""
    alpha, x = ops.broadcast_tensors(concentration, x)
    value = special.gammainc(alpha.detach(), x)
    if alpha.requires_grad:
        with grad_mode.no_grad():
            a = alpha.detach().to(dtype=dtypes.float64)
            v = x.detach().to(dtype=dtypes.float64)
            inside = ops.where(v > 0, v, a)
            prefix = a * inside.log() - inside - ops.lgamma(a)
            d_alpha = _lower_gamma_grad_alpha(a, inside, prefix).where(v > 0, 0.0)
        value = value + _FirstOrderSlope.apply(alpha, d_alpha.to(alpha.dtype))
    return value


class _FirstOrderSlope(Function):
    """Zero, whose gradient in ``wrt`` is ``slope`` (a tensor computed without a graph): adds
    an exact first derivative to a value computed without one. Differentiating it again raises,
    as PyTorch refuses these second derivatives, instead of taking the slope for a constant."""

    @staticmethod
    def forward(ctx, wrt, slope):
        ctx.save_for_backward(slope)
        return creation.zeros_like(slope)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        (slope,) = ctx.saved_tensors
        return grad * slope, None


def standard_gamma_rsample(concentration, shape):
    """Gamma(α, 1) draws of ``shape`` whose gradient in α is the implicit one,
    :func:`standard_gamma_grad` (the draw's value is :func:`standard_gamma`'s)."""
    alpha = concentration.expand(tuple(shape))
    draw = standard_gamma(alpha, shape)
    if alpha.requires_grad:
        # value x, gradient dx/dα with respect to α
        draw = draw + _FirstOrderSlope.apply(alpha, standard_gamma_grad(alpha, draw).to(draw.dtype))
    return draw


def _tiny(dtype):
    from .._typeinfo import finfo

    return finfo(dtype).tiny


class Gamma(ExponentialFamily):
    """Gamma with shape ``concentration`` α and ``rate`` β: density β^α x^(α-1) e^(-βx)/Γ(α).

    ``rsample`` carries the implicit-reparameterization gradient dx/dα (see
    :func:`standard_gamma_grad`) to ``concentration``, and x/β's to ``rate``. Its gradient is
    first order only: dx/dα enters as a constant, so second derivatives through a draw
    miss its dependence on α (PyTorch refuses them).
    """

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = broadcast_all(concentration, rate)
        super().__init__(self.rate.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        """``concentration`` and ``rate`` broadcast to ``batch_shape`` (views)."""
        return self._expanded(
            batch_shape, _instance, concentration=self.concentration.expand(batch_shape),
            rate=self.rate.expand(batch_shape),
        )  # fmt: skip

    @property
    def mean(self):
        return self.concentration / self.rate

    @property
    def mode(self):
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self):
        return self.concentration / self.rate.pow(2)

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        with grad_mode.no_grad():
            return standard_gamma(self.concentration, shape) / self.rate.detach()

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        return standard_gamma_rsample(self.concentration, shape) / self.rate

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        a, b = self.concentration, self.rate
        return ops.xlogy(a, b) + ops.xlogy(a - 1, value) - b * value - ops.lgamma(a)

    def cdf(self, value):
        """P(α, βx), the regularized lower incomplete gamma (see :func:`regularized_gamma`)."""
        if self._validate_args:
            self._validate_sample(value)
        return regularized_gamma(self.concentration, self.rate * value)

    def entropy(self):
        a = self.concentration
        return a - self.rate.log() + ops.lgamma(a) + (1.0 - a) * ops.digamma(a)

    _mean_carrier_measure = 0

    @property
    def _natural_params(self):
        return (self.concentration - 1, -self.rate)

    def _log_normalizer(self, x, y):
        return ops.lgamma(x + 1) + (x + 1) * (-y.reciprocal()).log()
