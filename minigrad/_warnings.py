"""Warnings attributed to the caller's code, not to minigrad's internals.

A warning about how minigrad was called (a deprecated argument, a broadcast target, an implicit
``dim``) should point at the line of the program that made the call, as PyTorch's do. Counting
``stacklevel`` by hand breaks whenever a decorator or a helper adds a frame, so
:func:`warn_user` walks the stack to the first frame outside the minigrad package instead (what
Python 3.12's ``skip_file_prefixes`` does).
"""

from __future__ import annotations

import os
import sys
import warnings

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn_user(message: str, category: type[Warning] = UserWarning) -> None:
    """Issue ``message`` as a warning located at the nearest caller outside minigrad."""
    frame, level = sys._getframe(0), 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


_said_once: set = set()  # the keys of the once-per-program warnings already given


def warn_user_once(key, message: str, category: type[Warning] = UserWarning) -> None:
    """:func:`warn_user`, but only the first time for ``key`` in this process (PyTorch's
    ``TORCH_WARN_ONCE``: a loop over the call says it once)."""
    if key not in _said_once:
        _said_once.add(key)
        warn_user(message, category)
