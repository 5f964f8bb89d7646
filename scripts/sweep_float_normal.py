"""Every float32 uniform number through PyTorch's 16-wide normal transform and minigrad's.

PyTorch's float uniform numbers are ``k / 2**24`` for ``k < 2**24``, so its float32 ``log`` (of
``1 - u``) and ``sincos`` (of ``2 pi u``) in ``randn`` see only 2**24 inputs each: this feeds
all of them to both generators (through generator states that draw chosen words) and counts
the numbers whose bits differ:

* radii: blocks with angle 0 (cos 1, sin 0), so the first 8 numbers are the radii;
* cosines and sines: blocks whose radius is exactly 1 (``k = 6601320``);

and again with minigrad's fused multiply-adds (a double sum rounded to float: rounding twice)
replaced by exactly rounded ones, counting the double sums where the two could differ (inexact
and exactly halfway between two floats).

Run: ``python scripts/sweep_float_normal.py`` (about two minutes with PyTorch installed).
"""

from __future__ import annotations

import time

import numpy as np
import torch

import minigrad
from minigrad import _cephes32
from minigrad.testing.torch_random_words import MAX_WORDS, state_drawing

TOP = 1 << 24
RADIUS_ONE = 6601320  # 1 - k / 2**24 whose float32 radius sqrt(-2 log(.)) is exactly 1.0
WORDS = MAX_WORDS - MAX_WORDS % 16


def torch_blocks(blocks: np.ndarray) -> np.ndarray:
    """PyTorch's normal numbers of rows of 16 uniform numbers ``k / 2**24``."""
    flat = blocks.reshape(-1, WORDS)
    out = np.empty(flat.shape, np.float32)
    for i, words in enumerate(flat):
        torch.set_rng_state(torch.from_numpy(state_drawing(words)))
        out[i] = torch.empty(WORDS).normal_().numpy()
    return out.reshape(blocks.shape)


def minigrad_blocks(blocks: np.ndarray) -> np.ndarray:
    """minigrad's transform of the same rows (its generator is checked by the tests)."""
    uniform = blocks.astype(np.float32) * np.float32(2.0**-24)
    return minigrad._torch_random._box_muller16_float(uniform, uniform, plus_zero=True)


def _blocks(radius_k: np.ndarray, angle_k: np.ndarray) -> np.ndarray:
    """Rows of 8 radius inputs and 8 angle inputs, padded to whole generator states."""
    rows = -(-radius_k.size // 8)
    rows += -rows % (WORDS // 16)
    blocks = np.zeros((rows, 16), np.int64)
    for half, values in ((slice(0, 8), radius_k), (slice(8, 16), angle_k)):
        padded = np.zeros(8 * rows, np.int64)
        padded[: values.size] = values
        blocks[:, half] = padded.reshape(rows, 8)
    return blocks


def sweep(radius_k: np.ndarray, angle_k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both transforms of rows of 8 radius inputs and 8 angle inputs."""
    blocks = _blocks(radius_k, angle_k)
    return torch_blocks(blocks), minigrad_blocks(blocks)


class ExactFusedMultiplyAdds:
    """Within ``with``: minigrad's emulated fused multiply-adds rounded once, exactly (a double
    sum lying exactly halfway between two floats while inexact is first moved one double
    towards its rounding error), counting those sums."""

    def __init__(self):
        self.halfway = self.inexact_halfway = 0
        self._fused = _cephes32._fused

    def __enter__(self):
        def exact(a64, b, c, acc64, out32, out64=None):
            product = a64 * b  # exact
            c = np.broadcast_to(np.asarray(c, dtype=np.float64), product.shape)
            total = product + c
            b_part = total - product
            error = (product - (total - b_part)) + (c - b_part)
            low = total.view(np.uint64) & np.uint64((1 << 29) - 1)
            halfway = low == np.uint64(1 << 28)
            self.halfway += int(np.count_nonzero(halfway))
            fix = halfway & (error != 0)
            self.inexact_halfway += int(np.count_nonzero(fix))
            total[fix] = np.nextafter(total[fix], np.copysign(np.inf, error[fix]))
            acc64[...] = total
            _cephes32._round(acc64, out32, out64)

        _cephes32._fused = exact
        return self

    def __exit__(self, *exc):
        _cephes32._fused = self._fused


def _differing(a: np.ndarray, b: np.ndarray) -> int:
    return int(np.count_nonzero(a.view(np.uint32) != b.view(np.uint32)))


def _compare(k, theirs_radius, theirs_trig) -> str:
    ours = minigrad_blocks(_blocks(k, np.zeros_like(k)))
    radius_diff = _differing(theirs_radius[:, :8], ours[:, :8])
    ours = minigrad_blocks(_blocks(np.full_like(k, RADIUS_ONE), k))
    cos_diff = _differing(theirs_trig[:, :8], ours[:, :8])
    sin_diff = _differing(theirs_trig[:, 8:], ours[:, 8:])
    return f"radii differing: {radius_diff}, cosines: {cos_diff}, sines: {sin_diff}"


def main() -> None:
    k = np.arange(TOP, dtype=np.int64)
    start = time.time()
    theirs_radius, _ = sweep(k, np.zeros_like(k))
    theirs_trig, _ = sweep(np.full_like(k, RADIUS_ONE), k)
    print(f"inputs per function: {TOP}")
    print(f"minigrad as it computes: {_compare(k, theirs_radius, theirs_trig)}")
    with ExactFusedMultiplyAdds() as exact:
        print(f"with exact fused multiply-adds: {_compare(k, theirs_radius, theirs_trig)}")
    print(
        f"double sums exactly halfway between floats: {exact.halfway}, "
        f"of which inexact: {exact.inexact_halfway}"
    )
    print(f"{time.time() - start:.0f} s")


if __name__ == "__main__":
    main()
