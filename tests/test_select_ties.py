"""Ties come out of ``topk``, ``kthvalue``, ``median`` and ``mode`` on the CPU as PyTorch's CPU
kernels leave them (:mod:`minigrad._std_select`).

The oracles are plain transcriptions of the algorithms PyTorch runs (libstdc++'s
``partial_sort``, ``nth_element`` and ``sort``, PyTorch's quickselect), comparing through a
callback; they are checked against PyTorch where it is installed, and minigrad's vectorized
versions are checked against them.
"""

import numpy as np
import pytest
from libstdcxx import adversary, sift

import minigrad
from minigrad import _std_select, _std_sort


def _heap_select(a, less, first, middle, last):
    for parent in range((middle - first - 2) // 2, -1, -1):
        sift(a, less, first, parent, middle - first, a[first + parent])
    for i in range(middle, last):
        if less(a[i], a[first]):
            item, a[i] = a[i], a[first]
            sift(a, less, first, 0, middle - first, item)


def _partial_sort(a, less, k):
    _heap_select(a, less, 0, k, len(a))
    for end in range(k - 1, 0, -1):
        item, a[end] = a[end], a[0]
        sift(a, less, 0, 0, end, item)


def _insertion_sort(a, less, first, last):
    for i in range(first + 1, last):
        item, j = a[i], i
        if less(item, a[first]):
            a[first + 1 : i + 1], a[first] = a[first:i], item
            continue
        while less(item, a[j - 1]):
            a[j], j = a[j - 1], j - 1
        a[j] = item


def _nth_element(a, less, nth, depth=None):
    first, last = 0, len(a)
    depth = 2 * (last.bit_length() - 1) if depth is None else depth
    while last - first > 3:
        if depth == 0:
            _heap_select(a, less, first, nth + 1, last)
            a[first], a[nth] = a[nth], a[first]
            return
        depth -= 1
        x, y, z = first + 1, first + (last - first) // 2, last - 1
        if less(a[x], a[y]):
            m = y if less(a[y], a[z]) else z if less(a[x], a[z]) else x
        else:
            m = x if less(a[x], a[z]) else z if less(a[y], a[z]) else y
        a[first], a[m] = a[m], a[first]
        lo, hi = first + 1, last
        while True:
            while less(a[lo], a[first]):
                lo += 1
            hi -= 1
            while less(a[first], a[hi]):
                hi -= 1
            if lo >= hi:
                break
            a[lo], a[hi] = a[hi], a[lo]
            lo += 1
        first, last = (lo, last) if lo <= nth else (first, lo)
    _insertion_sort(a, less, first, last)


def _isnan(v):
    return v != v


def _topk_reference(row, k, largest, sorted):
    """PyTorch's CPU topk of one row, as it is documented in _std_select."""
    if largest:

        def less(i, j):
            return (_isnan(row[i]) and not _isnan(row[j])) or row[i] > row[j]
    else:

        def less(i, j):
            return (not _isnan(row[i]) and _isnan(row[j])) or row[i] < row[j]

    a = list(range(len(row)))
    if k and k * 64 <= len(row):
        _partial_sort(a, less, k)
    elif k:
        _nth_element(a, less, k - 1)
        if sorted:
            head = a[: k - 1]
            a[: k - 1] = [
                head[i]
                for i in _std_select.std_sort_order(k - 1, lambda i, j: less(head[i], head[j]))
            ]
    return a[:k]


def _kthvalue_reference(row, k):
    """PyTorch's quickselect for kthvalue (0-based ``k``), returning the index it picks."""

    def above(i, j):
        return (_isnan(row[i]) and not _isnan(row[j])) or row[i] > row[j]

    a, lo, hi = list(range(len(row))), 0, len(row) - 1

    def order(x, y):
        if above(a[x], a[y]):
            a[x], a[y] = a[y], a[x]

    while hi - lo >= 2:
        mid = lo + (hi - lo) // 2
        a[mid], a[lo + 1] = a[lo + 1], a[mid]
        order(lo + 1, hi), order(lo, hi), order(lo + 1, lo)
        i, j, pivot = lo + 1, hi, a[lo]
        while True:
            i += 1
            while above(pivot, a[i]):
                i += 1
            j -= 1
            while above(a[j], pivot):
                j -= 1
            if j < i:
                break
            a[i], a[j] = a[j], a[i]
        a[lo], a[j] = a[j], a[lo]
        lo, hi = (i if j <= k else lo), (j - 1 if j >= k else hi)
    if hi == lo + 1:
        order(lo, hi)
    return a[k]


def _mode_reference(row):
    order = _std_select.std_sort_order(len(row), lambda i, j: row[i] < row[j])
    best, count, run = None, 0, 0
    for at, i in enumerate(order):
        run += 1
        if at == len(order) - 1 or row[i] != row[order[at + 1]]:
            best, count = (i, run) if run > count else (best, count)
            run = 0
    return best


def _tied_rows(rng, count, nan=True):
    """Rows of sizes 1..1000, few distinct values, some NaN."""
    for _ in range(count):
        n = int(rng.choice([1, 2, 3, 4, 5, 9, 16, 17, 40, 130, 600]))
        row = rng.integers(0, int(rng.choice([1, 2, 3, 6, n + 1])), n).astype(np.float32)
        if nan and rng.random() < 0.25:
            row[rng.random(n) < 0.2] = np.nan
        k = int(rng.integers(1, n + 1)) if rng.random() < 0.5 else -(-n // 64)
        yield row, k


def test_the_oracles_match_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    for i, (row, k) in enumerate(_tied_rows(rng, 250)):
        t, values = torch.tensor(row), row.tolist()
        largest, sorted = bool(i % 2), bool(i % 3)
        theirs = torch.topk(t, k, largest=largest, sorted=sorted).indices.tolist()
        assert _topk_reference(values, k, largest, sorted) == theirs
        assert _kthvalue_reference(values, k - 1) == torch.kthvalue(t, k).indices.item()
        assert _mode_reference(values) == torch.mode(t).indices.item()


@pytest.mark.parametrize("largest", [False, True])
@pytest.mark.parametrize("sorted", [False, True])
def test_topk_matches_the_oracle(largest, sorted):
    rng = np.random.default_rng(1)
    for row, k in _tied_rows(rng, 60):
        rows = np.stack([row, row[::-1], np.roll(row, 1)])
        ours = minigrad.topk(minigrad.tensor(rows), k, largest=largest, sorted=sorted).indices
        for values, got in zip(rows, ours.tolist()):
            assert got == _topk_reference(values.tolist(), k, largest, sorted)


def test_kthvalue_and_mode_match_the_oracles():
    rng = np.random.default_rng(2)
    for row, k in _tied_rows(rng, 80):
        rows = np.stack([row, row[::-1]])
        kth = minigrad.kthvalue(minigrad.tensor(rows), k).indices.tolist()
        assert kth == [_kthvalue_reference(r.tolist(), k - 1) for r in rows]
        mode = minigrad.mode(minigrad.tensor(rows)).indices.tolist()
        assert mode == [_mode_reference(r.tolist()) for r in rows]


@pytest.mark.parametrize("depth", [0, 1, 2])
def test_nth_element_below_its_depth_limit(depth):
    rng = np.random.default_rng(depth)
    keys = rng.integers(0, 5, (3, 150))
    nth = 70
    ours = _std_select.nth_element_order(keys, nth, depth)
    for row, got in zip(keys.tolist(), ours.tolist()):
        expected = list(range(150))
        _nth_element(expected, lambda i, j, row=row: row[i] < row[j], nth, depth)
        assert got == expected


def test_the_scalar_sort_is_libstdcxx_sort_on_an_adversary():
    """McIlroy's adversary drives std_sort_order into its heapsort; on a strict weak order it
    must agree with the vectorized introsort of _std_sort."""
    n = 300
    tied = np.array(adversary(n, _std_select.std_sort_order))
    ours = _std_select.std_sort_order(n, lambda i, j: tied[i] < tied[j])
    assert ours == _std_sort.introsort_order(tied[None]).tolist()[0]


def test_long_rows_take_the_heap_with_ties_matching_pytorch():
    torch = pytest.importorskip("torch")
    rising = np.arange(20000) // 3  # every element enters the heap of the largest
    noisy = np.random.default_rng(3).integers(0, 50, (2, 9000))
    for values, k in ((rising, 5), (noisy, 40), (noisy, 141)):
        for largest in (True, False):
            ours = minigrad.topk(minigrad.tensor(values), k, largest=largest)
            theirs = torch.topk(torch.tensor(values), k, largest=largest)
            assert ours.indices.tolist() == theirs.indices.tolist()
    assert minigrad.kthvalue(minigrad.tensor(noisy), 4500).indices.tolist() == (
        torch.kthvalue(torch.tensor(noisy), 4500).indices.tolist()
    )


_DTYPES = ["float64", "float32", "float16", "int64", "int32", "uint8", "int8"]


@pytest.mark.parametrize("dtype", _DTYPES)
def test_dtypes_dims_and_signed_zeros_match_pytorch(dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    values = rng.integers(-2, 3, (30, 4, 6))
    values = (values * 0.0 if dtype == "float64" else values).astype(dtype)  # -0.0 and 0.0
    ours, theirs = minigrad.tensor(values), torch.tensor(values)
    for k, dim in ((3, 0), (25, 0), (4, 2)):
        for largest in (True, False):
            for sorted in (True, False):
                got = minigrad.topk(ours, k, dim, largest, sorted).indices
                assert got.tolist() == torch.topk(theirs, k, dim, largest, sorted).indices.tolist()
        expected = torch.kthvalue(theirs, k, dim, keepdim=True)
        got = minigrad.kthvalue(ours, k, dim, keepdim=True)
        assert got.indices.tolist() == expected.indices.tolist()
        assert got.values.tolist() == expected.values.tolist()
    for dim in (0, 1, 2):
        assert minigrad.mode(ours, dim).indices.tolist() == torch.mode(theirs, dim).indices.tolist()
        if dtype.startswith("float"):
            for name in ("median", "nanmedian"):
                got = getattr(minigrad, name)(ours, dim).indices.tolist()
                assert got == getattr(torch, name)(theirs, dim).indices.tolist()


def test_nan_ties_match_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    values = rng.integers(0, 4, (5, 300)).astype(np.float32)
    values[rng.random(values.shape) < 0.15] = np.nan
    ours, theirs = minigrad.tensor(values), torch.tensor(values)
    for k in (2, 150):
        for largest in (True, False):
            got = minigrad.topk(ours, k, largest=largest, sorted=False).indices.tolist()
            assert got == torch.topk(theirs, k, largest=largest, sorted=False).indices.tolist()
        assert minigrad.kthvalue(ours, k).indices.tolist() == torch.kthvalue(theirs, k)[1].tolist()
    assert minigrad.mode(ours).indices.tolist() == torch.mode(theirs).indices.tolist()
    for name in ("median", "nanmedian"):
        got = getattr(minigrad, name)(ours, 1).indices.tolist()
        assert got == getattr(torch, name)(theirs, 1).indices.tolist()


def test_gradients_flow_to_the_chosen_entries():
    torch = pytest.importorskip("torch")
    values = np.random.default_rng(6).integers(0, 3, (3, 70)).astype(np.float64)
    ours = minigrad.tensor(values, requires_grad=True)
    theirs = torch.tensor(values, requires_grad=True)
    for m, x in ((minigrad, ours), (torch, theirs)):
        total = m.topk(x, 5, sorted=False).values.sum() * 2 + m.kthvalue(x, 30).values.sum()
        (total + m.mode(x).values.sum()).backward()
    assert ours.grad.tolist() == theirs.grad.tolist()


def test_compiled_selections_replay_each_new_tie_pattern(replays):
    def step(x):
        return minigrad.topk(x, 6, sorted=False).indices, minigrad.kthvalue(x, 9).indices

    compiled = minigrad.compile(step)
    rng = np.random.default_rng(7)
    for i in range(4):
        x = minigrad.tensor(rng.integers(0, 3 if i % 2 else 1000, (2, 30)).astype(np.float32))
        for ours, eager in zip(compiled(x), step(x)):
            assert ours.tolist() == eager.tolist()
    assert replays[0] == 3


def test_vmapped_topk_matches_pytorch():
    torch = pytest.importorskip("torch")
    values = np.random.default_rng(8).integers(0, 3, (3, 2, 40)).astype(np.float32)
    ours = minigrad.func.vmap(lambda x: minigrad.topk(x, 7, sorted=False).indices)(
        minigrad.tensor(values)
    )
    theirs = torch.func.vmap(lambda x: torch.topk(x, 7, sorted=False).indices)(torch.tensor(values))
    assert ours.tolist() == theirs.tolist()


def test_kthvalue_refuses_bool_as_pytorch():
    with pytest.raises(RuntimeError, match="kthvalue_cpu.*Bool"):
        minigrad.kthvalue(minigrad.tensor([True, False]), 1)


def test_vmapped_mode_and_kthvalue_match_pytorch():
    torch = pytest.importorskip("torch")
    values = np.random.default_rng(9).integers(0, 3, (3, 2, 40)).astype(np.float32)

    def modes(m):
        def per_sample(x):
            kth = m.kthvalue(x, 20).indices, m.kthvalue(x, 2, 0, True).indices
            return m.mode(x, 0).indices, m.mode(x[0, 0]).indices, *kth, m.kthvalue(x[0, 0], 1)[1]

        return [r.tolist() for r in m.func.vmap(per_sample)(m.tensor(values))]

    assert modes(minigrad) == modes(torch)
