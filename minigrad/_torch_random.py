"""PyTorch's CPU random streams, drawn with NumPy.

PyTorch's CPU generator is a 32-bit Mersenne Twister (MT19937) seeded with the low 32 bits
of ``manual_seed``'s argument, the same initialisation as NumPy's legacy ``RandomState``.
Each of PyTorch's samplers turns the twister's words into numbers in a fixed way (how many
words per number, which bits, in which order), and :class:`TorchRandom` does the same, so
that after the same seed the same sequence of calls gives the same numbers as PyTorch (found
by comparing PyTorch 2.13's output with the raw words):

* uniform floats: float64 takes the low 53 bits of a 64-bit draw (two words, the first one
  high), every other float dtype the low 24 bits of one word; ``low + u * (high - low)`` is
  one fused multiply-add in double (float64) or float (the others, rounded to the dtype
  after), and a number that rounds up to ``high`` becomes ``low``;
* integers below ``2**28`` apart: one word modulo the range; wider ranges a 64-bit draw
  modulo the range (``random_()`` without bounds: a 64-bit draw only from ``2**32``); into a
  float dtype that rounds ``high - 1`` up or ``low + 1`` down, the bound moves inwards first
  (:func:`_float_bounds`);
* permutations: a forward Fisher-Yates shuffle, swapping position ``i`` with ``i + (word %
  (n - i))`` (computed without a Python loop: :func:`_fisher_yates`);
* normal numbers: contiguous tensors of 16 or more elements are filled with uniform numbers
  first and then transformed 16 at a time by Box-Muller (the first eight give the radius, the
  last eight the angle; a ragged tail redraws the last 16: float16 and bfloat16 draw only the
  whole blocks before it); ``mean + std * z`` is a fused multiply-add. Smaller or
  non-contiguous tensors take one double-precision Box-Muller pair per two numbers, the
  second number of a pair kept for the next draw (the cache is part of the generator state).

Uniform numbers, integers, permutations and normal numbers are bit for bit PyTorch's (the
16-wide transform in float32, and float16/bfloat16 rounded from it, with PyTorch's own float32
``log`` and ``sincos``: :mod:`minigrad._cephes32`). ``randperm`` above ``(2**32 - 1) // 20`` is refused: PyTorch
shuffles with 64-bit draws there, in a way not reproduced. The state is PyTorch's 5056-byte
CPU generator state (:meth:`TorchRandom.get_state`).
"""

from __future__ import annotations

import functools
import math
import struct

import numpy as np

from ._c_log import c_log
from ._cephes32 import box_muller_into
from ._float_rounding import fma64, fma_to_float32, scaled_float_uniform

# below this many elements PyTorch draws normal numbers one Box-Muller pair at a time
NORMAL_FILL_MIN = 16
# integer ranges from here on take a 64-bit draw per number
_WIDE_RANGE = 1 << 28
_MASK_53 = (1 << 53) - 1
_MASK_24 = (1 << 24) - 1
_MASK_24_U64 = np.uint64(_MASK_24)
# the dtypes whose U(0, 1) numbers are unit_floats as they are (half precisions round them)
_UNIT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_N = 624  # MT19937's words
# randperm's largest n shuffled with 32-bit words (PyTorch: UINT32_MAX // 20)
_PERMUTATION_32BIT_MAX = (2**32 - 1) // 20

# PyTorch's CPU generator state: seed, left, seeded, next, the 624 words (8 bytes each), the
# double normal cache (x, y, rho, valid), then the float normal cache (value, valid)
STATE_SIZE = 5056
_HEADER = struct.Struct("<QiiQ")
_WORDS_AT = _HEADER.size
_DOUBLE_CACHE = struct.Struct("<dddi")
_DOUBLE_CACHE_AT = _WORDS_AT + 8 * _N
_FLOAT_CACHE = struct.Struct("<f?")
_FLOAT_CACHE_AT = 5048


class TorchRandom:
    """A generator whose draws follow PyTorch's CPU generator, word for word."""

    def __init__(self, seed: int):
        self.seed = int(seed) % 2**64
        self._twister = np.random.MT19937()
        self._twister._legacy_seeding(self.seed & 0xFFFFFFFF)
        self._next_normal = None  # the second number of the last double Box-Muller pair
        self._float_cache = (0.0, False)  # PyTorch's float normal cache, kept in the state

    # -- raw words -------------------------------------------------------------------------
    def words32(self, n: int) -> np.ndarray:
        """``n`` 32-bit words of the twister (as uint64)."""
        return self._twister.random_raw(int(n))

    def words64(self, n: int) -> np.ndarray:
        """``n`` 64-bit draws, each from two words, the first one the high half (uint64)."""
        pairs = self.words32(2 * int(n)).reshape(-1, 2)
        high = pairs[:, 0] << np.uint64(32)
        high |= pairs[:, 1]
        return high

    # -- uniform ---------------------------------------------------------------------------
    def unit_floats(self, n: int, dtype: np.dtype) -> np.ndarray:
        """``n`` numbers in [0, 1): float64 from 53 random bits for float64, else float32
        from 24 (exactly representable either way)."""
        if np.dtype(dtype) == np.float64:
            out = self.mantissas53(n).astype(np.float64)
            out *= 2.0**-53
            return out
        out = self.mantissas24(n).view(np.int64).astype(np.float32)  # faster than from uint64
        out *= np.float32(2.0**-24)
        return out

    def mantissas53(self, n: int) -> np.ndarray:
        """The 53-bit integers ``m`` of ``n`` double uniforms ``m / 2**53`` (uint64)."""
        pairs = self.words32(2 * int(n)).reshape(-1, 2)
        high = pairs[:, 0] & np.uint64(_MASK_53 >> 32)  # one pass from the strided column
        high <<= np.uint64(32)
        high |= pairs[:, 1]
        return high

    def mantissas24(self, n: int) -> np.ndarray:
        """The 24-bit integers ``m`` of ``n`` float uniforms ``m / 2**24`` (uint64)."""
        words = self.words32(n)
        words &= _MASK_24_U64
        return words

    def uniform(self, shape, dtype, low, high):
        """U(low, high) numbers of ``dtype`` (a real float dtype) in the C order of ``shape``."""
        dtype = np.dtype(dtype)
        n = math.prod(shape)
        if low == 0.0 and high == 1.0 and dtype in _UNIT_DTYPES:  # U(0, 1): no scaling to round
            return self.unit_floats(n, dtype).reshape(shape)
        if dtype == np.float64:
            low, high = float(low), float(high)
            values = fma64(self.unit_floats(n, dtype), high - low, low)
            top = fma64(np.array([0.0, 1.0 - 2.0**-53]), high - low, low).max()
        else:
            low32, high32 = np.float32(low), np.float32(high)
            values, top = scaled_float_uniform(self.mantissas24(n), low32, high32 - low32)
            low, high = dtype.type(low), dtype.type(high)
            values = values.astype(dtype, copy=False)
            top = dtype.type(top)
        if not top < high:  # the largest uniform rounds up to the excluded bound: low instead
            values[values >= high] = low
        return values.reshape(shape)

    # -- integers and permutations ---------------------------------------------------------
    def integers(self, low, high, shape, dtype, wide_from=_WIDE_RANGE):
        """Integers in [low, high) of ``dtype``; ranges of ``wide_from`` or more take 64-bit
        draws (``random_()`` without bounds passes ``2**32``)."""
        dtype = np.dtype(dtype)
        low, high = int(low), int(high)
        if dtype.kind == "f" or dtype.name == "bfloat16":
            low, high = _float_bounds(low, high, dtype)
        span = high - low
        n = math.prod(shape)
        words = self.words32(n) if span < wide_from else self.words64(n)
        if span < 2**64 and span & (span - 1) == 0:  # a power of two: the low bits
            words &= np.uint64(span - 1)
        elif span < 2**64:
            np.remainder(words, np.uint64(span), out=words)
        words += np.uint64(low % 2**64)
        values = words.view(np.int64)
        if dtype.itemsize == 2 and dtype.kind not in "iu":
            values = values.astype(np.float32)  # half and bfloat16 convert through float
        return values.astype(dtype, copy=False).reshape(shape)

    def permutation(self, n):
        """A permutation of 0..n-1 by PyTorch's forward Fisher-Yates shuffle (step ``i`` swaps
        positions ``i`` and ``j_i = i + word % (n - i)``), computed without a loop over the
        steps: see :func:`_fisher_yates`."""
        n = int(n)
        if n > _PERMUTATION_32BIT_MAX:
            raise NotImplementedError(
                f"randperm({n}) on the CPU: above {_PERMUTATION_32BIT_MAX} PyTorch shuffles with "
                "64-bit draws in a way minigrad does not reproduce"
            )
        if n < 2:
            return np.arange(n, dtype=np.int64)
        remaining = np.arange(n, 1, -1, dtype=np.uint64)
        targets = np.arange(n - 1, dtype=np.uint64) + self.words32(n - 1) % remaining
        return _fisher_yates(targets.astype(np.int64))

    # -- normal ----------------------------------------------------------------------------
    def normal(self, shape, dtype, mean, std, filled: bool | None = None):
        """N(mean, std²) numbers of ``dtype`` in the C order of ``shape``: by PyTorch's 16-wide
        fill when ``filled`` (default: 16 elements or more), else pair by pair."""
        dtype = np.dtype(dtype)
        n = math.prod(shape)
        if filled is None:
            filled = n >= NORMAL_FILL_MIN
        if filled and n >= NORMAL_FILL_MIN:
            values = self._normal_fill(n, dtype, float(mean), float(std))
        else:
            z = self._normal_pairs(n)
            values = z if (mean, std) == (0.0, 1.0) else fma64(z, float(std), float(mean))
            if dtype.itemsize == 2:  # PyTorch's double to float16/bfloat16 goes through float
                values = values.astype(np.float32)
        return values.astype(dtype, copy=False).reshape(shape)

    def _normal_fill(self, n, dtype, mean, std):
        whole = n - n % 16
        # PyTorch still adds the mean: with mean 0.0 (not -0.0) a number -0.0 becomes 0.0
        standard = (mean, std) == (0.0, 1.0) and math.copysign(1.0, mean) > 0
        if dtype == np.float64:
            data = self.unit_floats(n, dtype)
            transform = _box_muller16_double
        else:
            if dtype == np.float32:
                data = self.unit_floats(n, dtype)
            else:  # float16 and bfloat16 draw only the whole blocks before the tail
                data = np.zeros(n, np.float32)
                data[:whole] = self.unit_floats(whole, dtype)
            transform = functools.partial(_box_muller16_float, plus_zero=standard)
        blocks = data[:whole].reshape(-1, 16)
        transform(blocks, out=blocks)
        if whole != n:  # PyTorch redraws the last 16 numbers and transforms them again
            tail = self.unit_floats(16, dtype).astype(data.dtype).reshape(1, 16)
            data[n - 16 :] = transform(tail, out=tail).reshape(-1)
        if standard:
            if dtype == np.float64:
                data += 0.0
            return data
        if dtype == np.float64:
            return fma64(data, std, mean)
        return fma_to_float32(data, float(np.float32(std)), np.float32(mean))

    def _normal_pairs(self, n: int) -> np.ndarray:
        """``n`` float64 normal numbers as PyTorch's scalar sampler: the cached number first,
        then a Box-Muller pair (angle from the first uniform number, radius from
        ``log1p(-second)``) per two numbers; an odd one out leaves its pair's sine cached."""
        out = np.empty(n, dtype=np.float64)
        start = 0
        if n and self._next_normal is not None:
            out[0], self._next_normal, start = self._next_normal, None, 1
        count = n - start
        if count:
            unit = self.unit_floats(2 * ((count + 1) // 2), np.float64).reshape(-1, 2)
            if count <= _SCALAR_PAIRS_MAX:  # a few numbers: Python's floats, without array calls
                pairs = _box_muller_pairs(unit.tolist())
            else:
                radius = np.sqrt(-2.0 * c_log1p(-unit[:, 1]))
                theta = (2.0 * math.pi) * unit[:, 0]
                pairs = np.stack([radius * np.cos(theta), radius * np.sin(theta)], axis=1)
                pairs = pairs.reshape(-1)
            out[start:] = pairs[:count]
            if count % 2:
                self._next_normal = float(pairs[-1])
        return out

    # -- state -----------------------------------------------------------------------------
    def get_state(self) -> np.ndarray:
        """PyTorch's CPU generator state: 5056 bytes (uint8), as ``torch.get_rng_state()``."""
        state = self._twister.state["state"]
        key, pos = state["key"], int(state["pos"])
        buf = bytearray(STATE_SIZE)
        # PyTorch twists before a draw when ``left`` reaches 0; ``next`` is NumPy's position,
        # except that a freshly seeded twister (not yet twisted) has next = 0
        fresh = pos == _N and np.array_equal(key, _seeded_key(self.seed))
        nxt = 0 if fresh else pos
        _HEADER.pack_into(buf, 0, self.seed, _N + 1 - pos, 1, nxt)
        buf[_WORDS_AT:_DOUBLE_CACHE_AT] = key.astype("<u8").tobytes()
        cached = self._next_normal
        _DOUBLE_CACHE.pack_into(
            buf, _DOUBLE_CACHE_AT, 0.0, cached or 0.0, 0.0, int(cached is not None)
        )
        _FLOAT_CACHE.pack_into(buf, _FLOAT_CACHE_AT, *self._float_cache)
        return np.frombuffer(bytes(buf), dtype=np.uint8).copy()

    def set_state(self, state) -> None:
        """Load a state of :meth:`get_state` (or PyTorch's), or minigrad's older dict state."""
        if isinstance(state, dict):  # {"twister": NumPy's MT19937 state, "next_normal": ...}
            self._twister.state = state["twister"]
            self._next_normal = state["next_normal"]
            return
        raw = np.ascontiguousarray(state, dtype=np.uint8).tobytes()
        if len(raw) != STATE_SIZE:
            raise RuntimeError(
                f"not a CPU generator state: expected {STATE_SIZE} bytes (as "
                f"torch.get_rng_state() gives), got {len(raw)}"
            )
        seed, left, _, nxt = _HEADER.unpack_from(raw, 0)
        if not (1 <= left <= _N and 0 <= nxt <= _N):
            raise RuntimeError(f"not a CPU generator state: left={left}, next={nxt}")
        words = np.frombuffer(raw, dtype="<u8", count=_N, offset=_WORDS_AT)
        if (words >> np.uint64(32)).any():
            raise RuntimeError("not a CPU generator state: a twister word exceeds 32 bits")
        pos = _N if left == 1 else nxt
        self.seed = seed
        self._twister.state = {
            "bit_generator": "MT19937",
            "state": {"key": words.astype(np.uint32), "pos": pos},
        }
        _, cached, _, valid = _DOUBLE_CACHE.unpack_from(raw, _DOUBLE_CACHE_AT)
        self._next_normal = cached if valid else None
        value, flag = _FLOAT_CACHE.unpack_from(raw, _FLOAT_CACHE_AT)
        self._float_cache = (value, bool(flag))


def _fisher_yates(targets: np.ndarray) -> np.ndarray:
    """The result of swapping positions ``i`` and ``targets[i] >= i`` for i = 0, 1, ... in
    ``arange(n)`` (``n = len(targets) + 1``), in a few vectorized passes.

    Step ``i`` fixes position ``i`` to the value then at ``targets[i]`` and moves the value
    then at ``i`` (call it ``v[i]``) to ``targets[i]``. A position ``p`` still holds ``p`` until
    a step targets it, and afterwards the ``v`` of the last step that did. So, with ``prev[i]``
    the last earlier step with the same target and ``parent[p]`` the last step before ``p``
    that targeted ``p``: ``v[p] = v[parent[p]]`` (or ``p`` without a parent), found for all
    positions at once by pointer jumping; and step ``i`` takes ``v[prev[i]]``, or ``v[i]`` when
    it targets itself, or its untouched target. A last step ``n - 1`` targeting itself gives
    the last position.
    """
    n = targets.size + 1
    index = np.int32 if n < 2**31 else np.int64  # smaller indices: faster random gathers
    steps = np.arange(n, dtype=index)
    target = np.append(targets, n - 1).astype(index)
    order = _stable_argsort(target).astype(index)  # steps grouped by target, in step order
    sorted_target = target[order]
    same = sorted_target[1:] == sorted_target[:-1]
    prev = np.empty(n, dtype=index)
    prev[order[0]] = -1
    prev[order[1:]] = np.where(same, order[:-1], -1)
    last = np.flatnonzero(np.append(~same, True))  # the last step of each target's group
    last_step, last_target = order[last], sorted_target[last]
    parent = np.full(n, -1, dtype=index)
    parent[last_target] = np.where(last_step == last_target, prev[last_step], last_step)
    root = np.where(parent < 0, steps, parent)
    while True:  # pointer jumping: every position to the first step of its chain
        up = root[root]
        if np.array_equal(up, root):
            break
        root = up
    taken = np.where(target == steps, root, target)
    return np.where(prev >= 0, root[prev], taken).astype(np.int64)  # root[-1]: unused


def _stable_argsort(values: np.ndarray) -> np.ndarray:
    """``argsort(values, kind="stable")`` of integers in [0, 2**32), by a least significant
    digit first radix sort over 16-bit digits (NumPy radix-sorts 16-bit keys: several times
    faster than its merge sort of wider integers)."""
    order = np.argsort((values & 0xFFFF).astype(np.uint16), kind="stable")
    if values.size and values.max() >= 1 << 16:
        high = (values[order] >> 16).astype(np.uint16)
        order = order[np.argsort(high, kind="stable")]
    return order


def _seeded_key(seed: int) -> np.ndarray:
    twister = np.random.MT19937()
    twister._legacy_seeding(seed & 0xFFFFFFFF)
    return twister.state["state"]["key"]


def _float_bounds(low: int, high: int, dtype: np.dtype):
    """PyTorch's bounds for integers drawn into a float dtype of ``p`` mantissa bits: when
    ``high - 1`` rounds to ``high`` or more, ``high`` becomes that rounding less
    ``2**(k - p + 1)`` (``2**k <= |high - 1|``); when ``low + 1`` rounds below ``low``,
    ``low`` becomes that rounding plus ``2**(k - p + 1)`` (``2**k <= |low + 1|``)."""
    digits = _mantissa_bits(dtype)
    top = _float_to_int64(dtype.type(high - 1))
    if top >= high:
        high = top - 2 ** (abs(high - 1).bit_length() - 1 - digits + 1)
    bottom = _float_to_int64(dtype.type(low + 1))
    if bottom < low:
        low = bottom + 2 ** (abs(low + 1).bit_length() - 1 - digits + 1)
    return low, high


def _mantissa_bits(dtype: np.dtype) -> int:
    return np.finfo(dtype).nmant + 1


def _float_to_int64(value) -> int:
    """A float's conversion to int64 as x86 does it: out of range gives -2**63."""
    value = int(float(value))
    return value if -(2**63) <= value < 2**63 else -(2**63)


# -- Box-Muller ----------------------------------------------------------------------------
def _box_muller16_float(blocks: np.ndarray, out: np.ndarray, plus_zero=False) -> np.ndarray:
    """PyTorch's 16-wide Box-Muller in float32, with its float32 ``log`` and ``sincos``
    reproduced bit for bit (see :mod:`minigrad._cephes32`); ``plus_zero``: -0.0 to 0.0."""
    return box_muller_into(blocks, out, plus_zero)


def _box_muller16_double(blocks: np.ndarray, out: np.ndarray) -> np.ndarray:
    """The 16-wide Box-Muller in float64, with the C library's ``log`` (see :func:`c_log`)."""
    radius = c_log(1.0 - blocks[:, :8])
    radius *= -2.0
    np.sqrt(radius, out=radius)
    return _polar_to_blocks(radius, (2.0 * math.pi) * blocks[:, 8:], out)


def _polar_to_blocks(radius: np.ndarray, theta: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``radius * cos(theta)`` into the first 8 columns of ``out``, ``radius * sin(theta)``
    into the last 8 (``theta`` is overwritten)."""
    np.multiply(radius, np.cos(theta), out=out[:, :8])
    np.multiply(radius, np.sin(theta, out=theta), out=out[:, 8:])
    return out


_c_log1p_one = np.frompyfunc(math.log1p, 1, 1)

_SCALAR_PAIRS_MAX = 8  # up to here the pair sampler runs on Python floats (measured: faster)


def _box_muller_pairs(units: list) -> list:
    """The scalar sampler's pairs (see ``TorchRandom._normal_pairs``) from ``[u0, u1]`` rows of
    float64 uniform numbers, on Python floats: the same double operations in the same order
    and the C library's ``log1p``, ``cos`` and ``sin``, as the array form computes them."""
    out = []
    for u0, u1 in units:
        radius = math.sqrt(-2.0 * math.log1p(-u1))
        theta = (2.0 * math.pi) * u0
        out += (radius * math.cos(theta), radius * math.sin(theta))
    return out


def c_log1p(x: np.ndarray) -> np.ndarray:
    """``log1p`` of float64 numbers as the C library's (``math.log1p``), which is not always
    correctly rounded (NumPy's differs in one number in 14): one call per number."""
    return _c_log1p_one(x).astype(np.float64)
