"""What runs inside a DataLoader worker process (``torch.utils.data._utils.worker``).

A worker is seeded, records its :class:`WorkerInfo` (what :func:`get_worker_info` returns
there), calls ``worker_init_fn``, then answers tasks from its index queue until it is told to
stop or its parent dies. A task is ``(epoch, batch number, index)``; the answer, put on the
result queue shared by all workers, is ``(epoch, batch number, pickled result)``, where the
result is the batch, an :class:`ExceptionWrapper`, or :class:`IterationEnd` once an iterable
dataset's copy in this worker has no more batches.
"""

from __future__ import annotations

import io
import multiprocessing
import pickle
import queue
import random
import sys
import traceback
from dataclasses import dataclass
from multiprocessing.reduction import ForkingPickler
from typing import Any

import numpy as np

from ... import backend
from ...tensor import Tensor
from ._fetch import fetch_map, iterable_batches

# How often (seconds) an idle worker checks that its parent process is still alive.
POLL_INTERVAL_S = 1.0
ORPHANED = object()  # what _next_task gives once the parent process has died

_worker_info = None  # this process's WorkerInfo; stays None in the main process


class WorkerInfo:
    """Who this worker is: ``id`` (0 .. num_workers - 1), ``num_workers``, ``seed`` (the seed
    of minigrad's and Python's generators here) and ``dataset`` (this process's copy).
    Read-only, as PyTorch's."""

    __slots__ = ("id", "num_workers", "seed", "dataset")

    def __init__(self, id: int, num_workers: int, seed: int, dataset) -> None:
        for name, value in zip(self.__slots__, (id, num_workers, seed, dataset)):
            object.__setattr__(self, name, value)

    def __setattr__(self, name, value):
        raise RuntimeError(f"Cannot assign attributes to {type(self).__name__} objects")

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"WorkerInfo({fields})"


def get_worker_info() -> WorkerInfo | None:
    """In a DataLoader worker process, its :class:`WorkerInfo`; ``None`` in the main process.

    An :class:`IterableDataset` uses it to give each worker its own share of the stream
    (otherwise every worker yields the whole stream, as in PyTorch), and ``worker_init_fn``
    to configure each worker's copy of the dataset.

    Example:
        >>> class Range(IterableDataset):
        ...     def __iter__(self):
        ...         info = get_worker_info()
        ...         start, step = (0, 1) if info is None else (info.id, info.num_workers)
        ...         return iter(range(start, 10, step))
    """
    return _worker_info


class IterationEnd:
    """A worker's answer once its copy of an iterable dataset is exhausted."""

    def __init__(self, worker_id: int) -> None:
        self.worker_id = worker_id


class _KeyErrorMessage(str):
    """A KeyError's message shown as written (``KeyError`` shows the repr of its argument,
    which would print a traceback on one line with quoted ``\\n``s)."""

    def __repr__(self) -> str:
        return str(self)


class ExceptionWrapper:
    """An exception raised in a worker, carried to the main process with its traceback text
    (tracebacks themselves do not pickle), and raised there again by :meth:`reraise`."""

    def __init__(self, where: str) -> None:
        exc_type = sys.exc_info()[0]
        self.message = f"Caught {exc_type.__name__} {where}.\nOriginal " + traceback.format_exc()
        try:  # an exception class defined in a function cannot travel: raise a RuntimeError
            pickle.dumps(exc_type)
        except Exception:
            exc_type = RuntimeError
        self.exc_type = exc_type

    def reraise(self):
        """Raise the same exception type with the worker's traceback in its message (a
        ``RuntimeError`` when the type cannot be built from one message)."""
        raise self._exception()  # no local holds it: the traceback must not keep a cycle

    def _exception(self) -> BaseException:
        message = self.message
        if self.exc_type is KeyError:
            message = _KeyErrorMessage(message)
        try:
            return self.exc_type(message)
        except Exception:
            return RuntimeError(message)


@dataclass
class WorkerConfig:
    """Everything a worker process needs, sent once when it starts (pickled for ``spawn`` and
    ``forkserver``, so the dataset, collate_fn and worker_init_fn must then be picklable)."""

    worker_id: int
    num_workers: int
    base_seed: int
    dataset: Any
    iterable: bool
    auto_collation: bool
    batch_size: Any
    drop_last: bool
    collate_fn: Any
    worker_init_fn: Any
    index_queue: Any
    result_queue: Any


def seed_worker(base_seed: int, worker_id: int) -> int:
    """Seed this worker's generators as PyTorch seeds its workers, and return the seed.

    minigrad's generators and Python's ``random`` get ``base_seed + worker_id``; NumPy's
    legacy global generator (``np.random``) gets a seed mixed from both by NumPy's
    ``SeedSequence``, so that it never repeats Python's stream nor another worker's
    (PyTorch does this since 1.9, and the state is the one PyTorch gives).
    """
    seed = base_seed + worker_id
    random.seed(seed)
    # CUDA does not survive fork: a GPU generator inherited from the parent must not be
    # touched here. Dropped, it is made again (from this seed) if the worker ever draws there.
    for device in [d for d in backend._generators if d.type != "cpu"]:
        del backend._generators[device]
    backend.manual_seed(seed)
    np.random.seed(np.random.SeedSequence([worker_id, base_seed]).generate_state(4))
    return seed


def worker_loop(config: WorkerConfig) -> None:
    """The body of a worker process: set up, then answer tasks until told to stop (a ``None``
    task) or until the parent process is gone."""
    global _worker_info
    where = f"in DataLoader worker process {config.worker_id}"
    init_error = None  # raised in the main process as the answer to the first task
    try:
        seed = seed_worker(config.base_seed, config.worker_id)
        _worker_info = WorkerInfo(config.worker_id, config.num_workers, seed, config.dataset)
        if config.worker_init_fn is not None:
            config.worker_init_fn(config.worker_id)
    except Exception:
        init_error = ExceptionWrapper(where)
    epoch, batches, exhausted, orphaned = None, None, False, False
    try:
        while (task := _next_task(config.index_queue)) is not None:
            if task is ORPHANED:
                orphaned = True
                break
            task_epoch, number, index = task
            if task_epoch != epoch:  # a new epoch: a fresh pass over an iterable dataset
                epoch, batches, exhausted = task_epoch, None, False
            if exhausted:
                continue  # the main process stops asking once it sees IterationEnd
            if init_error is not None:
                result, init_error = init_error, None
            else:
                batches, result = _load(config, batches, index, where)
                exhausted = isinstance(result, IterationEnd)
            config.result_queue.put((task_epoch, number, dumps(result, where)))
    except KeyboardInterrupt:
        orphaned = True  # Ctrl-C reaches the whole process group; the main process reports it
    if orphaned:
        # Nobody reads the results any more: exit without flushing them into a full pipe.
        config.result_queue.cancel_join_thread()
    # Otherwise the exit waits for the queue's feeder thread to finish sending: killed
    # half-way, it would keep the lock every worker writes under, and the others would hang.


def _next_task(index_queue):
    """The next task, None when told to stop, or ORPHANED when the parent process has died."""
    while True:
        try:
            return index_queue.get(timeout=POLL_INTERVAL_S)
        except queue.Empty:
            parent = multiprocessing.parent_process()
            if parent is not None and not parent.is_alive():
                return ORPHANED


def _load(config: WorkerConfig, batches, index, where: str):
    """Load one batch: returns the (possibly new) iterator over an iterable dataset's batches
    and the result (a batch, an ExceptionWrapper or IterationEnd)."""
    try:
        if not config.iterable:
            return batches, fetch_map(
                config.dataset, index, config.auto_collation, config.collate_fn
            )
        if batches is None:
            batches = iterable_batches(
                config.dataset, config.batch_size, config.drop_last, config.collate_fn
            )
        return batches, next(batches)
    except StopIteration:
        return batches, IterationEnd(config.worker_id)
    except Exception:
        return batches, ExceptionWrapper(where)


class _BatchPickler(ForkingPickler):
    """Pickles a batch for the result queue. A tensor in shared memory (a slice of a dataset
    that called ``share_memory_``) goes as a copy of its values: the batch is the worker's own,
    and ``Tensor`` pickling refuses shared storage so as never to copy silently what a caller
    meant to share."""

    def reducer_override(self, obj):
        if isinstance(obj, Tensor) and obj.device.type == "cpu" and obj.is_shared():
            copy = obj.detach().clone().requires_grad_(obj.requires_grad)
            return copy.__reduce_ex__(pickle.HIGHEST_PROTOCOL)
        return NotImplemented


def dumps(result, where: str) -> bytes:
    """``result`` pickled in the worker, so that an unpicklable batch becomes an exception for
    the main process (a queue's own pickling fails in a background thread, and the main
    process would wait forever)."""
    buffer = io.BytesIO()
    try:
        _BatchPickler(buffer, pickle.HIGHEST_PROTOCOL).dump(result)
    except Exception:
        buffer = io.BytesIO()
        _BatchPickler(buffer, pickle.HIGHEST_PROTOCOL).dump(
            ExceptionWrapper(f"{where} while sending the batch to the main process")
        )
    return buffer.getvalue()
