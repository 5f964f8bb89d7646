"""What loading a saved graph accepts: the node records that :func:`minigrad.export.save` and
:func:`minigrad.jit.save` write, and nothing that could make the rebuilt graph run other code.

Both files hold a graph as JSON node records ``[name, op, target, args, kwargs, wrapped]``
(see ``_serialize._records``). Loading rebuilds the graph and generates Python source from it,
pasting node names, keywords and attribute paths into that source and calling the functions
the records name. An edited file could name ``builtins.exec``, or hide code in a name; so every
record is checked before anything is resolved or generated: names and keywords are ASCII
identifiers, attribute and submodule paths are the file's own (no dunder), methods are
Tensor's public ones and its operators, and functions are minigrad's dispatching ops (and the
few export puts in graphs), a few ``operator`` functions, ``math``'s functions and ``getattr``
of a public Tensor property. Resolving a dotted name imports nothing.
"""

from __future__ import annotations

import math
import re
import sys

ALLOWED_ROOTS = ("minigrad", "operator", "math", "builtins")
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PLACEHOLDER = re.compile(r"(\*\*?)?[A-Za-z_][A-Za-z0-9_]*")  # (``*args``, ``**kwargs``)
_MEMBER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[0-9]+")  # (ModuleList children are numbered)
_OPS = {"placeholder", "get_attr", "call_function", "call_method", "call_module", "output"}
_OPERATORS = {"getitem", "setitem", "add", "sub", "mul", "truediv", "floordiv", "mod", "pow",
              "neg", "pos", "abs", "invert", "not_", "and_", "or_", "xor", "lshift", "rshift",
              "lt", "le", "gt", "ge", "eq", "ne", "matmul"}  # fmt: skip
_ARITHMETIC = {"add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or",
               "xor", "lshift", "rshift", "lt", "le", "gt", "ge", "eq", "ne", "neg", "pos",
               "abs", "invert", "getitem", "setitem", "index", "bool", "float", "int",
               "complex", "len", "iter", "contains"}  # fmt: skip
_DUNDERS = {f"__{p}{op}__" for op in _ARITHMETIC for p in ("", "r", "i")}


class UnsafeRecordError(ValueError):
    """A record that saving does not write, refused before anything is built from it (the
    message names the node and what was refused; the loader says which file)."""


def is_member_path(path) -> bool:
    """Whether ``path`` is a dotted path of attribute names or child numbers, none a dunder
    (``fc.weight``, ``layers.0``): what a saved module's submodule or tensor paths are."""
    if not (isinstance(path, str) and path):
        return False
    return all(_MEMBER.fullmatch(p) and not p.startswith("__") for p in path.split("."))


def check_path(path, what: str) -> None:
    """Refuse ``path`` (a submodule or tensor path; ``what`` it is, for the error) unless it
    is a :func:`is_member_path`."""
    if not is_member_path(path):
        raise UnsafeRecordError(f"the {what} path {path!r} is not a dotted path of attribute names")


def resolve(path: str):
    """The object at the dotted ``path`` (a module, then attributes), without importing:
    ``minigrad.nn.functional.relu``, ``operator.add``, ``math.sqrt``."""
    parts = path.split(".")
    if parts[0] not in ALLOWED_ROOTS or any(p.startswith("__") for p in parts):
        raise ValueError(f"refusing the function name {path!r}")
    obj = sys.modules[parts[0]]
    try:  # attributes first: a function may share its name with a submodule (interpolate)
        for attr in parts[1:]:
            obj = getattr(obj, attr)
        return obj
    except AttributeError:
        pass
    for cut in range(len(parts), 0, -1):
        module = sys.modules.get(".".join(parts[:cut]))
        if module is not None:
            obj = module
            for attr in parts[cut:]:
                obj = getattr(obj, attr)
            return obj
    raise ValueError(f"cannot find {path!r}")


def check_records(records, attrs: set, modules: set) -> None:
    """Refuse (:class:`UnsafeRecordError`) graph ``records`` that saving does not write: see the
    module docstring. ``attrs``: the paths ``get_attr`` may read (the file's tensors and
    branch graphs); ``modules``: the submodules ``call_module`` may call."""
    if not isinstance(records, list):
        raise UnsafeRecordError(f"the node records are not a list: {records!r}")
    for record in records:
        if not (isinstance(record, list) and len(record) == 6):
            raise UnsafeRecordError(f"bad node record {record!r}")
        node, op, target, args, kwargs = record[:5]
        if not (isinstance(node, str) and IDENTIFIER.fullmatch(node)):
            raise UnsafeRecordError(f"the node name {node!r} is not a Python identifier")
        if op not in _OPS:
            raise UnsafeRecordError(f"node {node} is of unknown kind {op!r}")
        keys = kwargs.get("dict") if isinstance(kwargs, dict) and len(kwargs) == 1 else None
        if not isinstance(keys, dict):
            raise UnsafeRecordError(f"node {node} has bad keyword arguments {kwargs!r}")
        for key in keys:
            if not IDENTIFIER.fullmatch(key):
                raise UnsafeRecordError(
                    f"node {node} has a keyword {key!r} that is not an identifier"
                )
        why = _refusal(op, target, args, attrs, modules)
        if why:
            raise UnsafeRecordError(f"node {node} ({op}) {why}: {target!r}")


def _refusal(op: str, target, args, attrs: set, modules: set) -> str | None:
    """Why ``target`` is refused for a node of kind ``op`` (None: accepted)."""
    if not isinstance(target, str):
        return "has a target that is not a name"
    if op in ("placeholder", "output"):
        return None if _PLACEHOLDER.fullmatch(target) else "has a name that is not an identifier"
    if op == "get_attr":
        return None if target in attrs else "reads an attribute that is not one of the file's"
    if op == "call_module":
        return None if target in modules else "calls a submodule that is not one of the file's"
    if op == "call_method":
        if target in _DUNDERS or not target.startswith("_") and _is_tensor_method(target):
            return None
        return "calls a method that is not a public Tensor method"
    return _function_refusal(target, args)


def _function_refusal(target: str, args) -> str | None:
    parts = target.split(".")
    if not all(IDENTIFIER.fullmatch(p) for p in parts) or any(p.startswith("__") for p in parts):
        return "calls a name that is not a dotted path of public names"
    root, rest = parts[0], ".".join(parts[1:])
    if root not in ALLOWED_ROOTS:
        return "calls a function outside minigrad, operator and math"
    if root == "operator":
        return None if rest in _OPERATORS else "calls an operator function saving never writes"
    if root == "builtins":
        items = args.get("tuple") if isinstance(args, dict) else None
        attr = items[1] if isinstance(items, list) and len(items) == 2 else None
        if rest == "getattr" and isinstance(attr, str) and _public_property(attr):
            return None
        return "calls a builtin other than getattr of a public Tensor property"
    try:
        fn = resolve(target)
    except (ValueError, AttributeError):
        return "calls a name that does not exist"
    if root == "math":
        return None if type(fn) is type(math.sqrt) else "calls a math name that is no function"
    if getattr(fn, "__torch_function_wrapped__", False) or any(fn is g for g in _graph_functions()):
        return None
    return "calls a minigrad function that is not an op"


def _graph_functions() -> tuple:
    """The functions of minigrad's that exported graphs call besides its ops."""
    from .. import cond
    from ..nn.utils.stateless import functional_call

    return (cond, functional_call)


def _is_tensor_method(name: str) -> bool:
    from ..tensor import Tensor

    return callable(getattr(Tensor, name, None))


def _public_property(name: str) -> bool:
    from ..tensor import Tensor

    return not name.startswith("_") and isinstance(getattr(Tensor, name, None), property)
