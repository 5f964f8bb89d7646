"""The DataLoader and ``default_collate`` (``torch.utils.data.dataloader``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from ... import accelerator
from ..._public_name import PublicRepr
from ..._warnings import warn_user
from ._collate import default_collate
from ._fetch import fetch_map, iterable_batches
from ._multiprocessing_iter import MultiProcessingDataLoaderIter, _BaseDataLoaderIter, get_context
from ._worker import WorkerInfo, get_worker_info
from .dataset import IterableDataset, _T_co
from .sampler import BatchSampler, RandomSampler, SequentialSampler, random_seed

# PyTorch's type aliases, which libraries import to annotate (opacus: _collate_fn_t).
_T = TypeVar("_T")
_worker_init_fn_t = Callable[[int], None]
_collate_fn_t = Callable[[list[_T]], Any]

__all__ = ["DataLoader", "WorkerInfo", "default_collate", "get_worker_info"]


_MultiProcessingDataLoaderIter = MultiProcessingDataLoaderIter  # PyTorch's name


class _DatasetKind:
    """PyTorch's kinds of dataset, as a loader's private ``_dataset_kind`` names them (fastai's
    stand-in loader sets ``Iterable``)."""

    Map = 0
    Iterable = 1


def _batches_from_private_fields(loader):
    """The batches PyTorch's single-process iterator makes of any object with its loader's
    private fields (``_index_sampler``, ``_dataset_kind``, ``_auto_collation``, ``dataset``,
    ``collate_fn``, ``drop_last``): what ``_SingleProcessDataLoaderIter(loader)`` iterates
    over when a library (fastai) hands it a loader of its own."""
    indices = iter(loader._index_sampler)
    if loader._dataset_kind == _DatasetKind.Iterable:
        items = iter(loader.dataset)
        for index in indices:
            if loader._auto_collation:
                batch = [item for _, item in zip(index, items)]
                if not batch or (loader.drop_last and len(batch) < len(index)):
                    return
            else:
                batch = next(items, _DatasetKind)
                if batch is _DatasetKind:  # (a marker no dataset yields) the data ran out
                    return
            yield loader.collate_fn(batch)
    else:
        for index in indices:
            data = [loader.dataset[i] for i in index] if loader._auto_collation else None
            yield loader.collate_fn(loader.dataset[index] if data is None else data)


class _SingleProcessDataLoaderIter(_BaseDataLoaderIter):
    """The batches of a DataLoader without workers, loaded in this process as they are asked
    for; ``len()`` is the loader's. Made as PyTorch's, from the loader alone, it reads the
    loader's private fields (:func:`_batches_from_private_fields`)."""

    def __init__(self, loader, batches=None) -> None:
        if batches is None:
            batches = _batches_from_private_fields(loader)
        self._loader, self._batches = loader, batches

    def __next__(self):
        return next(self._batches)

    def __len__(self) -> int:
        return len(self._loader)


class DataLoader(PublicRepr, Generic[_T_co]):
    """Iterates over a dataset in batches.

    Args:
        dataset: a map-style dataset, or an :class:`IterableDataset` (batched in the order it
            yields, so without ``shuffle`` or samplers).
        batch_size: samples per batch (None yields single samples, uncollated).
        shuffle: reshuffle every epoch (with ``generator`` for reproducible order).
        sampler / batch_sampler: custom index order or batches (exclusive with shuffle).
        num_workers: how many worker processes load batches (0: the calling process loads
            them). See "Worker processes" below.
        collate_fn: turns a list of samples into a batch (default: :func:`default_collate`).
        pin_memory: accepted for compatibility (no effect: there is no pinned host memory;
            without a GPU it warns, as PyTorch).
        drop_last: drop the last, smaller batch.
        timeout: seconds to wait for a batch from the workers before a ``RuntimeError``
            (0: wait as long as it takes; a dead worker raises either way).
        worker_init_fn: called as ``worker_init_fn(worker_id)`` in each worker, after seeding
            and before loading.
        multiprocessing_context: how workers start: None (the platform's default; "fork" on
            Linux), "fork", "spawn", "forkserver" or a ``multiprocessing`` context.
        generator: the ``minigrad.Generator`` that ``shuffle`` and the workers' base seed
            draw from (default: the global generator).
        prefetch_factor: batches in flight per worker (default 2 with workers).
        persistent_workers: keep the workers alive from one epoch to the next.
        pin_memory_device: accepted for compatibility (no effect).
        in_order: with workers, hand out batches in sampler order (True) or as they arrive.

    Worker processes (``num_workers > 0``), as PyTorch's: each worker gets the index batches
    of the sampler in turn (batch ``n`` goes to worker ``n % num_workers``), runs
    ``dataset[i]`` and ``collate_fn`` there, and sends the batch back pickled; the batches
    come out in sampler order, the same as with ``num_workers=0``. With ``spawn`` or
    ``forkserver`` the dataset, ``collate_fn`` and ``worker_init_fn`` must be picklable
    (defined at module level). In a worker, :func:`get_worker_info` says which worker it is.
    Every ``iter(loader)`` draws a base seed from ``generator`` (or the global generator),
    as PyTorch does even without workers (but not when it reuses persistent workers, which
    keep their seeds; so from the second epoch on, persistent workers shuffle differently
    from ``num_workers=0``, as in PyTorch); worker ``k`` seeds minigrad's generator and
    Python's ``random`` with ``base_seed + k``, and NumPy's global generator from both, so
    random augmentations differ between workers and repeat with the seed. An
    :class:`IterableDataset` is iterated by each worker on its own copy: without splitting
    the stream by ``get_worker_info()`` every worker yields all of it (duplicates, as in
    PyTorch); batches alternate between workers until each runs out. Workers stop at the end
    of each epoch, when the loop is left early (the iterator is dropped), or with the
    loader (``persistent_workers=True``). An exception in a worker is raised again in the
    main process with the worker's id and traceback in its message; a worker that dies
    raises a ``RuntimeError``.

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
        if num_workers == 0 and multiprocessing_context is not None:
            raise ValueError(
                "multiprocessing_context can only be used with multi-process loading "
                "(num_workers > 0), but got num_workers=0"
            )
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError(
                "prefetch_factor option could only be specified in multiprocessing.let "
                "num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to None."
            )
        if prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
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
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        self.prefetch_factor, self.persistent_workers = prefetch_factor, persistent_workers
        if multiprocessing_context is not None:
            get_context(multiprocessing_context)  # a bad name or type fails here, as PyTorch
        self.multiprocessing_context, self.in_order = multiprocessing_context, in_order
        self._iterator = None  # the persistent workers' iterator
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
        if self.num_workers == 0:
            self._warn_pin_memory()
            self._draw_base_seed()
            return _SingleProcessDataLoaderIter(self, self._single_process_batches())
        if not self.persistent_workers:
            self._warn_pin_memory()
            return MultiProcessingDataLoaderIter(self, self._draw_base_seed())
        if self._iterator is None or self._iterator.closed or self._iterator.broken:
            self._warn_pin_memory()
            self._iterator = MultiProcessingDataLoaderIter(self, self._draw_base_seed())
        else:
            self._iterator.reset()  # same workers, same seeds: no new base seed, as PyTorch
        return self._iterator

    def _warn_pin_memory(self) -> None:
        """PyTorch's warning, where each of its iterators is made, that ``pin_memory=True``
        does nothing without an accelerator (batches are pinned for a GPU's copies only)."""
        if self.pin_memory and not accelerator.is_available():
            warn_user(
                "'pin_memory' argument is set as true but no accelerator is found, then device "
                "pinned memory won't be used."
            )

    def _draw_base_seed(self) -> int:
        """The seed workers derive theirs from, drawn from ``generator`` whenever workers are
        started, and at every ``iter(loader)`` without workers (PyTorch draws it there too, so
        that ``num_workers=0`` and ``N`` consume ``generator`` alike and shuffle alike)."""
        return random_seed(self.generator)  # a 0-d int64 random_(), as PyTorch

    def _is_iterable(self) -> bool:
        return isinstance(self.dataset, IterableDataset)

    def _index_sampler(self):
        """What each batch is loaded from: the batch sampler's index lists, or the sampler's
        indices when automatic batching is off (``batch_size=None``)."""
        return self.batch_sampler if self.batch_sampler is not None else self.sampler

    def _single_process_batches(self):
        if self._is_iterable():
            yield from iterable_batches(
                self.dataset, self.batch_size, self.drop_last, self.collate_fn
            )
            return
        auto_collation = self.batch_sampler is not None
        for index in self._index_sampler():
            yield fetch_map(self.dataset, index, auto_collation, self.collate_fn)

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
