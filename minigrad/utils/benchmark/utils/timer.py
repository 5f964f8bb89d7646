"""``Timer``: time a Python statement, as ``torch.utils.benchmark.Timer`` (built on the standard
library's ``timeit``; ``num_threads`` sets minigrad's BLAS threads while it measures)."""

from __future__ import annotations

import contextlib
import enum
import sys
import textwrap
import time
import timeit as _timeit

from .common import Measurement, TaskSpec


class Language(enum.Enum):
    PYTHON = 0
    CPP = 1


@contextlib.contextmanager
def _threads(n: int):
    from .... import _runtime

    before = _runtime.get_num_threads()
    _runtime.set_num_threads(n)
    try:
        yield
    finally:
        _runtime.set_num_threads(before)


def _dedent(code: str) -> str:
    """An indented triple-quoted statement runs as written, as PyTorch's Timer allows."""
    code = textwrap.dedent(code)
    return (code[1:] if code.startswith("\n") else code).rstrip()


def _namespace(globals_) -> dict:
    """A copy of ``globals`` with ``torch`` bound to minigrad unless given, as PyTorch's Timer
    binds its ``torch``: statements such as ``"torch.tanh(x)"`` need no import."""
    namespace = dict(globals_ or {})
    namespace.setdefault("torch", sys.modules[__name__.split(".")[0]])
    return namespace


class Timer:
    """Time ``stmt`` after running ``setup`` (and ``global_setup``) in a copy of ``globals``.

    Example:
        >>> t = Timer("x @ x", setup="x = minigrad.randn(64, 64)", globals={"minigrad": minigrad})
        >>> m = t.blocked_autorange(min_run_time=0.05)
        >>> m.median  # seconds per run
    """

    def __init__(
        self, stmt="pass", setup="pass", global_setup="", timer=time.perf_counter, globals=None,
        label=None, sub_label=None, description=None, env=None, num_threads=1,
        language=Language.PYTHON,
    ):  # fmt: skip
        if language in (Language.CPP, "cpp", "c++"):
            raise NotImplementedError("minigrad.utils.benchmark.Timer: only Python statements "
                                      "can be timed (language='cpp' needs PyTorch's C++ build)")  # fmt: skip
        if language not in (Language.PYTHON, "py", "python"):
            raise ValueError(f"Invalid language `{language}`.")
        if not isinstance(stmt, str):
            raise ValueError(f"Timer: stmt must be a string, got {type(stmt).__name__}")
        if not isinstance(num_threads, int) or num_threads < 1:
            raise ValueError(f"Timer: num_threads must be a positive int, got {num_threads!r}")
        stmt, setup = _dedent(stmt), _dedent(setup)
        self._task_spec = TaskSpec(
            stmt=stmt, setup=setup, global_setup=global_setup, label=label, sub_label=sub_label,
            description=description, env=env, num_threads=num_threads,
        )  # fmt: skip
        setup_code = "\n".join(s for s in (global_setup, setup) if s)
        self._timer = _timeit.Timer(stmt, setup_code or "pass", timer, _namespace(globals))

    def _time(self, number: int) -> float:
        with _threads(self._task_spec.num_threads):
            return self._timer.timeit(number)

    def timeit(self, number: int = 1000000) -> Measurement:
        """Run ``stmt`` ``number`` times (after one warm-up call): one measurement."""
        self._time(max(number // 100, 2))  # warm-up, as PyTorch does
        return Measurement(number, [self._time(number)], self._task_spec)

    def repeat(self, repeat: int = -1, number: int = -1):
        raise NotImplementedError("See `Timer.blocked_autorange.`")

    def autorange(self, callback=None):
        raise NotImplementedError("See `Timer.blocked_autorange.`")

    def collect_callgrind(self, *args, **kwargs):
        raise NotImplementedError(
            "Timer.collect_callgrind: instruction counts need valgrind and PyTorch's C++ "
            "bindings; minigrad.utils.benchmark measures wall time only"
        )

    def _block_size(self) -> int:
        """Runs per block: the first power of ten whose block takes over 1 ms."""
        number = 1
        while self._time(number) < 1e-3 and number < 10**9:
            number *= 10
        return number

    def _blocks(self, number, stop, callback):
        times = []
        while not stop(times):
            t = self._time(number)
            times.append(t)
            if callback is not None:
                callback(number, t)
        return times

    def blocked_autorange(self, callback=None, min_run_time: float = 0.2) -> Measurement:
        """Time blocks of runs (each block over 1 ms) until ``min_run_time`` seconds are spent;
        ``callback(number, time)`` sees each block."""
        number = self._block_size()
        times = self._blocks(number, lambda ts: sum(ts) >= min_run_time, callback)
        return Measurement(number, times, self._task_spec)

    def adaptive_autorange(
        self, threshold: float = 0.1, *, min_run_time: float = 0.01, max_run_time: float = 10.0,
        callback=None,
    ) -> Measurement:  # fmt: skip
        """Time blocks until IQR / median is under ``threshold`` (after at least
        ``min_run_time`` seconds and 4 blocks) or ``max_run_time`` seconds are spent."""
        number = self._block_size()

        def done(ts):
            total = sum(ts)
            if total >= max_run_time:
                return True
            if total < min_run_time or len(ts) < 4:
                return False
            return Measurement(number, ts, self._task_spec).meets_confidence(threshold)

        return Measurement(number, self._blocks(number, done, callback), self._task_spec)
