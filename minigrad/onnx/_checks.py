"""Checks an export makes before it writes a graph: in-place changes during the trace,
constants that depend on the dynamic axes, ops the chosen opset lacks."""

from __future__ import annotations

from ..tensor import Tensor
from ..utils._tracing import flatten, version


def _check_opset(onnx, nodes, opset: int) -> None:
    """Refuse an op that the chosen opset does not have yet (Trilu before 14, ...)."""
    for op_type in sorted({n.op_type for n in nodes}):
        try:
            onnx.defs.get_schema(op_type, opset)
        except onnx.defs.SchemaError:
            since = onnx.defs.get_schema(op_type).since_version
            raise NotImplementedError(
                f"onnx export: ONNX {op_type} needs opset_version {since} or later, got {opset}"
            ) from None


def _check_in_place(records, versions, output) -> None:
    """Refuse a trace in which a tensor changed in place after it was made or read: the
    traced ops would not see the change (the graph would silently compute something else)."""
    seen = {}  # id(tensor) -> its version when first made or read

    def check(t, v, op_name):
        first = seen.setdefault(id(t), v)
        if v != first:
            raise NotImplementedError(
                f"onnx export: a tensor used by {op_name} was changed in place during forward; "
                "in-place ops cannot be exported (use the out-of-place op)"
            )

    for (op, args, result), (used, made) in zip(records, versions):
        name = op.label()
        for t, v in zip(flatten(list(args)), used):
            check(t, v, name)
        for t, v in zip(flatten(result), made):
            check(t, v, name)
    for t in flatten(output):
        if id(t) in seen:
            check(t, version(t), "the output")


def _check_constants(g, op_name, args, args2) -> None:
    """A tensor made inside forward is baked in as a constant: it must not change with the
    dynamic axes (as ``zeros(x.shape[0], ...)`` would)."""
    for a, b in zip(args, args2):
        if isinstance(a, Tensor) and g.value(a) in g.constants:
            if tuple(a.shape) != tuple(b.shape):
                raise NotImplementedError(
                    f"onnx export: an input of {op_name} was made inside forward with a shape "
                    f"that depends on the dynamic axes ({list(a.shape)} at one size, "
                    f"{list(b.shape)} at another); compute it from the inputs instead"
                )
