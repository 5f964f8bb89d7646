"""The model graph for TensorBoard's Graphs tab, from minigrad's trace of a forward pass."""

from __future__ import annotations

from ...tensor import Tensor
from .._tracing import ModuleCall, as_args, flatten, trace


def model_graph(model, input_to_model) -> list:
    """``(name, op, inputs, shape, attrs)`` per node: inputs, parameters, ops, outputs."""
    args = () if input_to_model is None else as_args(input_to_model)
    scopes = []
    inputs, records, output = trace(model, args, scopes=scopes)
    names, nodes = {}, []

    def bind(t, name):
        names[id(t)] = names[id(t._data)] = name

    for i, t in enumerate(inputs):
        name = f"input/input_{i}"
        nodes.append((name, "IO Node", [], tuple(t.shape), {"dtype": t.dtype}))
        bind(t, name)
    params = {}
    if hasattr(model, "named_parameters"):
        paths = {}  # module name -> scope path, as the ops' scopes
        for mname, m in model.named_modules():
            label = type(m).__name__ + (f"[{mname.rsplit('.', 1)[-1]}]" if mname else "")
            paths[mname] = (
                f"{paths[mname.rsplit('.', 1)[0]]}/{label}"
                if "." in mname
                else (label if not mname else f"{paths['']}/{label}")
            )
        for pname, p in [*model.named_parameters(), *model.named_buffers()]:
            if p is not None:
                owner, _, attr = pname.rpartition(".")
                params[id(p)] = (f"{paths.get(owner, type(model).__name__)}/{attr}", p)

    def source(t):
        name = names.get(id(t)) or names.get(id(t._data))
        if name is not None:
            return name
        if id(t) in params:
            name, p = params[id(t)]
            nodes.append((name, "Parameter", [], tuple(p.shape), {"dtype": p.dtype}))
        else:
            name = f"constant_{len(nodes)}"
            nodes.append((name, "Constant", [], tuple(t.shape), {"dtype": t.dtype}))
        bind(t, name)
        return name

    for k, ((op, op_args, result), scope) in enumerate(zip(records, scopes)):
        label = type(op.module).__name__ if isinstance(op, ModuleCall) else op.label()
        name = f"{scope}/{label}_{k}"
        ins = [source(t) for t in flatten(list(op_args))]
        outs = flatten(result)
        shape = tuple(outs[0].shape) if len(outs) == 1 else None
        nodes.append((name, label, ins, shape, {}))
        for t in outs:
            bind(t, name)
    for i, t in enumerate(flatten(output)):
        if isinstance(t, Tensor):
            nodes.append((f"output/output_{i}", "IO Node", [source(t)], tuple(t.shape), {}))
    return nodes


def onnx_graph_def(path):
    """A GraphDef of the ONNX model at ``path``: its inputs and outputs as ``Variable`` nodes,
    each ONNX node named by its first output with its attributes as one string, as PyTorch's."""
    import onnx
    from tensorboard.compat.proto import attr_value_pb2, graph_pb2, node_def_pb2, versions_pb2
    from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto

    graph = onnx.load(path).graph
    nodes = []
    for value in [*graph.input, *graph.output]:
        dims = [TensorShapeProto.Dim(size=d.dim_value) for d in value.type.tensor_type.shape.dim]
        attr = {
            "dtype": attr_value_pb2.AttrValue(type=value.type.tensor_type.elem_type),
            "shape": attr_value_pb2.AttrValue(shape=TensorShapeProto(dim=dims)),
        }
        nodes.append(node_def_pb2.NodeDef(name=value.name, op="Variable", attr=attr))
    for node in graph.node:
        fields = [" = ".join(str(f[1]) for f in a.ListFields()) for a in node.attribute]
        params = attr_value_pb2.AttrValue(s=", ".join(fields).encode("utf-8"))
        nodes.append(
            node_def_pb2.NodeDef(
                name=node.output[0], op=node.op_type, input=node.input, attr={"parameters": params}
            )
        )
    return graph_pb2.GraphDef(node=nodes, versions=versions_pb2.VersionDef(producer=22))
