"""The shortcuts that make PyTorch's tie order fast give exactly the order of the plain
algorithms: ranges of one value arranged in closed form, heaps run by ``heapq``, sizes read from
the sorted values, mode following one range, rows packed in chunks. Checked against the scalar
oracles of tests/test_sort_ties.py and tests/test_select_ties.py on adversarial inputs
(McIlroy's adversary, organ pipes, runs of equal values, NaN, -0.0, every dtype, both
directions, every dim) and against PyTorch where it is installed.
"""

import numpy as np
import pytest
from libstdcxx import adversary, sift
from test_select_ties import (
    _heap_select,
    _kthvalue_reference,
    _mode_reference,
    _nth_element,
    _partial_sort,
    _topk_reference,
)
from test_sort_ties import _reference_order

import minigrad
from minigrad import _std_heap, _std_select, _std_sort


def _less(values):
    return lambda i, j: values[i] < values[j]


def _adversarial_rows(n):
    """Rows of length ``n`` that stress each shortcut (lists of ints, with ties)."""
    half = list(range((n + 1) // 2))
    rng = np.random.default_rng(n)
    return {
        "equal": [7] * n,
        "two_values": [i % 2 for i in range(n)],
        "organ_pipe": half + half[: n - len(half)][::-1],
        "rising_runs": [i // 3 for i in range(n)],
        "falling_runs": [(n - i) // 5 for i in range(n)],
        "runs_of_equal": np.repeat(rng.integers(0, 4, n // 8 + 1), 8)[:n].tolist(),
        "adversary": adversary(n, _reference_order),
        "few_values": rng.integers(0, 3, n).tolist(),
    }


@pytest.mark.parametrize("n", [17, 33, 64, 257, 800])
def test_sort_of_adversarial_rows_matches_the_reference(n):
    rows = _adversarial_rows(n)
    values = np.array(list(rows.values()), np.float32)
    for descending in (False, True):
        ours = _std_sort.pytorch_argsort(values, 1, descending)
        for name, row, got in zip(rows, values.tolist(), ours.tolist()):
            key = [-v for v in row] if descending else row
            assert got == _reference_order(n, _less(key)), name


@pytest.mark.parametrize("depth_limit", [0, 1, 2, 5])
def test_ranges_of_one_value_below_the_depth_limit(depth_limit):
    """Closed-form arrangement of equal values, reaching the heapsort at every depth."""
    for n in (17, 40, 129, 300):
        for row in ([3] * n, [i // 40 for i in range(n)], [0] * (n // 2) + [1] * (n - n // 2)):
            ranks = _std_sort.dense_ranks(np.array([row]), False)
            got = _std_sort.introsort_order(ranks, depth_limit)[0].tolist()
            assert got == _reference_order(n, _less(row), depth_limit)


def test_mode_of_adversarial_rows_matches_the_reference():
    for n in (17, 33, 100, 500):
        rows = _adversarial_rows(n)
        values = np.array(list(rows.values()), np.float64)
        got = _std_select.mode_indices(values, 1).tolist()
        assert got == [_mode_reference(row) for row in values.tolist()]


@pytest.mark.parametrize("largest", [False, True])
def test_topk_and_kthvalue_of_adversarial_rows_match_the_references(largest):
    for n in (40, 130, 400):
        rows = _adversarial_rows(n)
        values = np.array(list(rows.values()), np.float32)
        for k in (1, 2, max(n // 64, 3), n // 3, n - 1):
            for sorted_ in (True, False):
                got = _std_select.topk_indices(values, k, 1, largest, sorted_).tolist()
                expected = [_topk_reference(r, k, largest, sorted_) for r in values.tolist()]
                assert got == expected
            got = _std_select.kthvalue_indices(values, k, 1).tolist()
            assert got == [_kthvalue_reference(r, k - 1) for r in values.tolist()]


@pytest.mark.parametrize("depth", [0, 1, 3])
def test_nth_element_with_runs_below_its_depth_limit(depth):
    rows = _adversarial_rows(150)
    keys = np.array(list(rows.values()), np.int64)
    for nth in (0, 70, 149):
        got = _std_select.nth_element_order(keys, nth, depth).tolist()
        for row, arranged in zip(keys.tolist(), got):
            expected = list(range(150))
            _nth_element(expected, _less(row), nth, depth)
            assert arranged == expected


def _heapsort_reference(keys):
    a, n = list(range(len(keys))), len(keys)
    less = _less(keys)
    for parent in range((n - 2) // 2, -1, -1):
        sift(a, less, 0, parent, n, a[parent])
    for end in range(n - 1, 0, -1):
        item, a[end] = a[end], a[0]
        sift(a, less, 0, 0, end, item)
    return a


def _key_rows():
    """Keys for the heaps: small ties, ties at the int64 extremes (big-int items), negatives."""
    rng = np.random.default_rng(0)
    extreme = np.iinfo(np.int64)
    yield rng.integers(0, 5, 300)
    yield rng.choice(np.array([extreme.min, -1, 0, extreme.max]), 300)
    yield rng.integers(-300, 300, 300) // 7
    yield np.zeros(300, np.int64)


def test_heapq_heaps_move_items_as_libstdcxx():
    for keys in _key_rows():
        row = keys.tolist()
        assert _std_heap.heapsort(keys).tolist() == _heapsort_reference(row)
        for k in (1, 2, 5, 64, 299):
            expected = list(range(len(row)))
            _partial_sort(expected, _less(row), k)
            assert _std_heap.partial_sort(keys, k).tolist() == expected[:k]
            expected = list(range(len(row)))
            _heap_select(expected, _less(row), 0, k, len(row))
            assert _std_heap.heap_select(keys, k).tolist() == expected


def test_rows_packed_in_chunks_give_the_same_order(monkeypatch):
    rng = np.random.default_rng(1)
    values = rng.integers(0, 4, (7, 50)).astype(np.float32)
    ranks = _std_sort.dense_ranks(values, False)
    whole = (
        _std_sort.introsort_order(ranks),
        _std_select.mode_indices(values, 1),
        _std_select.nth_element_order(ranks, 20),
    )
    monkeypatch.setattr(_std_sort, "_PACKED_MAX", 120)
    monkeypatch.setattr(_std_select, "_PACKED_MAX", 120)
    chunked = (
        _std_sort.introsort_order(ranks),
        _std_select.mode_indices(values, 1),
        _std_select.nth_element_order(ranks, 20),
    )
    for a, b in zip(whole, chunked):
        assert a.tolist() == b.tolist()
    for too_long in (
        lambda: _std_sort.introsort_order(np.zeros((1, 121), np.int64)),
        lambda: _std_select.mode_indices(np.zeros((1, 121)), 1),
        lambda: _std_select.nth_element_order(np.zeros((1, 121), np.int64), 3),
    ):
        with pytest.raises(NotImplementedError, match="at most 120 elements at once.*stable=True"):
            too_long()


_DTYPES = ["float16", "float32", "float64", "int8", "uint8", "int16", "int32", "int64", "bool"]


@pytest.mark.parametrize("dtype", _DTYPES)
def test_every_dtype_dim_and_direction_matches_pytorch(dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    values = rng.integers(-2, 3, (3, 40, 5))
    if dtype.startswith("float"):
        values = values * 0.5
        values[values == 0] = -0.0  # -0.0 ties 0.0
        values[:, ::9] = np.nan
        values[0, 1:3] = np.inf
    values = values.astype(dtype)
    ours, theirs = minigrad.tensor(values), torch.tensor(values)
    for dim in (0, 1, 2):
        for descending in (False, True):
            got = minigrad.sort(ours, dim, descending).indices.tolist()
            assert got == torch.sort(theirs, dim, descending).indices.tolist()
        assert minigrad.mode(ours, dim).indices.tolist() == torch.mode(theirs, dim).indices.tolist()
        if dtype != "bool":
            for largest in (False, True):
                got = minigrad.topk(ours, 3, dim, largest).indices.tolist()
                assert got == torch.topk(theirs, 3, dim, largest).indices.tolist()
            got = minigrad.kthvalue(ours, 2, dim).indices.tolist()
            assert got == torch.kthvalue(theirs, 2, dim).indices.tolist()


def test_long_tied_inputs_match_pytorch():
    """Long enough for the span-wide scans, the heapsort of the organ pipe and the chunked
    closed forms of runs of equal values."""
    torch = pytest.importorskip("torch")
    n = 20000
    half = np.arange(n // 2)
    rows = {
        "organ_pipe": np.concatenate([half, half[::-1]]),
        "few_values": np.random.default_rng(3).integers(0, 20, n),
        "rising_runs": np.arange(n) // 3,
        "equal": np.zeros(n),
    }
    for name, row in rows.items():
        x = row.astype(np.float32)
        ours, theirs = minigrad.tensor(x), torch.tensor(x)
        assert minigrad.argsort(ours).tolist() == torch.argsort(theirs).tolist(), name
        assert minigrad.mode(ours).indices.item() == torch.mode(theirs).indices.item(), name
        got = minigrad.topk(ours, 300).indices.tolist()
        assert got == torch.topk(theirs, 300).indices.tolist(), name
        got = minigrad.kthvalue(ours, n // 2).indices.item()
        assert got == torch.kthvalue(theirs, n // 2).indices.item(), name


def test_the_ties_benchmark_runs_and_compares(tmp_path, capsys):
    from benchmarks import ties

    out = tmp_path / "ties.json"
    ties.main(["--sizes", "300", "--cases", "all_equal", "rows_2d", "--budget", "0"])
    ties.main(["--sizes", "300", "--cases", "all_equal", "--budget", "0", "--json", str(out)])
    ties.main(["--compare", str(out), str(out)])
    printed = capsys.readouterr().out
    for op in ("sort", "topk_heap", "topk_half", "kthvalue", "mode"):
        assert f"**{op}**" in printed
    assert "| all_equal | 300 |" in printed and "| rows_2d | 300 |" in printed
    assert "1.0×" in printed  # a report compared with itself
