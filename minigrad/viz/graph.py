"""Walk the autograd graph behind some tensors into plain items and edges, without recursion."""

from __future__ import annotations

from ..autograd.graph import AccumulateGrad, class_name
from ..tensor import Tensor


class Item:
    """One box of the picture: an op, a leaf tensor, an output, or a collapsed module.

    Attributes:
        id: the DOT node id (``n0``, ``n1``... in discovery order, so output is deterministic).
        kind: ``"op"``, ``"leaf"``, ``"output"`` or ``"module"`` (a collapsed module).
        node: the autograd node of an op.
        tensor: the tensor of a leaf or an output.
        outputs: for an op, ``{output_nr: (shape, dtype name, device)}`` as its consumers saw it.
        name: the label of a leaf, an output or a collapsed module.
        module: the qualified name of the module box it sits in (None: outside every box).
        members: for a collapsed module, the items it stands for.
        is_output: whether it is one of the tensors passed to be drawn.
    """

    __slots__ = (
        "id",
        "is_output",
        "kind",
        "members",
        "module",
        "name",
        "node",
        "outputs",
        "tensor",
    )

    def __init__(self, index: int, kind: str, node=None, tensor=None):
        self.id = f"n{index}"
        self.kind, self.node, self.tensor = kind, node, tensor
        self.outputs: dict = {}
        self.name = None
        self.module = None
        self.members: list = []
        self.is_output = kind == "output"

    def __repr__(self) -> str:
        return f"Item({self.id}, {self.kind}, {self.name or self.node})"


class Graph:
    """The items and the forward-direction edges ``(source, target, label)`` of a picture."""

    def __init__(self):
        self.items: list[Item] = []
        self.edges: list[tuple] = []

    def add(self, kind: str, node=None, tensor=None) -> Item:
        item = Item(len(self.items), kind, node, tensor)
        self.items.append(item)
        return item


def node_name(node) -> str:
    """The node's name as PyTorch's ``repr`` of a ``grad_fn`` shows it (and torchviz draws it):
    ``MulBackward0``, ``AddmmBackward0``, ``CubeBackward`` (a custom Function), ``CopySlices``."""
    return class_name(node) if callable(getattr(node, "name", None)) else type(node).__name__


def tensor_meta(tensor) -> tuple:
    """``(shape, dtype name, device)`` of a tensor."""
    return tuple(tensor.shape), tensor.dtype.name, tensor.device


def collect(outputs, names: dict) -> Graph:
    """Every op and leaf that the ``outputs`` depend on, found by an iterative walk.

    Args:
        outputs: the tensors to draw.
        names: ``{id(tensor): name}`` for leaves and outputs.

    Returns:
        A :class:`Graph` whose items come in discovery order (outputs first).
    """
    graph = Graph()
    ops: dict = {}  # autograd node -> item
    leaves: dict = {}  # id(leaf tensor) -> item
    stack: list = []

    def op_item(node) -> Item:
        item = ops.get(node)
        if item is None:
            item = ops[node] = graph.add("op", node=node)
            stack.append(node)
        return item

    def leaf_item(tensor) -> Item:
        item = leaves.get(id(tensor))
        if item is None:
            item = leaves[id(tensor)] = graph.add("leaf", tensor=tensor)
            item.name = names.get(id(tensor))
        return item

    for i, out in enumerate(outputs):
        default = "output" if len(outputs) == 1 else f"output {i}"
        if out.grad_fn is None:  # a leaf, or a tensor with no graph at all: one box
            item = leaf_item(out)
            item.name = item.name or default
            item.is_output = True
            continue
        target = graph.add("output", tensor=out)
        target.name = names.get(id(out)) or default
        source = op_item(out.grad_fn)
        nr = getattr(out, "_output_nr", 0)
        source.outputs.setdefault(nr, tensor_meta(out))
        graph.edges.append((source, target, None))

    while stack:
        node = stack.pop()
        target = ops[node]
        metas = node.input_meta
        for k, edge in enumerate(node.edges):
            if edge is None:
                continue
            child, nr = edge
            if isinstance(child, AccumulateGrad):
                source = leaf_item(child.variable)
            else:
                source = op_item(child)
                if k < len(metas) and metas[k] is not None and nr not in source.outputs:
                    shape, np_dtype, device = metas[k]
                    source.outputs[nr] = (tuple(shape), np_dtype.name, device)
            label = str(nr) if getattr(child, "num_outputs", 1) > 1 else None
            graph.edges.append((source, target, label))
    return graph


def parameter_names(params) -> dict:
    """``{id(tensor): name}`` from a name→tensor dict or anything with ``named_parameters()``."""
    if params is None:
        return {}
    if hasattr(params, "named_parameters"):
        pairs = params.named_parameters()
    elif isinstance(params, dict):
        pairs = params.items()
    else:
        raise TypeError(
            f"params must be a dict of name -> Tensor or an object with named_parameters() "
            f"(a Module), got {type(params).__name__}"
        )
    names = {}
    for name, tensor in pairs:
        if not isinstance(tensor, Tensor):
            raise TypeError(f"params[{name!r}] is a {type(tensor).__name__}, expected a Tensor")
        names.setdefault(id(tensor), str(name))
    return names
