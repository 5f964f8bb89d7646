"""float32 normal numbers of PyTorch's 16-wide transform, bit for bit (and float16/bfloat16).

PyTorch's CPU ``randn`` turns 16 uniform numbers at a time into normal numbers with its own
float32 ``log`` and ``sincos`` (minigrad/_cephes32.py). Besides seeded draws, the transform is
fed chosen uniform numbers through a generator state that makes both generators draw chosen
words (minigrad.testing.torch_random_words): a sample of all 2**24 possible uniform numbers
here, all of them in scripts/sweep_float_normal.py.
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad
from minigrad.testing.torch_random_words import MAX_WORDS, state_drawing

torch = pytest.importorskip("torch")

BLOCK_WORDS = MAX_WORDS - MAX_WORDS % 16  # whole blocks of 16 per state: 38 blocks


def _bits(values) -> np.ndarray:
    return np.asarray(values, dtype=np.float32).view(np.uint32)


def _seeded_pair(seed, n, dtype, mean, std):
    out = []
    for lib in (torch, minigrad):
        lib.manual_seed(seed)
        out.append(lib.empty(n, dtype=getattr(lib, dtype)).normal_(mean, std).float().numpy())
    return out


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_seeded_normal_numbers_are_pytorchs_bit_for_bit(dtype):
    for seed in (0, 2**32 + 5):
        for n in (16, 17, 31, 257, 4099):
            for mean, std in ((0.0, 1.0), (0.5, 2.0), (-3.0, 1e-3)):
                theirs, ours = _seeded_pair(seed, n, dtype, mean, std)
                np.testing.assert_array_equal(_bits(ours), _bits(theirs), err_msg=f"{seed} {n}")
    theirs, ours = _seeded_pair(3, 100_003, dtype, 0.0, 1.0)
    np.testing.assert_array_equal(_bits(ours), _bits(theirs))
    assert not np.array_equal(_seeded_pair(4, 64, dtype, 0.0, 1.0)[1], ours[:64])


def test_randn_functions_are_pytorchs_bit_for_bit():
    def draws(lib):
        lib.manual_seed(11)
        return [
            lib.randn(3, 7, 5).numpy(),
            lib.randn_like(lib.zeros(40, 2)).numpy(),
            lib.nn.init.normal_(lib.empty(64, 32), 0.0, 0.02).detach().numpy(),
            lib.nn.init.kaiming_normal_(lib.empty(24, 12)).detach().numpy(),
            lib.nn.init.xavier_normal_(lib.empty(16, 16)).detach().numpy(),
        ]

    for theirs, ours in zip(draws(torch), draws(minigrad)):
        np.testing.assert_array_equal(_bits(ours), _bits(theirs))


def _through_both(k: np.ndarray):
    """The normal numbers both generators make of the float uniform numbers ``k / 2**24``
    (``k.size`` a multiple of ``BLOCK_WORDS``), drawn 16 at a time."""
    out = []
    for lib in (torch, minigrad):
        values = []
        for words in k.reshape(-1, BLOCK_WORDS):
            state = state_drawing(words)
            lib.set_rng_state(torch.from_numpy(state) if lib is torch else lib.tensor(state))
            values.append(lib.empty(BLOCK_WORDS).normal_().numpy())
        out.append(np.concatenate(values))
    return out


def _edge_uniforms() -> np.ndarray:
    """Uniform numbers (as ``k``) at the edges of the reductions: 0 and the top, where
    ``1 - u`` crosses powers of two and sqrt(1/2), where the angle crosses multiples of
    pi/4."""
    top = 1 << 24
    k = [0, 1, 2, 3, top - 1, top - 2, top // 2, top // 4, top // 8]
    k += [round(top * (1 - 0.5**0.5)) + d for d in range(-3, 4)]
    k += [round(top * m / 8) + d for m in range(1, 8) for d in range(-2, 3)]
    return np.array(k, dtype=np.int64)


def test_chosen_uniform_numbers_give_pytorchs_normal_numbers():
    rng = np.random.default_rng(2024)
    edges = _edge_uniforms()
    size = 64 * BLOCK_WORDS
    blocks = rng.integers(0, 1 << 24, size).reshape(-1, 16)
    slots = np.resize(edges, 64).reshape(8, 8)
    blocks[:8, :8] = slots  # as radius inputs (the first 8 of a block of 16)
    blocks[8:16, 8:] = slots  # as angles (the last 8)
    k = blocks.reshape(-1)
    theirs, ours = _through_both(k)
    np.testing.assert_array_equal(_bits(ours), _bits(theirs))


def test_log_and_sincos_of_a_sample_of_all_inputs():
    # blocks in turn with angle 0 (the first 8 numbers are the radii: cos 1, sin 0) and with
    # radius 1.0 exactly (k = 6601320: the numbers are the cosines and sines themselves)
    rng = np.random.default_rng(5)
    k = rng.integers(0, 1 << 24, 256 * BLOCK_WORDS).reshape(-1, 16)
    k[:, :8] = np.where(np.arange(len(k))[:, None] % 2 == 0, k[:, :8], 6601320)
    k[::2, 8:] = 0  # angle 0: cos 1, sin 0, so the first 8 are the radius itself
    theirs, ours = _through_both(k.reshape(-1))
    np.testing.assert_array_equal(_bits(ours), _bits(theirs))
