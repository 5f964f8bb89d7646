"""Lifting, as ``torch.export`` does it: the parameters, buffers and tensor constants a traced
graph reads become graph inputs (placeholders ``p_<fqn>``, ``b_<fqn>``, ``c_<fqn>`` before the
user inputs), so the graph module holds no state; and the reverse (``unlift``), which binds the
state back for :meth:`ExportedProgram.module`.

minigrad's tracer calls minigrad.nn layers as units (``call_module``). A layer that holds
tensors is first expanded: its forward is traced on its own and inlined (``Linear`` becomes
``F.linear(x, p_fc_weight, p_fc_bias)``, as in PyTorch's graph); batch norm, whose forward
checks its input's shape, is written out as its forward does it; a layer whose forward cannot be
traced (LSTM, MultiheadAttention) is called through ``minigrad.func.functional_call`` with the
lifted tensors, so its state is lifted too.
"""

from __future__ import annotations

import inspect
import operator

from ..fx import Graph, GraphModule, Node, Proxy, Tracer
from ..fx import traceback as fx_traceback
from ..fx._symbolic_trace import _assert, _assert_is_none
from ..fx.node import map_arg
from ..nn import functional as F
from ..nn.modules.activation import MultiheadAttention
from ..nn.modules.batchnorm import BatchNorm1d, BatchNorm2d, BatchNorm3d
from ..nn.modules.module import Module
from ..nn.modules.rnn import LSTM, LSTMCell, RNNBase
from ..nn.parameter import Parameter
from ..nn.utils.stateless import functional_call
from ..tensor import Tensor
from .graph_signature import InputKind, InputSpec, TensorArgument

_PREFIX = {InputKind.PARAMETER: "p_", InputKind.BUFFER: "b_", InputKind.CONSTANT_TENSOR: "c_"}


class StateProxy(Proxy):
    """A parameter or buffer read in ``forward``: recorded as a proxy, but its shape, dtype and
    device are the tensor's (PyTorch's export specializes on them too), so Python control flow
    on them (``range(self.pe.shape[0])``) traces."""

    def __init__(self, node: Node, tracer, tensor: Tensor):
        super().__init__(node, tracer)
        self.__dict__["_state"] = tensor

    def __getattr__(self, name: str):
        if name in ("shape", "ndim", "dtype", "device", "is_cuda", "requires_grad"):
            return getattr(self._state, name)
        return super().__getattr__(name)

    def size(self, dim=None):
        return self._state.size() if dim is None else self._state.size(dim)

    def dim(self) -> int:
        return self._state.dim()

    def numel(self) -> int:
        return self._state.numel()

    def __len__(self) -> int:
        return len(self._state)


class ExportTracer(Tracer):
    """minigrad.fx's tracer, except that a tensor made inside ``forward`` (``minigrad.tensor``
    of a literal) is kept in ``constants`` as ``lifted_tensor_<i>`` (PyTorch's name) instead of
    being set on the traced module, and that parameters and buffers read in ``forward`` are
    :class:`StateProxy` s: what the traced code does to them, in place included
    (``self.count.add_(1)``), is recorded rather than run, while their shapes are numbers."""

    def __init__(self, constants: dict, given: set[str] | None = None):
        super().__init__()
        self.constants = constants
        self.given = given  # forward's inputs the export was given (None: fx's concrete_args)

    def _concrete(self, param, value):
        """A non-tensor input specialized as PyTorch's export does: a value the export was
        given is a placeholder the graph ignores (the program's guards check it), one left at
        its default is no input at all; either way tracing uses the value. (Layers traced on
        their own keep fx's checked placeholders.)"""
        if self.given is None:
            return super()._concrete(param, value)
        if param.name in self.given:
            self.create_proxy("placeholder", param.name, (), {}, name=param.name)
        return value

    def create_node(self, kind, target, args, kwargs, name=None, type_expr=None):
        """A node as minigrad.fx records it, with fx.traceback.annotate's pairs (strict)."""
        node = super().create_node(kind, target, args, kwargs, name, type_expr)
        custom = fx_traceback.custom_for_node()
        if custom is not None and kind not in ("placeholder", "output"):
            node.meta["custom"] = custom
        return node

    def getattr(self, attr: str, attr_val, parameter_proxy_cache: dict):
        """A parameter or buffer of the root read from a module: its :class:`StateProxy`."""
        name = self.tensor_attrs.get(id(attr_val)) if isinstance(attr_val, Tensor) else None
        if isinstance(attr_val, Parameter):
            name = next((n for n, p in self.root.named_parameters() if p is attr_val), None)
        if name is None:
            return super().getattr(attr, attr_val, parameter_proxy_cache)
        if name not in parameter_proxy_cache:
            node = self.create_proxy("get_attr", name, (), {}).node
            parameter_proxy_cache[name] = StateProxy(node, self, attr_val)
        return parameter_proxy_cache[name]

    def call_module(self, m: Module, forward, args: tuple, kwargs: dict):
        """A layer that returns a tuple (the recurrent layers, multi-head attention) gives a
        tuple of proxies, as ``torch.export`` sees the tuple the layer returns: unpacking and
        ``isinstance(out, tuple)`` then work as they do eagerly."""
        out = super().call_module(m, forward, args, kwargs)
        structure = _tuple_structure(m)
        return out if structure is None or not isinstance(out, Proxy) else _split(out, structure)

    def create_arg(self, a):
        """Fresh tensors become ``lifted_tensor_<i>`` constants; the rest as the base tracer."""
        if isinstance(a, Tensor) and not isinstance(a, Parameter):
            if id(a) not in self.tensor_attrs:
                name = f"lifted_tensor_{len(self.constants)}"
                self.constants[name] = a
                self.tensor_attrs[id(a)] = name
        return super().create_arg(a)


def _tuple_structure(layer: Module):
    """How a layer's output nests in tuples (None: a tensor), or None if it is no tuple."""
    if isinstance(layer, LSTM):
        return (None, (None, None))  # output, (h_n, c_n)
    if isinstance(layer, (RNNBase, LSTMCell, MultiheadAttention)):
        return (None, None)  # output, h_n; (h, c); attention output, weights
    return None


def _split(proxy: Proxy, structure: tuple) -> tuple:
    return tuple(
        proxy[i] if part is None else _split(proxy[i], part) for i, part in enumerate(structure)
    )


def _owns_tensors(layer: Module) -> bool:
    return any(True for _ in layer.parameters()) or any(True for _ in layer.buffers())


def _branches(node: Node) -> list:
    return (
        [a for a in node.args if isinstance(a, GraphModule)] if node.op == "call_function" else []
    )


# -- expanding the layers that hold tensors ----------------------------------------------------
def inline_layers(root: Module, graph: Graph, constants: dict) -> None:
    """Replace each ``call_module`` of a layer holding tensors (in ``graph`` and in the branches
    of its ``cond`` calls) by the operations of its forward, reading the tensors by
    ``get_attr``."""
    changed = True
    while changed:
        changed = False
        for node in list(graph.nodes):
            for branch in _branches(node):
                inline_layers(root, branch.graph, constants)
            if node.op == "call_module":
                layer = root.get_submodule(node.target)
                if _owns_tensors(layer):
                    _expand(graph, node, layer, constants)
                    changed = True


def _expand(graph: Graph, node: Node, layer: Module, constants: dict) -> None:
    before = set(graph.nodes)
    with graph.inserting_before(node):
        out = None
        if type(layer) in (BatchNorm1d, BatchNorm2d, BatchNorm3d):
            out = _batch_norm(graph, node, layer)
        if out is None:
            out = _inline_forward(graph, node, layer, constants)
        if out is None:
            out = _functional_call(graph, node, layer)
    if "custom" in node.meta:  # the layer call's annotations go to its operations
        for new in graph.nodes:
            if new not in before:
                new.meta["custom"] = {**node.meta["custom"], **new.meta.get("custom", {})}
    node.replace_all_uses_with(out)
    graph.erase_node(node)


def _batch_norm(graph: Graph, node: Node, layer) -> Node | None:
    """The batch-norm layer's forward, minus its input-shape check (the program's guards check
    the inputs against the example's shape): the ``num_batches_tracked.add_(1)`` in training,
    then ``F.batch_norm``. None where the momentum is a cumulative average (data-dependent)."""
    args = list(node.args) + [node.kwargs[k] for k in ("input",) if k in node.kwargs]
    if len(args) != 1 or (layer.training and layer.momentum is None):
        return None
    prefix = node.target + "."

    def get(name):
        return None if getattr(layer, name) is None else graph.get_attr(prefix + name)

    track = layer.track_running_stats and layer.num_batches_tracked is not None
    if layer.training and track:
        graph.call_method("add_", (get("num_batches_tracked"), 1))
    batch_stats = layer.training or (layer.running_mean is None and layer.running_var is None)
    keep = not layer.training or layer.track_running_stats
    stats = (get("running_mean"), get("running_var")) if keep else (None, None)
    momentum = 0.0 if layer.momentum is None else layer.momentum
    return graph.call_function(
        F.batch_norm,
        (args[0], *stats, get("weight"), get("bias"), batch_stats, momentum, layer.eps),
    )


def _inline_forward(graph: Graph, node: Node, layer: Module, constants: dict) -> Node | None:
    """Trace ``layer``'s forward alone (non-node arguments of the call fixed to their values)
    and copy its nodes before ``node``; None when it cannot be traced or returns a nest."""
    params = list(inspect.signature(type(layer).forward).parameters.values())[1:]
    if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params):
        return None
    try:
        bound = inspect.signature(layer.forward).bind(*node.args, **node.kwargs)
    except TypeError:
        return None
    bound.apply_defaults()
    concrete = {k: v for k, v in bound.arguments.items() if not isinstance(v, Node)}
    if any(_has_node(v) for v in concrete.values()):
        return None
    try:
        sub = ExportTracer(constants).trace(layer, concrete_args=concrete)
    except Exception:  # any failure of a symbolic trace: the layer is called whole instead
        return None
    result = sub.find_nodes(op="output")[0].args[0]
    if not isinstance(result, Node) or (result.op == "placeholder" and result.name in concrete):
        return None
    prefix, env, skipped = node.target + ".", {}, set()
    names = dict(zip(sub.find_nodes(op="placeholder"), (p.name for p in params)))
    for n in sub.nodes:
        if n.op == "placeholder":
            env[n] = bound.arguments[names[n]]
            if names[n] in concrete:
                skipped.add(n)
        elif n.op == "output":
            break
        elif n.target in (_assert, _assert_is_none, operator.eq) and any(
            i in skipped for i in n.all_input_nodes
        ):
            skipped.add(n)  # the check of a fixed argument, true by construction
        else:
            env[n] = graph.node_copy(n, lambda m: env[m])
            if n.op in ("get_attr", "call_module") and n.target not in constants:
                env[n].target = prefix + n.target
    return env[result]


def _has_node(value) -> bool:
    found = []
    map_arg(value, found.append)
    return bool(found)


def _functional_call(graph: Graph, node: Node, layer: Module) -> Node:
    prefix = node.target + "."
    names = [k for k, _ in layer.named_parameters(remove_duplicate=False)]
    names += [k for k, _ in layer.named_buffers(remove_duplicate=False)]
    module = graph.get_attr(node.target)
    tensors = {k: graph.get_attr(prefix + k) for k in names}
    args = (module, tensors, tuple(node.args), dict(node.kwargs))
    return graph.call_function(functional_call, args)


# -- lifting ---------------------------------------------------------------------------------
class Lifter:
    """Turns the ``get_attr`` tensors of a traced graph into inputs: ``specs`` (parameters,
    buffers, then the constants the graph reads) and ``constants`` (PyTorch's
    ``ExportedProgram.constants``: tensor constants and non-persistent buffers)."""

    def __init__(self, root: Module, constants: dict, persistent: dict | None = None):
        self.root, self.lifted = root, constants
        self.specs: list[InputSpec] = []
        self.by_id: dict[int, str] = {}  # a tensor -> its placeholder name (the last fqn wins)
        for fqn, p in root.named_parameters(remove_duplicate=False):
            self._add(InputKind.PARAMETER, fqn, p)
        for fqn, b in root.named_buffers(remove_duplicate=False):
            keep = self._persistent(fqn) if persistent is None else persistent.get(fqn, True)
            self._add(InputKind.BUFFER, fqn, b, keep)
        self.constants = {s.target: self.tensor(s) for s in self.specs if s.persistent is False}
        self.holder: dict = {}

    def _add(self, kind, fqn: str, value, persistent=None) -> str:
        name = _PREFIX[kind] + fqn.replace(".", "_")
        self.specs.append(InputSpec(kind, TensorArgument(name), fqn, persistent))
        self.by_id[id(value)] = name
        return name

    def _persistent(self, fqn: str) -> bool:
        prefix, _, field = fqn.rpartition(".")
        owner = self.root.get_submodule(prefix)
        return field not in getattr(owner, "_non_persistent_buffers_set", ())

    def tensor(self, spec: InputSpec):
        """The tensor ``spec`` reads."""
        if spec.target in self.lifted:
            return self.lifted[spec.target]
        return attr(self.root, spec.target)

    def key(self, node: Node) -> str | None:
        """The placeholder name for a ``get_attr`` of a tensor (a new constant if need be)."""
        if node.target in self.lifted:
            value = self.lifted[node.target]
        else:
            value = attr(self.root, node.target)
            if not isinstance(value, Tensor):
                return None
        name = self.by_id.get(id(value))
        if name is None:
            name = self._add(InputKind.CONSTANT_TENSOR, node.target, value)
            self.constants[node.target] = value
        return name

    def lift(self, graph: Graph) -> Graph:
        """The lifted graph: a placeholder per parameter and buffer, then one per constant the
        graph reads, then the user inputs, then the graph's operations."""
        self._keys(graph)  # (finds the constants first: their placeholders precede the inputs)
        new, env = Graph(), {}
        inputs = {s.arg.name: new.placeholder(s.arg.name) for s in self.specs}
        self._copy(graph.nodes, new, env, inputs)
        return new

    def _keys(self, graph: Graph) -> list[str]:
        """The placeholder names of the tensors ``graph`` (and its branches) read, in the
        signature's order."""
        keys = []
        for node in graph.nodes:
            found = [self.key(node)] if node.op == "get_attr" else []
            for branch in _branches(node):
                found += self._keys(branch.graph)
            keys += [k for k in found if k is not None and k not in keys]
        order = [s.arg.name for s in self.specs]
        return sorted(keys, key=order.index)

    def _copy(self, nodes, new: Graph, env: dict, inputs: dict) -> None:
        for node in nodes:
            if node.op == "get_attr" and self.key(node) is not None:
                env[node] = inputs[self.key(node)]
            elif node.op == "output":
                new.output(map_arg(node.args[0], lambda n: env[n]), node.type)
            elif _branches(node):
                env[node] = self._cond(node, new, env, inputs)
            else:
                if node.op in ("get_attr", "call_module"):
                    self.holder[node.target] = attr(self.root, node.target)
                env[node] = new.node_copy(node, lambda n: env[n])

    def _cond(self, node: Node, new: Graph, env: dict, inputs: dict) -> Node:
        """A ``cond`` call whose branches take the lifted tensors they read as extra operands
        (and are submodules ``true_graph_<i>``/``false_graph_<i>``, as PyTorch's)."""
        pred, true_gm, false_gm, operands = node.args
        keys = self._keys(true_gm.graph)
        keys += [k for k in self._keys(false_gm.graph) if k not in keys]
        order = [s.arg.name for s in self.specs]
        keys.sort(key=order.index)
        branches = []
        for gm in (true_gm, false_gm):
            name = getattr(gm, "_cond_branch_name", "subgraph")
            self.holder[name] = self._branch(gm, keys)
            branches.append(new.get_attr(name))
        operands = tuple(map_arg(operands, lambda n: env[n])) + tuple(inputs[k] for k in keys)
        return new.call_function(node.target, (env[pred], *branches, operands), node.kwargs)

    def _branch(self, gm: GraphModule, keys: list[str]) -> GraphModule:
        """A branch taking the tensors ``keys`` after its own operands."""
        new, env = Graph(), {}
        outer, self.holder = self.holder, {}
        try:
            placeholders = gm.graph.find_nodes(op="placeholder")
            for p in placeholders:
                env[p] = new.node_copy(p)
            inputs = {k: new.placeholder(k) for k in keys}
            self._copy([n for n in gm.graph.nodes if n.op != "placeholder"], new, env, inputs)
            branch = GraphModule(self.holder, new, "GraphModule")
        finally:
            self.holder = outer
        branch.training = gm.training
        return branch


def attr(root: Module, target: str):
    obj = root
    for part in target.split("."):
        obj = getattr(obj, part)
    return obj
