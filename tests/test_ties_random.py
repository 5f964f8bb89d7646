"""Randomized check of PyTorch's tie order in ``sort``, ``topk``, ``kthvalue`` and ``mode``
against PyTorch itself: many small and medium inputs with heavy ties (few distinct values),
organ pipes, runs, NaN, -0.0 with 0.0, infinities, rising and falling rows, every dim, both
directions. Each fast path of ``minigrad/_std_sort.py``, ``_std_select.py`` and
``_std_heap.py`` is reached: the C-run heap loops (``partial_sort`` of rising rows, the heap
selection of ``nth_element`` past its depth limit, the heapsort past the introsort's), the many
short heapsorts done at once, partitions of one range scanned as a slice, and keys within 32
bits (every dtype)."""

import numpy as np
import pytest

import minigrad
from minigrad import _std_heap, _std_sort


def _organ_pipe(n, step=1):
    half = np.arange((n + 1) // 2) // step
    return np.concatenate([half, half[: n // 2][::-1]])


def _row(rng, n):
    """One row of ``n`` values with ties, of a random kind."""
    kind = rng.integers(0, 9)
    if kind == 0:
        return rng.integers(0, rng.integers(1, 6), n)  # few values
    if kind == 1:
        return _organ_pipe(n, int(rng.integers(1, 4)))
    if kind == 2:
        return np.repeat(rng.integers(0, 5, n), rng.integers(1, 9, n))[:n]  # runs
    if kind == 3:
        return np.arange(n) // int(rng.integers(1, 5))  # rising runs
    if kind == 4:
        return (n - np.arange(n)) // int(rng.integers(1, 5))  # falling runs
    if kind == 5:
        return np.zeros(n)
    if kind == 6:
        return np.sort(rng.integers(0, 7, n))[:: (-1) ** int(rng.integers(0, 2))]
    if kind == 7:
        return rng.integers(0, n + 1, n)  # mostly distinct
    return np.tile(_organ_pipe(max(n // 4, 1)), 5)[:n]  # a saw of pipes


def _specials(rng, x):
    """-0.0 for 0.0, and some NaN and infinities, in a float array."""
    x = x.astype(np.float64) * 0.5
    x[x == 0] = np.where(rng.random(int((x == 0).sum())) < 0.5, -0.0, 0.0)
    if rng.random() < 0.4:
        x[rng.random(x.shape) < 0.05] = np.nan
    if rng.random() < 0.3:
        x[rng.random(x.shape) < 0.03] = np.inf * rng.choice([-1, 1])
    return x


def _check(torch, x, dims):
    """minigrad's sort, topk, kthvalue and mode of ``x`` along each of ``dims`` against
    PyTorch's: values and indices."""
    ours, theirs = minigrad.tensor(x), torch.from_numpy(x)
    for dim in dims:
        n = x.shape[dim]
        for descending in (False, True):
            _same(minigrad.sort(ours, dim, descending), torch.sort(theirs, dim, descending))
        if not n:
            continue
        if x.dtype != np.bool_:
            for k in sorted({min(k, n) for k in (1, 2, n // 64, n // 3, n // 2 + 1, n) if k}):
                for largest in (False, True):
                    for sorted_ in (True, False):
                        got = minigrad.topk(ours, k, dim, largest, sorted_)
                        _same(got, torch.topk(theirs, k, dim, largest, sorted_))
            for k in sorted({1, (n + 1) // 2, n}):
                _same(minigrad.kthvalue(ours, k, dim), torch.kthvalue(theirs, k, dim))
        _same(minigrad.mode(ours, dim), torch.mode(theirs, dim))


def _same(got, expected):
    np.testing.assert_array_equal(got.values.numpy(), expected.values.numpy())
    assert got.indices.tolist() == expected.indices.tolist()


@pytest.mark.parametrize("seed", range(4))
def test_random_tied_rows_match_pytorch(seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    for n in (1, 2, 3, 5, 16, 17, 18, 33, 64, 100, 257, 700, 1500, 4000):
        x = _row(rng, n)
        x = _specials(rng, x) if rng.random() < 0.6 else x
        _check(torch, x.astype(rng.choice([np.float32, np.float64])), [0])


@pytest.mark.parametrize("seed", range(3))
def test_random_tied_tensors_match_pytorch_along_every_dim(seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(100 + seed)
    for shape in ((4, 70), (70, 3), (3, 9, 40), (2, 130, 2), (0, 5)):
        rows = int(np.prod(shape[:-1]))
        x = np.stack([_row(rng, shape[-1]) for _ in range(rows)]) if rows else np.zeros(shape)
        x = x.reshape(shape)
        x = _specials(rng, x) if seed % 2 else x
        _check(torch, x.astype(np.float32), range(len(shape)))


@pytest.mark.parametrize(
    "dtype", ["float16", "float32", "float64", "int8", "uint8", "int16", "int32", "int64", "bool"]
)
def test_keys_of_every_dtype_match_pytorch(dtype):
    """32-bit keys for dtypes of up to 32 bits, 64-bit ones above; the heap of topk (``k * 64
    <= n``) with ties among the chosen."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    x = np.stack([_row(rng, 640) for _ in range(3)])
    if dtype.startswith("float"):
        x = _specials(rng, x)
    elif dtype == "int8":
        x = x % 100 - 50
    elif dtype == "uint8":
        x = x % 200
    elif dtype == "bool":
        x = x % 2
    _check(torch, x.astype(dtype), [1])


def test_heaps_of_rising_and_falling_rows_match_pytorch():
    """``partial_sort`` where every later element enters the heap (rising rows, largest; falling
    rows, smallest) and where none does."""
    torch = pytest.importorskip("torch")
    n = 20000
    for row in (np.arange(n) // 3, np.arange(n) // 7, (n - np.arange(n)) // 3, np.zeros(n)):
        for dtype in (np.float32, np.int64, np.float64):
            ours, theirs = minigrad.tensor(row.astype(dtype)), torch.tensor(row.astype(dtype))
            for k in (5, 100, 312):
                for largest in (True, False):
                    _same(minigrad.topk(ours, k, 0, largest), torch.topk(theirs, k, 0, largest))


def test_nth_element_and_introsort_past_their_depth_limits_match_pytorch():
    """Organ pipes drive the introsort (and the introselect of topk) to their depth limits:
    heapsorts of long ranges one by one, and the heap selection."""
    torch = pytest.importorskip("torch")
    for n, step in ((3000, 1), (8001, 2), (20000, 1)):
        x = _organ_pipe(n, step).astype(np.float32)
        ours, theirs = minigrad.tensor(x), torch.tensor(x)
        _same(minigrad.sort(ours), torch.sort(theirs))
        for k in (n // 2, n // 3, n - 5):
            _same(minigrad.topk(ours, k), torch.topk(theirs, k))
            _same(minigrad.topk(ours, k, sorted=False), torch.topk(theirs, k, sorted=False))
        _same(minigrad.kthvalue(ours, n // 2), torch.kthvalue(theirs, n // 2))


def test_many_short_heapsorts_at_once_match_pytorch(monkeypatch):
    """Rows of organ pipes leave many short ranges at the depth limit: heapsorted all at once
    (the path is checked to be taken)."""
    torch = pytest.importorskip("torch")
    calls = []

    def counted(*args):
        calls.append(args[1].size)
        return _std_heap.heapsort_ranges(*args)

    monkeypatch.setattr(_std_sort, "heapsort_ranges", counted)
    x = np.tile(_organ_pipe(600), (200, 1)).astype(np.float32)
    x[::3] = np.tile(_organ_pipe(600, 2), (67, 1))
    ours, theirs = minigrad.tensor(x), torch.tensor(x)
    _same(minigrad.sort(ours, 1), torch.sort(theirs, 1))
    _same(minigrad.sort(ours, 1, descending=True), torch.sort(theirs, 1, descending=True))
    assert calls and max(calls) > 100


def test_heapsort_ranges_is_heapsort_of_each_range():
    """The at-once heapsort against ``heapsort`` of each range: ranges of every length (0 to
    300, in any order, with gaps), few values or sorted ones."""
    rng = np.random.default_rng(5)
    shift = np.int64(32)
    for trial in range(50):
        sizes = rng.integers(0, int(rng.integers(1, 300)), int(rng.integers(1, 30)))
        first = np.cumsum(rng.integers(0, 3, sizes.size) + np.concatenate([[0], sizes[:-1]]))
        last = first + sizes
        values = rng.integers(0, int(rng.integers(1, 20)), int(last[-1]) + 2)
        values = np.sort(values) if trial % 4 == 0 else values
        packed = (values << shift) | np.arange(values.size)
        expected = packed.copy()
        for a, b in zip(first.tolist(), last.tolist()):
            expected[a:b] = expected[a:b][_std_heap.heapsort(expected[a:b] >> shift)]
        order = rng.permutation(sizes.size)
        _std_heap.heapsort_ranges(packed, first[order], last[order], shift)
        assert packed.tolist() == expected.tolist()
