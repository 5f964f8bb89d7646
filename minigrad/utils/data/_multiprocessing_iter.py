"""The main process's side of DataLoader worker processes: starting them, handing out index
batches round-robin, putting the batches back in sampler order, and shutting the workers down
(``torch.utils.data.dataloader._MultiProcessingDataLoaderIter``).

Flow: every batch number ``n`` of an epoch goes to one worker's index queue, at most
``prefetch_factor * num_workers`` batches in flight; each answer arrives on the shared result
queue and is handed out at once (``in_order=False``) or kept until every earlier batch has
been handed out (``in_order=True``). A thread moves the answers from the pipe to a
thread-safe queue, and the main process waits on that in short slices, checking that the
workers are alive, so that a killed worker raises instead of hanging.
"""

from __future__ import annotations

import itertools
import multiprocessing
import pickle
import queue
import threading
import time
import weakref

from ..._public_name import PublicRepr
from ._worker import ExceptionWrapper, IterationEnd, WorkerConfig, worker_loop

# Longest wait (seconds) between checks that the workers are alive.
_LIVENESS_INTERVAL_S = 1.0
# How long a shutdown waits for workers to finish their current batch before terminating them.
_JOIN_TIMEOUT_S = 5.0


def get_context(multiprocessing_context):
    """The multiprocessing context: the platform's default, a start-method name ("fork",
    "spawn", "forkserver") or a context object."""
    if multiprocessing_context is None:
        return multiprocessing.get_context()
    if isinstance(multiprocessing_context, str):
        methods = multiprocessing.get_all_start_methods()
        if multiprocessing_context not in methods:
            raise ValueError(
                "multiprocessing_context option should specify a valid start method in "
                f"{methods!r}, but got multiprocessing_context={multiprocessing_context!r}"
            )
        return multiprocessing.get_context(multiprocessing_context)
    if not isinstance(multiprocessing_context, multiprocessing.context.BaseContext):
        raise TypeError(
            "multiprocessing_context option should be a valid context object or a string "
            f"specifying the start method, but got multiprocessing_context="
            f"{multiprocessing_context!r}"
        )
    return multiprocessing_context


class _BaseDataLoaderIter(PublicRepr):
    """What ``iter(loader)`` returns, with or without workers (PyTorch's common base of its
    DataLoader iterators, which libraries test with ``isinstance``)."""

    def __iter__(self):
        return self


class MultiProcessingDataLoaderIter(_BaseDataLoaderIter):
    """Iterates over a DataLoader's batches loaded by ``loader.num_workers`` processes.

    Holds no reference to the loader (the loader may hold this iterator, for persistent
    workers): dropping the last reference shuts the workers down.
    """

    def __init__(self, loader, base_seed: int) -> None:
        self._num_workers = loader.num_workers
        self._timeout, self._in_order = loader.timeout, loader.in_order
        self._persistent = loader.persistent_workers
        self._capacity = max(1, loader.prefetch_factor * loader.num_workers)
        self._iterable = loader._is_iterable()
        self._index_sampler = loader._index_sampler()
        self.broken, self._epoch = False, 0
        self._workers, self._index_queues = [], []
        context = get_context(loader.multiprocessing_context)
        self._result_queue, self._results = context.Queue(), queue.SimpleQueue()
        stop = threading.Event()
        relay = threading.Thread(
            target=_relay_results, args=(self._result_queue, self._results, stop), daemon=True
        )
        self._finalizer = weakref.finalize(  # set first: stops the workers started if one fails
            self,
            _shutdown_workers,
            self._workers,
            self._index_queues,
            self._result_queue,
            relay,
            stop,
        )
        self._start_workers(loader, context, base_seed)
        relay.start()  # after the forks: a child need not inherit a thread mid-read
        self.reset()

    def _start_workers(self, loader, context, base_seed: int) -> None:
        """Start the worker processes, each with its own index queue and the shared result
        queue (daemons: they never outlive the main process)."""
        for worker_id in range(self._num_workers):
            index_queue = context.Queue()
            index_queue.cancel_join_thread()  # a dead worker must not block our exit
            config = WorkerConfig(
                worker_id=worker_id,
                num_workers=self._num_workers,
                base_seed=base_seed,
                dataset=loader.dataset,
                iterable=self._iterable,
                auto_collation=loader.batch_sampler is not None or self._iterable,
                batch_size=loader.batch_size,
                drop_last=loader.drop_last,
                collate_fn=loader.collate_fn,
                worker_init_fn=loader.worker_init_fn,
                index_queue=index_queue,
                result_queue=self._result_queue,
            )
            process = context.Process(target=worker_loop, args=(config,), daemon=True)
            process.start()
            self._workers.append(process)
            self._index_queues.append(index_queue)

    def reset(self) -> None:
        """Start a new epoch: a fresh pass of the sampler, and the first batches handed out.
        Answers still on their way from an earlier epoch are recognised and dropped."""
        self._epoch += 1
        self._sampler_iter = itertools.repeat(None) if self._iterable else iter(self._index_sampler)
        self._send_idx = self._rcvd_idx = 0
        self._pending = {}  # batch number -> worker id, for batches asked for and not back
        self._ready = {}  # batch number -> result, back early (in_order=True)
        self._active = [True] * self._num_workers
        self._worker_cycle = itertools.cycle(range(self._num_workers))
        for _ in range(self._capacity):
            self._try_put_index()

    def __iter__(self):
        return self

    def __next__(self):
        """The next batch: the one after the last in sampler order (``in_order=True``), or
        the first to arrive; ``StopIteration`` once the sampler (or every worker's copy of an
        iterable dataset) is exhausted and every batch asked for is handed out."""
        if self.broken:
            raise RuntimeError(self._broken_message)
        while True:
            while self._rcvd_idx < self._send_idx and not self._waiting_for(self._rcvd_idx):
                self._rcvd_idx += 1  # handed out already (in_order=False) or never coming
            if self._rcvd_idx in self._ready:
                result = self._ready.pop(self._rcvd_idx)
                self._rcvd_idx += 1
                self._try_put_index()  # its slot is free now
                return self._process(result)
            if not self._pending:
                self._end_epoch()
            epoch, number, payload = self._get_result()
            if epoch != self._epoch or number not in self._pending:
                continue  # an answer to an epoch that was left early
            worker_id = self._pending.pop(number)
            result = pickle.loads(payload)
            if isinstance(result, IterationEnd):
                self._retire(worker_id)
            elif number == self._rcvd_idx or not self._in_order:
                self._try_put_index()
                return self._process(result)
            else:
                self._ready[number] = result
            self._try_put_index()

    def _waiting_for(self, number: int) -> bool:
        return number in self._pending or number in self._ready

    def _try_put_index(self) -> None:
        """Hand the next index batch to the next worker in turn that still has data, unless
        ``prefetch_factor * num_workers`` batches are in flight or back early and waiting for
        an earlier one (as PyTorch: a slow worker must not let the others run ahead without
        bound)."""
        if len(self._pending) + len(self._ready) >= self._capacity:
            return
        worker_id = next((w for w in self._next_workers() if self._active[w]), None)
        if worker_id is None:
            return
        index = next(self._sampler_iter, _DONE)
        if index is _DONE:
            return
        self._index_queues[worker_id].put((self._epoch, self._send_idx, index))
        self._pending[self._send_idx] = worker_id
        self._send_idx += 1

    def _next_workers(self):
        return (next(self._worker_cycle) for _ in range(self._num_workers))

    def _retire(self, worker_id: int) -> None:
        """A worker's copy of an iterable dataset is exhausted: ask it for nothing more this
        epoch (and, without persistent workers, let it exit)."""
        self._active[worker_id] = False
        for number in [n for n, w in self._pending.items() if w == worker_id]:
            del self._pending[number]  # asked before its end was known; it will not answer
        if not self._persistent:
            self._index_queues[worker_id].put(None)

    def _process(self, result):
        """A batch, or the exception a worker caught, raised here."""
        if isinstance(result, ExceptionWrapper):
            result.reraise()
        return result

    def _end_epoch(self):
        if not self._persistent:
            self.shutdown()
        raise StopIteration

    def _get_result(self):
        """The next answer from any worker. Waits in short slices so that a dead worker
        or an expired ``timeout`` raises instead of waiting forever."""
        deadline = time.monotonic() + self._timeout if self._timeout > 0 else None
        while True:
            wait = _LIVENESS_INTERVAL_S
            if deadline is not None:
                wait = min(wait, deadline - time.monotonic())
            try:
                return self._results.get(timeout=max(wait, 0.0))
            except queue.Empty:
                self._check_workers()
                if deadline is not None and time.monotonic() >= deadline:
                    raise RuntimeError(
                        f"DataLoader timed out after {self._timeout} seconds"
                    ) from None

    def _check_workers(self) -> None:
        """Raise if a worker the epoch still waits on has died (killed, out of memory)."""
        waited_on = set(self._pending.values())
        dead = [w for w in waited_on if not self._workers[w].is_alive()]
        if not dead:
            return
        details = ", ".join(
            f"worker {w} (pid {self._workers[w].pid}, exit code {self._workers[w].exitcode})"
            for w in dead
        )
        self.broken = True
        self._broken_message = (
            f"DataLoader worker process exited unexpectedly: {details}. It was killed (by a "
            "signal, or by the system when out of memory) or exited on its own (see its output "
            "on stderr); its batches cannot be finished."
        )
        self.shutdown()
        raise RuntimeError(self._broken_message)

    def shutdown(self) -> None:
        """Stop the workers now (also done when this iterator is garbage-collected)."""
        self._finalizer()

    _shutdown_workers = shutdown  # PyTorch's name (Lightning calls it)

    @property
    def closed(self) -> bool:
        return not self._finalizer.alive


def _relay_results(result_queue, results, stop) -> None:
    """Move the workers' answers from their pipe to ``results``, a thread-safe queue, until
    ``stop`` is set.

    Why a thread: a worker killed half-way through writing a batch (a big batch waits in the
    pipe while the main process trains) leaves a message that never completes, and whoever
    reads it waits forever. Only this thread does; the main thread waits on ``results`` in
    short slices, sees that the worker died, and raises.
    """
    while not stop.is_set():
        try:
            results.put(result_queue.get(timeout=0.1))
        except queue.Empty:
            continue
        except (OSError, EOFError, ValueError):
            return  # the queue was closed


def _shutdown_workers(workers, index_queues, result_queue, relay, stop) -> None:
    """Stop every worker (letting each finish its current batch for a few seconds, then
    terminating it), join them so that no zombie is left, and close the queues.

    Run by a ``weakref.finalize`` holding the workers and queues rather than by ``__del__``:
    when the iterator dies in a reference cycle (a traceback kept by the caller), the garbage
    collector may already have closed the pipes of queues in that cycle, and the stop
    requests would never arrive.
    """
    for index_queue in index_queues:
        index_queue.put(None)
    deadline = time.monotonic() + _JOIN_TIMEOUT_S
    for process in workers:
        process.join(timeout=max(0.0, deadline - time.monotonic()))
    for process in workers:
        if process.is_alive():
            process.terminate()
            process.join()
    stop.set()
    if relay.is_alive():
        relay.join(timeout=1.0)
    queues = index_queues if relay.is_alive() else (*index_queues, result_queue)
    for q in queues:  # (a relay stuck on a half-written batch keeps its queue open)
        q.cancel_join_thread()
        q.close()


_DONE = object()
