"""Samplers: the order in which a DataLoader visits a dataset (``torch.utils.data.sampler``).

Samplers draw lazily, as PyTorch's do: ``RandomSampler(ds, replacement=True,
num_samples=10**10)`` never holds 10**10 indices; it draws them in small chunks as the loop
asks for them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Generic, TypeVar

import numpy as np

from ... import backend, creation, dtypes
from ..._public_name import PublicRepr

# Indices drawn with replacement per call of the generator (PyTorch draws 32 at a time).
_CHUNK = 32

# what a sampler yields, as PyTorch's: ``Sampler[list[int]]`` subscripts in annotations
_T_co = TypeVar("_T_co", covariant=True)


def _generator(generator):
    return generator or backend.default_generator(backend.CPU)


def random_seed(generator=None) -> int:
    """A seed drawn as PyTorch's data utilities draw one: a 0-d int64 tensor's ``random_()``
    (a 64-bit draw of ``generator``, or of the global generator, modulo 2**63)."""
    seed = creation.empty((), dtype=dtypes.int64, device="cpu").random_(generator=generator)
    return int(seed.item())


def _own_generator(generator):
    """``generator``, or a fresh CPU generator seeded from the global one: PyTorch's samplers
    without a generator of their own shuffle with such a generator, seeded at every epoch."""
    if generator is not None:
        return generator
    return backend.Generator("cpu", random_seed())


def _check_num_samples(name: str, num_samples) -> None:
    if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples <= 0:
        raise ValueError(
            f"{name}: num_samples should be a positive integer value, but got "
            f"num_samples={num_samples!r}"
        )


class Sampler(PublicRepr, Generic[_T_co]):
    """Yields dataset indices (or, for a batch sampler, lists of them)."""

    def __init__(self, data_source=None) -> None:
        pass

    def __iter__(self) -> Iterator:
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1, in order.

    Example:
        >>> list(SequentialSampler(range(3)))
        [0, 1, 2]
    """

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """Random indices of ``data_source``, drawn from ``generator`` (or the global one).

    Without replacement: a fresh permutation each round (``num_samples`` may exceed the
    dataset's length: whole permutations follow each other, the last one cut short). With
    replacement: ``num_samples`` independent uniform draws. Either way the indices are drawn
    as the iteration goes, so a huge ``num_samples`` costs nothing up front.

    The draws are PyTorch's, call for call: without ``generator``, each epoch first draws a
    64-bit seed from the global generator and shuffles with a generator of that seed; with
    replacement the indices come 32 at a time (``randint``); without, one ``randperm(n)`` per
    round and one more for the remainder, drawn even when ``num_samples`` is a multiple of
    ``n`` (as PyTorch, so a shared ``generator`` stays in step with PyTorch's).

    Args:
        data_source: a sized dataset.
        replacement: draw with replacement.
        num_samples: how many indices to yield (default: ``len(data_source)``).
        generator: a ``minigrad.Generator`` for a reproducible order.

    Example:
        >>> it = iter(RandomSampler(range(10), replacement=True, num_samples=10**10))
        >>> first = [next(it) for _ in range(3)]  # cheap
    """

    def __init__(self, data_source, replacement: bool = False, num_samples=None, generator=None):
        if not isinstance(replacement, bool):
            raise TypeError(
                f"RandomSampler: replacement should be a boolean value, but got "
                f"replacement={replacement!r}"
            )
        if num_samples is not None:
            _check_num_samples("RandomSampler", num_samples)
        self.data_source, self.replacement = data_source, replacement
        self._num_samples, self.generator = num_samples, generator

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        n = len(self.data_source)
        gen = _own_generator(self.generator)
        total = self.num_samples
        if self.replacement:
            for _ in range(total // _CHUNK):
                yield from gen.integers(0, n, (_CHUNK,), np.int64).tolist()
            yield from gen.integers(0, n, (total % _CHUNK,), np.int64).tolist()
            return
        for _ in range(total // n):
            yield from gen.permutation(n).tolist()
        yield from gen.permutation(n)[: total % n].tolist()

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices, in a random order each epoch."""

    def __init__(self, indices: Iterable[int], generator=None):
        self.indices, self.generator = indices, generator

    def __iter__(self):
        gen = _generator(self.generator)
        for i in gen.permutation(len(self.indices)).tolist():
            yield self.indices[i]

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices 0..len(weights)-1 drawn with probability proportional to weights.

    One ``multinomial(weights, num_samples, replacement)`` per epoch, as PyTorch draws them.

    Example:
        >>> list(WeightedRandomSampler([0.0, 1.0], 3))
        [1, 1, 1]
    """

    def __init__(self, weights, num_samples: int, replacement: bool = True, generator=None):
        _check_num_samples("WeightedRandomSampler", num_samples)
        if not isinstance(replacement, bool):
            raise ValueError(
                f"WeightedRandomSampler: replacement should be a boolean value, but got "
                f"replacement={replacement!r}"
            )
        w = np.asarray(weights.tolist() if hasattr(weights, "tolist") else weights, np.float64)
        if w.ndim != 1:
            raise ValueError(
                f"WeightedRandomSampler: weights should be a 1d sequence but given weights have "
                f"shape {tuple(w.shape)}"
            )
        if (w < 0).any() or not np.isfinite(w).all() or w.sum() <= 0:
            # (PyTorch's words, from the multinomial draw; raised here, before any draw)
            words = (  # (a NaN fails PyTorch's test entry >= 0 first)
                "encountering probability entry < 0"
                if not (w >= 0).all()
                else "encountering probability entry = infinity or NaN"
                if np.isinf(w).any()
                else "sum of probabilities <= 0"
            )
            raise RuntimeError(
                f"invalid multinomial distribution ({words}) (WeightedRandomSampler: weights "
                f"must be finite, non-negative, with a positive sum)"
            )
        # (without replacement, more samples than non-zero weights draw zero-weight indices
        # last, as PyTorch's multinomial; more than len(weights) raise when drawn)
        # float64, as PyTorch (the weights decide through multinomial's cumulative sums)
        self.weights = creation.as_tensor(w, dtype=dtypes.float64, device="cpu")
        self.num_samples, self.replacement, self.generator = num_samples, replacement, generator

    def __iter__(self):
        # one multinomial draw for the whole epoch, as PyTorch
        chosen = creation.multinomial(
            self.weights, self.num_samples, self.replacement, generator=self.generator
        )
        yield from chosen.tolist()

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Groups the indices of ``sampler`` into lists of ``batch_size``.

    Example:
        >>> list(BatchSampler(SequentialSampler(range(5)), batch_size=2, drop_last=False))
        [[0, 1], [2, 3], [4]]
    """

    def __init__(self, sampler, batch_size: int, drop_last: bool):
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(
                f"batch_size should be a positive integer value, but got batch_size={batch_size}"
            )
        if not isinstance(drop_last, bool):
            raise ValueError(
                f"drop_last should be a boolean value, but got drop_last={drop_last!r}"
            )
        self.sampler, self.batch_size, self.drop_last = sampler, batch_size, drop_last

    def __iter__(self):
        batch = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
