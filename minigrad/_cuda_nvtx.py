"""``minigrad.cuda.nvtx``: NVTX ranges and marks, which profilers (Nsight Systems) show on
the timeline, through CuPy's ``cupy.cuda.nvtx``. Without a GPU (or without NVTX in CuPy)
each raises ``RuntimeError``, as in PyTorch's CPU build."""

from __future__ import annotations

import contextlib
import threading

from ._cuda_common import backend_of, usable

_depth = threading.local()  # ranges pushed and not yet popped, per thread (as NVTX's)


def _nvtx():
    if usable():
        nvtx = backend_of().xp.cuda.nvtx
        if nvtx.available:
            return nvtx
    raise RuntimeError("NVTX functions not installed. Are you sure you have a CUDA build?")


def range_push(msg: str) -> int:
    """Start a nested range named ``msg``; returns its zero-based depth."""
    _nvtx().RangePush(msg)
    depth = getattr(_depth, "n", 0)
    _depth.n = depth + 1
    return depth


def range_pop() -> int:
    """End the innermost range; returns the zero-based depth of the range ended (-1: none)."""
    _nvtx().RangePop()
    _depth.n = getattr(_depth, "n", 0) - 1
    return _depth.n if _depth.n >= 0 else -1


def range_start(msg: str) -> int:
    """Start a range that may end on another thread; returns its id for :func:`range_end`."""
    return int(_nvtx().RangeStart(msg, -1))  # (-1: the default colour)


def range_end(range_id: int) -> None:
    """End the range :func:`range_start` returned ``range_id`` for."""
    _nvtx().RangeEnd(range_id)


def mark(msg: str) -> None:
    """An instant event named ``msg``."""
    _nvtx().Mark(msg)


@contextlib.contextmanager
def range(msg: str, *args, **kwargs):
    """A range around the ``with`` body, named ``msg.format(*args, **kwargs)``."""
    range_push(msg.format(*args, **kwargs))
    try:
        yield
    finally:
        range_pop()
