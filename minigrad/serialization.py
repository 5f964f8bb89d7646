"""``minigrad.serialization``: ``save``/``load`` and the allowlist of loadable classes.

As ``torch.serialization``: :func:`safe_globals` (a context manager), :func:`add_safe_globals`,
:func:`get_safe_globals` and :func:`clear_safe_globals` say which classes and functions
``minigrad.load`` may rebuild from a file besides minigrad's own (``weights_only=True``).

Example:
    >>> minigrad.save(Net(), "net.mg")
    >>> with minigrad.serialization.safe_globals([Net]):
    ...     model = minigrad.load("net.mg")
"""

from .io.api import load, save
from .io.safe_globals import add_safe_globals, clear_safe_globals, get_safe_globals, safe_globals

__all__ = [
    "add_safe_globals",
    "clear_safe_globals",
    "get_safe_globals",
    "load",
    "safe_globals",
    "save",
]
