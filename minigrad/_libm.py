"""Float64 transcendental functions computed as PyTorch's scalar CPU kernels compute them: by
the C library, one element at a time.

NumPy's float64 ``log``, ``log1p``, ``exp``, ``tan``, ``sin``, ``cos``, ``power`` ... run a
SIMD kernel on some CPUs (SVML on AVX-512 ones: an AMD EPYC or a recent Xeon) whose last bits
differ from the C library's in a few percent of elements; on other CPUs NumPy's loop calls the
C library itself. Where minigrad promises PyTorch's numbers bit for bit (samplers, range
factories) it calls :func:`libm` instead of the ufunc: the ufunc where it is already the C
library's, Python's ``math`` function (the C library's) element by element where it is not.
``numpy.lib.introspect.opt_func_info`` tells which loop NumPy picked.
"""

from __future__ import annotations

import functools
import math

import numpy as np


@functools.lru_cache(None)
def numpy_runs_simd(name: str) -> bool:
    """Whether NumPy's float64 ufunc ``name`` runs a SIMD kernel on this CPU rather than its
    baseline loop (the C library's function)."""
    try:
        from numpy.lib.introspect import opt_func_info

        loops = opt_func_info(func_name=f"^{name}$", signature="float64")[name]
        return any("baseline" not in loop["current"] for loop in loops.values())
    except (ImportError, KeyError):  # (NumPy < 2: assume it may)
        return True


def libm(name: str, x, *second) -> np.ndarray:
    """``numpy.<name>(x)`` (or ``numpy.power(x, second)`` for ``"power"``) on float64 values,
    with the C library's last bits. Out-of-domain and overflowing elements get NumPy's
    nan/inf (which are C's values)."""
    ufunc = getattr(np, name)
    if not numpy_runs_simd(name):
        with np.errstate(all="ignore"):
            return ufunc(x, *second)
    args = np.broadcast_arrays(np.asarray(x, np.float64), *second)
    shape = args[0].shape
    flat = [a.reshape(-1).tolist() for a in args]
    func = getattr(math, "pow" if name == "power" else name)
    try:
        out = np.fromiter(map(func, *flat), np.float64, len(flat[0]))
    except (OverflowError, ValueError):  # (rare: element by element)
        out = np.array([_one(func, ufunc, *v) for v in zip(*flat)], dtype=np.float64)
    return out.reshape(shape)


def _one(func, ufunc, *values) -> float:
    try:
        return func(*values)
    except (OverflowError, ValueError):
        with np.errstate(all="ignore"):
            return float(ufunc(*values))
