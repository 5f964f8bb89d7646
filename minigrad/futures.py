"""``minigrad.futures``: a value that will be set later (``Future``), as ``torch.futures``.

A Future is completed once, with ``set_result`` or ``set_exception``, from any thread;
``wait()`` blocks until then. ``then`` and ``add_done_callback`` run their callback when it
completes (at once if it has). ``minigrad.jit.fork`` returns completed Futures.
"""

from __future__ import annotations

import threading
from typing import Generic, TypeVar

__all__ = ["Future", "collect_all", "wait_all"]


_T = TypeVar("_T")


class Future(Generic[_T]):
    """A result that another thread (or a later call) provides (``Future[Tensor]`` in a type
    annotation, as PyTorch's generic Future).

    Example:
        >>> fut = Future()
        >>> doubled = fut.then(lambda f: f.wait() * 2)
        >>> fut.set_result(5)
        >>> doubled.wait()  # 10
    """

    def __init__(self, *, devices=None) -> None:
        self._done = threading.Condition()
        self._completed = False
        self._value = None
        self._error: BaseException | None = None
        self._callbacks: list = []

    def done(self) -> bool:
        """Whether a result or an exception has been set."""
        return self._completed

    def wait(self):
        """Block until the Future completes; its value, or its exception raised."""
        with self._done:
            self._done.wait_for(lambda: self._completed)
        return self.value()

    def value(self):
        """The value of a completed Future (its exception raised); an error if not done."""
        if not self._completed:
            raise RuntimeError(
                "Future.value(): the Future has not completed yet; call wait() to block until "
                "it does"
            )
        if self._error is not None:
            raise self._error
        return self._value

    def set_result(self, result) -> None:
        """Complete the Future with ``result`` and run its callbacks."""
        self._complete(result, None)

    def set_exception(self, result) -> None:
        """Complete the Future with the exception ``result`` (raised by ``wait``/``value``)."""
        if not isinstance(result, BaseException):
            raise TypeError(f"{result} is of type {type(result)}, not an Exception.")
        self._complete(None, result)

    def _complete(self, value, error) -> None:
        with self._done:
            if self._completed:
                raise RuntimeError(
                    "Attempting to mark a completed Future as complete again. Note that a "
                    "Future can only be marked completed once."
                )
            self._value, self._error, self._completed = value, error, True
            callbacks, self._callbacks = self._callbacks, []
            self._done.notify_all()
        for callback in callbacks:
            callback(self)

    def add_done_callback(self, callback) -> None:
        """Call ``callback(self)`` when the Future completes (now, if it has)."""
        with self._done:
            if not self._completed:
                self._callbacks.append(callback)
                return
        callback(self)

    def then(self, callback) -> Future:
        """A new Future holding ``callback(self)`` once this one completes; an exception in the
        callback completes the new Future with a RuntimeError naming it."""
        chained = Future()

        def run(fut):
            try:
                result = callback(fut)
            except Exception as e:
                error = RuntimeError(
                    f"Got the following error when running the callback: {type(e).__name__}: {e}"
                )
                error.__cause__ = e
                chained.set_exception(error)
                return
            chained.set_result(result)

        self.add_done_callback(run)
        return chained

    def __repr__(self) -> str:
        return f"<minigrad.futures.Future object at {hex(id(self))}>"


def collect_all(futures) -> Future:
    """A Future completed, with the list of ``futures``, once every one of them is."""
    futures = list(futures)
    combined = Future()
    remaining = [len(futures)]
    lock = threading.Lock()
    if not futures:
        combined.set_result([])
        return combined

    def one_done(_):
        with lock:
            remaining[0] -= 1
            last = remaining[0] == 0
        if last:
            combined.set_result(futures)

    for fut in futures:
        fut.add_done_callback(one_done)
    return combined


def wait_all(futures) -> list:
    """The values of all ``futures`` (waiting for each); the first exception is raised."""
    return [fut.wait() for fut in collect_all(futures).wait()]
