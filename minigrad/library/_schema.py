"""Operator schemas for ``minigrad.library``: ``infer_schema`` (PyTorch's schema string from a
function's type annotations) and ``parse_schema`` (a schema string back to its arguments)."""

from __future__ import annotations

import ast
import collections.abc
import inspect
import types
import typing

from .. import dtypes
from ..backend import Device
from ..tensor import Tensor

_SCALARS = {int: "SymInt", float: "float", bool: "bool", str: "str"}
_SEQUENCES = (list, typing.List, collections.abc.Sequence, typing.Sequence)  # noqa: UP006


def _is_optional(ann):
    args = typing.get_args(ann)
    if typing.get_origin(ann) in (typing.Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        return rest[0] if len(rest) == 1 else typing.Union[tuple(rest)]  # noqa: UP007
    return None


def _type_name(ann) -> str | None:
    """The schema type of a parameter annotation (``Tensor``, ``SymInt[]``, ``Tensor?``...)."""
    if ann is Tensor:
        return "Tensor"
    if ann in _SCALARS:
        return _SCALARS[ann]
    if ann is dtypes.dtype:
        return "ScalarType"
    if ann is Device:
        return "Device"
    inner = _is_optional(ann)
    if inner is not None:
        name = _type_name(inner)
        return None if name is None or name.endswith("?") else name + "?"
    if typing.get_origin(ann) in (typing.Union, types.UnionType):
        return "Scalar" if set(typing.get_args(ann)) == {int, float, bool} else None
    if typing.get_origin(ann) in _SEQUENCES and len(typing.get_args(ann)) == 1:
        name = _type_name(typing.get_args(ann)[0])
        if name in ("Tensor", "Tensor?", "SymInt", "float", "bool", "Scalar"):
            return name + "[]"
    return None


def _return_name(ann) -> str | None:
    if ann is None or ann is type(None):
        return "()"
    if typing.get_origin(ann) is tuple:
        names = [_type_name(a) for a in typing.get_args(ann)]
        return None if None in names else "(" + ", ".join(names) + ")"
    name = _type_name(ann)
    return None if name is None or name.endswith("?") else name


def _default(value) -> str | None:
    if value is None or isinstance(value, (bool, int, float)):
        return repr(value) if not isinstance(value, float) else repr(value)
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, dtypes.dtype):
        return str(value).rsplit(".", 1)[-1]
    return None


def _signature(fn) -> inspect.Signature:
    """``fn``'s signature with string annotations evaluated in its module, falling back (as
    PyTorch does) to a scope that knows ``minigrad``, ``Tensor`` and ``typing``."""
    try:
        return inspect.signature(fn, eval_str=True)
    except NameError:
        pass
    import minigrad

    scope = {**getattr(fn, "__globals__", {}), "minigrad": minigrad, "Tensor": Tensor}
    scope.update(typing=typing, Optional=typing.Optional, Sequence=typing.Sequence)
    sig = inspect.signature(fn)

    def resolve(ann):
        if not isinstance(ann, str):
            return ann
        try:
            return eval(ann, scope)
        except NameError as e:
            raise ValueError(f"infer_schema(func): cannot resolve annotation {ann!r}: {e}") from e

    params = [p.replace(annotation=resolve(p.annotation)) for p in sig.parameters.values()]
    return sig.replace(parameters=params, return_annotation=resolve(sig.return_annotation))


def infer_schema(prototype_function, /, *, mutates_args, op_name=None) -> str:
    """PyTorch's operator schema for a type-annotated function.

    Args:
        prototype_function: a function whose parameters and return value are annotated with
            ``Tensor``, ``int``, ``float``, ``bool``, ``str``, ``Optional``/``list`` of those,
            ``minigrad.dtype`` or ``minigrad.device``.
        mutates_args: names of the Tensor arguments the function writes to, or ``"unknown"``.
        op_name: accepted for PyTorch compatibility (the schema is printed without a name).

    Example:
        >>> def f(x: Tensor, y: float = 1.0) -> Tensor: ...
        >>> minigrad.library.infer_schema(f, mutates_args=())
        '(Tensor x, float y=1.0) -> Tensor'
    """
    sig = _signature(prototype_function)

    def error(what):
        raise ValueError(f"infer_schema(func): {what} Got func with signature {sig})")

    if mutates_args != "unknown":
        if isinstance(mutates_args, str):
            error(
                f"mutates_args must be a collection of argument names or 'unknown', got {mutates_args!r}."
            )
        missing = set(mutates_args) - set(sig.parameters)
        if missing:
            error(
                f"{missing} in mutates_args were not found in the custom op's signature. "
                "mutates_args should contain the names of all args that the custom op mutates, "
                "or just the string 'unknown' if you don't know."
            )
    pieces, alias, seen_kwonly = [], 0, False
    for name, p in sig.parameters.items():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            error(f"Parameter {name} of kind {p.kind} is not supported.")
        if p.annotation is p.empty:
            error(f"Parameter {name} must have a type annotation.")
        tname = _type_name(p.annotation)
        if tname is None:
            error(f"Parameter {name} has unsupported type {p.annotation}.")
        mutated = name in mutates_args if mutates_args != "unknown" else tname.startswith("Tensor")
        if mutated:
            if not tname.startswith("Tensor"):
                error(
                    f"Parameter {name} is in mutable_args but only Tensors or collections of "
                    "Tensors can be mutated"
                )
            tname = f"Tensor(a{alias}!)" + tname[len("Tensor") :]
            alias += 1
        piece = f"{tname} {name}"
        if p.default is not p.empty:
            text = _default(p.default)
            if text is None:
                error(f"Parameter {name} has an unsupported default value type {type(p.default)}.")
            piece += f"={text}"
        if p.kind is p.KEYWORD_ONLY and not seen_kwonly:
            pieces.append("*")
            seen_kwonly = True
        pieces.append(piece)
    ret = sig.return_annotation
    if ret is sig.empty:
        error("No return type annotation was provided. Please add one.")
    rname = _return_name(ret)
    if rname is None:
        error(f"Return has unsupported type {ret}.")
    return f"({', '.join(pieces)}) -> {rname}"


def _split_top(text: str) -> list[str]:
    """Split at the commas outside brackets (``int[2] s=[1, 1]`` stays one piece)."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += ch in "[(" and 1 or (-1 if ch in "])" else 0)
        if ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    return parts + [text[start:]]


def parse_schema(schema: str):
    """``"(Tensor x, *, float y=1.0) -> Tensor"`` → an ``inspect.Signature`` and the names of
    the mutated (``Tensor(a!)``) arguments."""
    if "->" not in schema or not schema.strip().startswith("("):
        raise RuntimeError(f"expected a schema like '(Tensor x) -> Tensor', got {schema!r}")
    args_text = schema.split("->", 1)[0].strip()[1:-1]
    params, mutated, kind = [], [], inspect.Parameter.POSITIONAL_OR_KEYWORD
    for part in (s.strip() for s in _split_top(args_text) if s.strip()):
        if part == "*":
            kind = inspect.Parameter.KEYWORD_ONLY
            continue
        decl, _, default = part.partition("=")
        type_text, _, name = decl.strip().rpartition(" ")
        if not type_text or not name.isidentifier():
            raise RuntimeError(f"cannot parse argument {part!r} of schema {schema!r}")
        if "!" in type_text:
            mutated.append(name)
        value = inspect.Parameter.empty
        if default:
            text = default.strip()
            value = None if text == "None" else ast.literal_eval(text)
        params.append(inspect.Parameter(name, kind, default=value))
    return inspect.Signature(params), tuple(mutated)
