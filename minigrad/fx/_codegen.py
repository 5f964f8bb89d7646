"""Python source from an FX graph: the ``forward`` that :class:`~minigrad.fx.GraphModule` runs,
written as torch.fx writes it (infix operators, ``self.fc(x)``, values freed after last use)."""

from __future__ import annotations

import builtins
import json
import keyword
import math
import operator
import re
import sys
import types
import typing
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from ..backend import Device
from .node import Node

_PUBLIC_MODULES = (
    "minigrad",
    "minigrad.nn.functional",
    "minigrad.linalg",
    "minigrad.special",
    "minigrad.fft",
    "minigrad.fx._symbolic_trace",
)
# Names generated code relies on: nodes never take them.
_CUSTOM_BUILTINS = {"minigrad", "device", "inf", "nan", "NoneType", "operator"}

_BINARY = {
    operator.add: "+",
    operator.sub: "-",
    operator.mul: "*",
    operator.truediv: "/",
    operator.floordiv: "//",
    operator.mod: "%",
    operator.pow: "**",
    operator.matmul: "@",
    operator.lshift: "<<",
    operator.rshift: ">>",
    operator.and_: "&",
    operator.or_: "|",
    operator.xor: "^",
    operator.eq: "==",
    operator.ne: "!=",
    operator.lt: "<",
    operator.le: "<=",
    operator.gt: ">",
    operator.ge: ">=",
}
_UNARY = {operator.neg: "-", operator.pos: "+", operator.invert: "~", operator.not_: "not "}


def public_path(fn) -> str:
    """``module.name`` of ``fn``; for minigrad functions the public module that holds them
    (``minigrad.cat``, ``minigrad.nn.functional.relu``, ``minigrad.Tensor.add``)."""
    name = getattr(fn, "__name__", repr(fn))
    qualname = getattr(fn, "__qualname__", name)
    module = getattr(fn, "__module__", None) or ""
    if module == "_operator":
        return f"operator.{name}"
    if module.startswith("minigrad"):
        for public in _PUBLIC_MODULES:
            obj = sys.modules.get(public)
            for part in qualname.split("."):
                obj = getattr(obj, part, None)
            if obj is fn:
                return f"{public}.{qualname}"
    return f"{module}.{name}" if module else name


class _Namespace:
    """Unique Python identifiers, numbered as torch.fx numbers them (``add``, ``add_1``, ...)."""

    _suffix = re.compile(r"(.*)_(\d+)$")

    def __init__(self):
        self._used: set[str] = set()
        self._base_count: dict[str, int] = defaultdict(int)

    def copy(self) -> _Namespace:
        new = _Namespace()
        new._used = set(self._used)
        new._base_count = defaultdict(int, self._base_count)
        return new

    @staticmethod
    def _illegal(name: str) -> bool:
        return keyword.iskeyword(name) or name in builtins.__dict__ or name in _CUSTOM_BUILTINS

    def create_name(self, candidate: str) -> str:
        """A fresh identifier made from ``candidate`` (reserved at once)."""
        candidate = re.sub(r"[^0-9a-zA-Z_]+", "_", candidate) or "_unnamed"
        if candidate[0].isdigit():
            candidate = "_" + candidate
        match = self._suffix.match(candidate)
        base, num = (candidate, None) if match is None else (match[1], int(match[2]))
        if not num:
            num = self._base_count[base]
        while candidate in self._used or self._illegal(candidate):
            num += 1
            candidate = f"{base}_{num}"
        self._used.add(candidate)
        self._base_count[base] = num
        return candidate

    def reserve(self, name: str) -> None:
        self._used.add(name)


def snake_case(name: str) -> str:
    """``ConvBN`` -> ``conv_bn``, ``fooBar`` -> ``foo_bar`` (torch.fx's node names)."""
    out = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    out = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", out)
    return out.lower()


@dataclass
class PythonCode:
    """Generated source (``src``) and the globals it needs to run (``globals``)."""

    src: str
    globals: dict[str, Any]


class _Writer:
    """Turns a graph's nodes into the body of ``forward``."""

    def __init__(self, graph, root_module: str):
        import minigrad

        self.root = root_module
        self.names = graph._graph_namespace.copy()
        self.globals: dict[str, Any] = {"minigrad": minigrad}
        self.wrapped: list[str] = []

    def add_global(self, hint: str, obj) -> str:
        """The global name bound to ``obj`` (made from ``hint`` and reserved, if new)."""
        for name, held in self.globals.items():
            if held is obj and name not in ("minigrad",):
                return name
        if hint in _CUSTOM_BUILTINS and hint not in self.globals:
            self.globals[hint] = obj  # names kept for the generated code (NoneType, inf, ...)
            return hint
        name = self.names.create_name(hint)
        self.globals[name] = obj
        return name

    def fn_expr(self, fn) -> str:
        """An expression naming ``fn`` (``len``, ``operator.setitem``, ``minigrad.cat``), or a
        new global bound to it."""
        if (
            getattr(fn, "__module__", None) == "builtins"
            and getattr(builtins, fn.__name__, None) is fn
        ):
            return fn.__name__
        path = public_path(fn)
        if path.startswith("operator.") and getattr(operator, fn.__name__, None) is fn:
            self.globals["operator"] = operator
            return path
        if path.startswith("minigrad."):
            obj = sys.modules["minigrad"]
            for part in path.split(".")[1:]:
                obj = getattr(obj, part, None)
            if obj is fn:
                return path
        return self.add_global(path, fn)

    def repr_arg(self, arg) -> str:
        import minigrad

        if isinstance(arg, Node):
            return arg.name
        if isinstance(arg, list):
            return "[" + ", ".join(self.repr_arg(a) for a in arg) + "]"
        if isinstance(arg, tuple) and not hasattr(arg, "_fields") and type(arg) is tuple:
            inner = ", ".join(self.repr_arg(a) for a in arg)
            return "(" + inner + ("," if len(arg) == 1 else "") + ")"
        if isinstance(arg, tuple):
            cls = self.add_global(type(arg).__name__, type(arg))
            if hasattr(arg, "_fields"):
                return cls + "(" + ", ".join(self.repr_arg(a) for a in arg) + ")"
            return cls + "(" + self.repr_arg(tuple(arg)) + ")"
        if isinstance(arg, dict):
            items = (f"{self.repr_arg(k)}: {self.repr_arg(v)}" for k, v in arg.items())
            return "{" + ", ".join(items) + "}"
        if isinstance(arg, slice):
            return f"slice({', '.join(self.repr_arg(p) for p in (arg.start, arg.stop, arg.step))})"
        if isinstance(arg, float) and not math.isfinite(arg):
            self.globals.setdefault("inf" if math.isinf(arg) else "nan", abs(arg))
            return repr(arg)
        if isinstance(arg, Device):
            return f"minigrad.device({str(arg)!r})"
        if isinstance(arg, (minigrad.dtype, minigrad.memory_format, minigrad.layout)):
            return f"minigrad.{arg.name}"  # (not repr: under as_torch that says torch.<name>)
        if isinstance(arg, (str, int, bool, complex, float)) or arg is None:
            return repr(arg)
        if arg is Ellipsis:
            return "..."
        if isinstance(arg, minigrad.nn.Module):  # a branch of cond: a global of the code
            return self.add_global(getattr(arg, "_cond_branch_name", "subgraph"), arg)
        if isinstance(arg, type) or callable(arg):
            return self.fn_expr(arg)  # minigrad.relu, int, or a global bound to it
        return repr(arg)

    def type_repr(self, t) -> str:
        """An annotation as an expression over the globals (torch.fx's spelling)."""
        if isinstance(t, str):
            return self.add_global(repr(t), t)
        if t is type(None):
            return self.add_global("NoneType", t)
        origin, args = typing.get_origin(t), typing.get_args(t)
        if origin is not None and args:
            if origin in (typing.Union, types.UnionType):
                base = self.add_global("typing_Union", typing.Union)
            elif getattr(t, "_name", None) and hasattr(typing, t._name):
                base = self.add_global(f"typing_{t._name}", getattr(typing, t._name))
            else:
                base = self.type_repr(origin)
            return base + "[" + ",".join(self.type_repr(a) for a in args) + "]"
        if isinstance(t, type) and t.__module__ == "builtins":
            return t.__qualname__
        if isinstance(t, type):
            return self.fn_expr(t)
        return self.add_global(repr(t), t)

    def call_args(self, args, kwargs) -> str:
        parts = [self.repr_arg(a) for a in args]
        parts += [f"{k} = {self.repr_arg(v)}" for k, v in kwargs.items()]
        return ", ".join(parts)

    def attr_path(self, target: str) -> str:
        expr = self.root
        for part in target.split("."):
            # (a quoted literal, never pasted: torch.fx's "0", and no code from an odd name)
            expr = (
                f"{expr}.{part}" if part.isidentifier() else f"getattr({expr}, {json.dumps(part)})"
            )
        return expr

    def operand(self, arg) -> str:
        text = self.repr_arg(arg)
        return f"({text})" if text.startswith("-") and not isinstance(arg, Node) else text

    def expression(self, node: Node) -> str:
        op, target, args, kwargs = node.op, node.target, node.args, node.kwargs
        if op == "get_attr":
            return self.attr_path(target)
        if op == "call_module":
            return f"{self.attr_path(target)}({self.call_args(args, kwargs)})"
        if op == "call_method":
            rest = self.call_args(args[1:], kwargs)
            return f"{self.operand(args[0])}.{target}({rest})"
        if not kwargs and len(args) == 2 and target in _BINARY:
            return f"{self.operand(args[0])} {_BINARY[target]} {self.operand(args[1])}"
        if not kwargs and len(args) == 1 and target in _UNARY:
            return f"{_UNARY[target]}{self.operand(args[0])}"
        if target is operator.getitem and not kwargs and len(args) == 2:
            return f"{self.operand(args[0])}[{self.repr_arg(args[1])}]"
        if target is builtins.getattr and not kwargs and len(args) == 2:
            if isinstance(args[1], str) and args[1].isidentifier():
                return f"{self.operand(args[0])}.{args[1]}"
        if node.meta.get("is_wrapped"):
            name = self.fn_expr(target)
            if name not in self.wrapped:
                self.wrapped.append(name)
        return f"{self.fn_expr(target)}({self.call_args(args, kwargs)})"


def _last_uses(nodes: list[Node]) -> dict[Node, list[Node]]:
    """For each node, the inputs whose last use it is (torch.fx frees them right there)."""
    seen: set[Node] = set()
    freed: dict[Node, list[Node]] = defaultdict(list)
    for node in reversed(nodes):
        for arg in node.all_input_nodes:
            if arg not in seen:
                seen.add(arg)
                freed[node].append(arg)
    return freed


def _signature_item(node: Node, writer: _Writer) -> str:
    if node.target.startswith("*"):
        return node.target
    item = node.name
    if node.type is not None:
        item += f" : {writer.type_repr(node.type)}"
    if node.args:
        item += f" = {writer.repr_arg(node.args[0])}"
    return item


def _stack_comment(node: Node) -> str:
    """torch.fx's comment naming where the traced code made ``node``."""
    trace = node.stack_trace
    if not trace:
        return "# No stacktrace found for following nodes"
    found = re.search(r'File "(.+)", line (\d+), in (\S+)\n\s*(.*)', trace)
    if found is None:
        return "# " + trace.strip().splitlines()[0]
    return f"# File: {found[1]}:{found[2]} in {found[3]}, code: {found[4].strip()}"


def python_code(graph, root_module: str = "self", verbose: bool = False) -> PythonCode:
    """The source of ``forward`` for ``graph`` and the globals it needs (``verbose``: with a
    comment saying where each run of nodes was traced, as ``print_readable`` shows).

    Example:
        >>> print(symbolic_trace(model).graph.python_code("self").src)
    """
    writer = _Writer(graph, root_module)
    nodes = list(graph.nodes)
    freed = _last_uses(nodes)
    signature = [root_module]
    body: list[str] = []
    comment = None
    for node in nodes:
        if verbose and node.op not in ("placeholder", "output") and _stack_comment(node) != comment:
            comment = _stack_comment(node)
            body.append(comment)
        if node.op == "placeholder":
            signature.append(_signature_item(node, writer))
            if node.target.startswith("*") and node.target.lstrip("*") != node.name:
                body.append(f"{node.name} = {node.target.lstrip('*')}")
            continue
        if node.op == "output":
            body.append(f"return {writer.repr_arg(node.args[0])}")
            continue
        line = f"{node.name} = {writer.expression(node)}"
        dead = [n.name for n in freed.get(node, ())]
        if not node.users:
            dead.append(node.name)
        if dead:
            line += ";  " + " = ".join(dead) + " = None"
        body.append(line)
    if not any(n.op == "output" for n in nodes):
        body.append("pass")
    wraps = "".join(f'minigrad.fx._symbolic_trace.wrap("{name}")\n' for name in writer.wrapped)
    head = f"\n{wraps}\n" if wraps else "\n\n\n"
    outputs = [n for n in nodes if n.op == "output"]
    returns = ""
    if outputs and outputs[0].type is not None:
        returns = f" -> {writer.type_repr(outputs[0].type)}"
    src = head + f"def forward({', '.join(signature)}){returns}:\n"
    src += "".join(f"    {line}\n" for line in body) + "    "
    return PythonCode(src, writer.globals)
