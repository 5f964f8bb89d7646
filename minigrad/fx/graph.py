"""``Graph``: the ordered list of :class:`~minigrad.fx.Node` s that FX records, with the API to
build, edit, copy, check, print and generate code from it (``torch.fx.Graph``)."""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable, Iterator

from ._codegen import PythonCode, _Namespace, python_code, snake_case
from .node import _OPS, Node, map_arg


class _NodeList:
    """The graph's nodes in order (forward or reversed); erasing while iterating is safe."""

    def __init__(self, graph: Graph, reverse: bool = False):
        self._graph = graph
        self._reverse = reverse

    def __len__(self) -> int:
        return self._graph._len

    def __iter__(self) -> Iterator[Node]:
        root = self._graph._root
        step = "_prev" if self._reverse else "_next"
        cur = getattr(root, step)
        while cur is not root:
            if not cur._erased:
                yield cur
            cur = getattr(cur, step)

    def __reversed__(self) -> Iterator[Node]:
        return iter(_NodeList(self._graph, not self._reverse))

    def __repr__(self) -> str:
        return repr(list(self))


class _InsertPoint:
    """Sets where new nodes go at once; restores the previous place on leaving ``with``."""

    def __init__(self, graph: Graph, insert: Callable):
        self._graph = graph
        self._orig, graph._insert = graph._insert, insert

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._graph._insert = self._orig


class Graph:
    """An FX graph: nodes in execution order, ending with one ``output`` node.

    Build one by hand or get it from :func:`~minigrad.fx.symbolic_trace`; wrap it in a
    :class:`~minigrad.fx.GraphModule` to run it.

    Example:
        >>> g = Graph()
        >>> x = g.placeholder("x")
        >>> g.output(g.call_method("relu", (x,)))
        >>> print(g)
        graph():
            %x : [num_users=1] = placeholder[target=x]
            %relu : [num_users=1] = call_method[target=relu](args = (%x,), kwargs = {})
            return relu
    """

    def __init__(self, owning_module=None, tracer_cls=None, tracer_extras=None):
        self._root = Node(self, "", "root", "", (), {})
        self._insert = self._root.prepend
        self._len = 0
        self._graph_namespace = _Namespace()
        self._owning_module = owning_module
        self._tracer_cls = tracer_cls
        self._tracer_extras = tracer_extras

    @property
    def owning_module(self):
        """The GraphModule that runs this graph (None for a free graph)."""
        return self._owning_module

    @owning_module.setter
    def owning_module(self, module) -> None:
        self._owning_module = module

    @property
    def nodes(self) -> _NodeList:
        """The nodes in order (``reversed(graph.nodes)`` walks them backwards)."""
        return _NodeList(self)

    def find_nodes(self, *, op: str, target=None) -> list[Node]:
        """The nodes with opcode ``op`` (and ``target``, when given)."""
        return [n for n in self.nodes if n.op == op and (target is None or n.target == target)]

    # -- building ---------------------------------------------------------------------------------
    def _target_to_str(self, target) -> str:
        if callable(target):
            name = target.__name__
        else:
            name = str(target)
            if name.startswith("__") and name.endswith("__"):
                name = name[2:-2]
        return snake_case(name)

    def create_node(
        self, op: str, target, args=None, kwargs=None, name: str | None = None, type_expr=None
    ) -> Node:
        """Add a node at the current insertion point (the end, unless ``inserting_before``/
        ``inserting_after`` moved it); its name is ``name`` or one made from ``target``, made
        unique as torch.fx does (``add``, ``add_1``, ...)."""
        if op not in _OPS or op == "root":
            raise ValueError(
                f"create_node: unknown opcode {op!r}; valid ones are "
                f"{[o for o in _OPS if o != 'root']}"
            )
        args = () if args is None else args
        kwargs = {} if kwargs is None else kwargs
        if not isinstance(args, tuple) or not isinstance(kwargs, dict):
            raise TypeError("create_node: args must be a tuple and kwargs a dict")
        candidate = name if name else self._target_to_str(target)
        node = Node(
            self, self._graph_namespace.create_name(candidate), op, target, args, kwargs, type_expr
        )
        self._insert(node)
        self._len += 1
        return node

    def placeholder(self, name: str, type_expr=None, default_value=inspect.Signature.empty) -> Node:
        """An input of the graph (``default_value``, when given, makes it optional)."""
        args = () if default_value is inspect.Signature.empty else (default_value,)
        return self.create_node("placeholder", name, args, type_expr=type_expr)

    def get_attr(self, qualified_name: str, type_expr=None) -> Node:
        """Fetch a parameter, buffer or attribute of the owning module (``"fc.weight"``)."""
        return self.create_node("get_attr", qualified_name, type_expr=type_expr)

    def call_module(self, module_name: str, args=None, kwargs=None, type_expr=None) -> Node:
        """Call the submodule at ``module_name`` of the owning module."""
        return self.create_node("call_module", module_name, args, kwargs, type_expr=type_expr)

    def call_method(self, method_name: str, args=None, kwargs=None, type_expr=None) -> Node:
        """Call method ``method_name`` of ``args[0]`` with the other arguments."""
        return self.create_node("call_method", method_name, args, kwargs, type_expr=type_expr)

    def call_function(self, the_function: Callable, args=None, kwargs=None, type_expr=None) -> Node:
        """Call a free function (``minigrad.cat``, ``operator.add``, a wrapped function)."""
        return self.create_node("call_function", the_function, args, kwargs, type_expr=type_expr)

    def output(self, result, type_expr=None) -> Node:
        """The value the graph returns (a node or a nest of nodes and constants)."""
        return self.create_node("output", "output", (result,), name="output", type_expr=type_expr)

    def inserting_before(self, n: Node | None = None) -> _InsertPoint:
        """New nodes go before ``n`` (before everything when ``n`` is None); a context manager
        that puts the insertion point back on exit."""
        if n is None:
            return self.inserting_after(self._root)
        return _InsertPoint(self, n.prepend)

    def inserting_after(self, n: Node | None = None) -> _InsertPoint:
        """New nodes go right after ``n`` (at the end when ``n`` is None); as in torch.fx, each
        new one goes directly after ``n``, before those inserted earlier."""
        if n is None:
            return self.inserting_before(self._root)
        return _InsertPoint(self, n.append)

    # -- editing ----------------------------------------------------------------------------------
    def erase_node(self, to_erase: Node) -> None:
        """Remove a node that nothing uses any more."""
        if to_erase.graph is not self:
            raise RuntimeError(f"erase_node: Node {to_erase} does not belong to this graph")
        if to_erase._erased:
            raise RuntimeError(f"erase_node: Node {to_erase} was already erased")
        if to_erase.users:
            raise RuntimeError(
                f"Tried to erase Node {to_erase} but it still had {len(to_erase.users)} users in "
                f"the graph: {to_erase.users}!"
            )
        to_erase._unlink()
        to_erase._erased = True
        self._len -= 1
        to_erase._update_args_kwargs((), {})

    def node_copy(self, node: Node, arg_transform: Callable = lambda x: x) -> Node:
        """Copy ``node`` (from any graph) here, mapping its input nodes with ``arg_transform``."""
        args = map_arg(node.args, arg_transform)
        kwargs = map_arg(node.kwargs, arg_transform)
        new = self.create_node(node.op, node.target, args, kwargs, node.name, node.type)
        new.meta = copy.copy(node.meta)
        return new

    def graph_copy(self, g: Graph, val_map: dict, return_output_node: bool = False):
        """Copy every node of ``g`` here (``val_map`` maps g's nodes to ours and is filled as
        it goes; nodes already in it are not copied); returns what g's output returns."""
        for node in g.nodes:
            if node in val_map:
                continue
            if node.op == "output":
                result = map_arg(node.args[0], lambda n: val_map[n])
                return (result, node) if return_output_node else result
            val_map[node] = self.node_copy(node, lambda n: val_map[n])
        return None

    def __deepcopy__(self, memo=None) -> Graph:
        new = Graph(tracer_cls=self._tracer_cls)
        out = new.graph_copy(self, {}, return_output_node=True)
        if out is not None:
            value, old_output = out
            new.output(value, old_output.type).meta = copy.copy(old_output.meta)
        return new

    def eliminate_dead_code(self, is_impure_node: Callable[[Node], bool] | None = None) -> bool:
        """Erase nodes whose value nothing uses and that have no effect (see
        :meth:`Node.is_impure`); returns whether anything changed."""
        self.lint()
        impure = is_impure_node or (lambda n: n.is_impure())
        changed = False
        for node in reversed(self.nodes):
            if not node.users and not impure(node):
                self.erase_node(node)
                changed = True
        return changed

    # -- checking and printing --------------------------------------------------------------------
    def lint(self) -> None:
        """Check the graph: nodes belong to it, inputs come before their users, names are unique,
        ``get_attr``/``call_module`` targets exist in the owning module. Raises RuntimeError."""
        seen: set[Node] = set()
        names: set[str] = set()
        for node in self.nodes:
            if node.graph is not self:
                raise RuntimeError(f"lint: Node {node} does not belong to this Graph")
            if node.name in names:
                raise RuntimeError(f"lint: Node redefined name {node.name}!")
            for arg in node.all_input_nodes:
                if arg.graph is not self:
                    raise RuntimeError(f"lint: Argument {arg} of Node {node} is in another Graph")
                if arg not in seen:
                    raise RuntimeError(
                        f"lint: Argument '{arg}' of Node '{node}' was used before defined"
                    )
            seen.add(node)
            names.add(node.name)
            self._lint_target(node)

    def _lint_target(self, node: Node) -> None:
        module = self._owning_module
        if module is None or node.op not in ("get_attr", "call_module"):
            return
        obj = module
        for i, part in enumerate(node.target.split(".")):
            if not hasattr(obj, part):
                where = ".".join(node.target.split(".")[:i]) or "the root module"
                raise RuntimeError(
                    f"lint: Node {node.name} target {node.target} references nonexistent "
                    f"attribute {part} of {where}"
                )
            obj = getattr(obj, part)

    def python_code(self, root_module: str = "self", *, verbose: bool = False) -> PythonCode:
        """The Python source of this graph as ``forward(root_module, ...)`` and its globals
        (``verbose``: with comments saying where the nodes were traced)."""
        return python_code(self, root_module, verbose)

    def __str__(self) -> str:
        lines = ["graph():"] + ["    " + n.format_node() for n in self.nodes]
        return "\n".join(lines)

    def print_tabular(self) -> None:
        """Print one row per node: opcode, name, target, args, kwargs."""
        headers = ["opcode", "name", "target", "args", "kwargs"]
        rows = [
            [
                n.op,
                n.name,
                n._pretty_target() if n.op == "call_function" else str(n.target),
                str(n.args),
                str(n.kwargs),
            ]
            for n in self.nodes
        ]
        widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(5)]
        print("  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip())
        print("  ".join("-" * w for w in widths))
        for row in rows:
            print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
