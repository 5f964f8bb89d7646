"""Quasi-random (low-discrepancy) sequences, as ``torch.quasirandom``: :class:`SobolEngine`."""

from __future__ import annotations

import operator
import os

import numpy as np

from .. import dtypes
from ..creation import tensor as _tensor
from ._direction_numbers import MAX_DIMENSION, MAXBIT, direction_numbers

__all__ = ["SobolEngine"]

_TORCH_MAX_DIMENSION = 21201  # the rows of Joe & Kuo's table


def _as_int(value, name: str) -> int:
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"SobolEngine: {name} must be an int, got {value!r}") from None


class SobolEngine:
    """Draws points of a (scrambled) Sobol' sequence in ``[0, 1)^dimension``, as
    ``torch.quasirandom.SobolEngine``.

    The direction numbers are Joe & Kuo's (2008, ``new-joe-kuo-6.21201``), as PyTorch's and
    SciPy's, and points come in Gray-code order with 30 bits each, so unscrambled draws equal
    PyTorch's exactly. ``scramble=True`` applies a random linear matrix scramble and a random
    digital shift (Owen 1998; Matousek 1998) whose bits come from a Mersenne Twister seeded
    with ``seed`` the way ``torch.Generator().manual_seed(seed)`` is, so scrambled draws with
    a seed equal PyTorch's too; ``seed=None`` takes a fresh seed from the operating system.

    Differences from PyTorch: the stored table holds the first ``MAX_DIMENSION`` (10000)
    dimensions, and a larger ``dimension`` (PyTorch goes to 21201) raises
    NotImplementedError; ``draw(0)`` on a fresh engine returns an empty ``(0, dimension)``
    tensor (PyTorch raises); float16 and bfloat16 draws are allowed (rounded from float64).

    Args:
        dimension: the number of coordinates of each point, 1 to ``MAX_DIMENSION``.
        scramble: whether to scramble the sequence.
        seed: the seed of the scrambling (ignored without ``scramble``).

    Example:
        >>> engine = SobolEngine(2)
        >>> engine.draw(3)
        tensor([[0.0000, 0.0000],
                [0.5000, 0.5000],
                [0.7500, 0.2500]])
    """

    MAXBIT = MAXBIT
    MAXDIM = MAX_DIMENSION

    def __init__(self, dimension: int, scramble: bool = False, seed: int | None = None):
        dimension = _as_int(dimension, "dimension")
        if not 1 <= dimension <= _TORCH_MAX_DIMENSION:
            raise ValueError(
                f"Supported range of dimensionality for SobolEngine is [1, {_TORCH_MAX_DIMENSION}]"
            )
        if dimension > MAX_DIMENSION:
            raise NotImplementedError(
                f"SobolEngine: dimension={dimension} is above the {MAX_DIMENSION} dimensions of "
                f"minigrad's stored direction-number table (PyTorch's goes to "
                f"{_TORCH_MAX_DIMENSION})"
            )
        self.dimension, self.scramble, self.seed = dimension, scramble, seed
        self._state = direction_numbers(dimension)
        self._shift = np.zeros(dimension, dtype=np.int64)
        if scramble:
            self._scramble()
        # PyTorch computes the first point once, in the default dtype of the moment
        self._first_dtype = dtypes.get_default_dtype().numpy
        self.num_generated = 0

    @property
    def sobolstate(self):
        """The ``(dimension, MAXBIT)`` int64 direction integers (scrambled with ``scramble``)."""
        return _tensor(self._state, dtype=dtypes.int64)

    @property
    def shift(self):
        """The ``(dimension,)`` int64 digital shift (zeros without ``scramble``)."""
        return _tensor(self._shift, dtype=dtypes.int64)

    @property
    def quasi(self):
        """The integer coordinates of the last point drawn (the shift before the first)."""
        last = self._points(self.num_generated - 1, 1)[0] if self.num_generated else self._shift
        return _tensor(last, dtype=dtypes.int64)

    def _scramble(self) -> None:
        """Random digital shift, then a random lower-triangular (unit diagonal) binary matrix
        applied to every direction integer, bits drawn in PyTorch's order."""
        seed = self.seed
        if seed is None:
            seed = int.from_bytes(os.urandom(4), "little")
        # torch's CPU generator: MT19937 seeded with the low 32 bits, one word per 0/1 draw
        rng = np.random.RandomState(int(seed) & 0xFFFFFFFF)
        d, bits = self.dimension, MAXBIT
        shift_bits = rng.randint(0, 2, size=(d, bits))
        self._shift = shift_bits @ (np.int64(1) << np.arange(bits, dtype=np.int64))
        ltm = np.tril(rng.randint(0, 2, size=(d, bits, bits)))
        ltm[:, np.arange(bits), np.arange(bits)] = 1
        # bit r of a direction integer counted from the most significant end
        place = np.int64(1) << (bits - 1 - np.arange(bits, dtype=np.int64))
        v_bits = ((self._state[:, :, None] & place) != 0).astype(np.float32)  # (d, j, r)
        # bit p of the new integer: the parity of row p of the matrix times the old bits
        # (float32 products of 0/1 sum exactly)
        dots = v_bits @ ltm.transpose(0, 2, 1).astype(np.float32)
        self._state = (dots.astype(np.int64) & 1) @ place

    def _points(self, start: int, n: int) -> np.ndarray:
        """The integer coordinates of points ``start .. start + n - 1`` (Gray-code order)."""
        index = np.arange(start, start + n, dtype=np.int64)
        gray = index ^ (index >> 1)
        out = np.broadcast_to(self._shift, (n, self.dimension)).copy()
        for j in range(int(gray.max()).bit_length() if n else 0):
            take = ((gray >> j) & 1).astype(bool)
            out[take] ^= self._state[:, j]
        return out

    def draw(self, n: int = 1, out=None, dtype=None):
        """The next ``n`` points, a ``(n, dimension)`` tensor of ``dtype`` (default: the
        default floating dtype); with ``out``, written into it (resized) and returned.

        Example:
            >>> SobolEngine(1).draw(2)
            tensor([[0.0000],
                    [0.5000]])
        """
        n = _as_int(n, "n")
        if n < 0:
            raise RuntimeError(f"SobolEngine.draw: n must be non-negative, got {n}")
        if self.num_generated + n > 1 << MAXBIT:
            raise ValueError(
                f"SobolEngine.draw: a Sobol' sequence of {MAXBIT} bits has 2**{MAXBIT} points; "
                f"{self.num_generated} were drawn, {n} more asked for"
            )
        dtype = dtypes.get_default_dtype() if dtype is None else dtypes.to_dtype(dtype)
        if not dtype.is_floating_point:
            raise TypeError(f"SobolEngine.draw: dtype must be a floating dtype, got {dtype}")
        points = self._points(self.num_generated, n) * 2.0**-MAXBIT
        if self.num_generated == 0 and n:
            points[0] = points[0].astype(self._first_dtype)
        self.num_generated += n
        result = _tensor(points, dtype=dtype)
        if out is not None:
            out.resize_as_(result).copy_(result)
            return out
        return result

    def draw_base2(self, m: int, out=None, dtype=None):
        """The next ``2**m`` points; the total drawn must stay a power of two (the balance
        properties of Sobol' points hold for such counts), else ValueError."""
        m = _as_int(m, "m")
        if m < 0:
            raise ValueError(f"SobolEngine.draw_base2: m must be non-negative, got {m}")
        n = 2**m
        total = self.num_generated + n
        if total & (total - 1):
            raise ValueError(
                "The balance properties of Sobol' points require n to be a power of 2. "
                f"{self.num_generated} points have been previously generated, then: "
                f"n={self.num_generated}+2**{m}={total}. If you still want to do this, "
                "please use 'SobolEngine.draw()' instead."
            )
        return self.draw(n, out=out, dtype=dtype)

    def reset(self) -> SobolEngine:
        """Start again from the first point."""
        self.num_generated = 0
        return self

    def fast_forward(self, n: int) -> SobolEngine:
        """Skip the next ``n`` points."""
        n = _as_int(n, "n")
        if n < 0:
            raise RuntimeError(f"SobolEngine.fast_forward: n must be non-negative, got {n}")
        self.num_generated += n
        return self

    def __repr__(self) -> str:
        parts = [f"dimension={self.dimension}"]
        if self.scramble:
            parts.append("scramble=True")
        if self.seed is not None:
            parts.append(f"seed={self.seed}")
        return f"SobolEngine({', '.join(parts)})"
