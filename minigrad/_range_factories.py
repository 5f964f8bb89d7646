"""PyTorch's CPU values of ``arange``, ``linspace`` and ``logspace``, bit for bit.

PyTorch computes these in its own order of roundings, which NumPy's ``arange``/``linspace``
do not share, so values can differ in the last bit (enough to make a program pick other
frames or bins). This module repeats aten's kernels (``RangeFactoriesKernel.cpp`` and
``RangeFactories.cpp``) with NumPy:

- ``arange`` works in the accumulate type (double for float32/float64, float for
  float16/bfloat16, int64 for integers) on blocks of two AVX2 vectors (256 bits: 4 doubles,
  8 floats, 16 halves): each vector starts at ``start + step * idx`` (one fused multiply-add,
  rounded to the dtype) and its lanes are ``base + lane * step`` (another fused multiply-add);
  the elements after the last whole block are ``start + step * idx`` each. The blocks restart
  at each thread's chunk of ``at::parallel_for`` (32768 elements a grain).
- ``linspace`` counts the first half up from ``start`` and the rest down from ``end``, one
  fused multiply-add each in the dtype (double for integers); float16/bfloat16 round after
  every operation (c10's Half arithmetic).
- ``logspace`` raises ``base`` to the same exponents, in double without fusing (that file is
  built for the baseline instruction set).

The fused multiply-adds are what PyTorch's AVX2 build gives (it compiles these kernels with
``-mfma``); checked against PyTorch 2.13 on an AVX2 CPU. Under AVX512 kernels (wider blocks)
or on ARM, PyTorch's last bits can differ from these.
"""

from __future__ import annotations

import functools
import math
import os

import numpy as np

from ._float_rounding import (
    _FLOAT32_TINY,
    _LOW_29,
    _TIE_29,
    fma32_exact,
    fma64_counts,
    fma64_exact,
    fma64_lanes,
)
from ._libm import libm

GRAIN_SIZE = 32768  # at::internal::GRAIN_SIZE
_VECTOR_BYTES = 32  # AVX2
_ROWS = 1 << 15  # vectors per NumPy pass
_COUNTS_SPLIT = 2**26  # indices below: fma64_counts


@functools.lru_cache(None)
def intra_op_threads() -> int:
    """PyTorch's default intra-op thread count: ``OMP_NUM_THREADS`` or the physical cores."""
    env = os.environ.get("OMP_NUM_THREADS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    from ._cpu_capabilities import get_capabilities

    caps = get_capabilities()
    return caps.get("num_physical_cores", caps["num_logical_cores"])


def _chunks(count: int, threads: int) -> list[tuple[int, int]]:
    """``at::parallel_for``'s (begin, end) per thread (OpenMP: equal chunks, rounded up)."""
    if count <= GRAIN_SIZE or threads <= 1:
        return [(0, count)]
    threads = min(threads, -(-count // GRAIN_SIZE))
    size = -(-count // threads)
    return [(b, min(count, b + size)) for b in range(0, count, size)]


@np.errstate(over="ignore")  # values beyond the dtype's range become inf, as in C++
def arange_float(start: float, step: float, count: int, dtype, threads: int | None = None):
    """``torch.arange``'s ``count`` values for a float ``dtype`` (a NumPy type)."""
    dtype = np.dtype(dtype)
    if _all_exact(start, step, count, dtype):  # every rounding exact: any order gives these
        return (np.arange(count, dtype=np.float64) * step + start).astype(dtype)
    lanes = _VECTOR_BYTES // dtype.itemsize
    out = np.empty(count, dtype)
    for begin, end in _chunks(count, threads or intra_op_threads()):
        whole = (end - begin) - (end - begin) % (2 * lanes)  # two vectors per loop step
        firsts = np.arange(begin, begin + whole, lanes, dtype=np.int64)
        bases = _scalar_values(start, step, firsts, dtype)
        block = out[begin : begin + whole].reshape(-1, lanes)
        for row in range(0, len(block), _ROWS):  # passes whose temporaries stay in the cache
            rows = slice(row, row + _ROWS)
            _fill_lanes(block[rows], bases[rows], step, dtype)
        out[begin + whole : end] = _scalar_values(
            start, step, np.arange(begin + whole, end, dtype=np.int64), dtype
        )
    return out


_MANTISSA_BITS = {"float64": 53, "float32": 24, "float16": 11, "bfloat16": 8}


def _all_exact(start: float, step: float, count: int, dtype: np.dtype) -> bool:
    """Whether integer ``start`` and ``step`` keep every value and partial sum an integer the
    dtype holds exactly (``arange(0., 10.)``, ``arange(0, 64, 2, dtype=float)``)."""
    if not (float(start).is_integer() and float(step).is_integer()):
        return False
    top = max(abs(start), abs(start + step * max(count - 1, 0))) + abs(step) * 2 * _VECTOR_BYTES
    return top <= 2.0 ** _MANTISSA_BITS.get(dtype.name, 0)


def _scalar_values(start: float, step: float, idx: np.ndarray, dtype: np.dtype):
    """``start + step * idx`` fused in the accumulate type, rounded to ``dtype``."""
    if dtype.itemsize >= 4:  # double
        if idx.size and max(abs(int(idx[0])), abs(int(idx[-1]))) < _COUNTS_SPLIT:
            return fma64_counts(step, idx, start).astype(dtype)
        return fma64_exact(step, idx.astype(np.float64), start).astype(dtype)
    return fma32_exact(np.float32(step), idx.astype(np.float32), np.float32(start)).astype(dtype)


def _fill_lanes(block: np.ndarray, bases: np.ndarray, step: float, dtype: np.dtype) -> None:
    """Each row of ``block`` a vector's lanes ``base + lane * step`` (fused, in the accumulate
    type) for its base, rounded to ``dtype``: column by column (a few whole-column NumPy
    calls per lane), the exact products ``lane * step`` worked out once."""
    lanes = block.shape[1]
    if dtype.itemsize < 4:  # float: the product of a float step and a small lane is exact
        step32 = np.float32(step)
        for lane in range(lanes):
            block[:, lane] = fma32_exact(np.float32(lane), step32, bases)
        return
    bases = bases.astype(np.float64, copy=False)
    lane = np.arange(lanes, dtype=np.float64)
    if dtype == np.float64:
        fma64_lanes(bases, lane, step, out=block)
        return
    # float32: the plain double sum rounds to the same float but near a float tie
    for col, product in enumerate(lane * step):
        values = bases + product
        close = ((values.view(np.int64) - (_TIE_29 - 4)) & _LOW_29) <= 8  # within 4 of a tie
        close |= np.abs(values) < _FLOAT32_TINY
        close = np.flatnonzero(close)
        if close.size:
            values[close] = fma64_exact(lane[col], step, bases[close])
        block[:, col] = values


def _integral(value) -> int:
    """``Scalar::to<int64_t>``: a float truncated toward zero."""
    return int(value)


_C_NAMES = {"int8": "int8_t", "uint8": "uint8_t", "int16": "int16_t", "int32": "int",
            "int64": "int64_t", "float16": "c10::Half", "float32": "float"}  # fmt: skip


def checked_bound(value, dtype):
    """``Scalar::to<scalar_t>`` of a bound: PyTorch's error where the value does not fit."""
    dtype = np.dtype(dtype)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        fits = info.min <= value <= info.max
    elif dtype.name in _C_NAMES:
        fits = not math.isfinite(value) or abs(value) <= float(np.finfo(dtype).max)
    else:
        fits = True
    if not fits:
        raise RuntimeError(
            f"value cannot be converted to type {_C_NAMES[dtype.name]} without overflow"
        )
    return value


def _double_to(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """C++'s conversion of doubles to ``dtype`` on x86: integers truncate toward zero, a value
    out of int32's range (int64's for int64) or NaN gives its lowest value, and a narrower type
    keeps the low bits of the int32; float16/bfloat16 go through float."""
    if dtype.kind not in "iu":
        with np.errstate(over="ignore"):  # beyond the dtype's range: inf, as C++'s cast
            return values.astype(np.float32 if dtype.itemsize == 2 else dtype).astype(dtype)
    wide = np.int64 if dtype == np.int64 else np.int32
    info = np.iinfo(wide)
    with np.errstate(invalid="ignore"):
        inside = (values > info.min - 1.0) & (values < info.max + 1.0)  # NaN: False
        whole = np.trunc(np.where(inside, values, 0.0)).astype(wide)
    return np.where(inside, whole, wide(info.min)).astype(dtype)


def arange_integer_count(start, end, step, dtype) -> tuple[int, int, int]:
    """The truncated (start, step) and element count of an integer ``arange`` whose bounds
    are not all integers: int64 computes its count in integers from the truncated bounds,
    narrower types in double from the given ones (``compute_arange_size``)."""
    istart, iend, istep = _integral(start), _integral(end), _integral(step)
    if np.dtype(dtype) == np.int64:
        if istep == 0:  # PyTorch raises ValueError here (a float step truncated to 0)
            raise ValueError("arange: step must be nonzero")
        sign = 1 if istep > 0 else -1
        span = iend - istart + istep - sign
        count = abs(span) // abs(istep) * (1 if (span >= 0) == (istep > 0) else -1)
    else:
        count = math.ceil((float(end) - float(start)) / float(step))
    return istart, istep, max(0, count)


_CACHED_STEPS = 1024  # linspaces up to this long are kept (affine_grid's axes, histc's edges)


def linspace_values(start, end, steps: int, dtype) -> np.ndarray:
    """``torch.linspace``'s values for a real ``dtype`` (a NumPy type): a fresh array, worked
    out once per bounds for short ranges of Python numbers (the exact fused multiply-adds
    cost tens of microseconds of NumPy calls, the copy well under one)."""
    dtype = np.dtype(dtype)
    if steps <= _CACHED_STEPS and type(start) in _KEYED and type(end) in _KEYED:
        signs = _sign(start), _sign(end)  # -0.0 == 0.0 as a key
        return _cached_linspace(start, end, steps, dtype, *signs).copy()
    return _linspace(start, end, steps, dtype)


_KEYED = (int, float, bool)


def _sign(value) -> float:
    """A float's sign (-0.0 apart from 0.0), 0.0 for an int (which may exceed any float)."""
    return math.copysign(1.0, value) if type(value) is float else 0.0


@functools.lru_cache(maxsize=256, typed=True)  # typed: 1, 1.0 and True are kept apart
def _cached_linspace(start, end, steps, dtype, *signs) -> np.ndarray:
    """:func:`_linspace`, read-only, per bounds (``signs`` keep -0.0 apart from 0.0)."""
    values = _linspace(start, end, steps, dtype)
    values.flags.writeable = False
    return values


def _linspace(start, end, steps: int, dtype: np.dtype) -> np.ndarray:
    """The first half counted up from ``start`` (``start + step * i``) and the rest down from
    ``end`` (``end - step * (steps - 1 - i)``), one fused multiply-add per element."""
    if steps <= 1:  # PyTorch fills with start
        return _double_to(np.full(steps, float(checked_bound(start, dtype))), dtype)
    if dtype.kind in "iub":  # step and arithmetic in double, then truncated
        first, last = (_integral(checked_bound(v, dtype)) for v in (start, end))
        step = (float(last) - float(first)) / (steps - 1)
        return _double_to(
            _halves(fma64_exact, step, float(first), float(last), steps, np.float64), dtype
        )
    first, last = (dtype.type(checked_bound(v, dtype)) for v in (start, end))
    if dtype.itemsize == 8:
        step = (last - first) / np.float64(steps - 1)
        return _halves(fma64_exact, step, first, last, steps, dtype)
    if dtype.itemsize == 4:
        step = (last - first) / np.float32(steps - 1)
        return _halves(fma32_exact, step, first, last, steps, dtype)
    # c10::Half/BFloat16: every operation rounded to the dtype
    step = dtype.type(np.float32(last - first) / np.float32(dtype.type(steps - 1)))
    wide = np.float32

    def fma(a, b, c):
        product = (wide(a) * b.astype(wide)).astype(dtype)
        return (product.astype(wide) + wide(c)).astype(dtype)

    return _halves(fma, step, first, last, steps, dtype)


def _halves(fma, step, first, last, steps: int, kind) -> np.ndarray:
    """``fma(step, i, first)`` for i below ``steps // 2`` and ``fma(-step, steps - 1 - i,
    last)`` for the rest, the counts ``i`` in ``kind``: each half on its own slice."""
    half = steps // 2
    lower = fma(step, np.arange(half).astype(kind), first)
    out = np.empty(steps, lower.dtype)
    out[:half] = lower
    out[half:] = fma(-step, np.arange(steps - half - 1, -1, -1).astype(kind), last)
    return out


def logspace_values(start, end, steps: int, base: float, dtype) -> np.ndarray:
    """``torch.logspace``'s values for a real ``dtype`` (a NumPy type)."""
    dtype = np.dtype(dtype)
    if steps <= 1:  # PyTorch fills with base ** start
        value = float(libm("power", float(base), float(start)))
        return _double_to(np.full(steps, checked_bound(value, dtype)), dtype)
    if dtype.kind in "iub":
        first, last = (_integral(checked_bound(v, dtype)) for v in (start, end))
        span = float(last - first)
    else:
        first, last = (dtype.type(checked_bound(v, dtype)) for v in (start, end))
        span = float(dtype.type(last - first))  # the difference in the dtype, then double
    step = span / (steps - 1)
    idx = np.arange(steps, dtype=np.float64)
    exponent = np.where(
        idx < steps // 2, float(first) + step * idx, float(last) - step * (steps - 1 - idx)
    )
    return _double_to(libm("power", float(base), exponent), dtype)
