"""arange/linspace/logspace give PyTorch's CPU values bit for bit (see minigrad/_range_factories.py),
and the exact fused multiply-adds they rest on round as a true FMA."""

from fractions import Fraction

import numpy as np
import pytest

import minigrad
from minigrad import _range_factories
from minigrad._float_rounding import fma32_exact, fma64_exact

torch = pytest.importorskip("torch")

FLOATS = ["float64", "float32", "float16", "bfloat16"]
INTS = ["int64", "int32", "int16", "int8", "uint8"]


def _bits(t):
    """The bytes of a tensor (either library's), bfloat16 widened to float exactly."""
    if "bfloat16" in str(t.dtype):
        t = t.float()
    return t.numpy().tobytes() + str(tuple(t.shape)).encode()


def _ranges(seed, count):
    """(start, end, step, steps): mixed magnitudes, signs and sizes (most not a multiple of the
    2 x 4..16-lane blocks)."""
    rng = np.random.default_rng(seed)
    for _ in range(count):
        start = float(rng.normal() * 10.0 ** int(rng.integers(-3, 3)))
        step = float(rng.uniform(0.001, 3)) * 10.0 ** int(rng.integers(-2, 2))
        step = step if rng.random() < 0.7 else -step
        n = int(rng.integers(1, 120))
        yield start, start + step * (n - 0.5), step, int(rng.integers(0, 120))


def _same(make):
    """Both libraries give the same bytes, or both raise the same exception type."""
    results = []
    for lib in (torch, minigrad):
        try:
            results.append(_bits(make(lib)))
        except (RuntimeError, ValueError) as exc:
            results.append(type(exc))
    return results[0] == results[1]


@pytest.mark.parametrize("dtype", FLOATS + INTS)
def test_arange_linspace_logspace_match_torch_bitwise(dtype):
    bad = []
    for start, end, step, steps in _ranges(sum(map(ord, dtype)), 12):

        def calls(lib, start=start, end=end, step=step, steps=steps):
            kind = getattr(lib, dtype)
            return [
                lib.arange(start, end, step, dtype=kind),
                lib.linspace(start, end, steps, dtype=kind),
                lib.logspace(start / 100, end / 100, steps, dtype=kind),
                lib.logspace(start, end, steps, base=2.0, dtype=kind),
            ]

        for i in range(4):
            if not _same(lambda lib, i=i: calls_at(calls, lib, i)):
                bad.append((i, start, end, step, steps))
    assert not bad, bad[:3]


def calls_at(calls, lib, i):
    return calls(lib)[i]


def test_arange_float64_is_blockwise_fused():
    # the audio helper's case: NumPy's start + i * step differs from PyTorch's blocks
    start, step = 0.0, 512 / 22050 * 1.3
    ours = minigrad.arange(start, 3.0, step, dtype=minigrad.float64).numpy()
    assert ours.tobytes() == torch.arange(start, 3.0, step, dtype=torch.float64).numpy().tobytes()
    assert not np.array_equal(ours, np.arange(len(ours)) * step + start)  # the point
    for dtype in FLOATS:  # integer steps: exact values (a shortcut) up to where they round
        for bounds in [(0.0, 3000.0, 1.0), (0, 64, 2), (5.0, -2050.0, -1.0), (1e8, 1e8 + 99, 3)]:
            assert _bits(minigrad.arange(*bounds, dtype=getattr(minigrad, dtype))) == _bits(
                torch.arange(*bounds, dtype=getattr(torch, dtype))
            )


def test_arange_chunks_per_thread():
    # above 32768 elements each thread's chunk restarts the blocks
    threads = _range_factories.intra_op_threads()
    saved = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        for dtype in ("float64", "float16"):
            ours = minigrad.arange(
                0.3, 0.3 + 40003 * 0.0137, 0.0137, dtype=getattr(minigrad, dtype)
            )
            theirs = torch.arange(0.3, 0.3 + 40003 * 0.0137, 0.0137, dtype=getattr(torch, dtype))
            assert _bits(ours) == _bits(theirs)
    finally:
        torch.set_num_threads(saved)
    assert _range_factories._chunks(100000, 2) == [(0, 50000), (50000, 100000)]
    assert _range_factories._chunks(40000, 4) == [(0, 20000), (20000, 40000)]


def test_integer_dtypes_truncate_float_bounds():
    assert minigrad.arange(0.5, 10.3, 1.7, dtype=minigrad.int64).tolist() == list(range(10))
    assert minigrad.arange(0.5, 10.3, 1.7, dtype=minigrad.int32).tolist() == list(range(6))
    assert minigrad.arange(0, 5, 0.5, dtype=minigrad.int32).tolist() == [0] * 10
    with pytest.raises(ValueError, match="step must be nonzero"):
        minigrad.arange(0.0, 5, 0.2, dtype=minigrad.int64)
    with pytest.raises(RuntimeError, match="cannot be converted to type uint8_t without overflow"):
        minigrad.linspace(-1.5, 1, 3, dtype=minigrad.uint8)
    with pytest.raises(RuntimeError, match="type c10::Half without overflow"):
        minigrad.logspace(-1e10, 1, 5, dtype=minigrad.float16)


def test_fma_exact_against_fractions():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=400), rng.normal(size=400) * 2.0 ** rng.integers(-30, 30, 400)
    c = -a * b + rng.normal(size=400) * 2.0**-40  # heavy cancellation
    c[:100] = rng.normal(size=100)
    for x, y, z, got in zip(a, b, c, fma64_exact(a, b, c)):
        assert got == float(Fraction(x) * Fraction(y) + Fraction(z))
    # a product that ends exactly half an ulp past c, plus a tiny tail: a tie broken by the tail
    assert fma64_exact(1 + 2.0**-30, 1 + 2.0**-23, 1.0) == float(
        Fraction(1 + 2.0**-30) * Fraction(1 + 2.0**-23) + 1
    )
    x, y, z = (rng.normal(size=300).astype(np.float32) for _ in range(3))
    for p, q, r, got in zip(x, y, z, fma32_exact(x, y, z)):
        assert got == np.float32(
            float(Fraction(float(p)) * Fraction(float(q)) + Fraction(float(r)))
        )


def test_bool_dtype_has_no_range_kernel():
    for make in (
        lambda lib: lib.arange(0, 3, dtype=lib.bool),
        lambda lib: lib.linspace(0, 1, 3, dtype=lib.bool),
        lambda lib: lib.logspace(0, 1, 3, dtype=lib.bool),
    ):
        with pytest.raises(NotImplementedError) as theirs:
            make(torch)
        with pytest.raises(NotImplementedError, match="not implemented for 'Bool'") as ours:
            make(minigrad)
        assert str(ours.value) == str(theirs.value)
    assert minigrad.linspace(0, 1, 1, dtype=minigrad.bool).tolist() == [False]
