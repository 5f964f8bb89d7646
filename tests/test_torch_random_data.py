"""Same seed, same data order as PyTorch: samplers, DataLoader shuffles, random_split and the
workers' seeds, over two epochs and interleaved with other random calls.

PyTorch's order of draws, found with torch as the oracle: every ``iter(loader)`` first draws a
base seed (a 0-d int64 ``random_()``: a 64-bit draw modulo 2**63) from ``generator`` or the
global generator; a ``RandomSampler`` without a generator then draws a 64-bit seed of the
same kind at its first index and shuffles with a fresh generator of that seed; without
replacement it draws one more permutation when ``num_samples`` is a multiple of the length.
Worker ``k`` is seeded with ``base_seed + k``. Every comparison here is exact.
"""

import random

import numpy as np
import pytest

import minigrad
import minigrad.utils.data as mdata

torch = pytest.importorskip("torch")
tdata = pytest.importorskip("torch.utils.data")


def _data(lib):
    return mdata if lib is minigrad else tdata


def _plain(value):
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _both(fn, seed=11, libs=(minigrad, torch)):
    """``fn(lib, data, seed)`` after ``manual_seed(seed)`` for each library, with the next draw
    of the global generator (``seed`` also seeds the generators that ``fn`` makes)."""
    out = []
    for lib in libs:
        lib.manual_seed(seed)
        result = _plain(fn(lib, _data(lib), seed))
        out.append((result, lib.rand(3, dtype=lib.float64).tolist()))
    return out


def _assert_same_as_torch(fn):
    ours, theirs = _both(fn)
    assert ours == theirs
    assert _both(fn, 12, (minigrad,))[0][0] != ours[0]  # another seed, another order
    return ours[0]


CASES = {
    "loader_shuffle": lambda L, D, s: [
        list(D.DataLoader(list(range(10)), batch_size=3, shuffle=True)) for _ in range(2)
    ],
    "loader_same_loader_twice": lambda L, D, s: (lambda loader: [list(loader), list(loader)])(
        D.DataLoader(list(range(9)), batch_size=4, shuffle=True, drop_last=True)
    ),
    "loader_generator": lambda L, D, s: (
        lambda g: (
            [
                list(D.DataLoader(list(range(10)), batch_size=3, shuffle=True, generator=g))
                for _ in range(2)
            ]
            + [L.rand(2, generator=g)]
        )
    )(L.Generator().manual_seed(s)),
    "loader_no_batching": lambda L, D, s: [
        list(D.DataLoader(list(range(6)), batch_size=None, shuffle=True)) for _ in range(2)
    ],
    "random_sampler": lambda L, D, s: [list(D.RandomSampler(range(7))) for _ in range(2)],
    "random_sampler_replacement": lambda L, D, s: [
        list(D.RandomSampler(range(7), replacement=True, num_samples=45)) for _ in range(2)
    ],
    "random_sampler_num_samples": lambda L, D, s: [
        list(D.RandomSampler(range(7), num_samples=17)) for _ in range(2)
    ],
    "random_sampler_multiple_of_length": lambda L, D, s: (
        lambda g: [list(D.RandomSampler(range(7), num_samples=14, generator=g)) for _ in range(2)]
    )(L.Generator().manual_seed(s)),
    "random_sampler_generator": lambda L, D, s: (
        lambda g: [list(D.RandomSampler(range(7), generator=g)) for _ in range(2)]
    )(L.Generator().manual_seed(s)),
    "subset_random_sampler": lambda L, D, s: [
        list(D.SubsetRandomSampler([5, 8, 1, 9, 2])) for _ in range(2)
    ],
    "weighted_random_sampler": lambda L, D, s: [
        list(D.WeightedRandomSampler([0.1, 0.9, 0.4, 0.7, 0.0, 1.2], 40)) for _ in range(2)
    ],
    "batch_sampler": lambda L, D, s: (
        [list(D.BatchSampler(D.RandomSampler(range(10)), 3, drop_last=False)) for _ in range(2)]
        + [list(D.BatchSampler(D.RandomSampler(range(10)), 3, drop_last=True))]
    ),
    "random_split_lengths": lambda L, D, s: [
        list(s.indices) for s in D.random_split(range(10), [3, 7])
    ],
    "random_split_fractions": lambda L, D, s: [
        list(s.indices) for s in D.random_split(range(11), [0.3, 0.3, 0.4])
    ],
    "random_split_generator": lambda L, D, s: [
        list(s.indices)
        for s in D.random_split(range(11), [4, 7], generator=L.Generator().manual_seed(s))
    ],
    "distributed_sampler": lambda L, D, s: [
        list(D.DistributedSampler(range(11), num_replicas=3, rank=1, seed=s)) for _ in range(2)
    ],
}


@pytest.mark.parametrize("name", list(CASES))
def test_same_order_as_torch(name):
    _assert_same_as_torch(CASES[name])


def test_weighted_sampler_without_replacement():
    """One ``multinomial(weights, n, replacement=False)`` per epoch, as PyTorch; equal to
    PyTorch's order wherever minigrad's multinomial is (the sampler adds no draws)."""
    weights = [0.1, 0.9, 0.4, 0.7, 0.0, 1.2]

    def epochs(L, D, s=None):
        return [list(D.WeightedRandomSampler(weights, 4, replacement=False)) for _ in range(2)]

    def multinomials(L, D, s=None):
        w = L.tensor(weights, dtype=L.float64)
        return [L.multinomial(w, 4, replacement=False) for _ in range(2)]

    ours, theirs = _both(epochs)
    assert ours == _both(multinomials)[0]
    if _both(multinomials)[0] != _both(multinomials)[1]:
        pytest.skip("minigrad.multinomial(replacement=False) does not draw as PyTorch's yet")
    assert ours == theirs


def test_loader_stays_in_step_with_interleaved_draws():
    """A model made and random numbers drawn between batches, as a training loop does."""

    def loop(L, D, s=None):
        loader = D.DataLoader(list(range(10)), batch_size=4, shuffle=True)
        seen = []
        for _ in range(2):
            for batch in loader:
                seen.append(batch)
                seen.append(L.nn.Linear(3, 2).weight.detach())
                seen.append(L.randint(0, 100, (3,)))
        return seen

    _assert_same_as_torch(loop)


def test_loader_stays_in_step_with_dropout():
    def dropout(L, D, s=None):
        return L.nn.functional.dropout(L.ones(40), 0.3)

    if _both(dropout)[0] != _both(dropout)[1]:
        pytest.skip("minigrad's dropout does not draw as PyTorch's yet")

    def loop(L, D, s=None):
        loader = D.DataLoader(list(range(10)), batch_size=4, shuffle=True)
        return [[batch, dropout(L, D)] for _ in range(2) for batch in loader]

    _assert_same_as_torch(loop)


class _SeedReport:
    """Each item: the worker's id and seed, and one draw of each generator in the worker."""

    def __init__(self, lib):
        self.lib = lib

    def __len__(self):
        return 6

    def __getitem__(self, index):
        info = _data(self.lib).get_worker_info()
        draws = [float(self.lib.rand(1).item()), random.random(), float(np.random.rand())]
        return [index, info.id, info.seed, self.lib.initial_seed(), *draws]


def _note_init(worker_id):  # PyTorch's recipe: seed NumPy from the worker's seed
    np.random.seed((worker_id * 1000 + np.random.randint(1000)) % 2**32)


@pytest.mark.parametrize("persistent", [False, True])
def test_worker_seeds_match_torch(persistent):
    """Two workers, two epochs: the shuffle, each worker's seed (base seed + id), and the
    first draw of minigrad's, Python's and NumPy's generators in each worker are PyTorch's.
    Persistent workers keep their seeds in the second epoch; the base seed is drawn from the
    loader's generator when it has one."""

    def epochs(L, D, s):
        loader = D.DataLoader(
            _SeedReport(L),
            batch_size=None,
            shuffle=True,
            num_workers=2,
            worker_init_fn=_note_init,
            persistent_workers=persistent,
            generator=L.Generator().manual_seed(s) if persistent else None,
        )
        return [list(loader), list(loader)]

    first, second = _assert_same_as_torch(epochs)
    for epoch in (first, second):  # worker k's seed is the epoch's base seed + k
        seeds = {worker: seed for _, worker, seed, *_ in epoch}
        assert sorted(seeds) == [0, 1] and seeds[1] == seeds[0] + 1
        assert all(row[3] == seeds[row[1]] for row in epoch)  # minigrad.initial_seed() there
    same_seeds = {row[2] for row in first} == {row[2] for row in second}
    assert same_seeds == persistent  # a new base seed per epoch, unless workers persist


def test_random_split_warns_of_an_empty_part_as_torch():
    def split(L, D, s):
        with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
            return [list(part.indices) for part in D.random_split(range(7), [0.01, 0.01, 0.98])]

    assert [len(part) for part in _assert_same_as_torch(split)] == [1, 0, 6]
