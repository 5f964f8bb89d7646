"""Tracing a forward pass: the ops a model applies, in order, with their inputs and outputs.

ONNX export and TensorBoard's graph both start here. While :func:`trace` runs the model, the
hook in :mod:`minigrad.ops.base` hands it every op applied (the op instance keeps its settings:
a ``Reshape`` its shape, a ``Convolution`` its geometry). Modules listed as *leaves* are
recorded as one :class:`ModuleCall` each, with the ops inside them hidden, so that an exporter
can map a whole layer (an LSTM) to one node.
"""

from __future__ import annotations

from ..autograd.grad_mode import enable_grad
from ..ops import base
from ..tensor import Tensor


class ModuleCall:
    """A leaf module applied during a trace: ``module(*args, **kwargs)``."""

    def __init__(self, module, kwargs: dict):
        self.module, self.kwargs = module, kwargs

    @classmethod
    def label(cls) -> str:
        return "ModuleCall"


def flatten(value) -> list:
    """The tensors in a (nested) tuple/list/dict ``value``, in order."""
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in flatten(v)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in flatten(v)]
    return []


def as_args(args) -> tuple:
    """``args`` as a tuple of positional arguments (a lone tensor becomes a 1-tuple)."""
    if isinstance(args, tuple):
        return args
    if isinstance(args, list):
        return tuple(args)
    return (args,)


def version(t) -> int:
    """How many in-place changes tensor ``t`` (or a view of its storage) has had."""
    counter = getattr(t, "_version_counter", None)
    return counter.value if counter is not None else 0


def trace(model, args: tuple, leaves=(), scopes: list | None = None, versions=None, observe=None):
    """Run ``model(*args)`` and record what it computes.

    Floating-point input tensors are replaced by copies that require grad, so that every
    tensor computed from them requires grad too: a caller can tell a value it failed to trace
    (one that requires grad) from a constant made inside ``forward`` (one that does not).

    Args:
        model: a callable (usually an ``nn.Module``).
        args: its positional arguments.
        leaves: module classes recorded as one :class:`ModuleCall` each, or a predicate on
            a module saying whether it is one.
        scopes: if a list, it receives, per record, the path of modules the op ran in
            (``"Sequential/Linear[0]"``, as PyTorch names TensorBoard graph scopes).
        versions: if a list, it receives, per record, the version of each tensor argument
            when the op read it and of the result when made, so that a caller can see values
            changed in place after they were traced.
        observe: if given, called as ``observe(op, args, result)`` when each record is made,
            while the Python frames that applied the op are still live (TensorBoard's graph
            reads the names of the variables holding its inputs from them).

    Returns:
        ``(inputs, records, output)``: the input tensors actually passed (in ``args`` order,
        flattened), a list of ``(op, args, result)`` in the order applied, and the output.
    """
    records = []

    def prepare(a):
        if isinstance(a, Tensor):
            return a.detach().requires_grad_(True) if a.dtype.is_floating_point else a
        if isinstance(a, (tuple, list)):
            return type(a)(prepare(v) for v in a)
        return a

    args = tuple(prepare(a) for a in args)
    stack = []

    def record(op, a, r):
        records.append((op, a, r))
        if versions is not None:
            used = [version(t) for t in flatten(list(a))]
            versions.append((used, [version(t) for t in flatten(r)]))
        if scopes is not None:
            scopes.append("/".join(stack) or type(model).__name__)
        if observe is not None:
            observe(op, a, r)

    patched = []
    is_leaf = leaves if callable(leaves) else (lambda m: isinstance(m, leaves))
    if leaves and hasattr(model, "modules"):
        for m in model.modules():
            if is_leaf(m):
                patched.append(m)
                object.__setattr__(m, "forward", _leaf_forward(m, m.forward, record))
    if scopes is not None and hasattr(model, "named_modules"):
        for name, m in model.named_modules():
            if m not in patched:
                label = type(m).__name__ + (f"[{name.rsplit('.', 1)[-1]}]" if name else "")
                patched.append(m)
                object.__setattr__(m, "forward", _scoped_forward(label, m.forward, stack))

    previous = base.tracer
    base.tracer = record
    try:
        with enable_grad():
            output = model(*args)
    finally:
        base.tracer = previous
        for m in patched:
            del m.__dict__["forward"]
    return flatten(args), records, output


def _scoped_forward(label, forward, stack):
    def run(*args, **kwargs):
        stack.append(label)
        try:
            return forward(*args, **kwargs)
        finally:
            stack.pop()

    return run


def _leaf_forward(module, forward, record):
    def run(*args, **kwargs):
        previous = base.tracer
        base.tracer = None  # the ops inside the leaf are not recorded
        try:
            out = forward(*args, **kwargs)
        finally:
            base.tracer = previous
        record(ModuleCall(module, kwargs), args, out)  # (with its versions and scope)
        return out

    return run
