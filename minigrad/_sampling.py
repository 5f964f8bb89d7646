"""``torch.poisson`` and ``torch.binomial``: elementwise samples drawn from uniform numbers of a
generator (so ``generator=`` makes them reproducible), on any device. On the CPU they are
PyTorch's sequential samplers (:mod:`minigrad._torch_samplers`): the same seed gives the same
counts as PyTorch. Other devices use the vectorized samplers below:

Poisson: rates below 10 count unit-rate exponential arrivals before the rate (a few draws per
element); larger rates use Hörmann's transformed rejection with squeeze (PTRS, 1993), about
1.2 pairs of draws per element whatever the rate. Binomial: one Bernoulli draw per trial, so
its cost grows with the largest count.
"""

from __future__ import annotations

import builtins
import math

import numpy as np

from . import backend, creation, dtypes
from .autograd import grad_mode
from .ops import where
from .ops.special import lgamma
from .tensor import Tensor

_SMALL_RATE = 10.0


def _uniform(shape, generator, device) -> Tensor:
    return creation.rand(shape, generator=generator, dtype=dtypes.float64, device=device)


def _poisson_small(rate, generator) -> Tensor:
    """Count exponential arrivals before ``rate`` (float64; exact for every rate)."""
    count = creation.zeros(rate.shape, dtype=dtypes.float64, device=rate.device)
    elapsed = -(-_uniform(rate.shape, generator, rate.device)).log1p()
    while True:
        inside = elapsed < rate
        if not bool(inside.any()):
            return count
        count = count + inside.double()
        step = -(-_uniform(rate.shape, generator, rate.device)).log1p()
        elapsed = elapsed + where(inside, step, 0.0)


def _poisson_ptrs(lam, generator) -> Tensor:
    """Hörmann's PTRS rejection sampler for rates ``lam`` >= 10 (float64)."""
    slam, loglam = lam.sqrt(), lam.log()
    b = 0.931 + 2.53 * slam
    a = -0.059 + 0.02483 * b
    log_inv_alpha = (1.1239 + 1.1328 / (b - 3.4)).log()
    vr = 0.9277 - 3.6224 / (b - 2)
    result = creation.zeros(lam.shape, dtype=dtypes.float64, device=lam.device)
    pending = creation.ones(lam.shape, dtype=dtypes.bool, device=lam.device)
    while bool(pending.any()):
        u = _uniform(lam.shape, generator, lam.device) - 0.5
        v = _uniform(lam.shape, generator, lam.device)
        us = 0.5 - u.abs()
        k = ((2 * a / us + b) * u + lam + 0.43).floor()
        quick = (us >= 0.07) & (v <= vr)
        possible = (k >= 0) & ~((us < 0.013) & (v > us))
        log_target = -lam + k * loglam - lgamma(k.clamp(min=0) + 1)
        slow = possible & (v.log() + log_inv_alpha - (a / (us * us) + b).log() <= log_target)
        accept = pending & (quick | slow)
        result = where(accept, k, result)
        pending = pending & ~accept
    return result


def poisson(input, generator=None) -> Tensor:
    """Poisson samples with rates ``input`` (same shape, dtype and device). No gradient flows.

    Example:
        >>> minigrad.poisson(minigrad.tensor([0.5, 4.0, 300.0]))
    """
    if not input.is_floating_point():
        raise NotImplementedError(  # PyTorch's: its CPU kernel has no integer rates
            f"\"poisson_cpu\" not implemented for '{dtypes.scalar_type_name(input.dtype)}': "
            "poisson takes floating point rates"
        )
    backend.check_draw_from(input)
    with grad_mode.no_grad():
        rate = input.detach().double()
        if bool((rate < 0).any()) or bool(rate.isnan().any()):
            raise RuntimeError("poisson: invalid Poisson rate, expected rate to be non-negative")
        exact = _torch_draw("poisson", generator, rate)
        if exact is not None:
            return exact.to(input.dtype)
        large = rate >= _SMALL_RATE
        out = _poisson_small(where(large, 0.0, rate), generator)
        if bool(large.any()):
            out = where(large, _poisson_ptrs(where(large, rate, _SMALL_RATE), generator), out)
        return out.to(input.dtype)


def binomial(count, prob, generator=None) -> Tensor:
    """Binomial samples: successes in ``count`` trials of probability ``prob`` (elementwise,
    broadcast; ``count``'s dtype). No gradient flows."""
    if not count.is_floating_point() or not prob.is_floating_point():
        raise RuntimeError(
            f"binomial: count and prob must be floating point, got {count.dtype} and {prob.dtype}"
        )
    backend.check_draw_from(count, prob)
    with grad_mode.no_grad():
        n, p = count.detach().double(), prob.detach().double()
        if bool(((p < 0) | (p > 1) | p.isnan()).any()):
            raise RuntimeError("binomial: prob must be in [0, 1]")
        if bool((n < 0).any()):
            raise RuntimeError("binomial: count must be non-negative")
        n, p = n.broadcast_to(_shape(n, p)), p.broadcast_to(_shape(n, p))
        exact = _torch_draw("binomial", generator, n, p)
        if exact is not None:
            return exact.to(count.dtype)
        out = creation.zeros(n.shape, dtype=dtypes.float64, device=n.device)
        trials = int(math.floor(n.max().item())) if n.numel() else 0
        for trial in builtins.range(trials):
            u = _uniform(n.shape, generator, n.device)
            out = out + ((u < p) & (n > trial)).double()
        return out.to(count.dtype)


def _torch_draw(name, generator, *args):
    """The CPU generator's PyTorch-exact sampler ``name`` on float64 ``args`` (outside vmap);
    None on other devices, where the vectorized samplers here are used."""
    device = args[0].device
    if device.type != "cpu" or backend.random_hook is not None:
        return None
    gen = backend.generator_or_default(generator, device, name)
    drawn = getattr(gen, name)(*[np.ascontiguousarray(a._data) for a in args])
    return None if drawn is None else Tensor._make(drawn, device)


def _shape(a, b) -> tuple:
    from ._surface import broadcast_shapes

    return tuple(broadcast_shapes(a.shape, b.shape))


def _standard_gamma(input, generator=None) -> Tensor:
    """Gamma(input, 1) samples (PyTorch's ``torch._standard_gamma``), differentiable in
    ``input`` through the implicit reparameterization gradient."""
    from .distributions.gamma import standard_gamma_rsample

    if generator is not None:
        raise NotImplementedError("_standard_gamma: generator= is not supported")
    return standard_gamma_rsample(input, tuple(input.shape))


def _sample_dirichlet(input, generator=None) -> Tensor:
    """Dirichlet samples with concentrations ``input`` along the last dim (PyTorch's
    ``torch._sample_dirichlet``); no gradient flows, as PyTorch's."""
    from .distributions.gamma import dirichlet_sample

    if generator is not None:
        raise NotImplementedError("_sample_dirichlet: generator= is not supported")
    with grad_mode.no_grad():
        return dirichlet_sample(input.detach(), tuple(input.shape))
