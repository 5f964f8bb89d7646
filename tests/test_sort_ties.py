"""Ties come out of ``sort``/``argsort`` (without ``stable=True``) in PyTorch's CPU order.

PyTorch sorts with the C++ library's ``std::sort`` (an introsort); minigrad reproduces it
vectorized (:mod:`minigrad._std_sort`). Checked against PyTorch where it is installed, and
always against a plain transcription of the algorithm (``_reference_order``) that compares
through a callback, which also lets McIlroy's adversary build an input deep enough to reach
the heapsort.
"""

import numpy as np
import pytest
from libstdcxx import adversary, sift

import minigrad
from minigrad import _std_sort
from minigrad.nn.utils.rnn import pack_padded_sequence


def _reference_order(n, less, depth_limit=None):
    """libstdc++'s std::sort of the indices 0..n-1 under ``less``, step by step."""
    a = list(range(n))

    def comp(i, j):
        return less(a[i], a[j])

    def swap(i, j):
        a[i], a[j] = a[j], a[i]

    def partition(first, last, pivot):
        while True:
            while comp(first, pivot):
                first += 1
            last -= 1
            while comp(pivot, last):
                last -= 1
            if first >= last:
                return first
            swap(first, last)
            first += 1

    def heapsort(first, last):
        for parent in range((last - first - 2) // 2, -1, -1):
            sift(a, less, first, parent, last - first, a[first + parent])
        for end in range(last - 1, first, -1):
            item, a[end] = a[end], a[first]
            sift(a, less, first, 0, end - first, item)

    def loop(first, last, depth):
        while last - first > 16:
            if depth == 0:
                return heapsort(first, last)
            depth -= 1
            x, y, z = first + 1, first + (last - first) // 2, last - 1
            if comp(x, y):
                swap(first, y if comp(y, z) else z if comp(x, z) else x)
            else:
                swap(first, x if comp(x, z) else z if comp(y, z) else y)
            cut = partition(first + 1, last, first)
            loop(cut, last, depth)
            last = cut

    if n > 1:
        loop(0, n, 2 * (n.bit_length() - 1) if depth_limit is None else depth_limit)
    for i in range(1, n):  # the final insertion sort
        item, j = a[i], i
        while j > 0 and less(item, a[j - 1]):
            a[j], j = a[j - 1], j - 1
        a[j] = item
    return a


def _less(values):
    return lambda i, j: values[i] < values[j]


def _tied(rng, shape, distinct, dtype="float32"):
    return rng.integers(0, distinct, shape).astype(dtype)


@pytest.mark.parametrize("n", [1, 2, 16, 17, 40, 300, 2000])
@pytest.mark.parametrize("descending", [False, True])
def test_matches_the_reference_algorithm(n, descending):
    rng = np.random.default_rng(n)
    for distinct in (1, 2, 7, n):
        values = _tied(rng, (3, n), distinct)
        ours = minigrad.sort(minigrad.tensor(values), dim=1, descending=descending).indices
        for row, order in zip(values, ours.numpy()):
            key = -row if descending else row
            assert order.tolist() == _reference_order(n, _less(key))


@pytest.mark.parametrize("depth_limit", [0, 1, 3])
def test_the_heapsort_below_the_depth_limit(depth_limit):
    rng = np.random.default_rng(depth_limit)
    values = _tied(rng, (2, 200), 9).astype(np.int64)
    ranks = _std_sort.dense_ranks(values, False)
    ours = _std_sort.introsort_order(ranks, depth_limit=depth_limit)
    for row, order in zip(values, ours):
        expected = _reference_order(200, _less(row), depth_limit)
        assert order.tolist() == expected


def test_an_adversarial_input_reaches_the_heapsort():
    values = np.array(adversary(300, _reference_order))
    ours = minigrad.argsort(minigrad.tensor(values)).numpy()
    assert ours.tolist() == _reference_order(300, _less(values))
    deeper = _std_sort.introsort_order(_std_sort.dense_ranks(values[None], False), 40)
    assert deeper[0].tolist() != ours.tolist()  # (so the heapsort did run)
    torch = pytest.importorskip("torch")
    assert ours.tolist() == torch.argsort(torch.tensor(values)).tolist()


def test_stable_keeps_ties_in_order():
    values = minigrad.tensor([2, 1, 2, 1, 2] * 8)
    ascending = minigrad.sort(values, stable=True).indices.tolist()
    assert ascending == [i for i in range(40) if i % 5 in (1, 3)] + [
        i for i in range(40) if i % 5 in (0, 2, 4)
    ]
    assert minigrad.argsort(values, descending=True, stable=True).tolist()[:3] == [0, 2, 4]


_CASES = [
    ("float32", (5, 60), 4, {}),
    ("float64", (60, 5), 3, {"dim": 0}),
    ("int64", (2, 3, 50), 5, {"descending": True}),
    ("int32", (100,), 6, {}),
    ("uint8", (3, 33), 2, {"descending": True}),
    ("bool", (4, 40), 2, {}),
    ("float16", (2, 70), 5, {"descending": True}),
]


@pytest.mark.parametrize("dtype,shape,distinct,kwargs", _CASES)
def test_matches_pytorch(dtype, shape, distinct, kwargs):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(len(shape) * distinct)
    values = _tied(rng, shape, distinct, dtype)
    theirs = torch.sort(torch.tensor(values), **kwargs)
    ours = minigrad.sort(minigrad.tensor(values), **kwargs)
    assert ours.indices.tolist() == theirs.indices.tolist()
    assert minigrad.argsort(minigrad.tensor(values), **kwargs).tolist() == (
        torch.argsort(torch.tensor(values), **kwargs).tolist()
    )


def test_nan_ties_and_signed_zeros_match_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    values = np.round(rng.normal(size=(2, 90)), 1)
    values[:, ::7] = np.nan
    values[:, 1::9] = -0.0
    for descending in (False, True):
        theirs = torch.sort(torch.tensor(values), descending=descending).indices
        ours = minigrad.sort(minigrad.tensor(values), descending=descending).indices
        assert ours.tolist() == theirs.tolist()


def test_long_integer_vectors_take_pytorchs_stable_radix_sort():
    torch = pytest.importorskip("torch")
    values = np.random.default_rng(4).integers(-3, 5, 32768)
    assert minigrad.argsort(minigrad.tensor(values)).tolist() == (
        torch.argsort(torch.tensor(values)).tolist()
    )


def test_pack_padded_sequence_orders_equal_lengths_as_pytorch():
    torch = pytest.importorskip("torch")
    lengths = np.random.default_rng(5).integers(1, 6, 40)
    x = np.zeros((40, 6, 1), np.float32)
    ours = pack_padded_sequence(minigrad.tensor(x), minigrad.tensor(lengths), True, False)
    theirs = torch.nn.utils.rnn.pack_padded_sequence(
        torch.tensor(x), torch.tensor(lengths), batch_first=True, enforce_sorted=False
    )
    assert ours.sorted_indices.tolist() == theirs.sorted_indices.tolist()
    assert ours.unsorted_indices.tolist() == theirs.unsorted_indices.tolist()


def test_compiled_sorts_replay_each_new_tie_pattern(replays):
    def step(x):
        return minigrad.sort(x * 1.0, dim=-1).indices, minigrad.argsort(x, descending=True)

    compiled = minigrad.compile(step)
    rng = np.random.default_rng(6)
    for i in range(5):
        x = minigrad.tensor(_tied(rng, (2, 40), 3 if i % 2 else 1000))
        for ours, eager in zip(compiled(x), step(x)):
            assert ours.tolist() == eager.tolist()
    assert replays[0] == 4  # (traced once, then replayed: the order is recomputed each time)


def test_vmapped_sort_orders_ties_as_pytorch():
    torch = pytest.importorskip("torch")
    values = _tied(np.random.default_rng(7), (3, 2, 30), 3)
    ours = minigrad.func.vmap(lambda x: minigrad.sort(x, dim=-1).indices)(minigrad.tensor(values))
    theirs = torch.func.vmap(lambda x: torch.sort(x, dim=-1).indices)(torch.tensor(values))
    assert ours.tolist() == theirs.tolist()
