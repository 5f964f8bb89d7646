"""The model graph for TensorBoard's Graphs tab, from minigrad's trace of a forward pass."""

from __future__ import annotations

import inspect
import re

from ...nn.modules.rnn import RNNBase
from .._tracing import ModuleCall, as_args, flatten, trace
from ._frames import argument_positions, aten_call, debug_name, entry, op_frames

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


def _module_paths(model) -> dict:
    """module name -> (scope path, ``Class[name]``), as the ops' scopes."""
    paths = {}
    for mname, m in model.named_modules():
        label = type(m).__name__ + (f"[{mname.rsplit('.', 1)[-1]}]" if mname else "")
        parent = mname.rsplit(".", 1)[0] if "." in mname else ""
        paths[mname] = label if not mname else f"{paths[parent]}/{label}"
    return paths


def _param_paths(model) -> dict:
    """id(parameter or buffer) -> (owning module's scope path, attribute name, the source
    PyTorch's ``prim::GetAttr`` reads it from: ``Net/Linear[fc1]/weight/fc1``)."""
    if not hasattr(model, "named_parameters"):
        return {}
    paths, owners = _module_paths(model), dict(model.named_modules())
    out = {}
    for pname, p in [*model.named_parameters(), *model.named_buffers()]:
        if p is not None and id(p) not in out:
            owner, _, attr = pname.rpartition(".")
            first = next(iter([*owners[owner]._parameters, *owners[owner]._buffers]), attr)
            leaf = owner.rsplit(".", 1)[-1]
            leaf = f"_{leaf}" if leaf[:1].isdigit() else leaf
            scope = paths.get(owner, type(model).__name__)
            out[id(p)] = (scope, attr, f"{scope}/{first}/{leaf}" if owner else None)
    return out


def model_graph(model, input_to_model) -> list:
    """``(name, op, inputs, shape, attrs)`` per node, laid out as PyTorch's traced graph (see
    :mod:`._graph_names`)."""
    from ._graph_names import GraphBuilder

    args = () if input_to_model is None else as_args(input_to_model)
    scopes, steps = [], []

    def observe(op, op_args, result):
        if isinstance(op, ModuleCall):  # a layer that is one ATen op: its parameters name
            params = _input_names(op.module, 2, type(op.module).forward)  # (unbound: self)
            tensors = flatten(list(op_args))
            names = {id(t): params[min(i, 1)] for i, t in enumerate(tensors)}
            steps.append((None, _leaf_op(op.module), names, {}))
            return
        frames = op_frames()
        frame, name = entry(frames)
        name = aten_call(frame, name)
        names = {id(t): debug_name(t, frames) for t in flatten(list(op_args))}
        steps.append((frame, name, names, argument_positions(frame)))

    inputs, records, output = trace(model, args, leaves=_is_leaf, scopes=scopes, observe=observe)
    scopes[:] = [_leaf_scope(model, op, scope) for (op, _, _), scope in zip(records, scopes)]
    try:
        g = GraphBuilder(model, _param_paths(model), records, scopes, steps)
        return g.build(inputs, _input_names(model, len(inputs)), output)
    finally:
        steps.clear()  # (the frames, and the tensors their locals hold)


# Dropout layers: one ATen op each, recorded by PyTorch in eval mode too (where minigrad
# applies no op), so they are traced as leaves, as the recurrent layers are
_DROPOUT = {"Dropout": "dropout", "Dropout1d": "feature_dropout", "Dropout2d": "feature_dropout",
            "Dropout3d": "feature_dropout", "AlphaDropout": "alpha_dropout",
            "FeatureAlphaDropout": "feature_alpha_dropout"}  # fmt: skip


def _is_leaf(module) -> bool:
    """Dropout layers, and the recurrent layers (one ``aten::lstm``/``gru``/``rnn_tanh``)."""
    if not type(module).__module__.startswith("minigrad."):
        return False
    return type(module).__name__ in _DROPOUT or isinstance(module, RNNBase)


def _leaf_op(module) -> str:
    return module.mode.lower() if isinstance(module, RNNBase) else _DROPOUT[type(module).__name__]


def _leaf_scope(model, op, scope: str) -> str:
    """A leaf layer's own scope (its ops ran in it): ``MLP/Dropout[drop]``."""
    if not isinstance(op, ModuleCall):
        return scope
    for name, m in model.named_modules():
        if m is op.module:
            return _module_paths(model)[name]
    return scope


def _input_names(model, count: int, forward=None) -> list:
    """The model's ``forward`` parameter names (PyTorch's input debug names), else input_k."""
    try:
        params = inspect.signature(forward or getattr(model, "forward", model)).parameters
        names = [
            p.name
            for p in params.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ][1 if forward is not None else 0 :]
    except (TypeError, ValueError):
        names = []
    return [names[i] if i < len(names) else f"input_{i}" for i in range(count)]


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
