"""``GraphModule``: a Module whose ``forward`` is Python source generated from an FX graph (and
compiled), holding the submodules, parameters and buffers that graph uses."""

from __future__ import annotations

import copy
import itertools
import linecache

from ..nn.modules.module import Module
from ..nn.parameter import Parameter
from ..tensor import Tensor
from .graph import Graph
from .node import Node, map_aggregate, map_arg

_source_keys = itertools.count()


def _compile_forward(src: str, globals_: dict):
    """Run the generated source (registered with linecache so tracebacks show its lines)."""
    key = f"<eval_with_key>.{next(_source_keys)}"
    linecache.cache[key] = (len(src), None, src.splitlines(True), key)
    scope = dict(globals_)
    exec(compile(src, key, "exec"), scope)
    return scope["forward"]


def _copy_attr(from_module: Module, to_module: Module, target: str) -> None:
    """Give ``to_module`` the object at dotted ``target`` of ``from_module`` (shared, not copied),
    making empty Modules for the path in between where needed."""
    *path, field = target.split(".")
    for item in path:
        source = getattr(from_module, item)
        held = getattr(to_module, item, None)
        if held is None or (held is not source and not isinstance(held, Module)):
            held = Module()
            setattr(to_module, item, held)
        from_module, to_module = source, held
    _assign(getattr(from_module, field), to_module, field)


def _assign(value, module: Module, field: str) -> None:
    if isinstance(value, Tensor) and not isinstance(value, Parameter):
        module.register_buffer(field, value)
    else:
        setattr(module, field, value)


def _assign_attr(value, to_module: Module, target: str) -> None:
    *path, field = target.split(".")
    for item in path:
        held = getattr(to_module, item, None)
        if held is None:
            held = Module()
            setattr(to_module, item, held)
        to_module = held
    _assign(value, to_module, field)


class GraphModule(Module):
    """Runs an FX :class:`Graph` as a Module.

    ``root`` is the module (or a dict from qualified names to objects) that the graph's
    ``get_attr`` and ``call_module`` targets come from; those objects are shared with it, so
    training the GraphModule trains them. ``code`` is the generated ``forward``; after editing
    ``graph``, call :meth:`recompile`.

    Example:
        >>> gm = symbolic_trace(model)
        >>> for node in gm.graph.nodes:
        ...     if node.op == "call_module" and node.target == "act":
        ...         node.op, node.target = "call_function", minigrad.sigmoid
        >>> gm.recompile()
    """

    def __new__(cls, *args, **kwargs):
        # Each instance gets its own class, so that recompile() can set forward on it alone.
        while cls.__name__ == "GraphModuleImpl":
            cls = cls.__mro__[1]

        class GraphModuleImpl(cls):
            pass

        return super().__new__(GraphModuleImpl)

    def __init__(self, root: Module | dict, graph: Graph, class_name: str = "GraphModule"):
        super().__init__()
        self.__class__.__name__ = class_name
        if isinstance(root, Module):
            self.training = root.training
            for node in graph.nodes:
                if node.op in ("get_attr", "call_module"):
                    _copy_attr(root, self, node.target)
        elif isinstance(root, dict):
            for node in graph.nodes:
                if node.op in ("get_attr", "call_module"):
                    if node.target not in root:
                        raise RuntimeError(
                            f"Node {node} referenced target {node.target} but that target was "
                            f"not provided in ``root``!"
                        )
                    _assign_attr(root[node.target], self, node.target)
        else:
            raise RuntimeError(f"Unsupported type {root} passed for root!")
        self.graph = graph

    @property
    def graph(self) -> Graph:
        """The graph this module runs; setting it recompiles."""
        return self._graph

    @graph.setter
    def graph(self, g: Graph) -> None:
        if not isinstance(g, Graph):
            raise TypeError(
                f"GraphModule.graph must be a minigrad.fx.Graph, got {type(g).__name__}"
            )
        self.__dict__["_graph"] = g
        g.owning_module = self
        self.recompile()

    @property
    def code(self) -> str:
        """The Python source of ``forward`` generated from the graph."""
        return self._code

    def recompile(self):
        """Regenerate ``code`` from ``graph`` and make it this module's ``forward``."""
        python_code = self._graph.python_code(root_module="self")
        self.__dict__["_code"] = python_code.src
        type(self).forward = _compile_forward(python_code.src, python_code.globals)
        return python_code

    def print_readable(
        self, print_output: bool = True, include_stride=False, include_device=False, colored=False
    ) -> str:
        """The generated code as a class definition (printed unless ``print_output=False``);
        GraphModule submodules follow as nested classes named after their attributes."""
        if include_stride or include_device or colored:
            raise NotImplementedError(
                "GraphModule.print_readable: include_stride, include_device and colored are not "
                "implemented in minigrad"
            )
        text = self._readable(type(self).__name__)
        if print_output:
            print(text)
        return text

    def _readable(self, class_name: str) -> str:
        body = self._graph.python_code("self", verbose=True).src.strip("\n").rstrip()
        text = f"class {class_name}(minigrad.nn.Module):\n" + "\n".join(
            ("    " + line) if line.strip() else "" for line in body.splitlines()
        )
        nested = [(n, m) for n, m in self.named_children() if isinstance(m, GraphModule)]
        for name, child in nested:
            inner = child._readable(name).splitlines()
            text += "\n\n" + "\n".join(("    " + line) if line.strip() else "" for line in inner)
        return text + ("\n" if nested else "")

    def add_submodule(self, target: str, m: Module) -> bool:
        """Install ``m`` at dotted ``target``, making empty parent Modules as needed."""
        *path, field = target.split(".")
        module = self
        for item in path:
            sub = getattr(module, item, None)
            if sub is None:
                sub = Module()
                setattr(module, item, sub)
            if not isinstance(sub, Module):
                return False
            module = sub
        module.add_module(field, m)
        return True

    def delete_submodule(self, target: str) -> bool:
        """Remove the submodule at dotted ``target``; returns whether there was one."""
        *path, field = target.split(".")
        module = self
        for item in path:
            module = getattr(module, item, None)
            if not isinstance(module, Module):
                return False
        if not isinstance(module._modules.get(field), Module):
            return False
        delattr(module, field)
        return True

    def delete_all_unused_submodules(self) -> None:
        """Remove the submodules that no ``call_module`` or ``get_attr`` node reaches."""
        used = set()
        for node in self._graph.nodes:
            if node.op in ("call_module", "get_attr"):
                parts = node.target.split(".")
                used.update(".".join(parts[: i + 1]) for i in range(len(parts)))
                if node.op == "call_module":
                    sub = self.get_submodule(node.target)
                    used.update(f"{node.target}.{n}" for n, _ in sub.named_modules() if n)
        # every path, a module reachable from a used one included (fusion leaves the folded
        # batch norm both inside the fused module and at its old name)
        for name, _ in list(self.named_modules(remove_duplicate=False)):
            if name and name not in used:
                self.delete_submodule(name)

    def to_folder(self, folder, module_name: str = "FxModule") -> None:
        """Write this module to ``folder`` as a package: ``module.py`` defines class
        ``module_name`` (the generated forward; minigrad.nn submodules rebuilt from their
        reprs) and ``state_dict.pt`` holds the tensors it loads. Submodules of other classes
        raise NotImplementedError (minigrad saves no pickled modules)."""
        from ._to_folder import to_folder

        to_folder(self, folder, module_name)

    def __copy__(self):
        return GraphModule(self, self._graph, type(self).__name__)

    def __deepcopy__(self, memo):
        result = type(self).__new__(type(self))
        memo[id(self)] = result
        holder = Module()
        state = copy.deepcopy(self.__dict__, memo)
        holder.__dict__.update({k: v for k, v in state.items() if not k.startswith("_graph")})
        GraphModule.__init__(result, holder, state["_graph"], type(self).__name__)
        return result

    def __reduce__(self):
        # Pickled as its state and the graph as flat node records (the per-instance class and
        # the compiled forward are remade on loading).
        body = {k: v for k, v in self.__dict__.items() if k not in ("_graph", "_code")}
        return (_rebuild, (body, _graph_records(self._graph), type(self).__name__))

    def __str__(self) -> str:
        return super().__repr__() + "\n" + self._code


def _graph_records(graph: Graph) -> list[tuple]:
    index = {node: i for i, node in enumerate(graph.nodes)}

    def ref(n: Node):
        return _NodeRef(index[n])

    return [
        (
            n.name,
            n.op,
            n.target,
            map_arg(n.args, ref),
            map_arg(n.kwargs, ref),
            "is_wrapped" in n.meta,
        )
        for n in graph.nodes
    ]


class _NodeRef(int):
    """A node's position, standing for it in pickled graph records."""


def _rebuild(body: dict, records: list[tuple], class_name: str) -> GraphModule:
    holder = Module()
    holder.__dict__.update(body)
    graph = Graph()
    made: list[Node] = []

    def deref(x):
        return made[x] if isinstance(x, _NodeRef) else x

    for name, op, target, args, kwargs, wrapped in records:
        args, kwargs = map_aggregate(args, deref), map_aggregate(kwargs, deref)
        made.append(graph.create_node(op, target, args, kwargs, name))
        if wrapped:
            made[-1].meta["is_wrapped"] = True
    return GraphModule(holder, graph, class_name)
