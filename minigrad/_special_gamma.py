"""The regularized incomplete gamma functions and the Hurwitz zeta function on float64 arrays
of any array module ``xp`` (NumPy or CuPy), elementwise with ``xp.where`` only.

- P(a, x) and Q(a, x) = 1 - P: the power series of P where x < a + 1, the continued fraction
  of Q (Legendre's, evaluated by the modified Lentz method) elsewhere; the other one as the
  complement. Both use the prefactor x^a·e^(-x)/Γ(a) through logarithms.
- ζ(s, q) = Σ_k (q + k)^(-s): sixteen terms summed directly, the rest by Euler-Maclaurin.
"""

from __future__ import annotations

import math

import numpy as np

_MAX_ITERATIONS = 1000  # the series and the fraction need about 100 + 9·√a terms
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


def gammainc(xp, a, x, lgamma):
    """P(a, x) and Q(a, x), with PyTorch's values at the edges (``lgamma``: a kernel)."""
    a, x = xp.broadcast_arrays(a, x)
    with np.errstate(all="ignore"):
        inside = (a > 0) & (x > 0) & xp.isfinite(a) & xp.isfinite(x)
        aa, xx = xp.where(inside, a, 1.0), xp.where(inside, x, 1.0)
        log_prefactor = aa * xp.log(xx) - xx - lgamma(aa)
        use_series = xx < aa + 1.0
        # one host read sets the loops' length (a far above 1e4 loses accuracy)
        largest = float(xp.max(aa)) if aa.size else 1.0
        iterations = min(_MAX_ITERATIONS, int(100 + 9 * math.sqrt(largest)))
        p = _p_series(xp, aa, xp.where(use_series, xx, 0.5 * aa), log_prefactor, iterations)
        q = _q_fraction(xp, aa, xp.where(use_series, aa + 2.0, xx), log_prefactor, iterations)
        p, q = xp.where(use_series, p, 1.0 - q), xp.where(use_series, 1.0 - p, q)
        # the edges, as PyTorch: a = 0 (x > 0) is the limit P = 1; x = 0 gives P = 0
        p_edge = xp.where(x == 0, 0.0, xp.where(xp.isinf(a), 0.0, 1.0))
        p_edge = xp.where((a == 0) & (x == 0), xp.nan, p_edge)
        p_edge = xp.where(xp.isinf(a) & xp.isinf(x), xp.nan, p_edge)
        bad = (a < 0) | (x < 0) | xp.isnan(a) | xp.isnan(x)
        p_edge = xp.where(bad, xp.nan, p_edge)
        return xp.where(inside, p, p_edge), xp.where(inside, q, 1.0 - p_edge)


def _shift_sum(xp, s, q, terms):
    total = xp.zeros_like(q)
    for k in range(terms):
        total = total + (q + k) ** -s
    return total


def zeta(xp, s, q):
    """ζ(s, q), the Hurwitz zeta function, with PyTorch's (Cephes') edge values."""
    s, q = xp.broadcast_arrays(s, q)
    with np.errstate(all="ignore"):
        terms = 16
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
        integer_q = q == xp.floor(q)
        out = xp.where((q <= 0) & integer_q, xp.inf, out)
        out = xp.where((q <= 0) & ~integer_q & (s != xp.floor(s)), xp.nan, out)
        out = xp.where(s == 1, xp.inf, xp.where(s < 1, xp.nan, out))
        return xp.where(xp.isnan(s) | xp.isnan(q), xp.nan, out)
