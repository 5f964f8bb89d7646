"""The fast paths of the exact range factories (perf20): the near-tie checks inside the exact
fused multiply-adds, arange's whole-number counts, and linspace's per-bounds cache."""

from fractions import Fraction

import numpy as np
import pytest

import minigrad
from minigrad import _range_factories
from minigrad._float_rounding import fma32_exact, fma64_counts, fma64_exact

torch = pytest.importorskip("torch")


def _exact64(a, b, c):
    return float(Fraction(float(a)) * Fraction(float(b)) + Fraction(float(c)))


def _exact32(a, b, c):
    """``a * b + c`` rounded once to float32 (through double would round twice)."""
    exact = Fraction(float(a)) * Fraction(float(b)) + Fraction(float(c))
    guess = np.float32(float(exact))
    near = [
        np.nextafter(guess, np.float32(-np.inf)),
        guess,
        np.nextafter(guess, np.float32(np.inf)),
    ]
    return min(near, key=lambda v: (abs(Fraction(float(v)) - exact), int(v.view(np.int32)) & 1))


def _few_bits(rng, size, bits, lo, hi):
    """Doubles with ``bits``-bit significands at exponents in [lo, hi): products and sums of
    these land on (or next to) ties far more often than random doubles."""
    mantissa = rng.integers(2 ** (bits - 1), 2**bits, size).astype(np.float64)
    sign = rng.choice([-1.0, 1.0], size)
    return sign * np.ldexp(mantissa, rng.integers(lo, hi, size) - bits)


def test_fma64_near_ties_round_once():
    rng = np.random.default_rng(20)
    a, b = _few_bits(rng, 1500, 27, -2, 3), _few_bits(rng, 1500, 27, -2, 3)
    c = _few_bits(rng, 1500, 5, -30, 4)
    c[:500] = -a[:500] * b[:500] + _few_bits(rng, 500, 3, -60, -50)  # cancellation
    # (1 + x)(1 - x) 2**-53 + (1 + j 2**-52): the rounded tail lands on a tie it is not on
    k = rng.integers(1, 4, 300) * 2.0**-29  # (1 - x * x) 2**-53 rounds to 2**-53
    scale = rng.choice([-1.0, 1.0], 300) * 2.0 ** rng.integers(-40, 40, 300)
    a[:300], b[:300] = (1 + k) * scale, (1 - k) * 2.0**-53
    c[:300] = (1 + rng.integers(1, 2**10, 300) * 2.0**-52) * scale
    want = [_exact64(x, y, z) for x, y, z in zip(a, b, c)]
    assert fma64_exact(a, b, c).tolist() == want
    assert (a * b + c).tolist() != want  # these inputs need the exact path
    counts = rng.integers(0, 2**26, 1500).astype(np.float64)
    step, start = 0.0137, -3.3
    got = fma64_counts(step, counts, start)
    assert got.tolist() == fma64_exact(step, counts, start).tolist()
    assert got[:300].tolist() == [_exact64(step, n, start) for n in counts[:300]]


def test_fma32_near_ties_and_subnormals_round_once():
    # (1 + 2**-23)(1 - 2**-23) 2**-24 + (1 + 2**-23): the double sum lands on a float tie
    a, b, c = (
        np.float32(1 + 2.0**-23),
        np.float32((1 - 2.0**-23) * 2.0**-24),
        np.float32(1 + 2.0**-23),
    )
    assert fma32_exact(a, b, c) == np.float32(1 + 2.0**-23)
    assert np.float32(float(a) * float(b) + float(c)) != fma32_exact(a, b, c)
    # a float32 subnormal tie: (1 + 2**-23) 2**-75 (1 - 2**-23) 2**-75 + (2**23 - 1) 2**-149
    a, b = np.float32((1 + 2.0**-23) * 2.0**-75), np.float32((1 - 2.0**-23) * 2.0**-75)
    c = np.float32((2**23 - 1) * 2.0**-149)
    assert fma32_exact(a, b, c) == c == _exact32(a, b, c)
    rng = np.random.default_rng(21)
    x = _few_bits(rng, 1000, 12, -70, 5).astype(np.float32)
    y = _few_bits(rng, 1000, 12, -70, 5).astype(np.float32)
    z = (-(x.astype(np.float64) * y) + _few_bits(rng, 1000, 2, -160, -120)).astype(np.float32)
    z[:300] = _few_bits(rng, 300, 13, -140, 5).astype(np.float32)
    got = fma32_exact(x, y, z)
    want = [_exact32(p, q, r) for p, q, r in zip(x, y, z)]
    assert got.tobytes() == np.array(want, np.float32).tobytes()


def test_linspace_cache_keeps_signs_types_and_fresh_arrays():
    for bounds in [(-0.0, 1.0), (0.0, 1.0), (1.0, -0.0), (1.0, 0.0), (0, 1), (True, 3)]:
        for dtype in ("float32", "float64", "int32"):
            ours = minigrad.linspace(*bounds, 5, dtype=getattr(minigrad, dtype)).numpy()
            theirs = torch.linspace(*bounds, 5, dtype=getattr(torch, dtype)).numpy()
            assert ours.tobytes() == theirs.tobytes(), (bounds, dtype)
    first = minigrad.linspace(-1, 1, 16)
    first.mul_(0)  # the cached values stay untouched
    assert (
        minigrad.linspace(-1, 1, 16).numpy().tobytes()
        == torch.linspace(-1, 1, 16).numpy().tobytes()
    )
    values = _range_factories.linspace_values(-1.0, 1.0, 16, np.float32)
    assert values.flags.writeable


@pytest.mark.parametrize("dtype", ["float64", "float32", "float16", "bfloat16", "int16"])
def test_long_linspace_and_numpy_bounds_match_torch(dtype):
    # beyond the cached lengths, and NumPy scalars (never cached)
    steps = _range_factories._CACHED_STEPS + 333
    for start, end in [(-1.7, 2.3), (np.float32(0.3), np.float64(-5.1)), (1e-3, 7e3)]:
        ours = minigrad.linspace(start, end, steps, dtype=getattr(minigrad, dtype))
        theirs = torch.linspace(float(start), float(end), steps, dtype=getattr(torch, dtype))
        assert ours.float().numpy().tobytes() == theirs.float().numpy().tobytes()


@pytest.mark.parametrize("dtype", ["float64", "float32", "float16", "bfloat16"])
def test_arange_lanes_column_by_column_match_torch(dtype):
    # thousands of blocks (lanes filled a column at a time) with steps whose lane products
    # are inexact, exact (a power of two) and negative
    rng = np.random.default_rng(22)
    big = dtype in ("float64", "float32")
    for step in [float(rng.uniform(1e-4, 1e-2)), 2.0**-9, -float(rng.uniform(1e-3, 1e-1))]:
        start = float(rng.normal() * (100 if big else 1))
        count = 6000 if big else 500
        ours = minigrad.arange(start, start + step * count, step, dtype=getattr(minigrad, dtype))
        theirs = torch.arange(start, start + step * count, step, dtype=getattr(torch, dtype))
        assert ours.float().numpy().tobytes() == theirs.float().numpy().tobytes(), step


@pytest.mark.slow
def test_range_factories_benchmark_runs(capsys):
    from benchmarks import range_factories

    saved = minigrad.get_num_threads(), torch.get_num_threads()
    try:
        report = range_factories.main(["--quick", "--repeats", "1"])
    finally:
        minigrad.set_num_threads(saved[0])
        torch.set_num_threads(saved[1])
    assert len(report["rows"]) == 9
    for row in report["rows"].values():
        assert {"minigrad", "torch", "numpy", "minigrad/torch", "minigrad/numpy"} <= set(row)
    assert "| affine_grid, cold |" in capsys.readouterr().out


def test_linspace_bounds_out_of_range_raise_as_pytorch():
    # the cache's key takes any Python int (its sign is read only from floats)
    for make, kind in [
        (lambda lib: lib.linspace(0, 2**63, 5, dtype=lib.int64), RuntimeError),
        (lambda lib: lib.linspace(10**400, 1, 5), OverflowError),
    ]:
        with pytest.raises(kind) as theirs:
            make(torch)
        with pytest.raises(kind) as ours:
            make(minigrad)
        if kind is RuntimeError:
            assert str(ours.value) == str(theirs.value)
