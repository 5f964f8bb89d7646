"""Grad mode: whether ops record the graph (``no_grad``, ``enable_grad``, ``set_grad_enabled``)."""

from __future__ import annotations

import functools

_enabled = True


def is_grad_enabled() -> bool:
    """True when ops record a backward graph for inputs that require grad."""
    return _enabled


def _set(mode: bool) -> bool:
    global _enabled
    previous, _enabled = _enabled, bool(mode)
    return previous


class _GradModeContext:
    """Base of the grad-mode switches; each is a context manager and a decorator, with or
    without parentheses (``@no_grad()`` and ``@no_grad``, as PyTorch)."""

    mode = True

    def __new__(cls, *args, **kwargs):
        if cls is not set_grad_enabled and len(args) == 1 and callable(args[0]) and not kwargs:
            return super().__new__(cls)(args[0])  # used bare as a decorator
        return super().__new__(cls)

    def __enter__(self):
        self._previous = _set(self.mode)
        return self

    def __exit__(self, *exc):
        _set(self._previous)
        return False

    def __call__(self, fn):
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            previous = _set(mode)
            try:
                return fn(*args, **kwargs)
            finally:
                _set(previous)

        return wrapper


class no_grad(_GradModeContext):  # noqa: N801 - PyTorch's name
    """Ops inside do not record the graph: results have ``requires_grad=False``.

    Example:
        >>> with minigrad.no_grad():
        ...     y = x * 2   # y.requires_grad is False
    """

    mode = False


class enable_grad(_GradModeContext):  # noqa: N801
    """Turn recording back on inside a ``no_grad`` block."""

    mode = True


class set_grad_enabled(_GradModeContext):  # noqa: N801
    """Set grad mode on or off; takes effect at once, and is undone when used with ``with``."""

    def __init__(self, mode: bool):
        self.mode = bool(mode)
        self._previous = _set(self.mode)

    def __enter__(self):
        return self

    def __call__(self, fn):
        _set(self._previous)  # used as a decorator: the switch applies only inside ``fn``
        return super().__call__(fn)


class inference_mode(no_grad):  # noqa: N801
    """Same as ``no_grad`` in minigrad (PyTorch's extra inference-tensor checks are not modelled)."""

    def __init__(self, mode: bool = True):
        self.mode = not mode
