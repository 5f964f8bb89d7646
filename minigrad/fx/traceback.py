"""``minigrad.fx.traceback``, as ``torch.fx.traceback``: custom metadata for the nodes a
tracer records.

:func:`annotate` (a context manager) and :func:`annotate_fn` (a decorator) put key-value pairs
in ``current_meta["custom"]`` while the code inside runs; ``minigrad.export.export(...,
strict=True)`` copies them to ``node.meta["custom"]`` of every node recorded meanwhile (a
layer's inlined operations get those of its call), as PyTorch's strict (Dynamo) export does.
PyTorch's non-strict export, ``fx.symbolic_trace`` and ``jit.trace`` record no annotations,
and neither do minigrad's.

Example:
    >>> with annotate({"stage": 1}):
    ...     y = x + 1          # traced by export(strict=True): node.meta["custom"] == {"stage": 1}
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import functools

__all__ = ["annotate", "annotate_fn", "get_current_meta"]

# The metadata of the tracing context (PyTorch's module global of the same name).
current_meta: dict = {}

# True while a tracer that records annotations (export with strict=True) runs.
_RECORDING = contextvars.ContextVar("fx_traceback_recording", default=False)


def get_current_meta() -> dict:
    """The metadata the nodes recorded now would get (``{"custom": {...}}`` inside
    :func:`annotate`)."""
    return current_meta


@contextlib.contextmanager
def annotate(annotation_dict: dict):
    """Add ``annotation_dict``'s pairs to ``current_meta["custom"]`` for the duration (nested
    contexts add to the outer ones' pairs; each exit restores what was there before).

    Example:
        >>> with annotate({"source": "custom_pass", "tag": 42}):
        ...     pass  # the operations traced here carry the pairs
    """
    had = "custom" in current_meta
    old = copy.copy(current_meta.get("custom", {}))
    try:
        current_meta.setdefault("custom", {}).update(annotation_dict)
        yield
    finally:
        if had:
            current_meta["custom"] = old
        else:
            del current_meta["custom"]


def annotate_fn(annotation_dict: dict):
    """A decorator: the whole function runs inside :func:`annotate` ``(annotation_dict)``.

    Example:
        >>> @annotate_fn({"pp_stage": 1})
        ... def my_function(x):
        ...     return x + 1
    """

    def decorate(fn):
        @functools.wraps(fn)
        def annotated(*args, **kwargs):
            with annotate(annotation_dict):
                return fn(*args, **kwargs)

        return annotated

    return decorate


@contextlib.contextmanager
def recording(enabled: bool = True):
    """While inside (and ``enabled``), :func:`custom_for_node` gives the annotations: for
    the tracers of ``export(strict=True)``."""
    token = _RECORDING.set(enabled)
    try:
        yield
    finally:
        _RECORDING.reset(token)


def custom_for_node() -> dict | None:
    """A copy of the annotations a node recorded now carries, or None (none, or not
    recording)."""
    if not _RECORDING.get() or "custom" not in current_meta:
        return None
    return copy.copy(current_meta["custom"])
