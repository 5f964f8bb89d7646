"""``minigrad.backends.mkldnn``, as ``torch.backends.mkldnn``: PyTorch's oneDNN (MKL-DNN)
switches. minigrad runs its CPU kernels on NumPy and is not built with oneDNN, so
``is_available()`` is False (libraries such as kornia ask it to pick a code path) and
``enabled``/``deterministic`` are accepted and kept but change nothing."""

from __future__ import annotations

import contextlib

enabled = True
deterministic = False
allow_tf32 = True

VERBOSE_OFF = 0
VERBOSE_ON = 1
VERBOSE_ON_CREATION = 2


def is_available() -> bool:
    """False: minigrad is not built with oneDNN (MKL-DNN)."""
    return False


def is_acl_available() -> bool:
    """False: no oneDNN, so no oneDNN with the Arm Compute Library either."""
    return False


class verbose:  # noqa: N801 - PyTorch's name
    """oneDNN's on-demand verbose messages: ``VERBOSE_OFF`` does nothing; another level fails
    as PyTorch's does where oneDNN cannot be put in verbose mode (here: there is no oneDNN)."""

    def __init__(self, level):
        self.level = level

    def __enter__(self):
        if self.level == VERBOSE_OFF:
            return None
        raise AssertionError(
            "Failed to set MKLDNN into verbose mode. Please consider to disable this verbose scope."
        )

    def __exit__(self, exc_type, exc_val, exc_tb):
        return False


def set_flags(_enabled=None, _deterministic=None, _allow_tf32=None):
    """Sets the flags given (not None); returns the previous ``(enabled, deterministic,
    allow_tf32)``."""
    global enabled, deterministic, allow_tf32
    previous = (enabled, deterministic, allow_tf32)
    if _enabled is not None:
        enabled = _enabled
    if _deterministic is not None:
        deterministic = _deterministic
    if _allow_tf32 is not None:
        allow_tf32 = _allow_tf32
    return previous


@contextlib.contextmanager
def flags(enabled=False, deterministic=False, allow_tf32=True):
    """Sets the flags inside the ``with`` block, as ``torch.backends.mkldnn.flags``."""
    previous = set_flags(enabled, deterministic, allow_tf32)
    try:
        yield
    finally:
        set_flags(*previous)
