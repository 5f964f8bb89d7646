"""The regularized incomplete gamma functions and the Hurwitz zeta function on float64 arrays
of any array module ``xp`` (NumPy or CuPy), elementwise with ``xp.where`` only.

- P(a, x) and Q(a, x) = 1 - P: the power series of P where x < a + 1, the continued fraction
  of Q (Legendre's, evaluated by the modified Lentz method) elsewhere; the other one as the
  complement, except Q for a < 1, which has its own series (no cancellation as a → 0). The
  prefactor x^a·e^(-x)/Γ(a) goes through logarithms, with Stirling's series for large a.
  Above a = 2e5 the leading terms of Temme's uniform expansion (about 1e-8 relative).
- ζ(s, q) = Σ_k (q + k)^(-s): sixteen terms summed directly, the rest by Euler-Maclaurin.
"""

from __future__ import annotations

import math

import numpy as np

from ._special_math import _LG1  # lgamma(1 + z) = Σ _LG1[k]·z^k, |z| < 1

_TEMME_FROM = 2e5  # above, Temme's expansion; below, the series and the fraction need
# about 100 + 9·√a terms
_TINY = 1e-300
# B_2k/(2k)! for k = 1..12
_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510,
              43867 / 798, -174611 / 330, 854513 / 138, -236364091 / 2730)  # fmt: skip
_B_OVER_FACT = tuple(b / math.factorial(2 * k) for k, b in enumerate(_BERNOULLI, start=1))


def _p_series(xp, a, x, log_prefactor, iterations):
    """P(a, x) = x^a e^-x / Γ(a+1) · Σ_k x^k / ((a+1)···(a+k))."""
    term, total = xp.ones_like(x), xp.ones_like(x)
    for k in range(1, iterations):
        term = term * x / (a + k)
        total = total + term
    return xp.exp(log_prefactor) / a * total


def _q_fraction(xp, a, x, log_prefactor, iterations):
    """Q(a, x) = x^a e^-x / Γ(a) · 1/(x+1-a- 1(1-a)/(x+3-a- 2(2-a)/(x+5-a- ···)))."""
    b = x + 1.0 - a
    c = xp.full_like(x, 1.0 / _TINY)
    d = 1.0 / b
    h = d
    for i in range(1, iterations):
        an = -i * (i - a)
        b = b + 2.0
        d = an * d + b
        d = xp.where(xp.abs(d) < _TINY, _TINY, d)
        c = b + an / c
        c = xp.where(xp.abs(c) < _TINY, _TINY, c)
        d = 1.0 / d
        h = h * d * c
    return xp.exp(log_prefactor) * h


def _log_prefactor(xp, a, x, lgamma):
    """log(x^a·e^-x/Γ(a)); from a = 10 as a·(log1p(t) - t) + ½log(a/2π) - (Stirling's
    remainder of lgamma(a)) with t = x/a - 1, which keeps it exact where x ≈ a is large."""
    direct = a * xp.log(x) - x - lgamma(a)
    big = a >= 10.0
    ab = xp.where(big, a, 10.0)
    t = (x - ab) / ab
    inv, inv2 = 1.0 / ab, 1.0 / (ab * ab)
    remainder = xp.zeros_like(ab)
    for k in range(8, 0, -1):  # Σ B_2k / (2k(2k-1)·a^(2k-1))
        remainder = remainder * inv2 + _BERNOULLI[k - 1] / (2 * k * (2 * k - 1))
    uniform = ab * (xp.log1p(t) - t) + 0.5 * xp.log(ab / (2 * math.pi)) - remainder * inv
    return xp.where(big, uniform, direct)


def _lgamma1p(xp, a, lgamma):
    """lgamma(1 + a) for 0 < a < 1, keeping a's digits where 1 + a would round them away."""
    low = a < 0.5
    z = xp.where(low, a, 0.0)
    series = xp.full_like(z, _LG1[-1])  # Taylor series about 1, radius 1: 0.5^60 < 1e-18
    for c in _LG1[-2::-1]:
        series = series * z + c
    return xp.where(low, series, lgamma(1.0 + xp.where(low, 1.0, a)))


def _q_small_a(xp, a, x, lgamma):
    """Q(a, x) for a < 1, x < a + 1, without the cancellation of 1 - P when a is small:
    Q = -expm1(a·log x - lgamma(1+a)) - x^a/Γ(a)·Σ_{k≥1} (-x)^k/(k!·(a+k))."""
    term, total = xp.ones_like(x), xp.zeros_like(x)
    for k in range(1, 40):  # x < 2: 2^40/40! is negligible
        term = term * -x / k
        total = total + term / (a + k)
    head = a * xp.log(x) - _lgamma1p(xp, a, lgamma)
    return -xp.expm1(head) - xp.exp(head) * a * total


def _temme(xp, a, x, erfc):
    """Q(a, x) by the leading terms of Temme's uniform expansion (a > 2e5, ~1e-8 relative):
    ½erfc(η√(a/2)) + e^(-aη²/2)/√(2πa)·C0(η), λ = x/a, η²/2 = λ - 1 - log λ."""
    lam = x / a
    t = lam - 1.0
    eta = xp.sign(t) * xp.sqrt(2.0 * (t - xp.log1p(t)))
    near = xp.abs(eta) < 1e-3
    e = xp.where(near, 1.0, eta)
    c0 = xp.where(
        near,
        -1.0 / 3.0 + eta / 12.0 - 2.0 * eta**2 / 135.0 + eta**3 / 864.0,
        1.0 / xp.where(near, 1.0, t) - 1.0 / e,
    )
    return (
        0.5 * erfc(eta * xp.sqrt(0.5 * a))
        + xp.exp(-0.5 * a * eta * eta) / xp.sqrt(2.0 * math.pi * a) * c0
    )


def _edges(xp, a, x, upper: bool):
    """PyTorch's values outside a, x > 0 finite, checked in PyTorch's order."""
    one, zero = (0.0, 1.0) if upper else (1.0, 0.0)
    out = xp.full_like(a, xp.nan)
    out = xp.where(xp.isinf(x), one, out)
    out = xp.where(xp.isinf(a), xp.where(xp.isinf(x), xp.nan, zero), out)
    out = xp.where(x == 0, zero, out)
    out = xp.where(a == 0, xp.where(x > 0, one, xp.nan), out)
    return xp.where((x < 0) | (a < 0), xp.nan, out)


def gammainc(xp, a, x, lgamma, erfc):
    """P(a, x) and Q(a, x), with PyTorch's values at the edges (``lgamma``, ``erfc``: kernels)."""
    a, x = xp.broadcast_arrays(a, x)
    with np.errstate(all="ignore"):
        inside = (a > 0) & (x > 0) & xp.isfinite(a) & xp.isfinite(x)
        aa, xx = xp.where(inside, a, 1.0), xp.where(inside, x, 1.0)
        huge = aa > _TEMME_FROM
        aa = xp.where(huge, 1.0, aa)  # (Temme's expansion below takes these)
        log_prefactor = _log_prefactor(xp, aa, xx, lgamma)
        use_series = xx < aa + 1.0
        # one host read, of the loops' length itself (a captured step replays while it holds)
        iterations = int(xp.floor(100 + 9 * xp.sqrt(xp.max(aa)))) if aa.size else 109
        p = _p_series(xp, aa, xp.where(use_series, xx, 0.5 * aa), log_prefactor, iterations)
        q = _q_fraction(xp, aa, xp.where(use_series, aa + 2.0, xx), log_prefactor, iterations)
        small_a = use_series & (aa < 1.0)
        q_small = _q_small_a(xp, xp.where(small_a, aa, 0.5), xp.where(small_a, xx, 0.5), lgamma)
        p, q = xp.where(use_series, p, 1.0 - q), xp.where(use_series, 1.0 - p, q)
        q = xp.where(small_a, q_small, q)
        q_huge = _temme(xp, xp.where(huge, a, 1e6), xp.where(huge, x, 1e6), erfc)
        p, q = xp.where(huge, 1.0 - q_huge, p), xp.where(huge, q_huge, q)
        return (
            xp.where(inside, p, _edges(xp, a, x, False)),
            xp.where(inside, q, _edges(xp, a, x, True)),
        )


_MAX_SHIFT = 10000


def _shift_sum(xp, s, q, terms):
    total = xp.zeros_like(q)
    for k in range(terms):
        total = total + (q + k) ** -s
    return total


def zeta(xp, s, q):
    """ζ(s, q), the Hurwitz zeta function, with PyTorch's (Cephes') edge values, except where
    PyTorch gives NaN for a finite limit: 0 at q = +inf, and for huge s, 0 where q > 1, 1 at
    q = 1 and inf where q < 1."""
    s, q = xp.broadcast_arrays(s, q)
    with np.errstate(all="ignore"):
        # 16 terms summed directly, more for q < 0 (one host read), so that the tail starts
        # at a = q + terms ≥ 16 (below q = -1e4 the sum would be too long: NaN)
        # (the read is of the count itself, so a captured step replays while it is unchanged)
        finite_q = xp.where(xp.isfinite(q), q, 0.0)
        shift = xp.clip(xp.ceil(-xp.min(finite_q)), 0, _MAX_SHIFT) if q.size else 0
        terms = 16 + int(shift)
        total = _shift_sum(xp, s, q, terms)
        a = q + terms
        # Euler-Maclaurin: a^(1-s)/(s-1) + a^-s/2 + Σ_j B_2j/(2j)!·s(s+1)···(s+2j-2)·a^(-s-2j+1)
        a_safe = xp.where(a > 0, a, 1.0)
        power = a_safe**-s
        tail = a_safe * power / (s - 1.0) + 0.5 * power
        rising, power = s, power / a_safe
        for j, coefficient in enumerate(_B_OVER_FACT, start=1):
            tail = tail + coefficient * rising * power
            rising = rising * (s + (2 * j - 1)) * (s + 2 * j)
            power = power / (a_safe * a_safe)
        # where s ≫ 2πa the tail is below an ulp of the sum, and its series diverges
        tail_ok = (s < 4.0 * a_safe) & (a > 0)
        out = total + xp.where(tail_ok, tail, 0.0)
        out = xp.where(q == xp.inf, 0.0, out)
        out = xp.where(xp.isnan(s) | xp.isnan(q), xp.nan, out)
        out = xp.where(q < -_MAX_SHIFT, xp.nan, out)
        # PyTorch's (Cephes') rules, the later ones first: s = 1, s < 1, then q ≤ 0
        integer_q = q == xp.floor(q)
        out = xp.where((q <= 0) & ~integer_q & (s != xp.floor(s)), xp.nan, out)
        out = xp.where((q <= 0) & integer_q, xp.inf, out)
        return xp.where(s == 1, xp.inf, xp.where(s < 1, xp.nan, out))
