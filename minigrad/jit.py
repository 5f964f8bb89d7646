"""``minigrad.jit``: the parts of ``torch.jit`` that model code uses while it runs eagerly.

minigrad has no TorchScript compiler. The annotations that PyTorch models carry for it
(``@torch.jit.ignore``, ``@torch.jit.unused``, ``@torch.jit.export``, ``torch.jit.annotate``,
``torch.jit.Final``) leave the code as it is, and ``is_scripting()``/``is_tracing()`` are
False, so such models run unchanged. Compiling (``script``, ``trace``) and the TorchScript file
format (``save``, ``load``) raise ``NotImplementedError`` naming what to use instead:
:func:`minigrad.compile` for a captured step, :func:`minigrad.onnx.export` or
:func:`minigrad.save` to serialize a model.
"""

from __future__ import annotations

from typing import Final  # noqa: F401 - torch.jit.Final is typing.Final for eager code

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


def script(obj, *args, **kwargs):
    raise NotImplementedError(f"jit.script: {_INSTEAD}")


def trace(func, *args, **kwargs):
    raise NotImplementedError(f"jit.trace: {_INSTEAD}")


def save(m, f=None, *args, **kwargs):
    raise NotImplementedError(f"jit.save: {_INSTEAD}")


def load(f, *args, **kwargs):
    raise NotImplementedError(f"jit.load: {_INSTEAD}")
