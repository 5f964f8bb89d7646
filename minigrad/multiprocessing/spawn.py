"""``spawn``/``start_processes``: run ``fn(i, *args)`` in ``nprocs`` processes, as
``torch.multiprocessing.spawn`` (the launcher of data-parallel training scripts), and report a
child's exception or abnormal exit in the parent with the child's traceback."""

from __future__ import annotations

import multiprocessing
import signal
import sys
import traceback
from multiprocessing import connection


class ProcessException(Exception):  # noqa: N818 - PyTorch's names
    """A child process failed: ``error_index`` is its rank, ``pid`` its process id."""

    def __init__(self, msg: str, error_index: int, pid: int):
        super().__init__(msg)
        self.msg, self.error_index, self.pid = msg, error_index, pid

    def __reduce__(self):
        return type(self), (self.msg, self.error_index, self.pid)


class ProcessRaisedException(ProcessException):
    """A child raised an exception; the message holds its traceback."""


class ProcessExitedException(ProcessException):
    """A child exited with a nonzero code or was killed by a signal."""

    def __init__(
        self, msg: str, error_index: int, error_pid: int, exit_code: int, signal_name=None
    ):
        super().__init__(msg, error_index, error_pid)
        self.exit_code, self.signal_name = exit_code, signal_name

    def __reduce__(self):
        args = (self.msg, self.error_index, self.pid, self.exit_code, self.signal_name)
        return type(self), args


def _wrap(fn, i, args, error_queue):
    try:
        fn(i, *args)
    except KeyboardInterrupt:
        pass  # the parent is shutting the children down
    except Exception:
        error_queue.put(traceback.format_exc())
        sys.exit(1)


class ProcessContext:
    """The started processes; :meth:`join` waits for them and raises the first failure."""

    def __init__(self, processes, error_queues):
        self.processes, self.error_queues = processes, error_queues

    def pids(self) -> list:
        return [p.pid for p in self.processes]

    def join(self, timeout=None) -> bool:
        """Wait until a process finishes (or ``timeout`` seconds); True once all have finished.
        When one failed, the others are terminated and its error is raised here."""
        running = [p for p in self.processes if p.exitcode is None]
        if running:  # wake on the first to finish, so a failure is seen at once
            connection.wait([p.sentinel for p in running], timeout)
            for p in running:
                if not p.is_alive():
                    p.join()
        failed = [(i, p) for i, p in enumerate(self.processes) if p.exitcode not in (None, 0)]
        if not failed:
            return all(p.exitcode == 0 for p in self.processes)
        for p in self.processes:
            if p.is_alive():
                p.terminate()
            p.join()
        index, process = failed[0]
        if not self.error_queues[index].empty():
            error = self.error_queues[index].get()
            message = f"\n\n-- Process {index} terminated with the following error:\n{error}"
            raise ProcessRaisedException(message, index, process.pid)
        code = process.exitcode
        name = signal.Signals(-code).name if code < 0 else None
        what = f"signal {name}" if name else f"exit code {code}"
        raise ProcessExitedException(
            f"process {index} terminated with {what}", index, process.pid, code, name
        )


def start_processes(fn, args=(), nprocs: int = 1, join: bool = True, daemon: bool = False,
                    start_method: str = "spawn"):  # fmt: skip
    """Start ``nprocs`` processes running ``fn(i, *args)`` with ``start_method``; wait for them
    when ``join`` (raising a child's failure), else return their :class:`ProcessContext`."""
    context = multiprocessing.get_context(start_method)
    processes, error_queues = [], []
    for i in range(nprocs):
        queue = context.SimpleQueue()
        process = context.Process(target=_wrap, args=(fn, i, args, queue), daemon=daemon)
        process.start()
        processes.append(process)
        error_queues.append(queue)
    processes_context = ProcessContext(processes, error_queues)
    if not join:
        return processes_context
    while not processes_context.join():
        pass
    return None


def spawn(fn, args=(), nprocs: int = 1, join: bool = True, daemon: bool = False,
          start_method: str = "spawn"):  # fmt: skip
    """:func:`start_processes` with the ``spawn`` start method by default (fresh interpreters:
    ``fn`` must be importable, a module-level function)."""
    return start_processes(fn, args, nprocs, join, daemon, start_method)
