"""Special functions on NumPy arrays (NumPy has none, and SciPy is not a dependency).

Each kernel takes float64 arrays and returns float64 arrays, accurate to a few ulp over the
whole real line (checked against mpmath and PyTorch in tests/test_special.py). The backend
(:meth:`minigrad.backend.ArrayBackend.special`) upcasts other floating dtypes and routes CuPy
arrays to ``cupyx.scipy.special`` instead. Methods:

- lgamma: Taylor series about 1 and 2 on [0.5, 2.5] (exact near the zeros at 1 and 2),
  recurrence down to that interval below 10, Stirling's series above, reflection below 0.
- digamma and polygamma(n): recurrence + asymptotic series (digamma, as PyTorch); the Hurwitz
  zeta function by Euler-Maclaurin summation (polygamma), reflection through cot(πx) below 0.
- erfinv and ndtri: an approximation (Winitzki; Acklam) refined by Halley steps on erf/erfc.
- erfcx: exp(x²)·erfc(x) with exp(x²) split so that the square is exact; an asymptotic
  series where erfc underflows.
- i0, i1 (and the scaled i0e, i1e): the power series below 20, Hankel's asymptotic series above.
"""

from __future__ import annotations

import math

import numpy as np

_erf = np.frompyfunc(math.erf, 1, 1)
_erfc = np.frompyfunc(math.erfc, 1, 1)

EULER = 0.57721566490153286061
# Bernoulli numbers B_2, B_4, ..., B_20
_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510,
              43867 / 798, -174611 / 330)  # fmt: skip


def erf(x):
    """erf elementwise (SciPy's when installed, else math.erf element by element)."""
    try:
        from scipy.special import erf as fn
    except ImportError:
        return np.asanyarray(_erf(x), dtype=np.float64)
    return fn(x)


def erfc(x):
    """1 - erf(x) elementwise, without cancellation for large x."""
    try:
        from scipy.special import erfc as fn
    except ImportError:
        return np.asanyarray(_erfc(x), dtype=np.float64)
    return fn(x)


def _zeta_minus_one(s: int) -> float:
    """ζ(s) - 1 = Σ_{n≥2} n^-s for an integer s ≥ 2 (Euler-Maclaurin from n = 20)."""
    n = 20.0
    total = math.fsum(k**-s for k in range(2, 20))
    tail = n ** (1 - s) / (s - 1) + 0.5 * n**-s
    rising, power = float(s), n ** (-s - 1)
    for j, b in enumerate(_BERNOULLI, start=1):
        tail += b / math.factorial(2 * j) * rising * power
        rising *= (s + 2 * j - 1) * (s + 2 * j)
        power /= n * n
    return total + tail


_TAYLOR_TERMS = 60
_ZM1 = [0.0, 0.0] + [_zeta_minus_one(k) for k in range(2, _TAYLOR_TERMS + 1)]
# lgamma(1 + z) = -γz + Σ (-1)^k ζ(k)/k z^k;  lgamma(2 + z) = (1-γ)z + Σ (-1)^k (ζ(k)-1)/k z^k
_LG1 = [0.0, -EULER] + [(-1) ** k * (1.0 + _ZM1[k]) / k for k in range(2, _TAYLOR_TERMS + 1)]
_LG2 = [0.0, 1.0 - EULER] + [(-1) ** k * _ZM1[k] / k for k in range(2, _TAYLOR_TERMS + 1)]


def _horner(coefficients, z):
    """Σ c_k z^k for coefficients listed from the constant term up."""
    out = np.full_like(z, coefficients[-1])
    for c in coefficients[-2::-1]:
        out = out * z + c
    return out


def _lgamma_near(x):
    """lgamma on [0.5, 2.5]: the Taylor series about 1 or 2, whichever is nearer."""
    about_one = x < 1.5
    z = np.where(about_one, x - 1.0, x - 2.0)
    return np.where(about_one, _horner(_LG1, z), _horner(_LG2, z))


def _stirling(x):
    """lgamma(x) for x ≥ 10."""
    inv, inv2 = 1.0 / x, 1.0 / (x * x)
    series = np.zeros_like(x)
    for k in range(8, 0, -1):
        series = series * inv2 + _BERNOULLI[k - 1] / (2 * k * (2 * k - 1))
    return (x - 0.5) * np.log(x) - x + 0.5 * math.log(2 * math.pi) + series * inv


def lgamma(x):
    """log|Γ(x)|; +inf at 0 and the negative integers, as PyTorch."""
    x = np.asanyarray(x, dtype=np.float64)
    with np.errstate(all="ignore"):
        big = x >= 10.0
        pos = np.where(x > 0, x, 1.0)
        out = _stirling(np.where(big, x, 10.0))
        # below 0.5: lgamma(x) = lgamma(x + 1) - log(x); 2.5..10: step down to [1.5, 2.5]
        small = pos < 0.5
        y = np.where(small, pos + 1.0, pos)
        shift = np.zeros_like(y)
        for _ in range(8):
            step = (y >= 2.5) & (y < 10.0)
            y = np.where(step, y - 1.0, y)
            shift = shift + np.where(step, np.log(np.where(step, y, 1.0)), 0.0)
        mid = _lgamma_near(np.clip(y, 0.5, 2.5)) + shift - np.where(small, np.log(pos), 0.0)
        out = np.where(big, out, mid)
        neg = x < 0
        if neg.any():  # reflection: log(π / |sin πx|) - lgamma(1 - x)
            xn = np.where(neg, x, -0.5)
            r = xn - np.round(xn)
            reflected = np.log(math.pi / np.abs(np.sin(math.pi * r))) - lgamma(1.0 - xn)
            out = np.where(neg, reflected, out)
        out = np.where(x == 0, np.inf, out)
        out = np.where(np.isinf(x), np.inf, out)
        return np.where(np.isnan(x), np.nan, out)


def digamma(x):
    """ψ(x) = d/dx lgamma(x), as PyTorch: ψ(±0) = ∓inf, NaN at the negative integers."""
    x = np.asanyarray(x, dtype=np.float64)
    with np.errstate(all="ignore"):
        neg = x < 0
        y = np.where(neg, 1.0 - x, x)
        y = np.where(np.isfinite(y) & (y > 0), y, 10.0)
        result = np.zeros_like(y)
        for _ in range(10):
            step = y < 10.0
            if not step.any():
                break
            result = result - np.where(step, 1.0 / y, 0.0)
            y = np.where(step, y + 1.0, y)
        inv2 = 1.0 / (y * y)
        series = np.zeros_like(y)
        for k in range(7, 0, -1):
            series = series * inv2 + _BERNOULLI[k - 1] / (2 * k)
        result = result + np.log(y) - 0.5 / y - series * inv2
        if neg.any():  # ψ(x) = ψ(1 - x) - π / tan(π·frac(x))
            frac = x - np.trunc(x)
            result = np.where(neg, result - math.pi / np.tan(math.pi * frac), result)
            result = np.where(neg & (frac == 0), np.nan, result)
        result = np.where(x == 0, np.copysign(np.inf, -x), result)
        result = np.where(x == np.inf, np.inf, result)
        return np.where(np.isnan(x) | (x == -np.inf), np.nan, result)


def _hurwitz(s: int, q):
    """ζ(s, q) = Σ_{k≥0} (q + k)^-s for an integer s ≥ 2 and q > 0 (Euler-Maclaurin)."""
    a_min = 12.0 + s
    a = q.copy()
    total = np.zeros_like(q)
    while True:
        low = a < a_min
        if not low.any():
            break
        total = total + np.where(low, a ** (-s), 0.0)
        a = np.where(low, a + 1.0, a)
    tail = a ** (1 - s) / (s - 1) + 0.5 * a ** (-s)
    rising, power = float(s), a ** (-s - 1)
    for j, b in enumerate(_BERNOULLI, start=1):
        tail = tail + (b / math.factorial(2 * j) * rising) * power
        rising *= (s + 2 * j - 1) * (s + 2 * j)
        power = power / (a * a)
    return total + tail


def _cot_derivative_poly(n: int):
    """Coefficients of P_n with dⁿ/dxⁿ cot(πx) = πⁿ P_n(cot πx); P_0 = c, P_{k+1} = -(1+c²)P_k'."""
    p = [0.0, 1.0]
    for _ in range(n):
        d = [k * p[k] for k in range(1, len(p))] or [0.0]
        nxt = [0.0] * (len(d) + 2)
        for k, c in enumerate(d):
            nxt[k] -= c
            nxt[k + 2] -= c
        p = nxt
    return p


def polygamma(n: int, x):
    """ψ⁽ⁿ⁾(x), the n-th derivative of digamma: (-1)^(n+1) n! ζ(n+1, x) for n ≥ 1."""
    if n == 0:
        return digamma(x)
    x = np.asanyarray(x, dtype=np.float64)
    with np.errstate(all="ignore"):
        neg = x < 0
        q = np.where(neg, 1.0 - x, x)
        q = np.where(np.isfinite(q) & (q > 0), q, 1.0)
        sign = 1.0 if n % 2 else -1.0
        out = sign * math.factorial(n) * _hurwitz(n + 1, q) if n <= 170 else np.full_like(q, np.inf)
        if neg.any():  # ψ⁽ⁿ⁾(x) = (-1)ⁿ ψ⁽ⁿ⁾(1 - x) - π^(n+1) P_n(cot πx)
            xr = np.where(neg, x, 0.5)
            c = 1.0 / np.tan(math.pi * (xr - np.round(xr)))
            reflected = (-1) ** n * out - math.pi ** (n + 1) * _horner(_cot_derivative_poly(n), c)
            out = np.where(neg, reflected, out)
        pole = (x <= 0) & (x == np.floor(x))  # ζ(s, q) = inf at q = 0, -1, -2, ...
        out = np.where(pole, sign * np.inf, out)
        out = np.where(x == np.inf, 0.0, out)
        # at -inf, as PyTorch: NaN for trigamma, Cephes' ζ(s, -inf) = inf beyond
        out = np.where(x == -np.inf, np.nan if n == 1 else sign * np.inf, out)
        return np.where(np.isnan(x), np.nan, out)


def erfinv(x):
    """The inverse of erf on [-1, 1] (±inf at ±1, NaN outside)."""
    x = np.asanyarray(x, dtype=np.float64)
    with np.errstate(all="ignore"):
        a = np.abs(x)
        inside = a < 1.0
        a = np.where(inside, a, 0.5)
        # Winitzki's approximation (relative error < 2e-3), then Halley steps
        w = 0.147
        log1m = np.log1p(-a * a)
        t = 2.0 / (math.pi * w) + 0.5 * log1m
        y = np.sqrt(np.sqrt(t * t - log1m / w) - t)
        upper = a > 0.5
        for _ in range(3):
            residual = np.where(upper, (1.0 - a) - erfc(y), erf(y) - a)
            u = residual / (2.0 / math.sqrt(math.pi) * np.exp(-y * y))
            y = y - u / (1.0 + y * u)
        y = np.copysign(y, x)
        y = np.where(inside, y, np.where(np.abs(x) == 1.0, np.copysign(np.inf, x), np.nan))
        return np.where(np.isnan(x), np.nan, y)


_ACKLAM_A = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02,
             1.383577518672690e02, -3.066479806614716e01, 2.506628277459239e00)  # fmt: skip
_ACKLAM_B = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02,
             6.680131188771972e01, -1.328068155288572e01, 1.0)  # fmt: skip
_ACKLAM_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00,
             -2.549671010243000e00, 4.374664141464968e00, 2.938163982698783e00)  # fmt: skip
_ACKLAM_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00,
             3.754408661907416e00, 1.0)  # fmt: skip


def ndtri(p):
    """The inverse of the standard normal CDF: ndtr(ndtri(p)) = p (±inf at 1 and 0)."""
    p = np.asanyarray(p, dtype=np.float64)
    with np.errstate(all="ignore"):
        upper = p > 0.5
        q = np.where(upper, 1.0 - p, p)  # exact for p ≥ 0.5; solve for the lower tail
        inside = (q > 0) & (q <= 0.5)
        q = np.where(inside, q, 0.25)
        tail = q < 0.02425
        r = np.sqrt(-2.0 * np.log(q))
        x_tail = _horner(_ACKLAM_C[::-1], r) / _horner(_ACKLAM_D[::-1], r)
        c = q - 0.5
        c2 = c * c
        x_mid = _horner(_ACKLAM_A[::-1], c2) * c / _horner(_ACKLAM_B[::-1], c2)
        x = np.where(tail, x_tail, x_mid)
        for _ in range(2):  # Halley on ndtr(x) - q, through erfc (precise in the lower tail)
            e = 0.5 * erfc(-x / math.sqrt(2.0)) - q
            u = e * math.sqrt(2 * math.pi) * np.exp(0.5 * x * x)
            x = x - u / (1.0 + 0.5 * x * u)
        x = np.where(upper, -x, x)
        edge = np.where(p == 0, -np.inf, np.where(p == 1, np.inf, np.nan))
        return np.where(inside, x, edge)


def _exp_square(t):
    """exp(t²) with t² split into an exact head and a small tail (no rounding of t² blown up)."""
    head = t.astype(np.float32).astype(np.float64)  # 24 bits: head² is exact in float64
    tail = t - head
    return np.exp(head * head) * np.exp((2.0 * head + tail) * tail)


def erfcx(x):
    """exp(x²)·erfc(x), finite where erfc underflows (x large)."""
    x = np.asanyarray(x, dtype=np.float64)
    with np.errstate(all="ignore"):
        far = x > 26.0
        near = np.where(far, 0.0, x)
        direct = _exp_square(near) * erfc(near)
        t = np.where(far, x, 27.0)
        z = 1.0 / (2.0 * t * t)
        series, term = np.ones_like(t), np.ones_like(t)
        for k in range(1, 10):
            term = term * -(2 * k - 1) * z
            series = series + term
        asym = series / (t * math.sqrt(math.pi))
        out = np.where(far, asym, direct)
        return np.where(x == -np.inf, np.inf, out)


def ndtr(x):
    """The standard normal CDF, ½·erfc(-x/√2): accurate in the lower tail too."""
    x = np.asanyarray(x, dtype=np.float64)
    return 0.5 * erfc(-x / math.sqrt(2.0))


def log_ndtr(x):
    """log of the standard normal CDF, finite far into the lower tail (as PyTorch)."""
    x = np.asanyarray(x, dtype=np.float64)
    with np.errstate(all="ignore"):
        t = x / math.sqrt(2.0)
        low = x < -1.0
        tl = np.where(low, -t, 1.0)
        lower = np.log(erfcx(tl) / 2.0) - tl * tl
        upper = np.log1p(-erfc(np.where(low, 0.0, t)) / 2.0)
        return np.where(low, lower, upper)


def _bessel_series(x, order: int):
    """Σ_k (x²/4)^k / (k!(k+order)!) · (x/2)^order, for |x| ≤ 20 (all terms positive)."""
    q = 0.25 * x * x
    term = np.ones_like(x) if order == 0 else 0.5 * x
    total = term
    for k in range(1, 60):
        term = term * q / (k * (k + order))
        total = total + term
    return total


def _bessel_asymptotic(a, order: int):
    """Σ_k (-1)^k a_k(ν)/|x|^k of Hankel's expansion: I_ν(x) ≈ e^|x|/√(2π|x|)·Σ, for |x| > 20."""
    mu = 4.0 * order * order
    term, total = np.ones_like(a), np.ones_like(a)
    for k in range(1, 36):
        term = term * -(mu - (2 * k - 1) ** 2) / (k * 8.0 * a)
        total = total + term
    return total


def _bessel(x, order: int, scaled: bool):
    x = np.asanyarray(x, dtype=np.float64)
    with np.errstate(all="ignore"):
        a = np.abs(x)
        far = a > 20.0
        near = np.where(far, 0.0, x)
        series = _bessel_series(near, order)
        if scaled:
            series = series * np.exp(-np.abs(near))
        af = np.where(far, a, 21.0)
        asym = _bessel_asymptotic(af, order) / np.sqrt(2 * math.pi * af)
        if not scaled:  # e^a in two halves: finite wherever I_ν is
            half = np.exp(0.5 * af)
            asym = asym * half * half
        if order == 1:
            asym = np.copysign(asym, x)
        out = np.where(far, asym, series)
        return np.where(np.isnan(x), np.nan, out)


def i0(x):
    """The modified Bessel function of the first kind, order 0."""
    return _bessel(x, 0, False)


def i0e(x):
    """exp(-|x|)·i0(x)."""
    return _bessel(x, 0, True)


def i1(x):
    """The modified Bessel function of the first kind, order 1."""
    return _bessel(x, 1, False)


def i1e(x):
    """exp(-|x|)·i1(x)."""
    return _bessel(x, 1, True)
