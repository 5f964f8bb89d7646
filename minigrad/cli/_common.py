"""Shared pieces of the ``minigrad`` command: its error type, device checks, progress bars."""

from __future__ import annotations

import sys

from .. import _runtime, backend, cuda


class CLIError(Exception):
    """A user-facing failure: printed as one line on stderr, exit code 2, no traceback."""


def check_device(name: str) -> str:
    """``name`` if it is a usable device, else a :class:`CLIError` saying why not."""
    try:
        dev = backend.device(name)
    except (RuntimeError, ValueError) as e:
        raise CLIError(f"invalid device {name!r}: {one_line(e)}") from None
    if dev.type == "cuda" and not cuda.is_available():
        raise CLIError(
            f"device {name!r} is not available: it needs CuPy and an NVIDIA GPU "
            "(pip install 'minigrad[cuda]'; `minigrad info` shows what was found)"
        )
    if dev.type == "cuda" and (dev.index or 0) >= cuda.device_count():
        raise CLIError(f"device {name!r} does not exist: {cuda.device_count()} CUDA device(s)")
    return str(dev)


def set_threads(args) -> None:
    """Apply ``--threads`` when given; otherwise minigrad's import-time policy stands."""
    threads = getattr(args, "threads", None)
    if threads is not None:
        _runtime.set_num_threads(threads)


def one_line(error: BaseException | str) -> str:
    """The message of ``error`` squeezed onto one line."""
    return " ".join(str(error).split()) or type(error).__name__


def progress(iterable, total: int | None = None, desc: str = "", enabled: bool = True):
    """``tqdm(iterable)`` when tqdm is installed and ``enabled``, else ``iterable`` itself.

    tqdm is optional; without it the caller prints a line per epoch instead.
    """
    if not enabled:
        return iterable
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return iterable
    return tqdm(iterable, total=total, desc=desc, leave=False, file=sys.stderr, dynamic_ncols=True)


def has_tqdm() -> bool:
    try:
        import tqdm  # noqa: F401
    except ImportError:
        return False
    return True
