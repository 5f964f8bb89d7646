"""``minigrad.jit``: the parts of ``torch.jit`` that model code uses while it runs eagerly.

minigrad has no TorchScript compiler, so it behaves as PyTorch does with TorchScript turned off
(``PYTORCH_JIT=0``): ``script`` and ``trace`` return the function or module they are given,
which then runs eagerly with the same results, and ``fork`` runs its call at once. The
annotations that PyTorch models carry for the compiler (``@torch.jit.ignore``, ``@unused``,
``@export``, ``annotate``, ``Final``) leave the code as it is, and ``is_scripting()``/
``is_tracing()`` are False. The TorchScript file format (``save``, ``load``) raises
``NotImplementedError`` naming what to use instead: :func:`minigrad.save` or
:func:`minigrad.onnx.export` to serialize a model, :func:`minigrad.compile` for a captured step.
"""

from __future__ import annotations

from typing import Final  # noqa: F401 - torch.jit.Final is typing.Final for eager code

from .futures import Future

_INSTEAD = (
    "minigrad has no TorchScript; run the module eagerly, capture a training step with "
    "minigrad.compile, or serialize it with minigrad.onnx.export or minigrad.save"
)


def _identity_decorator(fn=None, **kwargs):
    if fn is None:  # used with arguments: @torch.jit.ignore(drop=True)
        return lambda f: f
    return fn


ignore = unused = export = _identity_decorator


def annotate(the_type, the_value):
    """``the_value`` itself: the annotation only guides the TorchScript compiler."""
    return the_value


def is_scripting() -> bool:
    """False: minigrad code never runs as TorchScript."""
    return False


def is_tracing() -> bool:
    """False: minigrad has no TorchScript tracer (ONNX export traces without flagging this)."""
    return False


def script(obj, optimize=None, _frames_up=0, _rcb=None, example_inputs=None):
    """``obj`` itself (a function, method or module), as PyTorch's with ``PYTORCH_JIT=0``: its
    eager code is what TorchScript would compile, so results are the same."""
    return obj


def trace(func, example_inputs=None, *args, **kwargs):
    """``func`` itself, as PyTorch's with ``PYTORCH_JIT=0``. Differs from a real trace only where
    ``func`` has control flow on tensor values, which a trace would freeze at the example's
    branch: here every call takes its own branch."""
    return func


def trace_module(mod, inputs, *args, **kwargs):
    """``mod`` itself (see :func:`trace`)."""
    return mod


script_method = script_if_tracing = _identity_decorator


def fork(func, *args, **kwargs) -> Future:
    """Run ``func(*args, **kwargs)`` now (TorchScript would run it asynchronously): a
    completed :class:`minigrad.futures.Future` holding its result."""
    future = Future()
    future.set_result(func(*args, **kwargs))
    return future


def wait(future: Future):
    """The value of a :func:`fork`."""
    return future.wait()


def save(m, f=None, *args, **kwargs):
    raise NotImplementedError(f"jit.save: {_INSTEAD}")


def load(f, *args, **kwargs):
    raise NotImplementedError(f"jit.load: {_INSTEAD}")
