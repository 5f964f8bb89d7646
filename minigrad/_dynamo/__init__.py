"""``torch._dynamo``: the names libraries import from it to recognise what ``torch.compile``
returned. ``OptimizedModule`` is :func:`minigrad.compile`'s module wrapper (``_orig_mod`` is
the module it wraps); ``assume_constant_result``, ``allow_in_graph`` and
``mark_static_address`` mark functions and tensors as PyTorch's do (tracing hints, nothing in
eager code); ``reset`` (tutorials call ``torch._dynamo.reset()`` between compile modes) is
``torch.compiler.reset``. minigrad's compiler is not TorchDynamo, and the rest
(``config``, ``explain``, ...) is not here; ``mark_dynamic``, ``maybe_mark_dynamic`` and
``mark_static`` record their marks (see :mod:`minigrad._dynamo.decorators`)."""

from .._compile.module import OptimizedModule
from ..compiler import allow_in_graph, reset
from . import eval_frame
from .decorators import mark_dynamic, mark_static, maybe_mark_dynamic

__all__ = [
    "OptimizedModule",
    "allow_in_graph",
    "assume_constant_result",
    "mark_dynamic",
    "mark_static",
    "mark_static_address",
    "maybe_mark_dynamic",
    "reset",
]


def assume_constant_result(fn):
    """Mark ``fn`` as returning a constant for tracing (``fn._dynamo_marked_constant``);
    returns ``fn`` itself, unchanged in eager code."""
    fn._dynamo_marked_constant = True
    return fn


def mark_static_address(t, guard: bool = False) -> None:
    """Mark tensor ``t``'s storage as fixed across compiled calls (a hint for CUDA graphs,
    recorded as PyTorch records it: ``t._dynamo_static_input_type``)."""
    from ..tensor import Tensor

    if not isinstance(t, Tensor):
        raise TypeError(f"mark_static_address expects a tensor but received {type(t)}")
    t._dynamo_static_input_type = "guarded" if guard else "unguarded"
