"""After the same seed, minigrad's CPU random functions give PyTorch's numbers.

Everything is compared bit for bit with the installed PyTorch. Every seeded comparison also
checks that another seed gives other numbers, so that no test passes on a constant.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import minigrad

torch = pytest.importorskip("torch")

SEED, OTHER_SEED = 1234, 99


def _arrays(value) -> list:
    if isinstance(value, (list, tuple)):
        return [a for v in value for a in _arrays(v)]
    if "bfloat16" in str(value.dtype):
        value = value.float()
    return [value.numpy()]


def _draw(lib, make, seed):
    lib.manual_seed(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's float randint precision warning
        return _arrays(make(lib))


def check(make):
    """``make(lib)`` after the same seed gives PyTorch's numbers, the two generators are left in
    the same state, and another seed gives other numbers."""
    want, got = _draw(torch, make, SEED), _draw(minigrad, make, SEED)
    assert len(want) == len(got)
    for a, b in zip(want, got):
        assert a.shape == b.shape and a.dtype == b.dtype, (a.dtype, b.dtype, a.shape, b.shape)
        np.testing.assert_array_equal(b, a)
    assert np.array_equal(torch.get_rng_state().numpy(), minigrad.get_rng_state().numpy())
    other = _draw(minigrad, make, OTHER_SEED)
    if any(a.size > 1 for a in got):
        assert not all(np.array_equal(a, b) for a, b in zip(got, other))


DTYPES = ["float16", "bfloat16", "float32", "float64"]


@pytest.mark.parametrize("dtype", DTYPES)
def test_uniform_numbers_equal_pytorchs(dtype):
    def make(lib, dt=dtype):
        d = getattr(lib, dt)
        return [
            *(lib.rand(n, dtype=d) for n in (0, 1, 15, 16, 17)),
            lib.empty(300, dtype=d).uniform_(-3.3, 7.1),
            lib.empty(300, dtype=d).uniform_(0.1, 0.2),  # numbers rounding to 0.2 become 0.1
            lib.rand(2, 3, dtype=d, generator=lib.Generator().manual_seed(5)),
        ]

    check(make)


def test_complex_uniform_and_normal_numbers():
    check(lambda lib: [lib.rand(5, dtype=lib.complex64), lib.rand(3, dtype=lib.complex128)])
    check(
        lambda lib: [
            lib.randn(3, dtype=lib.complex128),
            lib.randn(20, dtype=lib.complex128),
            lib.empty(9, dtype=lib.complex128).normal_(1.0, 2.0),
        ]
    )
    check(lambda lib: [lib.randn(3, dtype=lib.complex64), lib.randn(20, dtype=lib.complex64)])


def test_float64_normal_numbers_are_bit_for_bit():
    check(
        lambda lib: [
            *(lib.randn(n, dtype=lib.float64) for n in (0, 1, 3, 15, 16, 17, 33, 500)),
            lib.empty(40, dtype=lib.float64).normal_(0.3, 0.1),  # mean + std * z is fused
            lib.empty(5, dtype=lib.float64).normal_(-2.0, 3.0),
        ]
    )


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_single_precision_normal_numbers_are_bit_for_bit(dtype):
    # below 16 numbers PyTorch draws double pairs; from 16 the float transform (more seeds and
    # sizes: test_torch_random_float_normal.py)
    check(lambda lib: [lib.randn(n, dtype=getattr(lib, dtype)) for n in (1, 3, 15)])
    check(lambda lib: [lib.randn(n, dtype=getattr(lib, dtype)) for n in (16, 17, 40, 3000)])


def test_a_mixed_sequence_keeps_the_cached_normal_number():
    def make(lib):
        return [
            lib.randn(3, dtype=lib.float64),  # the sixth number of the pairs stays cached ...
            lib.rand(2),
            lib.randn(1, dtype=lib.float64),  # ... and is this one
            lib.randint(0, 9, (4,)),
            lib.randn(5),
            lib.randperm(7),
            lib.empty(3, 2, dtype=lib.float64).t().normal_(),
            lib.randn(20, dtype=lib.float64),
            lib.randn(1),
        ]

    check(make)


INT_DTYPES = ["uint8", "int8", "int16", "int32", "int64"]


def test_randint_for_every_dtype_and_range():
    ranges = [(0, 10), (-5, 100), (0, 2**8), (0, 300), (0, 2060), (-259, 300), (0, 2**11 + 1)]
    wide = [(0, 2**24 + 1), (0, 2**25), (-(2**25) + 1, 2**25), (0, 2**28 - 1), (0, 2**28)]
    huge = [(-(2**40), 2**40 + 3), (-(2**63), 2**63 - 1)]

    def fits(dtype, low, high):
        if dtype == "float16":  # PyTorch refuses bounds past float16's largest number
            return -65504 <= low and high <= 65504
        if dtype in DTYPES:
            return True
        info = np.iinfo(dtype)
        return info.min <= low and high - 1 <= info.max

    def make(lib):
        return [
            lib.randint(low, high, (40,), dtype=getattr(lib, dt))
            for dt in INT_DTYPES + DTYPES
            for low, high in ranges + wide + huge
            if fits(dt, low, high)
        ]

    check(make)
    check(lambda lib: [lib.randint(10, (3, 4)), lib.randint(3, 9, size=(5,))])


def test_random_in_all_its_forms():
    every = INT_DTYPES + DTYPES + ["bool"]
    check(lambda lib: [lib.empty(30, dtype=getattr(lib, d)).random_() for d in every])
    check(
        lambda lib: [
            *(lib.empty(30, dtype=getattr(lib, d)).random_(100) for d in ("uint8", "int64")),
            *(lib.empty(30, dtype=getattr(lib, d)).random_(-7, 100) for d in DTYPES[1:]),
            lib.empty(30).random_(0, 2**25),
            lib.empty(30, dtype=lib.float64).random_(-(2**50), 2**50),
            lib.empty(30, dtype=lib.int64).random_(2**30),
            lib.empty(30, dtype=lib.int64).random_(-(2**62), 2**62),
        ]
    )


def test_randperm_sizes_and_dtypes():
    check(lambda lib: [lib.randperm(n) for n in (0, 1, 2, 10, 3000)])
    dts = ["int32", "int16", "uint8", "float32", "float64", "float16"]
    check(lambda lib: [lib.randperm(20, dtype=getattr(lib, d)) for d in dts])


def test_normal_overloads_out_and_like_forms():
    mean = np.linspace(-2, 3, 20)
    std = np.linspace(0.1, 2, 20)

    def make(lib):
        m, s = lib.tensor(mean), lib.tensor(std)
        out = lib.empty(5, dtype=lib.float64)
        lib.normal(0.0, 1.0, (5,), out=out)
        rand_out = lib.empty(4, dtype=lib.float64)
        lib.rand(4, out=rand_out)
        return [
            lib.normal(m, s),
            lib.normal(m[:5], 2.5),
            lib.normal(1.5, s),
            lib.normal(lib.zeros(3, 1, dtype=lib.float64), lib.ones(4, dtype=lib.float64)),
            lib.normal(2.0, 3.0, (20,), dtype=lib.float64),
            lib.normal(2.0, 3.0, size=(2, 2)),
            out,
            rand_out,
            lib.rand_like(m),
            lib.randn_like(m),
            lib.randint_like(m, 7),
            lib.randint_like(lib.zeros(3, dtype=lib.int32), 2, 9),
        ]

    check(make)


def test_non_contiguous_tensors_fill_in_memory_order():
    def make(lib):
        a, b, c, d = (lib.zeros(6, 5, dtype=lib.float64) for _ in range(4))
        e = lib.zeros(60, dtype=lib.float16)
        f = lib.zeros(4, 5, 6)
        a.t().normal_(1.0, 2.0)  # not contiguous: pair by pair in memory order, not 16-wide
        b[:, ::2].normal_()
        g = lib.zeros(100_000, dtype=lib.float16)
        g[::2].normal_(0.3, 0.1)  # doubles to float16 through float, as PyTorch
        lib.zeros(0, 5).t().normal_()  # empty (NumPy's strides are all 0): nothing to write
        c.t().uniform_(-2.0, 2.0)
        d.t()[1:].random_(0, 10)
        e[::2].uniform_(-2.0, 2.0)
        f.permute(2, 0, 1).normal_()
        return [a, b, c, d, e, f, g]

    check(make)


def test_states_load_both_ways():
    torch.manual_seed(5)
    minigrad.manual_seed(5)
    assert np.array_equal(torch.get_rng_state().numpy(), minigrad.get_rng_state().numpy())
    torch.randn(3, dtype=torch.float64)  # leaves a cached normal number in the state
    saved = torch.get_rng_state()
    minigrad.set_rng_state(minigrad.tensor(saved.numpy()))
    want = torch.randn(5, dtype=torch.float64).numpy()
    np.testing.assert_array_equal(minigrad.randn(5, dtype=minigrad.float64).numpy(), want)
    assert minigrad.initial_seed() == 5
    minigrad.manual_seed(7)
    minigrad.rand(700)  # past one twist of the 624 words
    torch.set_rng_state(torch.from_numpy(minigrad.get_rng_state().numpy()))
    np.testing.assert_array_equal(torch.rand(9).numpy(), minigrad.rand(9).numpy())
    g, h = minigrad.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    state = g.get_state()
    assert state.dtype is minigrad.uint8 and tuple(state.shape) == (5056,)
    np.testing.assert_array_equal(state.numpy(), h.get_state().numpy())
    first = minigrad.rand(4, generator=g)
    g.set_state(state)
    np.testing.assert_array_equal(minigrad.rand(4, generator=g).numpy(), first.numpy())
    assert not np.array_equal(first.numpy(), minigrad.rand(4, generator=g).numpy())
    with pytest.raises(RuntimeError, match="not a CPU generator state"):
        minigrad.set_rng_state(minigrad.zeros(7, dtype=minigrad.uint8))


def test_fork_rng_and_seeds_as_pytorch():
    for seed in (-3, 2**32 + 7, 2**64 - 1, -(2**63)):
        torch.manual_seed(seed)
        minigrad.manual_seed(seed)
        assert minigrad.initial_seed() == torch.initial_seed()
        assert minigrad.Generator().manual_seed(seed).initial_seed() == torch.initial_seed()
        np.testing.assert_array_equal(minigrad.rand(3).numpy(), torch.rand(3).numpy())
    for bad in (2**64, -(2**63) - 1):
        with pytest.raises(ValueError, match="out of range"):
            minigrad.manual_seed(bad)
    minigrad.manual_seed(0)
    with minigrad.random.fork_rng():
        inside = minigrad.randn(3, dtype=minigrad.float64)
    np.testing.assert_array_equal(minigrad.randn(3, dtype=minigrad.float64).numpy(), inside)


def test_errors_name_the_argument():
    with pytest.raises(RuntimeError, match="from=3 > to=1"):
        minigrad.zeros(3).uniform_(3, 1)
    with pytest.raises(RuntimeError, match="std >= 0.0"):
        minigrad.zeros(3).normal_(0, -1)
    with pytest.raises(RuntimeError, match="from=5 >= to=2"):
        minigrad.zeros(3).random_(5, 2)
    with pytest.raises(RuntimeError, match="out of bounds for int8"):
        minigrad.zeros(3, dtype=minigrad.int8).random_(0, 200)
    with pytest.raises(NotImplementedError, match="floating-point"):
        minigrad.zeros(3, dtype=minigrad.int64).normal_()
    with pytest.raises(RuntimeError, match="from=5 >= to=3"):
        minigrad.randint(5, 3, (2,))
    with pytest.raises(RuntimeError, match="to - 1 = 299 is out of bounds for uint8"):
        minigrad.randint(0, 300, (2,), dtype=minigrad.uint8)
    with pytest.raises(NotImplementedError, match="64-bit draws"):
        minigrad.randperm(2**32 // 20 + 1)
