"""Datasets, samplers, collation and the DataLoader."""

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
    assert out["t"][0].tolist() == [[1.0], [3.0]] and out["t"][1].dtype is minigrad.float32


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
