"""Exactly rounded float arithmetic on NumPy arrays: PyTorch's fused multiply-adds.

PyTorch's CPU samplers scale their numbers with one fused multiply-add (one rounding) in
double or in float; NumPy has none, so these compute the same results from exact products
and sums (Dekker's and Knuth's error-free transformations).
"""

from __future__ import annotations

import functools
import math

import numpy as np

_MASK_24 = (1 << 24) - 1
_LOW_29, _TIE_29 = (1 << 29) - 1, 1 << 28  # a double's mantissa bits below a float's; its tie
_FLOAT32_TINY = 2.0**-126  # below: float32 subnormals, whose ties lie elsewhere

_SPLIT = 134217729.0  # 2**27 + 1, Veltkamp's constant for doubles


def _split(x):
    t = _SPLIT * x
    hi = t - (t - x)
    return hi, x - hi


def fma64(a, b, c):
    """``a * b + c`` with one rounding (a fused multiply-add) in float64 arrays: Dekker's
    exact product and Knuth's exact sum, then a final rounding (exact but for results within
    2**-100 of a tie, where the last bit can differ)."""
    return fused_multiply_add(np.asarray(a, dtype=np.float64), float(b), float(c))


def fused_multiply_add(a, b: float, c: float):
    """:func:`fma64` for anything with float64 arithmetic operators (NumPy arrays, minigrad
    tensors on any device) and Python floats ``b`` and ``c``: only +, - and * are used."""
    product = a * b
    a_hi, a_lo = _split(a)
    b_hi, b_lo = _split(b)
    product_err = ((a_hi * b_hi - product) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo
    total, sum_err = _two_sum(product, c)
    return total + (sum_err + product_err)


def _two_sum(a, b):
    total = a + b
    b_part = total - a
    return total, (a - (total - b_part)) + (b - b_part)


_FMA_CHUNK = 1 << 17  # elements per pass


def fma_to_float32(a, b: float, c: float) -> np.ndarray:
    """``a * b + c`` rounded once to float32, for float64 ``a`` and float32 values ``a``,
    ``b`` and ``c`` (PyTorch's float fused multiply-add). The product is exact in double;
    the double sum is rounded to float32 directly unless it lies exactly on a float32 tie
    while inexact, where it is nudged towards its rounding error first."""
    a = np.asarray(a)
    if a.size > _FMA_CHUNK:  # chunks whose temporaries stay in the cache
        flat, out = a.reshape(-1), np.empty(a.size, dtype=np.float32)
        for start in range(0, a.size, _FMA_CHUNK):
            out[start : start + _FMA_CHUNK] = fma_to_float32(flat[start : start + _FMA_CHUNK], b, c)
        return out.reshape(a.shape)
    total = np.multiply(a, b, dtype=np.float64)
    total += c  # exact when c is 0 (where it turns a product -0.0 into 0.0 as a FMA does)
    if c == 0.0:
        return total.astype(np.float32)
    ties = np.flatnonzero((total.view(np.uint64) & np.uint64((1 << 29) - 1)) == np.uint64(1 << 28))
    if ties.size:
        product = np.multiply(a[ties], b, dtype=np.float64)  # exact, as above
        _, err = _two_sum(product, np.float64(c))
        inexact = ties[err != 0]
        total[inexact] = np.nextafter(total[inexact], np.copysign(np.inf, err[err != 0]))
    return total.astype(np.float32)


def scaled_float_uniform(mantissas: np.ndarray, low: np.float32, span: np.float32):
    """``low + (m / 2**24) * span`` rounded once to float32 (PyTorch's float fused
    multiply-add) for the 24-bit integers ``m``, and the largest value any ``m`` can give."""
    how, scale, top = _uniform_plan(float(low), float(span), math.copysign(1.0, low))
    if how == "float":
        # the exact product rounded once is the float32 product of the exact float32 factors
        values = mantissas.astype(np.float32)
        values *= np.float32(scale)
        return values, top
    if how == "fma":
        return fma_to_float32(mantissas.astype(np.float64), scale, float(low)), top
    values = mantissas.astype(np.float64)  # exact product and sum: one rounding, to float
    values *= scale
    values += float(low)
    return values.astype(np.float32), top


@functools.lru_cache(maxsize=256)
def _uniform_plan(low: float, span: float, sign: float) -> tuple:
    """How :func:`scaled_float_uniform` computes for these bounds (a float32 product, a
    double sum or the fused multiply-add), the scale of a mantissa, and the largest value:
    worked out once per bounds (``sign``: low's, which keeps -0.0 apart from 0.0 here)."""
    scale = span * 2.0**-24  # exact in double: a power-of-two scaling
    top = fma_to_float32(np.array([0.0, float(_MASK_24)]), scale, low).max()
    if low == 0 and float(np.float32(scale)) == scale:
        return "float", scale, top
    return ("double" if _double_sum_is_exact(low, span) else "fma"), scale, top


def _double_sum_is_exact(low: float, span: float) -> bool:
    """Whether ``low + m * span / 2**24`` is exact in double for every 24-bit ``m``, for the
    finite float32 values ``low`` and ``span``: each term is a multiple of a power of two (a
    float32's 24-bit mantissa; ``m * span``'s 48 bits) and the sum fits in 53 bits of it."""
    if not (math.isfinite(low) and math.isfinite(span)) or span == 0:
        return False
    top = max(math.frexp(low)[1], math.frexp(span)[1]) + 1  # |sum| < 2**top
    quantum = math.frexp(span)[1] - 48
    if low != 0:
        quantum = min(quantum, math.frexp(low)[1] - 24)
    return top - quantum <= 53


def _round_to_odd_sum(a, b):
    """``a + b`` in float64 arrays rounded to odd: an inexact sum takes whichever neighbour
    has an odd last bit, so a later rounding to fewer bits is as if done once (Boldo and
    Melquiond's emulated FMA)."""
    total, err = _two_sum(a, b)
    even = (total.view(np.int64) & 1) == 0
    nudge = (err != 0) & even
    return np.where(nudge, np.nextafter(total, np.copysign(np.inf, err)), total)


_LOW_50 = (1 << 50) - 1  # a double's fraction bits below its top two


def _product_error(a, b, product):
    """``a * b - product`` exactly, for the rounded ``product`` (Dekker's exact product)."""
    a_hi, a_lo = _split(a)
    b_hi, b_lo = _split(b)
    return ((a_hi * b_hi - product) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo


def _at(values, shape: tuple, flat_index: np.ndarray):
    """``values`` broadcast to ``shape`` at the flat positions ``flat_index`` (a 0-d value
    as it is, which broadcasts against them)."""
    values = np.asarray(values)
    if values.ndim == 0:
        return values
    if values.shape != shape:
        values = np.broadcast_to(values, shape)
    return values.reshape(-1)[flat_index]


def _fused_sum(c, product, product_err):
    """``c + product + product_err`` rounded once, for doubles with ``product_err`` the exact
    error of ``product``: Knuth's exact sum of ``c`` and ``product`` (``total`` and its error),
    then ``total + tail`` for the tail ``err + product_err`` rounded once. That plain sum is
    already the fused value unless it lands exactly on a tie between two doubles (the
    tie's offset from ``total`` is a double, so rounding the tail never crosses it): such
    tails are 1, 1.25, 1.5 or 1.75 times a power of two, and only those elements take the
    exact tail (rounded to odd). Non-finite results are the plain ``c + product``."""
    total, sum_err = _two_sum(c, product)
    tail = sum_err + product_err
    fused = np.asarray(total + tail)
    near = np.flatnonzero((tail != 0) & ((np.asarray(tail).view(np.int64) & _LOW_50) == 0))
    if near.size:
        total, sum_err, product_err = (
            _at(v, fused.shape, near) for v in (total, sum_err, product_err)
        )
        fused.reshape(-1)[near] = total + _round_to_odd_sum(sum_err, product_err)
    if not np.isfinite(fused).all():
        fused = np.where(np.isfinite(fused), fused, c + product)
    return fused


def fma64_exact(a, b, c) -> np.ndarray:
    """``a * b + c`` rounded once in float64, correct to the last bit (ties included) for
    broadcastable float64 arrays whose product neither overflows nor underflows: Dekker's exact
    product and :func:`_fused_sum`."""
    a, b, c = (np.asarray(v, dtype=np.float64) for v in (a, b, c))
    with np.errstate(invalid="ignore", over="ignore"):
        product = a * b
        return _fused_sum(c, product, _product_error(a, b, product))


def fma64_counts(step: float, counts: np.ndarray, c: float) -> np.ndarray:
    """:func:`fma64_exact` of ``step * counts + c`` for whole-number float64 ``counts`` below
    2**26 in magnitude (arange's indices): such a count is its own high half in Dekker's
    split, so the exact product needs only ``step``'s halves."""
    counts = np.asarray(counts, dtype=np.float64)
    step_hi, step_lo = _split(np.float64(step))
    with np.errstate(invalid="ignore", over="ignore"):
        product = counts * step
        product_err = (counts * step_hi - product) + counts * step_lo
        return _fused_sum(np.float64(c), product, product_err)


def fma64_lanes(c: np.ndarray, lanes: np.ndarray, step: float, out: np.ndarray) -> None:
    """``out[:, j] = fma64_exact(lanes[j], step, c)`` for a vector ``c`` and a short row of
    ``lanes``, column by column: the exact products are worked out once for the row, and only
    the columns whose product is inexact need :func:`_fused_sum`."""
    step = np.float64(step)
    product = lanes * step
    product_err = _product_error(lanes, step, product) if np.isfinite(step) else 0 * lanes
    with np.errstate(invalid="ignore", over="ignore"):
        for col in range(len(lanes)):
            if product_err[col] == 0:
                out[:, col] = c + product[col]
            else:
                out[:, col] = _fused_sum(c, product[col], product_err[col])


def fma32_exact(a, b, c) -> np.ndarray:
    """``a * b + c`` rounded once to float32 for float32 values (broadcastable arrays): the
    product is exact in double, and so is the double sum rounded to float32 unless that sum
    lies exactly on a float32 tie (or among float32's subnormals, whose ties lie elsewhere);
    only those elements take the sum rounded to odd in double first."""
    a, b, c = (np.asarray(v, dtype=np.float32) for v in (a, b, c))
    product = np.multiply(a, b, dtype=np.float64)
    total = np.asarray(product + c)  # float64: exact but for its one rounding
    near = (total.view(np.int64) & _LOW_29) == _TIE_29
    near |= np.abs(total) < _FLOAT32_TINY  # (NaN compares False without a warning)
    near = np.flatnonzero(near)
    if near.size:
        p, s = (_at(v, total.shape, near).astype(np.float64) for v in (product, c))
        with np.errstate(invalid="ignore"):
            odd = _round_to_odd_sum(p, s)
        total.reshape(-1)[near] = np.where(np.isfinite(p) & np.isfinite(s), odd, p + s)
    return total.astype(np.float32)
