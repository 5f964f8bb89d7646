"""``Node``: one operation of an FX graph (its opcode, target, arguments and users), and the
helpers that walk nested arguments (``map_arg``, ``map_aggregate``)."""

from __future__ import annotations

import builtins
import operator
from collections.abc import Callable
from typing import Any

_OPS = ("placeholder", "call_method", "call_module", "call_function", "get_attr", "output", "root")

# Calls that change state: dead-code elimination keeps them even when nothing uses their value.
_SIDE_EFFECTFUL = {operator.setitem, builtins.print}
# minigrad functions that draw random numbers (they advance a generator), kept as torch.fx does.
_RANDOM = {"rand", "randn", "randint", "randperm", "bernoulli", "multinomial", "normal", "poisson",
           "rand_like", "randn_like", "randint_like", "dropout"}  # fmt: skip


def map_aggregate(a: Any, fn: Callable) -> Any:
    """Apply ``fn`` to every leaf of ``a``, rebuilding the tuples, lists, dicts and slices
    around the results (named tuples keep their type)."""
    if isinstance(a, tuple):
        items = [map_aggregate(e, fn) for e in a]
        return type(a)(*items) if hasattr(a, "_fields") else type(a)(items)
    if isinstance(a, list):
        return [map_aggregate(e, fn) for e in a]
    if isinstance(a, dict):
        return {k: map_aggregate(v, fn) for k, v in a.items()}
    if isinstance(a, slice):
        parts = (map_aggregate(p, fn) for p in (a.start, a.stop, a.step))
        return slice(*parts)
    return fn(a)


def map_arg(a: Any, fn: Callable[[Node], Any]) -> Any:
    """Apply ``fn`` to every :class:`Node` inside the (nested) argument ``a``.

    Example:
        >>> map_arg((n1, [n2, 3]), lambda n: n.name)
        ('x', ['y', 3])
    """
    if not callable(fn):
        raise TypeError("map_arg(a, fn): fn must be a callable")
    return map_aggregate(a, lambda x: fn(x) if isinstance(x, Node) else x)


def _input_nodes(args: tuple, kwargs: dict) -> dict:
    found: dict = {}
    map_arg((args, kwargs), lambda n: found.setdefault(n))
    return found


def _qualified_name(fn) -> str:
    """``module.name`` of a function, as FX prints call_function targets; minigrad functions
    take the shortest public path that gives them back (``minigrad.cat``)."""
    from ._codegen import public_path  # late: _codegen imports this module

    return public_path(fn)


def _type_str(t) -> str:
    """An annotation as torch.fx prints it in a graph: classes by qualified name, strings
    quoted, typing constructs as typing prints them."""
    if isinstance(t, str):
        return repr(t)
    if isinstance(t, type) and t.__module__ == "builtins":
        return t.__qualname__
    if isinstance(t, type):
        return _qualified_name(t)
    return str(t)


def _format_arg(arg: Any) -> str:
    if isinstance(arg, Node):
        return "%" + arg.name
    if isinstance(arg, list):
        return "[" + ", ".join(_format_arg(a) for a in arg) + "]"
    if isinstance(arg, tuple):
        inner = ", ".join(_format_arg(a) for a in arg)
        return "(" + inner + ("," if len(arg) == 1 else "") + ")"
    if isinstance(arg, dict):
        return "{" + ", ".join(f"{k}: {_format_arg(v)}" for k, v in arg.items()) + "}"
    return str(arg)


class Node:
    """One operation in a :class:`~minigrad.fx.Graph`.

    ``op`` is one of ``placeholder`` (an input), ``get_attr`` (a parameter or buffer of the
    owning module), ``call_function``, ``call_method``, ``call_module`` and ``output``;
    ``target`` says what is called or fetched; ``args``/``kwargs`` may hold other nodes
    (anywhere in nested tuples, lists and dicts). ``users`` are the nodes that take this one as
    an input, kept up to date when arguments change.
    """

    def __init__(
        self, graph, name: str, op: str, target, args: tuple, kwargs: dict, return_type=None
    ):
        if op not in _OPS:
            raise ValueError(f"Node: unknown opcode {op!r}; valid ones are {list(_OPS[:-1])}")
        if op == "call_function" and not callable(target):
            raise ValueError(f"Node {name}: call_function target {target!r} is not callable")
        if op in ("get_attr", "call_module", "call_method", "placeholder") and not isinstance(
            target, str
        ):
            raise ValueError(f"Node {name}: a {op} target must be a string, got {target!r}")
        self.graph = graph
        self.name = name
        self.op = op
        self.target = target
        self.type = return_type
        self.users: dict[Node, None] = {}
        self.meta: dict = {}
        self._input_nodes: dict[Node, None] = {}
        self._args: tuple = ()
        self._kwargs: dict = {}
        self._prev = self._next = self
        self._erased = False
        self._update_args_kwargs(args, kwargs)

    # -- arguments ------------------------------------------------------------------------------
    @property
    def args(self) -> tuple:
        """The positional arguments; assigning them updates the users of the nodes inside."""
        return self._args

    @args.setter
    def args(self, value) -> None:
        self._update_args_kwargs(value, self._kwargs)

    @property
    def kwargs(self) -> dict:
        """The keyword arguments; assigning them updates the users of the nodes inside."""
        return self._kwargs

    @kwargs.setter
    def kwargs(self, value) -> None:
        self._update_args_kwargs(self._args, value)

    def _update_args_kwargs(self, args, kwargs) -> None:
        self._args = tuple(map_aggregate(args, lambda x: x))
        self._kwargs = dict(map_aggregate(dict(kwargs), lambda x: x))
        for old in self._input_nodes:
            old.users.pop(self, None)
        self._input_nodes = _input_nodes(self._args, self._kwargs)
        for new in self._input_nodes:
            new.users.setdefault(self)

    @property
    def all_input_nodes(self) -> list[Node]:
        """The distinct nodes among ``args`` and ``kwargs``, in order of appearance."""
        return list(self._input_nodes)

    def update_arg(self, idx: int, arg) -> None:
        """Set ``args[idx]`` to ``arg``."""
        args = list(self._args)
        args[idx] = arg
        self.args = tuple(args)

    def update_kwarg(self, key: str, arg) -> None:
        """Set ``kwargs[key]`` to ``arg``."""
        self.kwargs = {**self._kwargs, key: arg}

    def replace_all_uses_with(
        self,
        replace_with: Node,
        delete_user_cb: Callable = lambda user: True,
        *,
        propagate_meta=False,
    ) -> list[Node]:
        """Make every user of this node take ``replace_with`` instead; returns those users.

        Users for which ``delete_user_cb(user)`` is False keep this node.

        Example:
            >>> relu.replace_all_uses_with(gelu)  # everything that read relu now reads gelu
        """
        if propagate_meta:
            for key, value in self.meta.items():
                replace_with.meta.setdefault(key, value)
        changed = [user for user in list(self.users) if delete_user_cb(user)]
        for user in changed:
            user.replace_input_with(self, replace_with)
        return changed

    def replace_input_with(self, old_input: Node, new_input: Node) -> None:
        """Put ``new_input`` wherever ``old_input`` appears in this node's arguments."""

        def swap(n):
            return new_input if n is old_input else n

        self._update_args_kwargs(map_arg(self._args, swap), map_arg(self._kwargs, swap))

    # -- position in the graph -------------------------------------------------------------------
    @property
    def next(self) -> Node:
        """The node after this one in the graph (the graph's root sentinel after the last)."""
        return self._next

    @property
    def prev(self) -> Node:
        """The node before this one in the graph."""
        return self._prev

    def _unlink(self) -> None:
        p, n = self._prev, self._next
        p._next, n._prev = n, p

    def prepend(self, x: Node) -> None:
        """Move (or insert) ``x`` just before this node."""
        if x is self:
            raise ValueError("Node.prepend: cannot put a node before itself")
        if x.graph is not self.graph:
            raise ValueError("Node.prepend: the nodes belong to different graphs")
        x._unlink()
        p = self._prev
        p._next, x._prev = x, p
        x._next, self._prev = self, x

    def append(self, x: Node) -> None:
        """Move (or insert) ``x`` just after this node."""
        self._next.prepend(x)

    # -- properties -----------------------------------------------------------------------------
    @property
    def stack_trace(self):
        """Where the traced code made this node, when the tracer recorded it (else None)."""
        return self.meta.get("stack_trace")

    def is_impure(self) -> bool:
        """Whether the node has effects beyond its value (inputs, the output, in-place methods,
        ``operator.setitem``): dead-code elimination keeps such nodes."""
        if self.op in ("placeholder", "output"):
            return True
        if self.op == "call_function":
            if self.target in _SIDE_EFFECTFUL or getattr(self.target, "_fx_impure", False):
                return True
            module = getattr(self.target, "__module__", None) or ""
            return module.startswith("minigrad") and self.target.__name__ in _RANDOM
        if self.op == "call_method":
            return self.target.endswith("_") and not self.target.endswith("__")
        if self.op == "call_module" and self.graph.owning_module is not None:
            module = self.graph.owning_module.get_submodule(self.target)
            return bool(getattr(module, "_is_impure", False))
        return False

    def _pretty_target(self) -> str:
        if self.op == "call_function":
            return _qualified_name(self.target)
        return str(self.target)

    def format_node(self) -> str:
        """The node as one line of the printed graph (torch.fx's format)."""
        if self.op == "output":
            return f"return {self._args[0]}"
        typed = f"{_type_str(self.type)} " if self.type is not None else ""
        head = f"%{self.name} : {typed}[num_users={len(self.users)}] = {self.op}[target={self._pretty_target()}]"
        if self.op == "placeholder":
            return head + (f"(default={self._args[0]})" if self._args else "")
        if self.op == "get_attr":
            return head
        return head + f"(args = {_format_arg(self._args)}, kwargs = {_format_arg(self._kwargs)})"

    def __repr__(self) -> str:
        return self.name
