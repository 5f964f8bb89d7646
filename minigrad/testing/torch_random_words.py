"""Generator states that make PyTorch's CPU generator (and minigrad's) draw chosen words.

PyTorch's generator state (5056 bytes, ``torch.get_rng_state()``) holds the Mersenne Twister's
624 words, the position ``next`` of the next word and ``left`` (``625 - next`` once
twisted). With ``next = 1`` the next 623 draws are the stored words 1 to 623, tempered,
without a twist: storing untempered words chosen in advance makes both generators draw them,
so that a sampler can be fed exactly the uniform numbers one wants to test (for example every
one of the 2**24 float uniform numbers ``k / 2**24``).
"""

from __future__ import annotations

import struct

import numpy as np

from .._torch_random import STATE_SIZE

MAX_WORDS = 623  # draws before the twister twists again
_N = 624
_HEADER = struct.Struct("<QiiQ")  # seed, left, seeded, next


def untemper(words: np.ndarray) -> np.ndarray:
    """The twister words whose tempered outputs are ``words`` (32-bit integers)."""
    y = np.asarray(words).astype(np.uint32)
    y ^= y >> np.uint32(18)
    y ^= (y << np.uint32(15)) & np.uint32(0xEFC60000)
    t = y.copy()
    for _ in range(5):  # y ^= (y << 7) & mask, undone 7 bits at a time
        t = y ^ ((t << np.uint32(7)) & np.uint32(0x9D2C5680))
    y = t
    t = y.copy()
    for _ in range(3):  # y ^= y >> 11
        t = y ^ (t >> np.uint32(11))
    return t


def state_drawing(words: np.ndarray, seed: int = 0) -> np.ndarray:
    """A CPU generator state (uint8, as ``torch.get_rng_state()``) whose next draws are the
    32-bit ``words`` (at most :data:`MAX_WORDS`), in order."""
    words = np.asarray(words)
    if words.size > MAX_WORDS:
        raise ValueError(f"state_drawing: at most {MAX_WORDS} words, got {words.size}")
    buf = bytearray(STATE_SIZE)
    _HEADER.pack_into(buf, 0, seed, _N, 1, 1)
    stored = np.zeros(_N, dtype="<u8")
    stored[1 : 1 + words.size] = untemper(words)
    buf[_HEADER.size : _HEADER.size + 8 * _N] = stored.tobytes()
    return np.frombuffer(bytes(buf), dtype=np.uint8).copy()


def float_uniform_words(k: np.ndarray) -> np.ndarray:
    """Words that PyTorch turns into the float uniform numbers ``k / 2**24`` (``k < 2**24``):
    it keeps a word's low 24 bits."""
    return np.asarray(k, dtype=np.uint32)
