"""PyTorch's float32 ``log`` and ``sincos`` of its 16-wide normal transform, bit for bit.

PyTorch's CPU ``randn`` in float32 turns 16 uniform numbers at a time into normal ones with
vectorized single-precision ``log`` and ``sincos`` approximations (Julien Pommier's AVX port of
the Cephes library's ``logf``/``sinf``/``cosf``): a reduction of the argument with its exponent
bits (log) or by multiples of pi/4 (sincos), then short polynomials with Cephes' published
coefficients. The compiler contracts multiplies feeding adds into fused multiply-adds (one
rounding each): every Horner step, the last step of the pi/4 reduction, the last steps of the
sine (``y z * x + x``) and cosine (``y z * z - z / 2``) and, in the log, ``y x * x**2 + e *
log2_low`` (that product fused, not ``e * log2_low``). This pattern was found, and is checked,
by comparing all inputs with PyTorch 2.13 (``scripts/sweep_float_normal.py``).

Here every step is the same float32 operation in the same order. A fused ``a * b + c`` is
computed as the exact double product plus ``c`` rounded to double and then to float; that
double rounding could differ from one rounding only where the double sum is inexact and
exactly halfway between two floats, which the sweep shows never happens for the 2**24 inputs
each function gets (the float uniform numbers ``k / 2**24``; 643 sums are halfway, all
exact): the results of all of them equal PyTorch's, and equal those of exactly rounded fused
multiply-adds. Where a result stays within one binade for all inputs, one rounding is done
exactly by a magic-number add (``_STEPS``).

This is PyTorch's computation on x86 CPUs with AVX2 (or AVX-512); builds or CPUs without AVX2
(``ATEN_CPU_CAPABILITY=default``, ARM) take a scalar path with the C library's functions,
whose numbers differ.

NumPy runs every step as one pass over small chunks held in preallocated buffers: casts and
mixed-type operations are several times slower than same-type ones, and fresh large temporaries
cost page faults.
"""

from __future__ import annotations

import numpy as np

_F32 = np.float32
_I32 = np.int32
_U32 = np.uint32
_SIGN_BIT = np.uint32(1 << 31)

# Cephes' logf: log(1 + x) ~ x - x**2 / 2 + x**3 * P(x) for x in [sqrt(1/2) - 1, sqrt(2) - 1]
_LOG_P = (
    7.0376836292e-2,
    -1.1514610310e-1,
    1.1676998740e-1,
    -1.2420140846e-1,
    1.4249322787e-1,
    -1.6668057665e-1,
    2.0000714765e-1,
    -2.4999993993e-1,
    3.3333331174e-1,
)
_LOG_P = tuple(float(_F32(c)) for c in _LOG_P)  # the float32 coefficients, as doubles
_LOG2_LOW, _LOG2_HIGH = _F32(-2.12194440e-4), _F32(0.693359375)  # log(2) in two parts
_SQRT_HALF_BITS = int(np.array(0.707106781186547524, _F32).view(_I32))
_EXPONENT_AND_SIGN = -(1 << 23)

# Cephes' sinf/cosf: a reduction by pi/4 in three parts (the first two multiply exactly by the
# small even integers used), then sin and cos polynomials in x**2 on [-pi/4, pi/4]
_FOUR_OVER_PI = _F32(1.27323954473516)
_PI4_A, _PI4_B = _F32(-0.78515625), _F32(-2.4187564849853515625e-4)
_PI4_C = float(_F32(-3.77489497744594108e-8))
_PI4_AB = float(_PI4_A) + float(_PI4_B)  # exact in double
_SIN_P = tuple(float(_F32(c)) for c in (-1.9515295891e-4, 8.3321608736e-3, -1.6666654611e-1))
_COS_P = tuple(
    float(_F32(c)) for c in (2.443315711809948e-5, -1.388731625493765e-3, 4.166664568298827e-2)
)
_TWO_PI = _F32(2.0 * np.pi)

CHUNK = 1 << 15  # numbers per pass: few calls, buffers still in the cache (measured)


class _Buffers:
    """Scratch arrays for one chunk: float32 ``f[i]``, int32 ``i[i]`` and the rows of the
    float64 ``d`` (one array, so that runs of rows make stacked arrays)."""

    def __init__(self, n: int):
        self.f = [np.empty(n, _F32) for _ in range(4)]
        self.i = [np.empty(n, _I32) for _ in range(3)]
        self.d = np.empty((5, n))

    def head(self, n: int) -> _Buffers:
        """The same buffers cut to their first ``n`` elements (a last, shorter chunk)."""
        view = object.__new__(_Buffers)
        view.f, view.i = ([a[:n] for a in group] for group in (self.f, self.i))
        view.d = self.d[:, :n]
        return view


def _round(value64: np.ndarray, out32: np.ndarray, out64: np.ndarray | None = None):
    """Round doubles to float into ``out32`` (and that float back to double into ``out64``)."""
    out32[...] = value64
    if out64 is not None:
        out64[...] = out32


def _fused(a64, b, c, acc64, out32, out64=None) -> None:
    """``a * b + c`` (exact product) rounded to double in ``acc64``, then to float into
    ``out32`` (and back to double into ``out64``, which may be ``a64``)."""
    np.multiply(a64, b, out=acc64)
    acc64 += c
    _round(acc64, out32, out64)


def _horner(y32, y64, x64, coefficients) -> None:
    """``y = y * x + c`` fused, for each ``c`` in turn; ``y64`` holds ``y32`` as doubles."""
    for coefficient in coefficients:  # in place: less memory traffic
        _fused(y64, x64, coefficient, y64, y32, y64)


def log_into(x: np.ndarray, out: np.ndarray, buf: _Buffers) -> np.ndarray:
    """PyTorch's float32 natural logarithm of positive normal float32 ``x`` into ``out``
    (which may be ``x``)."""
    shifted, exponent_i, _ = buf.i
    exponent, square, tmp, *_ = buf.f
    x64, y64, tmp64 = buf.d[:3]
    # x = m * 2**e with m in [sqrt(1/2), sqrt(2)): from the bits of x less those of sqrt(1/2),
    # e in the exponent field and m's bits as x's with the exponent field replaced
    np.subtract(x.view(_I32), _SQRT_HALF_BITS, out=shifted)
    np.right_shift(shifted, 23, out=exponent_i)
    shifted &= _EXPONENT_AND_SIGN
    reduced = out.view(_I32)
    np.subtract(x.view(_I32), shifted, out=reduced)
    exponent[...] = exponent_i
    reduced = np.subtract(out, _F32(1), out=out)  # m - 1, exact
    np.multiply(reduced, reduced, out=square)
    x64[...] = reduced
    _fused(x64, _LOG_P[0], _LOG_P[1], y64, tmp, y64)
    _horner(tmp, y64, x64, _LOG_P[2:-1])
    _fused(y64, x64, _LOG_P[-1], y64, tmp)
    tmp *= reduced
    y64[...] = tmp
    square64 = x64
    square64[...] = square
    np.multiply(exponent, _LOG2_LOW, out=tmp)
    tmp64[...] = tmp
    _fused(y64, square64, tmp64, y64, tmp)  # y * x**2 + e * log2_low
    square *= _F32(0.5)
    tmp -= square
    out += tmp  # out held the reduced x
    exponent *= _LOG2_HIGH  # exact
    out += exponent
    return out


def sincos_into(theta: np.ndarray, cos_sin: np.ndarray, buf: _Buffers) -> None:
    """PyTorch's float32 cosine and sine of float32 ``theta`` in [0, 2 pi] into the rows of
    ``cos_sin`` (2, n)."""
    octant, diff, sign = buf.i
    x, square, tmp, _ = buf.f
    square64, x64, half64 = buf.d[:3]
    y2 = buf.d[3:5]
    np.multiply(theta, _FOUR_OVER_PI, out=tmp)
    octant[...] = tmp  # truncation
    octant += 1
    octant &= ~1  # the even multiple of pi/4 nearest: theta - j pi/4 in [-pi/4, pi/4]
    # theta + j A + j B is exact (the products are, and the sums lose no bit), in float as in
    # double; then + j C, fused
    j64, reduced64 = y2
    j64[...] = octant
    np.multiply(j64, _PI4_AB, out=reduced64)
    x64[...] = theta
    reduced64 += x64
    _fused(j64, _PI4_C, reduced64, j64, x, x64)
    np.multiply(x, x, out=square)
    square64[...] = square
    _polynomials(square, buf.d, cos_sin)
    # in odd quadrants the polynomials trade places; signs from the octant's bits 1 and 2
    cos_bits, sin_bits = cos_sin.view(_U32)
    octant_bits, sign = octant.view(_U32), sign.view(_U32)
    np.left_shift(octant_bits, 30, out=sign)
    np.right_shift(sign.view(_I32), 31, out=sign.view(_I32))  # all ones where bit 1 is set
    np.bitwise_xor(sin_bits, cos_bits, out=diff.view(_U32))
    diff.view(_U32)[...] &= sign
    sin_bits ^= diff.view(_U32)
    cos_bits ^= diff.view(_U32)
    np.left_shift(octant_bits, 29, out=sign)  # bit 2: the sine's sign
    sign &= _SIGN_BIT
    sin_bits ^= sign
    octant_bits += 2  # the cosine's: j = 2 or 4
    octant_bits <<= 29
    octant_bits &= _SIGN_BIT
    cos_bits ^= octant_bits


# The first two steps of the cosine's and the sine's polynomials (rows), whose results stay
# within one binade [2**e, 2**(e + 1)) each for z in [0, (pi/4)**2]: adding the magic number
# 1.5 * 2**(e + 29) to an exact product makes the double's unit the float's there, so that the
# sum is rounded once, to float (ties to even as well); the coefficient added is a multiple of
# that unit, so it is added with the magic number in one exact constant.
_FIRST = np.array([[_COS_P[0]], [_SIN_P[0]]])
_STEPS = tuple(
    (np.array([[c + m], [s + n]]), np.array([[m], [n]]))
    for c, s, m, n in (
        (_COS_P[1], _SIN_P[1], 1.5 * 2.0 ** (-10 + 29), 1.5 * 2.0 ** (-7 + 29)),
        (_COS_P[2], _SIN_P[2], 1.5 * 2.0 ** (-5 + 29), 1.5 * 2.0 ** (-3 + 29)),
    )
)


def _polynomials(square, d, cos_sin) -> None:
    """Cephes' cosine ``1 - z / 2 + z**2 Q(z)`` and sine ``x + x z P(z)`` polynomials for
    ``z = x**2`` (``square``, and in ``d``'s rows 0 and 1 ``z`` and ``x`` as doubles) into the
    rows of ``cos_sin``, both at once; fused steps as PyTorch's."""
    square64 = d[0]
    y2 = d[3:5]
    (added1, magic1), (added2, magic2) = _STEPS
    np.multiply(square64, _FIRST, out=y2)
    y2 += added1  # one rounding, to the float's unit ...
    y2 -= magic1  # ... exactly undone
    y2 *= square64
    y2 += added2
    y2 -= magic2
    cos_sin[...] = y2  # exact
    cos_sin *= square
    y2[...] = cos_sin
    np.multiply(square64, -0.5, out=d[2])
    _fused(y2, d[0:2], d[2:0:-1], y2, cos_sin)  # (y z) z - z / 2 and (y z) x + x
    cos_sin[0] += _F32(1)


def box_muller_into(blocks: np.ndarray, out: np.ndarray, plus_zero: bool = False) -> np.ndarray:
    """PyTorch's 16-wide float32 Box-Muller: in each row of 16 uniform numbers ``u``,
    ``radius = sqrt(-2 log(1 - u[j]))`` and ``theta = 2 pi u[j + 8]`` give
    ``radius * cos(theta)`` at ``j`` and ``radius * sin(theta)`` at ``j + 8`` of ``out``
    (which may be ``blocks`` itself). ``plus_zero`` adds 0.0 (PyTorch's mean 0): the -0.0 of
    ``u[j] = 0`` (radius -0.0) becomes 0.0."""
    rows = blocks.shape[0]
    step = CHUNK // 8
    full = _Buffers(min(CHUNK, 8 * rows))
    size = full.f[0].size
    halves = _as_halves(blocks)  # items of 8 numbers, two per row: their copies are fast
    out_halves = _as_halves(out)
    radius, theta, trig = np.empty(size, _F32), np.empty(size, _F32), np.empty((2, size), _F32)
    for start in range(0, rows, step):
        stop = min(start + step, rows)
        n = 8 * (stop - start)
        buf = full if n == size else full.head(n)
        r, t, cos_sin = radius[:n], theta[:n], trig[:, :n]
        _as_halves(r)[...] = halves[2 * start : 2 * stop : 2]
        _as_halves(t)[...] = halves[2 * start + 1 : 2 * stop : 2]
        np.subtract(_F32(1), r, out=r)
        t *= _TWO_PI
        log_into(r, r, buf)
        r *= _F32(-2)
        np.sqrt(r, out=r)
        sincos_into(t, cos_sin, buf)
        cos_sin *= r
        if plus_zero:  # only numbers of radius -0.0 can be -0.0
            cos_sin += _F32(0)
        out_halves[2 * start : 2 * stop : 2] = _as_halves(cos_sin[0])
        out_halves[2 * start + 1 : 2 * stop : 2] = _as_halves(cos_sin[1])
    return out


_HALF_BLOCK = np.dtype((np.void, 32))


def _as_halves(values: np.ndarray) -> np.ndarray:
    """A contiguous float32 array of ``8 k`` numbers as ``k`` items of 8 numbers each."""
    return values.reshape(-1, 8).view(_HALF_BLOCK).reshape(-1)
