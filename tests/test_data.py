"""Datasets, samplers, collation and the DataLoader."""

import contextlib

import numpy as np
import pytest

import minigrad
from minigrad.utils.data import (
    DataLoader,
    Dataset,
    Subset,
    TensorDataset,
    default_collate,
    random_split,
)


def test_tensor_dataset_and_loader_batches():
    x = minigrad.arange(10).float().unsqueeze(1)
    y = minigrad.arange(10)
    loader = DataLoader(TensorDataset(x, y), batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 and [b[1].tolist() for b in batches] == [
        [0, 1, 2, 3],
        [4, 5, 6, 7],
        [8, 9],
    ]
    assert batches[0][0].shape == (4, 1)
    assert len(DataLoader(TensorDataset(x, y), batch_size=4, drop_last=True)) == 2


def test_shuffle_is_reproducible_with_a_generator_and_covers_everything():
    ds = TensorDataset(minigrad.arange(20))
    g = minigrad.Generator().manual_seed(1)
    first = [b[0].tolist() for b in DataLoader(ds, batch_size=5, shuffle=True, generator=g)]
    g.manual_seed(1)
    again = [b[0].tolist() for b in DataLoader(ds, batch_size=5, shuffle=True, generator=g)]
    assert first == again and sorted(sum(first, [])) == list(range(20))
    assert sum(first, []) != list(range(20))


def test_default_collate_handles_structures():
    batch = [
        {"x": np.ones(2), "n": 1, "t": (minigrad.tensor([1.0]), 2.5)},
        {"x": np.zeros(2), "n": 2, "t": (minigrad.tensor([3.0]), 0.5)},
    ]
    out = default_collate(batch)
    assert out["x"].shape == (2, 2) and out["n"].tolist() == [1, 2]
    assert (
        out["t"][0].tolist() == [[1.0], [3.0]] and out["t"][1].dtype is minigrad.float64
    )  # as PyTorch


class Squares(Dataset):
    def __len__(self):
        return 7

    def __getitem__(self, i):
        return minigrad.tensor(float(i)), i * i


def test_map_style_dataset_with_custom_collate():
    loader = DataLoader(Squares(), batch_size=3, collate_fn=lambda s: [b for _, b in s])
    assert list(loader) == [[0, 1, 4], [9, 16, 25], [36]]
    xs, ys = next(iter(DataLoader(Squares(), batch_size=2)))
    assert xs.tolist() == [0.0, 1.0] and ys.tolist() == [0, 1]


def test_random_split_lengths_and_fractions():
    ds = TensorDataset(minigrad.arange(10))
    a, b = random_split(ds, [7, 3], generator=minigrad.Generator().manual_seed(0))
    assert len(a) == 7 and len(b) == 3
    assert sorted(a.indices + b.indices) == list(range(10))
    c, d = random_split(ds, [0.5, 0.5])
    assert len(c) == len(d) == 5 and isinstance(c, Subset)
    with pytest.raises(ValueError, match="does not equal the length"):
        random_split(ds, [3, 3])


def test_bad_arguments():
    ds = TensorDataset(minigrad.arange(4))
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        DataLoader(ds, batch_size=0)
    with pytest.raises(ValueError, match="mutually exclusive"):
        DataLoader(ds, shuffle=True, sampler=[0, 1])
    with pytest.raises(ValueError, match="Size mismatch"):
        TensorDataset(minigrad.zeros(3), minigrad.zeros(4))


def test_package_layout_matches_torch_utils_data():
    from minigrad.utils.data.dataloader import DataLoader as DL
    from minigrad.utils.data.dataset import TensorDataset as TD
    from minigrad.utils.data.distributed import DistributedSampler
    from minigrad.utils.data.sampler import RandomSampler

    assert DL is DataLoader and TD is TensorDataset
    assert minigrad.utils.data.DistributedSampler is DistributedSampler
    assert minigrad.utils.data.RandomSampler is RandomSampler


def test_unknown_keyword_arguments_are_type_errors():
    from minigrad.utils.data import RandomSampler

    ds = TensorDataset(minigrad.arange(4))
    with pytest.raises(TypeError, match="batchsize"):
        DataLoader(ds, batchsize=64)
    with pytest.raises(TypeError, match="num_sample"):
        RandomSampler(ds, num_sample=3)
    with pytest.raises(ValueError, match="num_workers option should be non-negative"):
        DataLoader(ds, num_workers=-1)
    with pytest.raises(ValueError, match="persistent_workers"):
        DataLoader(ds, persistent_workers=True)
    # Worker settings PyTorch programs pass work; batches are the same as with 0.
    loader = DataLoader(ds, batch_size=2, num_workers=2, pin_memory=True, persistent_workers=True)
    warns = pytest.warns(UserWarning, match="'pin_memory' argument is set as true but no accel")
    with warns if not minigrad.accelerator.is_available() else contextlib.nullcontext():
        assert [b[0].tolist() for b in loader] == [[0, 1], [2, 3]]  # (without a GPU: it warns)


def test_random_sampler_draws_lazily():
    import itertools
    import time

    from minigrad.utils.data import RandomSampler

    ds = TensorDataset(minigrad.arange(10))
    for replacement in (True, False):
        sampler = RandomSampler(ds, replacement=replacement, num_samples=10**10)
        start = time.perf_counter()
        first = list(itertools.islice(iter(sampler), 100))
        assert time.perf_counter() - start < 1.0
        assert len(sampler) == 10**10 and len(first) == 100
        assert all(0 <= i < 10 for i in first)
    # Without replacement each round of len(ds) draws is a permutation; the last is cut short.
    order = list(RandomSampler(ds, num_samples=25, generator=minigrad.Generator().manual_seed(3)))
    assert sorted(order[:10]) == sorted(order[10:20]) == list(range(10)) and len(order) == 25
    assert len(set(order[20:])) == 5
    with pytest.raises(TypeError, match="replacement should be a boolean"):
        RandomSampler(ds, replacement=1)
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        RandomSampler(ds, num_samples=0)


def test_weighted_random_sampler_follows_the_weights():
    from minigrad.utils.data import WeightedRandomSampler

    g = minigrad.Generator().manual_seed(0)
    draws = list(WeightedRandomSampler([1.0, 0.0, 3.0], 4000, generator=g))
    counts = np.bincount(draws, minlength=3)
    assert counts[1] == 0 and abs(counts[2] / counts[0] - 3) < 0.3
    picked = list(WeightedRandomSampler([1.0, 0.0, 3.0, 2.0], 3, replacement=False, generator=g))
    assert sorted(picked) == [0, 2, 3]


@pytest.mark.parametrize("n,replicas,drop_last", [(10, 3, False), (10, 3, True), (2, 4, False)])
def test_distributed_sampler_shards_as_pytorch(n, replicas, drop_last):
    torch = pytest.importorskip("torch")
    from minigrad.utils.data import DistributedSampler

    ds = TensorDataset(minigrad.arange(n))
    shards = []
    for rank in range(replicas):
        ours = DistributedSampler(ds, replicas, rank, shuffle=False, drop_last=drop_last)
        theirs = torch.utils.data.DistributedSampler(
            range(n), replicas, rank, shuffle=False, drop_last=drop_last
        )
        assert list(ours) == list(theirs) and len(ours) == len(theirs)
        shuffled = DistributedSampler(ds, replicas, rank, seed=5, drop_last=drop_last)
        shuffled.set_epoch(2)
        shards.append(list(shuffled))
    flat = sum(shards, [])
    assert len({len(s) for s in shards}) == 1  # equal shards
    if drop_last:
        assert len(set(flat)) == len(flat)  # disjoint
    else:
        assert set(flat) == set(range(n))  # every sample is seen
    with pytest.raises(ValueError, match="Invalid rank 3"):
        DistributedSampler(ds, num_replicas=3, rank=3)


def _stream_datasets(data):
    """An iterable-style dataset class of ``data`` (``minigrad.utils.data`` or torch's)."""

    class Stream(data.IterableDataset):
        def __init__(self, stop, sized=True):
            self.stop, self.sized = stop, sized

        def __iter__(self):
            return iter(range(self.stop))

        def __len__(self):
            if not self.sized:
                raise TypeError("unsized")
            return self.stop

    return Stream


@pytest.mark.parametrize(
    "options",
    [dict(batch_size=4), dict(batch_size=4, drop_last=True), dict(batch_size=None), dict()],
)
def test_iterable_dataset_batches_as_torch(options):
    torch = pytest.importorskip("torch")
    from torch.utils import data as torch_data

    from minigrad.utils import data

    def run(data, lib):
        Stream = _stream_datasets(data)
        loader = data.DataLoader(Stream(10) + Stream(3), **options)
        batches = [b.tolist() if isinstance(b, lib.Tensor) else b for b in loader]
        return batches, len(loader)

    assert run(data, minigrad) == run(torch_data, torch)


def test_iterable_dataset_refuses_shuffle_samplers_and_indexing():
    from minigrad.utils import data

    Stream = _stream_datasets(data)
    for bad in (dict(shuffle=True), dict(sampler=[0, 1]), dict(batch_sampler=[[0]])):
        with pytest.raises(ValueError, match="IterableDataset"):
            data.DataLoader(Stream(4), **bad)
    with pytest.raises(TypeError, match="no indexing"):
        Stream(4)[0]
    assert data.get_worker_info() is None


def test_stack_dataset_as_torch():
    from minigrad.utils.data import StackDataset, TensorDataset

    x, y = minigrad.arange(6).reshape(3, 2), minigrad.tensor([7, 8, 9])
    pairs = StackDataset(TensorDataset(x), y)
    assert len(pairs) == 3 and pairs[1][1].item() == 8
    named = StackDataset(image=x, label=y)
    assert named[2]["label"].item() == 9 and named[2]["image"].tolist() == [4, 5]
    with pytest.raises(ValueError, match="size mismatch"):
        StackDataset(x, minigrad.tensor([1]))
    with pytest.raises(ValueError, match="both"):
        StackDataset(x, label=y)


@pytest.mark.parametrize(
    "batch",
    [
        [1.5, 2.0],
        [1, 2],
        [True, False],
        [np.float32(1), np.float32(2)],
        [np.array([1.0, 2.0]), np.array([3.0, 4.0])],
        [(1.0, 2), (3.0, 4)],
    ],
    ids=["float", "int", "bool", "np.float32", "float64 arrays", "tuples"],
)
def test_default_collate_dtypes_match_torch(batch):
    pytest.importorskip("torch")
    from torch.utils.data import default_collate as torch_collate

    from minigrad.utils.data import default_collate

    ours, theirs = default_collate(batch), torch_collate(batch)
    if not isinstance(theirs, list):
        ours, theirs = [ours], [theirs]
    assert [str(a.dtype).split(".")[-1] for a in ours] == [
        str(b.dtype).split(".")[-1] for b in theirs
    ]
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
