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

import functools
import inspect
import types

from ._compile import arrays as _arrays
from ._compile import compile
from ._compile.api import get_default_backend, reset, set_default_backend
from ._compile.stance import set_stance

__all__ = [
    "allow_in_graph",
    "compile",
    "disable",
    "get_default_backend",
    "is_compiling",
    "is_dynamo_compiling",
    "is_exporting",
    "reset",
    "set_default_backend",
    "set_stance",
    "substitute_in_graph",
]


def is_compiling() -> bool:
    """True while :func:`minigrad.compile` records a call."""
    return _arrays.active is not None


is_dynamo_compiling = is_compiling


def is_exporting() -> bool:
    """False: minigrad has no ``torch.export`` tracing."""
    return False


def allow_in_graph(fn):
    """``fn`` itself (a list or tuple: each): PyTorch's hint to put ``fn`` into a captured
    graph unexamined; minigrad's capture records what ``fn`` runs anyway."""
    if isinstance(fn, (list, tuple)):
        return [allow_in_graph(f) for f in fn]
    if not callable(fn):
        raise AssertionError("allow_in_graph expects a callable")
    return fn


def disable(fn=None, recursive: bool = True):
    """``fn`` itself (also as ``@disable`` or ``@disable(recursive=False)``); see the module
    docstring for why nothing needs to change."""
    if fn is None:
        return lambda f: f
    return fn


_SUBSTITUTED: set = set()  # ids of functions given a substitute (PyTorch refuses a second one)


def _signature_ident(sig: inspect.Signature) -> tuple:
    """A signature as PyTorch compares a substitute's with the original's: positional names,
    keyword-only names and the defaults (annotations and the names of ``*args``/``**kwargs``
    left out)."""
    params = sig.parameters.values()
    variadic = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    return (
        tuple(p.name for p in params if p.kind not in (p.KEYWORD_ONLY, *variadic)),
        {p.name for p in params if p.kind == p.KEYWORD_ONLY},
        {p.name: p.default for p in params if p.kind not in variadic},
    )


def substitute_in_graph(
    original_fn, *, can_constant_fold_through: bool = False, skip_signature_check: bool = False
):
    """Register a traceable Python version of ``original_fn`` (as
    ``torch.compiler.substitute_in_graph``): the decorator checks the function and its
    signature as PyTorch does and returns a function that calls ``original_fn``. minigrad's
    compile records the array calls of whatever Python runs, so it never needs the substitute
    (a builtin such as ``operator.indexOf`` compiles as it is)."""
    if not callable(original_fn) or isinstance(original_fn, type):
        raise TypeError(f"substitute_in_graph expects a function but got {type(original_fn)!r}")

    def wrapper(traceable_fn):
        if not isinstance(traceable_fn, types.FunctionType):
            raise TypeError(
                f"@substitute_in_graph(...) expects a function but got {type(traceable_fn)!r}"
            )
        if not skip_signature_check:
            try:
                original_sig = inspect.signature(original_fn)
            except ValueError:  # a builtin without a signature
                original_sig = None
            traceable_sig = inspect.signature(traceable_fn)
            if original_sig is not None and (
                _signature_ident(original_sig) != _signature_ident(traceable_sig)
            ):
                raise TypeError(
                    f"Signature mismatch between {original_fn} and {traceable_fn}: "
                    f"{original_sig} != {traceable_sig}"
                )
        if id(original_fn) in _SUBSTITUTED:
            raise ValueError(f"Duplicate polyfilled object {original_fn}")
        _SUBSTITUTED.add(id(original_fn))

        @functools.wraps(traceable_fn)
        def wrapped(*args, **kwargs):
            return original_fn(*args, **kwargs)

        wrapped.__torch_dynamo_original__ = original_fn
        wrapped.__torch_dynamo_polyfill__ = traceable_fn
        wrapped.__torch_dynamo_can_constant_fold_through__ = can_constant_fold_through
        return wrapped

    return wrapper
