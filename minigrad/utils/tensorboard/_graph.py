"""The model graph for TensorBoard's Graphs tab, from minigrad's trace of a forward pass."""

from __future__ import annotations

import re

from ...tensor import Tensor
from .._tracing import ModuleCall, as_args, flatten, trace

# minigrad op labels whose ATen name is not the label in snake_case
_ATEN = {
    "Convolution": "aten::_convolution",
    "MaxPool": "aten::max_pool{}d",
    "AvgPool": "aten::avg_pool{}d",
    "MatMul": "aten::matmul",
    "ReLU": "aten::relu",
    "GELU": "aten::gelu",
    "SiLU": "aten::silu",
    "LogSoftmax": "aten::log_softmax",
    "BatchNorm": "aten::batch_norm",
    "LayerNorm": "aten::layer_norm",
}


def aten_name(label: str, out_ndim: int | None) -> str:
    """PyTorch's ``aten::`` name for a minigrad op label (``Add`` → ``aten::add``); pooling gets
    its spatial rank from the output's (N, C, ...) shape."""
    if label in _ATEN:
        return _ATEN[label].format(max((out_ndim or 4) - 2, 1))
    return "aten::" + re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", label).lower()


def _param_paths(model) -> dict:
    """id(parameter or buffer) -> (owning module's scope path, attribute name)."""
    if not hasattr(model, "named_parameters"):
        return {}
    paths = {}  # module name -> scope path, as the ops' scopes
    for mname, m in model.named_modules():
        label = type(m).__name__ + (f"[{mname.rsplit('.', 1)[-1]}]" if mname else "")
        parent = mname.rsplit(".", 1)[0] if "." in mname else ""
        paths[mname] = label if not mname else f"{paths[parent]}/{label}"
    out = {}
    for pname, p in [*model.named_parameters(), *model.named_buffers()]:
        if p is not None:
            owner, _, attr = pname.rpartition(".")
            out[id(p)] = (paths.get(owner, type(model).__name__), attr)
    return out


def model_graph(model, input_to_model) -> list:
    """``(name, op, inputs, shape, attrs)`` per node, laid out as PyTorch's traced graph: ``IO
    Node`` inputs and outputs, ``prim::GetAttr`` for parameters and buffers, ``aten::`` ops
    named ``<module scope>/<label>_<k>``, each with PyTorch's ``attr`` string."""
    args = () if input_to_model is None else as_args(input_to_model)
    scopes = []
    inputs, records, output = trace(model, args, scopes=scopes)
    names, nodes = {}, []
    params = _param_paths(model)

    def bind(t, name):
        names[id(t)] = names[id(t._data)] = name

    for i, t in enumerate(inputs):
        nodes.append((f"input/input_{i}", "IO Node", [], tuple(t.shape), {"attr": ""}))
        bind(t, f"input/input_{i}")

    def source(t):
        name = names.get(id(t)) or names.get(id(t._data))
        if name is not None:
            return name
        if id(t) in params:
            scope, attr = params[id(t)]
            name = f"{scope}/{attr}/{attr}"
            nodes.append((name, "prim::GetAttr", [], None, {"attr": f"{{ name :  {attr} }}"}))
        else:
            name = f"constant_{len(nodes)}"
            nodes.append(
                (name, "prim::Constant", [], tuple(t.shape), {"attr": "{ value : tensor}"})
            )
        bind(t, name)
        return name

    for k, ((op, op_args, result), scope) in enumerate(zip(records, scopes)):
        label = type(op.module).__name__ if isinstance(op, ModuleCall) else op.label()
        ins = [source(t) for t in flatten(list(op_args))]
        outs = flatten(result)
        shape = tuple(outs[0].shape) if len(outs) == 1 else None
        kind = aten_name(label, None if shape is None else len(shape))
        nodes.append((f"{scope}/{label}_{k}", kind, ins, shape, {"attr": "{}"}))
        for t in outs:
            bind(t, f"{scope}/{label}_{k}")
    for i, t in enumerate(flatten(output)):
        if isinstance(t, Tensor):
            shape = tuple(t.shape)
            nodes.append((f"output/output_{i}", "IO Node", [source(t)], shape, {"attr": ""}))
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
