"""The C library's ``log`` of float64 arrays, vectorized: PyTorch's float64 normal transform.

glibc's ``log`` is correctly rounded but for results very close to a tie (its error is under
0.52 units in the last place); NumPy's SIMD ``log`` differs from it in the last bit for about
one number in 300. :func:`c_log` computes the logarithm to about 67 bits as a double and a
remainder (a table of 1024 logarithms and a short series), rounds it, and recomputes with
``math.log`` the few numbers (about 4%) whose result lies within 2% of a unit in the last
place of a tie, where the C library's own rounding decides. It needs no extended precision.

The reduction, for ``x = 2**e * m`` (``1 <= m < 2``): ``r`` is a 12-bit approximation of
``1/c`` for the centre ``c`` of the one of 1024 intervals that holds ``m``, so that
``t = m * r - 1`` is small (``|t| < 2**-10``) and exact as the sum of ``m_hi * r - 1`` (the
top 30 bits of ``m``) and ``m_lo * r``; then ``log(x) = e * ln 2 - log(r) + log1p(t)`` with
``ln 2`` and ``-log(r)`` split into a multiple of ``2**-42`` and a remainder, so that the
large part ``e * ln2_hi - log(r)_hi + t_hi`` is exact, and ``log1p(t) - t`` a degree-7
polynomial.
"""

from __future__ import annotations

import decimal
import functools
import math

import numpy as np

_TABLE_BITS = 10
_RECIP_BITS = 12  # r: a multiple of 2**-12, so m_hi * r is a multiple of 2**-41
# glibc's log is within 0.519 units in the last place (ulp): it can round differently from the
# exact result only within 0.019 ulp of a tie; there (with a margin) the C library decides
_TIE_WINDOW = 0.02
_ERROR = 2.0**-64  # a bound of the absolute error of the double-double estimate (about 2**-67)
_CHUNK = 32768  # elements per pass
_c_log_one = np.frompyfunc(math.log, 1, 1)


def _round_to(value: decimal.Decimal, quantum_bits: int) -> float:
    """``value`` rounded to a multiple of ``2**-quantum_bits``."""
    return math.ldexp(round(value * (1 << quantum_bits)), -quantum_bits)


@functools.cache
def _tables():
    """(Computed on first use: 1024 logarithms to 50 digits cost about 0.1 s, which ``import
    minigrad`` should not pay.) For each of the intervals of ``m``: ``r`` (12 bits, near 1/centre) and ``-log(r)`` as
    hi (a multiple of ``2**-42``) and lo; ``ln 2`` as hi (also a multiple of ``2**-42``, so
    that ``e * ln2_hi + hi + t_hi`` is exact) and lo."""
    with decimal.localcontext() as context:
        context.prec = 50
        size = 1 << _TABLE_BITS
        centres = [1 + (decimal.Decimal(j) + decimal.Decimal("0.5")) / size for j in range(size)]
        recip = [_round_to(1 / c, _RECIP_BITS) for c in centres]
        logs = [-decimal.Decimal(r).ln() for r in recip]
        log_hi = [_round_to(v, 42) for v in logs]
        log_lo = [float(v - decimal.Decimal(h)) for v, h in zip(logs, log_hi)]
        ln2 = decimal.Decimal(2).ln()
        ln2_hi = _round_to(ln2, 42)
        ln2_lo = float(ln2 - decimal.Decimal(ln2_hi))
    return np.array(recip), np.array(log_hi), np.array(log_lo), ln2_hi, ln2_lo


def _log1p_tail(s: np.ndarray) -> np.ndarray:
    """``log1p(s) - s`` for ``|s| < 2**-10``: ``-s²/2 + s³/3 - ... + s⁷/7`` (the next
    term is below ``2**-80``)."""
    poly = 0.2 + s * (-1.0 / 6 + s * (1.0 / 7))
    return (s * s) * (-0.5 + s * ((1.0 / 3) + s * (-0.25 + s * poly)))


def _estimate(x: np.ndarray) -> tuple:
    """``log(x)`` of positive normal doubles as the rounded double and the remainder
    (the double-double estimate less the rounded double)."""
    bits = x.view(np.uint64)
    exponent = (bits >> np.uint64(52)).astype(np.int64) - 1023
    index = (bits >> np.uint64(52 - _TABLE_BITS)) & np.uint64((1 << _TABLE_BITS) - 1)
    index = index.astype(np.intp)
    mantissa_bits = (bits & np.uint64((1 << 52) - 1)) | np.uint64(1023 << 52)
    mantissa = mantissa_bits.view(np.float64)
    top_bits = mantissa_bits & np.uint64(~((1 << 23) - 1) & (2**64 - 1))  # m's top 30 bits
    mantissa_hi = top_bits.view(np.float64)
    table_recip, table_log_hi, table_log_lo, ln2_hi, ln2_lo = _tables()
    recip = table_recip[index]
    t_hi = mantissa_hi * recip - 1.0  # exact: a 42-bit product within a factor 2 of 1
    t_lo = (mantissa - mantissa_hi) * recip  # exact: 23 bits times 12
    # multiples of 2**-42 below 2**10: the sum is exact
    head = exponent * ln2_hi + table_log_hi[index] + t_hi
    low = (t_lo + _log1p_tail(t_hi + t_lo)) + (exponent * ln2_lo + table_log_lo[index])
    rounded = head + low
    return rounded, (head - rounded) + low


def c_log(x) -> np.ndarray:
    """``log`` of positive float64 numbers exactly as the C library's (``math.log``).

    Args:
        x: a float64 array of positive numbers (any shape).

    Returns:
        float64 array of ``x``'s shape.

    Example:
        >>> c_log(np.array([0.5, 2.0]))
        array([-0.69314718,  0.69314718])
    """
    shape, x = np.shape(x), np.ravel(np.asarray(x, dtype=np.float64))
    out = np.empty(x.size, dtype=np.float64)
    for start in range(0, x.size, _CHUNK):  # chunks whose temporaries stay in the cache
        out[start : start + _CHUNK] = _c_log_flat(x[start : start + _CHUNK])
    return out.reshape(shape)


def _c_log_flat(x: np.ndarray) -> np.ndarray:
    normal = (x >= np.finfo(np.float64).tiny) & (x < np.inf)
    rounded, rest = _estimate(np.where(normal, x, 1.0))
    rounded_bits = rounded.view(np.uint64)
    power = (rounded_bits & np.uint64(0x7FF << 52)).view(np.float64)  # |rounded| to 2**k
    # the remainder near half a unit in the last place (a tie), or a power of two (where the
    # spacing below is half), or not a positive normal number: the C library decides
    doubtful = np.abs(rest) >= power * ((0.5 - _TIE_WINDOW) * 2.0**-52) - _ERROR
    doubtful |= (rounded_bits & np.uint64((1 << 52) - 1)) == 0
    doubtful |= ~normal
    where = np.flatnonzero(doubtful)
    if where.size:
        rounded[where] = _c_log_one(x[where]).astype(np.float64)
    return rounded
