"""Paths and file objects: atomic writes that keep the target's permissions, and safe opening."""

from __future__ import annotations

import contextlib
import os
import stat
import uuid

__all__ = ["atomic_write", "describe", "open_source"]


def atomic_write(path, write) -> None:
    """Call ``write(fh)`` on a temporary file beside ``path``, then rename it over ``path``.

    A crash leaves the previous file intact and no temporary file behind. Saving over an
    existing file keeps its permission bits (a ``0600`` checkpoint stays ``0600``); a symlink is
    written through, to the file it points at, as ``open(path, "wb")`` would.
    """
    target = os.path.realpath(os.fspath(path))
    directory, base = os.path.split(target)
    tmp = os.path.join(directory, f".{base}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = None
    # Over an existing file: 0o600 until written, then its mode, so that a private checkpoint
    # is never readable by others, even briefly. A new file gets 0o666 less the umask.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(tmp, flags, 0o666 if mode is None else 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def describe(f) -> str:
    """How error messages name ``f``: its path, or its file object's name."""
    if hasattr(f, "read") or hasattr(f, "write"):
        return repr(getattr(f, "name", None) or f"<{type(f).__name__}>")
    return repr(os.fspath(f))


@contextlib.contextmanager
def open_source(f):
    """``(fh, size)`` for a path or a readable, seekable binary file object (left open)."""
    fh = f if hasattr(f, "read") else open(f, "rb")  # closed below
    try:
        start = fh.tell()
        size = fh.seek(0, os.SEEK_END)
        fh.seek(start)
        yield fh, size
    finally:
        if fh is not f:
            fh.close()
