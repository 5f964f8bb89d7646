"""Sobol' direction numbers of Joe & Kuo (2008), "Constructing Sobol sequences with better
two-dimensional projections", SIAM J. Sci. Comput. 30, 2635-2654: their table
``new-joe-kuo-6.21201``, the one PyTorch and SciPy use, for the first ``MAX_DIMENSION``
dimensions.

``sobol_direction_numbers.npz`` beside this file holds, for dimensions 2, 3, ... of the table
(the first dimension has no polynomial), the degree ``s`` of each primitive polynomial, its
inner coefficients ``a`` (``s - 1`` bits) and its initial direction numbers ``m_1 .. m_s``
(``m_k`` is odd and below ``2**k``, so ``k - 1`` bits of it are stored), bit-packed. It was
made once from SciPy's copy of the table by running this module (``python -m
minigrad.quasirandom._direction_numbers``), which needs SciPy; minigrad itself reads it with
NumPy alone.
"""

from __future__ import annotations

import functools
import os

import numpy as np

MAXBIT = 30  # bits of each coordinate, as PyTorch's SobolEngine.MAXBIT
MAX_DIMENSION = 10000  # dimensions in the stored table (PyTorch's goes to 21201)
_FILE = os.path.join(os.path.dirname(__file__), "sobol_direction_numbers.npz")


def _pack(values: list[int], widths: list[int]) -> np.ndarray:
    """Concatenate each value's ``width`` low bits (most significant first) into bytes."""
    bits = [(v >> (w - 1 - i)) & 1 for v, w in zip(values, widths) for i in range(w)]
    return np.packbits(np.array(bits, dtype=np.uint8))


def _unpack(packed: np.ndarray, widths: np.ndarray) -> np.ndarray:
    """Inverse of :func:`_pack`: the values of the given bit widths (a width may be 0)."""
    bits = np.unpackbits(packed)[: int(widths.sum())].astype(np.int64)
    ends = np.cumsum(widths)
    # each bit's place value within its own field
    place = ends.repeat(widths) - 1 - np.arange(bits.size)
    field = np.repeat(np.arange(widths.size), widths)
    out = np.zeros(widths.size, dtype=np.int64)
    np.add.at(out, field, bits << place)
    return out


def build_table(path: str = _FILE, dimensions: int = MAX_DIMENSION) -> None:
    """Write the compact table from SciPy's copy of Joe & Kuo's (development time only)."""
    from scipy.stats import _sobol

    scipy_file = os.path.join(os.path.dirname(_sobol.__file__), "_sobol_direction_numbers.npz")
    table = np.load(scipy_file)
    poly, vinit = table["poly"][1:dimensions], table["vinit"][1:dimensions]
    degree = np.array([int(p).bit_length() - 1 for p in poly], dtype=np.uint8)
    inner = [(int(p) >> 1) & ((1 << (int(s) - 1)) - 1) for p, s in zip(poly, degree)]
    m_values, m_widths = [], []
    for row, s in zip(vinit, degree):
        for k in range(1, int(s) + 1):
            m_values.append(int(row[k - 1]) >> 1)  # m_k is odd: drop its last bit
            m_widths.append(k - 1)
    np.savez_compressed(
        path,
        degree=degree,
        poly=_pack(inner, [int(s) - 1 for s in degree]),
        m=_pack(m_values, m_widths),
        source=np.array("Joe & Kuo (2008), new-joe-kuo-6.21201"),
    )


@functools.lru_cache(maxsize=1)
def _table() -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Degrees, inner polynomial coefficients and initial ``m`` of dimensions 2.. (cached)."""
    with np.load(_FILE) as data:
        degree = data["degree"].astype(np.int64)
        inner = _unpack(data["poly"], np.maximum(degree - 1, 0))
        m_widths = np.concatenate([np.arange(s) for s in degree])
        m = (_unpack(data["m"], m_widths) << 1) | 1
    return degree, inner, np.split(m, np.cumsum(degree)[:-1])


@functools.lru_cache(maxsize=8)
def direction_numbers(dimension: int) -> np.ndarray:
    """The ``(dimension, MAXBIT)`` int64 direction integers ``v[d, j] = m_{j+1} << (29 - j)``.

    The first dimension is the van der Corput sequence (every ``m`` is 1); the others follow
    Bratley & Fox's recurrence ``m_j = 2 a_1 m_{j-1} ^ ... ^ 2^{s-1} a_{s-1} m_{j-s+1}
    ^ 2^s m_{j-s} ^ m_{j-s}`` from the stored initial values.
    """
    degree, inner, initial = _table()
    m = np.ones((dimension, MAXBIT), dtype=np.int64)
    rows = dimension - 1
    s, a = degree[:rows], inner[:rows]
    for d in range(rows):
        m[d + 1, : s[d]] = initial[d]
    for j in range(1, MAXBIT):
        todo = j >= s
        if not todo.any():
            continue
        rows_j = np.nonzero(todo)[0]
        sj, aj = s[rows_j], a[rows_j]
        dims = rows_j + 1
        new = m[dims, j - sj] ^ (m[dims, j - sj] << sj)
        for k in range(1, int(sj.max())):
            # coefficient a_k is bit (s - 1 - k) of the inner coefficients
            use = (k < sj) & (((aj >> np.maximum(sj - 1 - k, 0)) & 1) == 1)
            new ^= np.where(use, m[dims, j - k] << k, 0)
        m[dims, j] = new
    return m << (MAXBIT - 1 - np.arange(MAXBIT))


if __name__ == "__main__":
    build_table()
