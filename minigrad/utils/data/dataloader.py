"""The DataLoader and ``default_collate`` (``torch.utils.data.dataloader``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ... import creation
from ...ops import stack
from ...tensor import Tensor
from .dataset import IterableDataset, TensorDataset
from .sampler import BatchSampler, RandomSampler, SequentialSampler


def default_collate(batch):
    """Stack a list of samples into a batch: tensors are stacked, NumPy arrays and numbers
    become tensors, and tuples, lists and dicts are collated field by field."""
    first = batch[0]
    if isinstance(first, Tensor):
        return stack(batch)
    if isinstance(first, np.ndarray):
        return creation.tensor(np.stack(batch))
    if isinstance(first, (bool, int, float, np.number, np.bool_)):
        return creation.tensor(batch)
    if isinstance(first, str):
        return list(batch)
    if isinstance(first, Mapping):
        return {key: default_collate([sample[key] for sample in batch]) for key in first}
    if isinstance(first, tuple) and hasattr(first, "_fields"):
        return type(first)(*(default_collate(list(field)) for field in zip(*batch)))
    if isinstance(first, Sequence):
        if any(len(sample) != len(first) for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(list(field)) for field in zip(*batch)]
    raise TypeError(
        f"default_collate: batch must contain tensors, NumPy arrays, numbers, dicts or lists; "
        f"found {type(first).__name__}"
    )


class DataLoader:
    """Iterates over a dataset in batches.

    Args:
        dataset: a map-style dataset, or an :class:`IterableDataset` (batched in the order it
            yields, so without ``shuffle`` or samplers).
        batch_size: samples per batch (None yields single samples, uncollated).
        shuffle: reshuffle every epoch (with ``generator`` for reproducible order).
        sampler / batch_sampler: custom index order or batches (exclusive with shuffle).
        num_workers: accepted for compatibility; minigrad loads every batch in the calling
            process (no worker processes), so the batches are the same as with 0.
        collate_fn: turns a list of samples into a batch (default: :func:`default_collate`).
        pin_memory: accepted for compatibility (no effect: there is no pinned host memory).
        drop_last: drop the last, smaller batch.
        timeout, worker_init_fn, multiprocessing_context, prefetch_factor,
            persistent_workers, pin_memory_device, in_order: worker settings, checked as
            PyTorch checks them; without worker processes they have no effect.
        generator: the ``minigrad.Generator`` that ``shuffle`` draws from.

    Unknown keyword arguments are a ``TypeError``, as in PyTorch (``batchsize=64`` is a typo,
    not a request for batches of one).

    A :class:`TensorDataset` is batched by slicing its tensors with one index array per
    batch rather than sample by sample, which is much faster and gives the same batches.

    Example:
        >>> loader = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True)
        >>> for xb, yb in loader: ...
    """

    def __init__(
        self,
        dataset,
        batch_size=1,
        shuffle=None,
        sampler=None,
        batch_sampler=None,
        num_workers=0,
        collate_fn=None,
        pin_memory=False,
        drop_last=False,
        timeout=0,
        worker_init_fn=None,
        multiprocessing_context=None,
        generator=None,
        *,
        prefetch_factor=None,
        persistent_workers=False,
        pin_memory_device="",
        in_order=True,
    ):
        if not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError(
                "num_workers option should be non-negative; use num_workers=0 to disable "
                "multiprocessing."
            )
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError(
                "prefetch_factor option could only be specified in multiprocessing. Let "
                "num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to None."
            )
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None and (
            batch_size != 1 or shuffle or sampler is not None or drop_last
        ):
            raise ValueError(
                "batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, "
                "and drop_last"
            )
        if batch_size is None and drop_last:
            raise ValueError(
                "batch_size=None option disables auto-batching and is mutually exclusive with "
                "drop_last"
            )
        self.dataset, self.batch_size, self.drop_last = dataset, batch_size, drop_last
        self.num_workers, self.generator = num_workers, generator
        self.pin_memory, self.timeout, self.worker_init_fn = pin_memory, timeout, worker_init_fn
        self.prefetch_factor, self.persistent_workers = prefetch_factor, persistent_workers
        if isinstance(dataset, IterableDataset):
            _check_iterable_options(shuffle, sampler, batch_sampler)
        if sampler is None:
            sampler = (
                RandomSampler(dataset, generator=generator)
                if shuffle
                else SequentialSampler(dataset)
            )
        self.sampler = sampler
        if batch_sampler is None and batch_size is not None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_sampler = batch_sampler
        self.collate_fn = collate_fn

    def __iter__(self):
        if isinstance(self.dataset, IterableDataset):
            yield from self._iterable_batches()
            return
        if self.batch_sampler is None:
            for index in self.sampler:
                sample = self.dataset[index]
                yield self.collate_fn(sample) if self.collate_fn else sample
            return
        for indices in self.batch_sampler:
            yield self._batch(indices)

    def _batch(self, indices):
        if self.collate_fn is None and isinstance(self.dataset, TensorDataset):
            key = creation.tensor(indices, dtype="int64")
            return [t[key.to(t.device)] for t in self.dataset.tensors]
        collate = self.collate_fn or default_collate
        return collate([self.dataset[i] for i in indices])

    def _iterable_batches(self):
        collate = self.collate_fn or (default_collate if self.batch_size is not None else None)
        if self.batch_size is None:
            for sample in self.dataset:
                yield collate(sample) if collate else sample
            return
        batch = []
        for sample in self.dataset:
            batch.append(sample)
            if len(batch) == self.batch_size:
                yield collate(batch)
                batch = []
        if batch and not self.drop_last:
            yield collate(batch)

    def __len__(self) -> int:
        if isinstance(self.dataset, IterableDataset):
            return self._iterable_length()
        return len(self.batch_sampler) if self.batch_sampler is not None else len(self.sampler)

    def _iterable_length(self) -> int:
        """Batches an iterable dataset gives, from its ``__len__`` (a TypeError without one)."""
        samples = len(self.dataset)
        if self.batch_size is None:
            return samples
        if self.drop_last:
            return samples // self.batch_size
        return -(-samples // self.batch_size)


def _check_iterable_options(shuffle, sampler, batch_sampler) -> None:
    """An iterable dataset decides its own order: no shuffling and no samplers, as PyTorch."""
    for name, value in (("shuffle", shuffle), ("sampler", sampler)):
        if value:
            raise ValueError(
                f"DataLoader with IterableDataset: expected unspecified {name} option, but got "
                f"{name}={value}"
            )
    if batch_sampler is not None:
        raise ValueError(
            f"DataLoader with IterableDataset: expected unspecified batch_sampler option, but got "
            f"batch_sampler={batch_sampler}"
        )


def get_worker_info():
    """Always ``None``: minigrad's DataLoader loads every batch in the calling process, which is
    what PyTorch's ``get_worker_info()`` returns there too (so an IterableDataset that splits its
    stream between workers yields the whole stream)."""
    return None
