"""``minigrad.compiler``: ``torch.compiler``'s names for :func:`minigrad.compile` and the
markers model code carries for a compiler.

``is_compiling()`` is True while :func:`minigrad.compile` records a call (the first call for
each input signature), so code can skip what a capture cannot take there, as it does for
PyTorch's compiler. ``disable`` returns the function as it is: minigrad's capture records
whatever a step calls and checks (guards) the Python values it depends on, so a function
marked for eager execution is recorded with the rest, and anything it does that a replay
could not repeat makes the step run eagerly (with a warning), never replay stale results.
"""

from __future__ import annotations

from ._compile import arrays as _arrays
from ._compile import compile
from ._compile.api import reset

__all__ = ["compile", "disable", "is_compiling", "is_dynamo_compiling", "reset"]


def is_compiling() -> bool:
    """True while :func:`minigrad.compile` records a call."""
    return _arrays.active is not None


is_dynamo_compiling = is_compiling


def disable(fn=None, recursive: bool = True):
    """``fn`` itself (also as ``@disable`` or ``@disable(recursive=False)``); see the module
    docstring for why nothing needs to change."""
    if fn is None:
        return lambda f: f
    return fn
