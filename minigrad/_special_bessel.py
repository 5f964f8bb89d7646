"""Bessel and Airy functions on float64 arrays of any array module ``xp`` (NumPy or CuPy).

Every kernel takes ``(xp, x)`` and works elementwise with ``xp.where`` only (no host round
trips, no data-dependent Python branches), within about 3e-14 of mpmath relative to
max(|f|, 1e-2) (the oscillating functions are accurate in absolute terms near their zeros;
Ai below -9 to about 1e-12 of its envelope, as the phase (2/3)|x|^(3/2) carries its rounding).
tests/test_special2.py checks them against mpmath and PyTorch. Methods:

- J0, J1, Y0, Y1: power series below 2; Miller's backward recurrence on [2, 25] with the
  normalisation J0 + 2ΣJ_2k = 1 and Neumann's series for Y0, Y1 (Abramowitz & Stegun 9.1.88-89);
  Hankel's asymptotic expansion above 25, with the phase x - π/4 taken by angle addition so
  that huge arguments keep their accuracy.
- K0, K1 (and e^x·K): the power series below 0.5; above, the trapezoidal rule on
  K_ν(x) = ∫_0^∞ exp(-x cosh t) cosh(νt) dt, which converges doubly exponentially.
- Ai and Ai': the Maclaurin series near 0; K_{1/3}, K_{2/3} by the same quadrature for x > 0;
  for x < 0, J_{±1/3}, J_{±2/3} by Miller's recurrence and the asymptotic series far out.
"""

from __future__ import annotations

import math

import numpy as np

EULER = 0.57721566490153286061
_TWO_OVER_PI = 2.0 / math.pi
_SQRT_HALF = math.sqrt(0.5)
_SERIES_TERMS = 16  # (x²/4)^k / (k!)² < 1e-24 at k = 16 for |x| ≤ 2
_MILLER_TOP = 64  # J_64(25) < 1e-18: the recurrence starts far above the largest order needed
_STEP, _T_MAX = 0.1, 5.6  # the quadrature grid for K_ν(x), x ≥ 0.5: the tail is below 1e-27


def _guard(xp, x, keep, fill):
    """``x`` where ``keep``, else ``fill`` (so each branch sees only safe arguments)."""
    return xp.where(keep, x, fill)


# -- J0, J1, Y0, Y1 -------------------------------------------------------------------------


def _jy_series(xp, x):
    """J0, J1, Y0, Y1 by their power series (0 < x ≤ 2)."""
    z = 0.25 * x * x
    term0 = xp.ones_like(x)  # (-z)^k / (k!)²
    term1 = xp.ones_like(x)  # (-z)^k / (k!(k+1)!)
    j0, j1s, y0s, y1s = term0, term1, xp.zeros_like(x), (1.0 - 2.0 * EULER) * term1
    harmonic = 0.0
    for k in range(1, _SERIES_TERMS):
        harmonic += 1.0 / k
        term0 = term0 * -z / (k * k)
        term1 = term1 * -z / (k * (k + 1))
        j0, j1s = j0 + term0, j1s + term1
        y0s = y0s - harmonic * term0  # Σ (-1)^(k+1) H_k z^k/(k!)²
        y1s = y1s + (2.0 * harmonic + 1.0 / (k + 1) - 2.0 * EULER) * term1
    j1 = 0.5 * x * j1s
    log_half = xp.log(0.5 * x)
    y0 = _TWO_OVER_PI * ((log_half + EULER) * j0 + y0s)
    # Y1 = -2/(πx) + (2/π) log(x/2) J1 - (x/2π) Σ (ψ(k+1) + ψ(k+2)) (-z)^k/(k!(k+1)!)
    y1 = -_TWO_OVER_PI / x + _TWO_OVER_PI * log_half * j1 - (0.5 / math.pi) * x * y1s
    return j0, j1, y0, y1


def _jy_miller(xp, x):
    """J0, J1, Y0, Y1 by Miller's backward recurrence (2 ≤ x ≤ 25)."""
    above = xp.zeros_like(x)
    f = xp.full_like(x, 1e-200)  # f_n ∝ J_n(x); starts at n = _MILLER_TOP
    norm, y0s, y1s = xp.zeros_like(x), xp.zeros_like(x), xp.zeros_like(x)
    inv = 2.0 / x
    for n in range(_MILLER_TOP, 0, -1):
        below = n * inv * f - above  # f_{n-1}
        above, f = f, below
        m = n - 1  # the order of f now
        if m >= 2 and m % 2 == 0:
            k = m // 2
            norm = norm + 2.0 * f
            y0s = y0s + ((-1) ** k / k) * f
        elif m >= 3:
            k = (m - 1) // 2
            y1s = y1s + ((-1) ** k * (1 + 2 * k) / (k * (k + 1))) * f
    norm = norm + f
    j0, j1 = f / norm, above / norm
    log_half = xp.log(0.5 * x)
    y0 = _TWO_OVER_PI * ((log_half + EULER) * j0 - 2.0 * y0s / norm)
    y1 = _TWO_OVER_PI * (-j0 / x + (log_half - 1.0 + EULER) * j1 - y1s / norm)
    return j0, j1, y0, y1


def _hankel_pq(xp, x, order: int, terms: int = 10):
    """P, Q of Hankel's expansion of J_ν, Y_ν (x > 25)."""
    mu = 4.0 * order * order
    term, p, q = xp.ones_like(x), xp.ones_like(x), xp.zeros_like(x)
    for k in range(1, 2 * terms):
        term = term * (mu - (2 * k - 1) ** 2) / (k * 8.0 * x)
        if k % 2:
            q = q + (-1) ** ((k - 1) // 2) * term
        else:
            p = p + (-1) ** (k // 2) * term
    return p, q


def _jy_hankel(xp, x):
    """J0, J1, Y0, Y1 by Hankel's asymptotic expansion (x > 25)."""
    c, s = xp.cos(x), xp.sin(x)
    amp = xp.sqrt(_TWO_OVER_PI / x)
    out = []
    for order, cos_chi, sin_chi in ((0, c + s, s - c), (1, s - c, -(s + c))):
        p, q = _hankel_pq(xp, x, order)
        cos_chi, sin_chi = _SQRT_HALF * cos_chi, _SQRT_HALF * sin_chi
        out.append((amp * (p * cos_chi - q * sin_chi), amp * (p * sin_chi + q * cos_chi)))
    (j0, y0), (j1, y1) = out
    return j0, j1, y0, y1


def bessel_jy(xp, x):
    """J0(x), J1(x), Y0(x), Y1(x) for float64 ``x`` (Y is NaN below 0, -inf at 0; all are NaN
    at ±inf, as PyTorch, although the limits are 0)."""
    with np.errstate(all="ignore"):
        a = xp.abs(x)
        small, far = a < 2.0, a > 25.0
        parts = (
            _jy_series(xp, _guard(xp, a, small & (a > 0), 1.0)),
            _jy_miller(xp, _guard(xp, a, ~small & ~far, 10.0)),
            _jy_hankel(xp, _guard(xp, a, far & xp.isfinite(a), 30.0)),
        )
        j0, j1, y0, y1 = (xp.where(small, s, xp.where(far, h, m)) for s, m, h in zip(*parts))
        zero, inf = a == 0, xp.isinf(a)
        j0 = xp.where(zero, 1.0, j0)
        j1 = xp.where(zero, 0.0, j1)
        j1 = xp.where(x < 0, -j1, j1)
        y0, y1 = (xp.where(zero, -xp.inf, y) for y in (y0, y1))
        y0, y1 = (xp.where(x < 0, xp.nan, y) for y in (y0, y1))
        nan = xp.isnan(x) | inf  # NaN at ±inf, as PyTorch
        return tuple(xp.where(nan, xp.nan, v) for v in (j0, j1, y0, y1))


def bessel_j0(xp, x):
    """J0, the Bessel function of the first kind of order 0."""
    return bessel_jy(xp, x)[0]


def bessel_j1(xp, x):
    """J1, the Bessel function of the first kind of order 1."""
    return bessel_jy(xp, x)[1]


def bessel_y0(xp, x):
    """Y0, the Bessel function of the second kind of order 0 (NaN for x < 0)."""
    return bessel_jy(xp, x)[2]


def bessel_y1(xp, x):
    """Y1, the Bessel function of the second kind of order 1 (NaN for x < 0)."""
    return bessel_jy(xp, x)[3]


# -- K0, K1 -----------------------------------------------------------------------------------


def _k_series(xp, x):
    """K0(x), K1(x) by their power series (0 < x ≤ 0.5)."""
    z = 0.25 * x * x
    term0, term1 = xp.ones_like(x), xp.ones_like(x)
    i0, i1s = term0, term1
    k0s, k1s = xp.zeros_like(x), (1.0 - 2.0 * EULER) * term1
    harmonic = 0.0
    for k in range(1, _SERIES_TERMS):
        harmonic += 1.0 / k
        term0 = term0 * z / (k * k)
        term1 = term1 * z / (k * (k + 1))
        i0, i1s = i0 + term0, i1s + term1
        k0s = k0s + harmonic * term0
        k1s = k1s + (2.0 * harmonic + 1.0 / (k + 1) - 2.0 * EULER) * term1
    log_half = xp.log(0.5 * x)
    k0 = -(log_half + EULER) * i0 + k0s
    k1 = 1.0 / x + log_half * 0.5 * x * i1s - 0.25 * x * k1s
    return k0, k1


def scaled_k_quadrature(xp, x, order: float):
    """exp(x)·K_ν(x) = h Σ' exp(-2x sinh²(t/2)) cosh(νt) on t = 0, h, 2h, ... (x ≥ 0.5)."""
    total = 0.5 * xp.ones_like(x)
    for k in range(1, int(_T_MAX / _STEP) + 1):
        t = k * _STEP
        total = total + xp.exp(-2.0 * x * math.sinh(0.5 * t) ** 2) * math.cosh(order * t)
    return _STEP * total


def scaled_k_asymptotic(xp, x, order: float, terms: int = 24):
    """exp(x)·K_ν(x) by its asymptotic series √(π/2x)·Σ a_k(ν)/x^k (x > 25)."""
    mu = 4.0 * order * order
    term, total = xp.ones_like(x), xp.ones_like(x)
    for k in range(1, terms):
        term = term * (mu - (2 * k - 1) ** 2) / (k * 8.0 * x)
        total = total + term
    return total * xp.sqrt(0.5 * math.pi / x)


def scaled_k(xp, x, order: float):
    """exp(x)·K_ν(x) for x ≥ 0.5: quadrature up to 25, the asymptotic series beyond."""
    far = x > 25.0
    quad = scaled_k_quadrature(xp, _guard(xp, x, ~far, 1.0), order)
    return xp.where(far, scaled_k_asymptotic(xp, _guard(xp, x, far, 30.0), order), quad)


def _scaled_k(xp, x, order: int):
    """exp(x)·K_order(x) for float64 ``x``: inf at 0, NaN below."""
    with np.errstate(all="ignore"):
        small = x <= 0.5
        xs = _guard(xp, x, small & (x > 0), 0.25)
        series = _k_series(xp, xs)[order] * xp.exp(xs)
        big = scaled_k(xp, _guard(xp, x, ~small & xp.isfinite(x), 3.0), order)
        out = xp.where(small, series, big)
        out = xp.where(x == 0, xp.inf, xp.where(x == xp.inf, 0.0, out))
        return xp.where((x < 0) | xp.isnan(x), xp.nan, out)


def _unscaled_k(xp, x, order: int):
    with np.errstate(all="ignore"):
        half = xp.exp(-0.5 * xp.where(xp.isfinite(x), x, 0.0))  # e^-x in two halves: no 0·inf
        out = _scaled_k(xp, x, order) * half * half
        return xp.where(x == xp.inf, 0.0, out)


def modified_bessel_k0(xp, x):
    """K0, the modified Bessel function of the second kind of order 0 (NaN for x < 0)."""
    return _unscaled_k(xp, x, 0)


def modified_bessel_k1(xp, x):
    """K1, the modified Bessel function of the second kind of order 1 (NaN for x < 0)."""
    return _unscaled_k(xp, x, 1)


def scaled_modified_bessel_k0(xp, x):
    """exp(x)·K0(x)."""
    return _scaled_k(xp, x, 0)


def scaled_modified_bessel_k1(xp, x):
    """exp(x)·K1(x)."""
    return _scaled_k(xp, x, 1)


def spherical_bessel_j0(xp, x):
    """j0(x) = sin(x)/x (1 at 0, 0 at ±inf); the Taylor series below |x| = 0.5."""
    with np.errstate(all="ignore"):
        a = xp.abs(x)
        small = a < 0.5
        z = x * x
        series, term = xp.ones_like(x), xp.ones_like(x)
        for k in range(1, 10):
            term = term * -z / ((2 * k) * (2 * k + 1))
            series = series + term
        safe = _guard(xp, x, ~small & xp.isfinite(x), 1.0)
        out = xp.where(small, series, xp.sin(safe) / safe)
        return xp.where(xp.isnan(x), xp.nan, xp.where(xp.isinf(x), 0.0, out))


# -- Airy Ai and Ai' -------------------------------------------------------------------------

_AI0 = 0.355028053887817239260  # Ai(0) = 3^(-2/3)/Γ(2/3)
_AIP0 = 0.258819403792806798405  # -Ai'(0) = 3^(-1/3)/Γ(1/3)


def _airy_maclaurin(xp, x):
    """Ai, Ai' by the Maclaurin series Ai = Ai(0)·f + Ai'(0)·g (|x| ≤ 2.5)."""
    x3 = x * x * x
    f, g = xp.ones_like(x), x.copy()  # f = Σ a_k x^3k, g = Σ b_k x^(3k+1)
    fp, gp = xp.zeros_like(x), xp.ones_like(x)  # their derivatives
    a, b = xp.ones_like(x), xp.ones_like(x)  # a_k x^3k and b_k x^3k
    for k in range(1, 14):
        a = a * x3 / ((3 * k - 1) * (3 * k))
        b = b * x3 / ((3 * k) * (3 * k + 1))
        f, g = f + a, g + b * x
        fp, gp = fp + (3 * k) * a / x, gp + (3 * k + 1) * b
    return _AI0 * f - _AIP0 * g, _AI0 * fp - _AIP0 * gp


def _airy_positive(xp, x):
    """Ai, Ai' for x ≥ 1 through K_{1/3}(ζ), K_{2/3}(ζ), ζ = (2/3)x^(3/2)."""
    zeta = (2.0 / 3.0) * x * xp.sqrt(x)
    decay = xp.exp(-zeta)
    ai = xp.sqrt(x / 3.0) / math.pi * scaled_k(xp, zeta, 1.0 / 3.0) * decay
    aip = -x / (math.pi * math.sqrt(3.0)) * scaled_k(xp, zeta, 2.0 / 3.0) * decay
    return ai, aip


def _miller_fractional(xp, z, order: float):
    """J_ν(z), J_{ν+1}(z) for 0 < ν < 1 and 2 ≤ z ≤ 20 by Miller's backward recurrence with
    the normalisation Σ_k (ν+2k)·Γ(ν+k)/k!·J_{ν+2k}(z) = (z/2)^ν."""
    top = 56
    weights = [math.gamma(order)]
    for k in range(1, top // 2 + 1):
        weights.append(weights[-1] * (order + k - 1) / k)
    above, f = xp.zeros_like(z), xp.full_like(z, 1e-200)
    norm = xp.zeros_like(z)
    for n in range(top, 0, -1):
        if n % 2 == 0:
            norm = norm + (order + n) * weights[n // 2] * f
        above, f = f, 2.0 * (order + n) / z * f - above
    norm = norm + order * weights[0] * f
    scale = (0.5 * z) ** order / norm
    return f * scale, above * scale


def _airy_negative_mid(xp, t):
    """Ai(-t), Ai'(-t) for 2.5 ≤ t ≤ 9 through J_{±1/3}(ζ), J_{±2/3}(ζ)."""
    zeta = (2.0 / 3.0) * t * xp.sqrt(t)
    j13, j43 = _miller_fractional(xp, zeta, 1.0 / 3.0)
    j23, j53 = _miller_fractional(xp, zeta, 2.0 / 3.0)
    jm13 = (4.0 / 3.0) / zeta * j23 - j53  # J_{ν-1} = (2ν/ζ)J_ν - J_{ν+1}
    jm23 = (2.0 / 3.0) / zeta * j13 - j43
    return xp.sqrt(t) / 3.0 * (j13 + jm13), t / 3.0 * (j23 - jm23)


def _airy_negative_far(xp, t, terms: int = 30):
    """Ai(-t), Ai'(-t) for t > 9 by their asymptotic expansions (DLMF 9.7.9-10)."""
    zeta = (2.0 / 3.0) * t * xp.sqrt(t)
    u, inv = xp.ones_like(t), 1.0 / zeta
    pu, qu = xp.ones_like(t), xp.zeros_like(t)  # Σ(-1)^k u_2k ζ^-2k, Σ(-1)^k u_2k+1 ζ^-2k-1
    pv, qv = xp.ones_like(t), xp.zeros_like(t)  # the same with v_k = -(6k+1)/(6k-1)·u_k
    for k in range(1, terms):
        u = u * inv * ((6 * k - 5) * (6 * k - 3) * (6 * k - 1) / (216.0 * k * (2 * k - 1)))
        v = -(6 * k + 1) / (6 * k - 1) * u
        sign = (-1) ** (k // 2)
        if k % 2:
            qu, qv = qu + sign * u, qv + sign * v
        else:
            pu, pv = pu + sign * u, pv + sign * v
    c, s = xp.cos(zeta), xp.sin(zeta)
    cos_phase, sin_phase = _SQRT_HALF * (c + s), _SQRT_HALF * (s - c)  # of ζ - π/4
    root = xp.sqrt(xp.sqrt(t) * math.pi)
    ai = (cos_phase * pu + sin_phase * qu) / root
    aip = xp.sqrt(t) / root * (sin_phase * pv - cos_phase * qv)
    return ai, aip


def airy(xp, x):
    """Ai(x) and Ai'(x) for float64 ``x`` (NaN at ±inf, as PyTorch)."""
    with np.errstate(all="ignore"):
        near = (x > -2.5) & (x < 1.0)
        pos, far = x >= 1.0, x < -9.0
        parts = (
            _airy_maclaurin(xp, _guard(xp, x, near, 0.5)),
            _airy_positive(xp, _guard(xp, x, pos & xp.isfinite(x), 2.0)),
            _airy_negative_mid(xp, _guard(xp, -x, ~near & ~pos & ~far, 4.0)),
            _airy_negative_far(xp, _guard(xp, -x, far & xp.isfinite(x), 10.0)),
        )
        out = []
        for n, p, m, f in zip(*parts):
            v = xp.where(near, n, xp.where(pos, p, xp.where(far, f, m)))
            out.append(xp.where(xp.isnan(x) | xp.isinf(x), xp.nan, v))
        return tuple(out)


def airy_ai(xp, x):
    """Ai(x), the Airy function of the first kind."""
    return airy(xp, x)[0]


def airy_ai_prime(xp, x):
    """Ai'(x), the derivative of the Airy function of the first kind."""
    return airy(xp, x)[1]


def spherical_bessel_j1(xp, x):
    """j1(x) = sin(x)/x² - cos(x)/x (0 at 0 and ±inf); the Taylor series below |x| = 0.5.

    Not in ``torch.special``: minigrad uses it for the derivative of j0 (j0' = -j1).
    """
    with np.errstate(all="ignore"):
        small = xp.abs(x) < 0.5
        z = x * x
        term = x / 3.0
        series = term
        for k in range(1, 10):  # term_k / term_(k-1) = -x² / ((2k)(2k+3))
            term = term * -z / ((2 * k) * (2 * k + 3))
            series = series + term
        safe = _guard(xp, x, ~small & xp.isfinite(x), 1.0)
        out = xp.where(small, series, (xp.sin(safe) / safe - xp.cos(safe)) / safe)
        return xp.where(xp.isnan(x), xp.nan, xp.where(xp.isinf(x), 0.0, out))
