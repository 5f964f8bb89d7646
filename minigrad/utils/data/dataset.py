"""Datasets (``torch.utils.data.dataset``): map-style ``Dataset``, ``TensorDataset``, ``Subset``,
``ConcatDataset``, ``StackDataset``, ``random_split``; iterable-style ``IterableDataset`` and
``ChainDataset``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Generic, TypeVar

import numpy as np

from ... import creation
from ..._public_name import PublicRepr
from ..._warnings import warn_user
from ...backend import AssertedArgumentError
from ...tensor import Tensor

# the item type, as PyTorch's: ``Dataset[int]`` and ``Subset[T]`` subscript in annotations
_T_co = TypeVar("_T_co", covariant=True)


class Dataset(PublicRepr, Generic[_T_co]):
    """A map-style dataset: ``__getitem__(index)`` and ``__len__``."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __len__(self) -> int:  # TypeError, as len() of an object without __len__ (PyTorch's case)
        raise TypeError(f"object of type '{type(self).__name__}' has no len()")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset[_T_co]):
    """An iterable-style dataset: ``__iter__`` yields the samples (a stream, a generator, a file
    read line by line). The DataLoader batches them in the order they come; it cannot shuffle
    them or use a sampler.

    Example:
        >>> class Counter(IterableDataset):
        ...     def __iter__(self):
        ...         return iter(range(10))
        >>> [b.tolist() for b in DataLoader(Counter(), batch_size=4)]
        [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    """

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")

    def __getitem__(self, index):
        raise TypeError(f"{type(self).__name__} is an iterable-style dataset: it has no indexing")

    def __add__(self, other: IterableDataset) -> ChainDataset:
        return ChainDataset([self, other])


class ChainDataset(IterableDataset):
    """Several iterable-style datasets, one after the other."""

    def __init__(self, datasets):
        self.datasets = datasets

    def __iter__(self):
        for dataset in self.datasets:
            if not isinstance(dataset, IterableDataset):
                raise TypeError("ChainDataset only supports IterableDataset")
            yield from dataset

    def __len__(self) -> int:
        return sum(len(dataset) for dataset in self.datasets)


class TensorDataset(Dataset):
    """Samples are the i-th rows of the given tensors, which share their first dimension.

    Example:
        >>> ds = TensorDataset(minigrad.randn(100, 4), minigrad.randint(0, 3, (100,)))
        >>> x, y = ds[0]
    """

    def __init__(self, *tensors: Tensor):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        n = tensors[0].shape[0] if tensors[0].ndim else None
        for i, t in enumerate(tensors):
            if t.ndim == 0 or t.shape[0] != n:
                raise AssertedArgumentError(  # (PyTorch asserts, in these words)
                    f"Size mismatch between tensors: tensor 0 has {n} rows, tensor {i} has shape "
                    f"{list(t.shape)}"
                )
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]


class Subset(Dataset[_T_co]):
    """The samples of ``dataset`` at ``indices``."""

    def __init__(self, dataset: Dataset, indices: Sequence[int]):
        self.dataset, self.indices = dataset, list(indices)

    def __getitem__(self, index):
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __getitems__(self, indices: list) -> list:
        """The samples at ``indices``: through the dataset's own ``__getitems__`` where it has
        one (a DataLoader batch fetched at once, as PyTorch's Subset passes it on)."""
        if callable(getattr(self.dataset, "__getitems__", None)):
            return self.dataset.__getitems__([self.indices[i] for i in indices])
        return [self.dataset[self.indices[i]] for i in indices]

    def __len__(self) -> int:
        return len(self.indices)


class ConcatDataset(Dataset):
    """Several datasets one after the other."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:  # (PyTorch asserts, in these words)
            raise AssertedArgumentError("datasets should not be an empty iterable")
        if any(isinstance(d, IterableDataset) for d in self.datasets):
            raise AssertedArgumentError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = np.cumsum([len(d) for d in self.datasets]).tolist()

    def __len__(self) -> int:
        return self.cumulative_sizes[-1] if self.cumulative_sizes else 0

    def __getitem__(self, index):
        if index < 0:
            if -index > len(self):
                raise ValueError(
                    f"absolute value of index should not exceed dataset length (index {index}, "
                    f"length {len(self)})"
                )
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for a dataset of length {len(self)}")
        which = int(np.searchsorted(self.cumulative_sizes, index, side="right"))
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][index - start]


class StackDataset(Dataset):
    """Samples of several datasets of one length side by side: a tuple (positional datasets) or
    a dict (keyword datasets) per index.

    Example:
        >>> pairs = StackDataset(images=images, labels=labels)
        >>> pairs[0]  # {"images": images[0], "labels": labels[0]}
    """

    def __init__(self, *args: Dataset, **kwargs: Dataset):
        if args and kwargs:
            raise ValueError(
                "StackDataset: supported either tuple-like (positional) or dict-like (keyword) "
                "input, but both types are given"
            )
        datasets = args or kwargs
        if not datasets:
            raise ValueError("StackDataset: at least one dataset should be passed")
        values = list(datasets.values() if kwargs else datasets)
        self._length = len(values[0])
        if any(len(dataset) != self._length for dataset in values):
            raise ValueError("StackDataset: size mismatch between datasets")
        self.datasets = datasets

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {key: dataset[index] for key, dataset in self.datasets.items()}
        return tuple(dataset[index] for dataset in self.datasets)

    def __len__(self) -> int:
        return self._length


def random_split(dataset: Dataset, lengths, generator=None) -> list[Subset]:
    """Split into non-overlapping random subsets of the given lengths (or fractions summing to 1)."""
    n = len(dataset)
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:  # fractions (PyTorch's test)
        for i, f in enumerate(lengths):
            if not 0 <= f <= 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
        counts = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):  # the remainder goes round-robin, as PyTorch
            counts[i % len(counts)] += 1
        for i, count in enumerate(counts):
            if count == 0:
                warn_user(
                    f"Length of split at index {i} is 0. This might result in an empty dataset."
                )
        lengths = counts
    if sum(lengths) != n:
        raise ValueError(
            f"Sum of input lengths does not equal the length of the input dataset! (lengths "
            f"{list(lengths)} sum to {sum(lengths)}, the dataset has {n} items)"
        )
    if any(isinstance(k, float) for k in lengths):
        raise TypeError(
            f"random_split: lengths must be ints, or fractions summing to 1, got {list(lengths)}"
        )
    order = creation.randperm(n, generator=generator).tolist()
    subsets, start = [], 0
    for length in lengths:
        subsets.append(Subset(dataset, order[start : start + length]))
        start += length
    return subsets
