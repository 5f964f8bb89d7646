"""Module boxes: record which module's forward made each graph node, through forward hooks only."""

from __future__ import annotations

import weakref

from ..autograd.graph import AccumulateGrad
from ..tensor import Tensor
from .graph import Graph, Item, parameter_names


class ModuleTrace:
    """Which submodule's ``forward`` created each node of the graphs built while it was active.

    Use it through :func:`trace_modules`. It needs from the model only PyTorch's public hook
    API: ``named_modules()``, ``register_forward_pre_hook(hook)`` (``hook(module, args)``) and
    ``register_forward_hook(hook)`` (``hook(module, args, output)``), each returning a handle
    with ``remove()``; ``named_parameters()`` is used for the names of parameters.

    How a node is placed: when a module's forward returns, the graph is walked back from its
    output tensors, stopping at the ``grad_fn`` of its input tensors and at nodes claimed by a
    call that ran before this one started. Every unclaimed node on the way was made during the
    call; nested calls return first, so each node ends up in the innermost module that made it.
    A tensor that the forward neither received as an argument nor made itself (a global computed
    earlier outside every module) would be counted as made by it.

    Attributes:
        model: the traced model.
        modules: ``{qualified name: class name}`` of every submodule, ``""`` being the model.
    """

    def __init__(self, model):
        for method in ("named_modules", "register_forward_hook", "register_forward_pre_hook"):
            if not callable(getattr(model, method, None)):
                raise TypeError(
                    f"trace_modules needs a Module with named_modules(), register_forward_hook() "
                    f"and register_forward_pre_hook(); {type(model).__name__} has no {method}()"
                )
        self.model = model
        self.modules = {name: type(m).__name__ for name, m in model.named_modules()}
        self._owner = weakref.WeakKeyDictionary()  # weak: the trace never keeps a graph alive
        self._calls: list = []  # open calls: (name, call number, input nodes)
        self._count = 0
        self._handles: list = []

    def __enter__(self) -> ModuleTrace:
        for name, module in self.model.named_modules():
            self._handles.append(_register_pre_hook(module, self._pre_hook(name)))
            self._handles.append(module.register_forward_hook(self._post_hook(name)))
        return self

    def __exit__(self, *exc) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
        self._calls.clear()

    def module_of(self, node) -> str | None:
        """The qualified name of the innermost module whose forward made ``node`` (or None)."""
        owner = self._owner.get(node)
        return None if owner is None else owner[0]

    def _pre_hook(self, name: str):
        def hook(module, args, kwargs=None):
            inputs = {t.grad_fn for t in _tensors((args, kwargs)) if t.grad_fn is not None}
            self._count += 1
            self._calls.append((name, self._count, inputs))

        return hook

    def _post_hook(self, name: str):
        def hook(module, args, output):
            while self._calls:  # calls that raised never reached their hook: drop them too
                call = self._calls.pop()
                if call[0] == name:
                    self._claim(call, output)
                    break

        return hook

    def _claim(self, call, output) -> None:
        name, number, inputs = call
        stack = [t.grad_fn for t in _tensors(output) if t.grad_fn is not None]
        seen = set()
        while stack:
            node = stack.pop()
            if node in seen or node in inputs or isinstance(node, AccumulateGrad):
                continue
            seen.add(node)
            owner = self._owner.get(node)
            if owner is None:
                self._owner[node] = (name, number)
            elif owner[1] < number:  # made by a call that ended before this one began
                continue
            stack.extend(edge[0] for edge in node.edges if edge is not None)


def trace_modules(model) -> ModuleTrace:
    """Record which submodule made each op, to draw ops inside boxes for their modules.

    Hooks are registered on every module of ``model`` on entering the ``with`` block and removed
    on leaving it. Pass the trace as ``module=`` to :func:`minigrad.viz.to_dot`.

    Example:
        >>> with minigrad.viz.trace_modules(model) as trace:
        ...     loss = ((model(x) - y) ** 2).mean()
        >>> loss.backward()
        >>> dot = minigrad.viz.to_dot(loss, module=trace, grad_heat=True)
    """
    return ModuleTrace(model)


def _register_pre_hook(module, hook):
    """A pre-hook that also sees keyword arguments where the module supports ``with_kwargs``."""
    try:
        return module.register_forward_pre_hook(hook, with_kwargs=True)
    except TypeError:
        return module.register_forward_pre_hook(hook)


def _tensors(value) -> list:
    """The tensors inside nested tuples, lists and dicts (iteratively)."""
    found, stack = [], [value]
    while stack:
        v = stack.pop()
        if isinstance(v, Tensor):
            found.append(v)
        elif isinstance(v, (tuple, list)):
            stack.extend(v)
        elif isinstance(v, dict):
            stack.extend(v.values())
    return found


# -- placing items in module boxes ---------------------------------------------------------------
def depth_of(name: str) -> int:
    """How deep a module sits: 0 for the model itself, 1 for ``fc1``, 2 for ``blocks.0``..."""
    return 0 if name == "" else name.count(".") + 1


def parent_of(name: str) -> str | None:
    """The enclosing module's name (None for the model itself)."""
    if name == "":
        return None
    return name.rsplit(".", 1)[0] if "." in name else ""


def assign_modules(graph: Graph, trace: ModuleTrace) -> None:
    """Set ``item.module`` for ops (from the trace) and the model's parameters (by their names)."""
    known = trace.modules
    has_params = hasattr(trace.model, "named_parameters")
    names = parameter_names(trace.model) if has_params else {}
    for item in graph.items:
        if item.kind == "op":
            item.module = trace.module_of(item.node)
        elif item.kind == "leaf" and not item.is_output:
            name = names.get(id(item.tensor))
            owner = parent_of(name) if name and "." in name else ("" if name else None)
            item.module = owner if owner in known else None


def collapse(graph: Graph, depth: int) -> Graph:
    """A graph where each module deeper than ``depth`` is one item standing for all inside it.

    Edges are redirected to the collapsed items; edges inside one of them are dropped, and an
    edge repeated by the redirection is drawn once.
    """
    out = Graph()
    boxes: dict = {}  # collapsed module name -> its item
    mapped: dict = {}  # id(original item) -> item in ``out``
    for item in graph.items:
        target = item.module
        if target is None or depth_of(target) <= depth:
            out.items.append(item)
            mapped[id(item)] = item
            continue
        top = ".".join(target.split(".")[: depth + 1])
        box = boxes.get(top)
        if box is None:
            box = boxes[top] = Item(len(graph.items) + len(boxes), "module")
            box.name, box.module = top, parent_of(top)
            out.items.append(box)
        box.members.append(item)
        mapped[id(item)] = box
    seen = set()
    for source, target, label in graph.edges:
        a, b = mapped[id(source)], mapped[id(target)]
        if a is b:
            continue
        if a.kind == "module" or b.kind == "module":
            if (a.id, b.id) in seen:
                continue
            seen.add((a.id, b.id))
            label = None
        out.edges.append((a, b, label))
    return out
