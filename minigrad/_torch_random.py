"""PyTorch's CPU random streams, drawn with NumPy.

PyTorch's CPU generator is a 32-bit Mersenne Twister (MT19937) seeded with the low 32 bits
of ``manual_seed``'s argument, the same initialisation as NumPy's legacy ``RandomState``.
Each of PyTorch's samplers turns the twister's words into numbers in a fixed way (how many
words per number, which bits, in which order), and :class:`TorchRandom` does the same, so
that after the same seed the same sequence of calls gives the same numbers as PyTorch:

* uniform floats: float32 takes the low 24 bits of one 32-bit word, float64 the low 53 bits
  of a 64-bit draw (two words, the first one high); the bounds are rounded to the dtype and
  the scaling is done in double, as PyTorch;
* integers below ``2**28`` apart: one 32-bit word modulo the range; wider ranges a 64-bit
  draw modulo the range;
* permutations: a forward Fisher-Yates shuffle, swapping position ``i`` with ``i + (word %
  (n - i))``;
* normal numbers: tensors of 16 or more elements are filled with uniform numbers first and
  then transformed 16 at a time by Box-Muller (the first eight give the radius, the last
  eight the angle; a ragged tail redraws the last 16); smaller tensors take one
  double-precision Box-Muller pair per two numbers, the second number of a pair kept for the
  next call (the cache is part of the generator's state).

Uniform numbers, integers and permutations are bit for bit PyTorch's. Normal numbers equal
PyTorch's within one unit in the last place: PyTorch computes the 16-wide transform with
vectorized ``log``/``sin``/``cos`` whose last bit can differ from NumPy's.
"""

from __future__ import annotations

import math

import numpy as np

# below this many elements PyTorch draws normal numbers one Box-Muller pair at a time
_NORMAL_FILL_MIN = 16
# integer ranges from here on take a 64-bit draw per number
_WIDE_RANGE = 1 << 28
_MASK_53 = (1 << 53) - 1

_MANTISSA_BITS = {np.dtype(np.float16): 11, np.dtype(np.float32): 24}


class TorchRandom:
    """A generator whose draws follow PyTorch's CPU generator, word for word."""

    def __init__(self, seed: int):
        self._twister = np.random.MT19937()
        self._twister._legacy_seeding(int(seed) & 0xFFFFFFFF)
        self._next_normal = None  # the second number of the last double Box-Muller pair

    # -- raw words -------------------------------------------------------------------------
    def words32(self, n: int) -> np.ndarray:
        """``n`` 32-bit words of the twister (as uint64)."""
        return self._twister.random_raw(int(n))

    def words64(self, n: int) -> np.ndarray:
        """``n`` 64-bit draws, each from two words, the first one the high half (uint64)."""
        pairs = self.words32(2 * int(n)).reshape(-1, 2)
        return (pairs[:, 0] << np.uint64(32)) | pairs[:, 1]

    # -- uniform ---------------------------------------------------------------------------
    def unit_floats(self, n: int, dtype: np.dtype) -> np.ndarray:
        """``n`` numbers in [0, 1) as PyTorch's ``uniform_real_distribution`` of ``dtype``,
        exact in float64 (the scaling to other bounds is done on them)."""
        dtype = np.dtype(dtype)
        if dtype == np.float64:
            return (self.words64(n) & np.uint64(_MASK_53)).astype(np.float64) * 2.0**-53
        bits = _mantissa_bits(dtype)
        return (self.words32(n) & np.uint64((1 << bits) - 1)).astype(np.float64) * 2.0**-bits

    def uniform(self, shape, dtype, low, high):
        dtype = np.dtype(dtype)
        n = math.prod(shape)
        low, high = float(dtype.type(low)), float(dtype.type(high))
        unit = self.unit_floats(n, dtype)
        return (unit * (high - low) + low).astype(dtype).reshape(shape)

    # -- integers and permutations ---------------------------------------------------------
    def integers(self, low, high, shape, dtype):
        low, span = int(low), int(high) - int(low)
        n = math.prod(shape)
        words = self.words32(n) if span < _WIDE_RANGE else self.words64(n)
        values = (words % np.uint64(span)).astype(np.int64) + low
        return values.astype(dtype, copy=False).reshape(shape)

    def permutation(self, n):
        n = int(n)
        order = list(range(n))
        if n > 1:
            words = self.words32(n - 1).tolist()
            for i, word in enumerate(words):
                j = i + word % (n - i)
                order[i], order[j] = order[j], order[i]
        return np.array(order, dtype=np.int64)

    # -- normal ----------------------------------------------------------------------------
    def normal(self, shape, dtype, mean, std):
        dtype = np.dtype(dtype)
        n = math.prod(shape)
        if n >= _NORMAL_FILL_MIN:
            values = self._normal_fill(n, dtype, mean, std)
        else:
            values = np.array([self._one_normal() for _ in range(n)]) * std + mean
        return values.astype(dtype, copy=False).reshape(shape)

    def _normal_fill(self, n, dtype, mean, std):
        work = np.float64 if dtype == np.float64 else np.float32
        data = self.unit_floats(n, dtype).astype(work)
        whole = n - n % 16
        data[:whole] = _box_muller16(data[:whole].reshape(-1, 16), work).reshape(-1)
        if whole != n:  # PyTorch redraws the last 16 numbers and transforms them again
            tail = self.unit_floats(16, dtype).astype(work).reshape(1, 16)
            data[n - 16 :] = _box_muller16(tail, work).reshape(-1)
        return data * work(std) + work(mean)

    def _one_normal(self) -> float:
        if self._next_normal is not None:
            value, self._next_normal = self._next_normal, None
            return value
        u1, u2 = self.unit_floats(2, np.float64)
        radius = math.sqrt(-2.0 * math.log(1.0 - u2))
        theta = 2.0 * math.pi * u1
        self._next_normal = radius * math.sin(theta)
        return radius * math.cos(theta)

    # -- state -----------------------------------------------------------------------------
    def get_state(self):
        return {"twister": self._twister.state, "next_normal": self._next_normal}

    def set_state(self, state):
        self._twister.state = state["twister"]
        self._next_normal = state["next_normal"]


def _mantissa_bits(dtype: np.dtype) -> int:
    bits = _MANTISSA_BITS.get(np.dtype(dtype))
    if bits is None:  # bfloat16 (ml_dtypes) and other narrow floats: their own mantissa
        bits = np.finfo(dtype).nmant + 1
    return bits


def _box_muller16(blocks: np.ndarray, work) -> np.ndarray:
    """PyTorch's 16-wide Box-Muller: in each row of 16 uniform numbers, ``1 - u[j]`` gives the
    radius and ``u[j + 8]`` the angle of the pair written to positions ``j`` and ``j + 8``."""
    radius = np.sqrt(work(-2.0) * np.log(work(1.0) - blocks[:, :8]))
    theta = work(2.0 * math.pi) * blocks[:, 8:]
    return np.concatenate([radius * np.cos(theta), radius * np.sin(theta)], axis=1)
