"""``export``: trace a model's forward pass and write it as an ONNX model."""

from __future__ import annotations

import contextlib
import enum
import os

import numpy as np

from .._warnings import warn_user
from ..tensor import Tensor
from ..utils._tracing import ModuleCall, as_args, flatten, trace
from . import _modules
from ._checks import _check_constants, _check_in_place, _check_opset
from ._graph import GraphBuilder
from ._ops import CONVERTERS, Call, _onnx_type
from ._passes import name_outputs, optimize


def _require_onnx():
    try:
        import onnx
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError(
            "minigrad.onnx.export needs the onnx package: pip install 'minigrad[onnx]'"
        ) from None
    return onnx


def export(
    model,
    args,
    f,
    input_names=None,
    output_names=None,
    dynamic_axes=None,
    opset_version: int | None = None,
    export_params: bool = True,
    verbose: bool = False,
    training=None,
    do_constant_folding: bool = True,
    keep_initializers_as_inputs=None,
    dynamo: bool = True,
):
    """Trace ``model(*args)`` and write it as an ONNX model to ``f``, as ``torch.onnx.export``.

    The forward pass is run once and every op it applies is recorded (``minigrad.ops`` calls
    the tracer), so Python control flow is fixed by the example inputs, as in PyTorch's
    tracing exporter. With ``dynamic_axes`` it is run a second time with other sizes on those
    axes, and the settings that change (reshape targets, slice ends) are written as dynamic.
    ``nn.LSTM`` and ``nn.GRU`` layers become ONNX ``LSTM``/``GRU`` nodes, an adaptive average
    pool to size 1 ``GlobalAveragePool``, ``F.interpolate``/``nn.Upsample`` in the nearest
    mode ``Resize``; other layers are exported op by op. An op
    with no ONNX counterpart raises ``NotImplementedError`` naming it. As in PyTorch, the model
    is traced in eval mode unless ``training`` says otherwise, and left in its mode afterwards.

    Args:
        model: an ``nn.Module`` (or any callable on tensors).
        args: the example input: a tensor or a tuple of positional arguments.
        f: a path or a binary file object.
        input_names, output_names: names of the graph's inputs and outputs (default
            ``input_0``, ... and ``output_0``, ...).
        dynamic_axes: ``{name: {axis: "label"}}`` or ``{name: [axis, ...]}`` for inputs and
            outputs whose sizes vary (a batch axis).
        opset_version: the ONNX opset; 13 or later, by default 20 (PyTorch's default for its
            TorchScript exporter). Layer norm is one ``LayerNormalization`` node from 17 (its
            arithmetic below), GELU one ``Gelu`` node from 20.
        export_params: write the parameters as initializers (always true here).
        verbose: print the graph.
        training: ``TrainingMode.EVAL`` (the default: dropout off, batch norm with its running
            statistics), ``PRESERVE`` (the model's own modes) or ``TRAINING``.
        do_constant_folding: in an eval-mode export, compute the nodes that depend only on
            parameters and constants ahead of time and fold an eval-mode batch norm into the
            convolution before it, as PyTorch does (the graph reads ``Conv, Relu, ...``).
        keep_initializers_as_inputs: only None/False (parameters are initializers).
        dynamo: minigrad always traces the forward pass as PyTorch's TorchScript exporter
            does. ``dynamo=False`` warns PyTorch's ``DeprecationWarning`` for that legacy
            exporter; with ``dynamo=True`` (PyTorch's default) PyTorch needs onnxscript and
            raises ``ModuleNotFoundError`` without it, where minigrad traces as above.

    Returns:
        The ``onnx.ModelProto`` written.

    Example:
        >>> model.eval()
        >>> minigrad.onnx.export(model, minigrad.randn(1, 64), "mlp.onnx",
        ...                      input_names=["x"], dynamic_axes={"x": {0: "batch"}})
    """
    onnx = _require_onnx()
    opset_version = DEFAULT_OPSET if opset_version is None else opset_version
    if opset_version < 13:
        raise ValueError(f"onnx.export: opset_version must be 13 or later, got {opset_version}")
    if not export_params:
        raise NotImplementedError("onnx.export: export_params=False is not supported")
    if keep_initializers_as_inputs:
        raise NotImplementedError("onnx.export: keep_initializers_as_inputs=True is not supported")
    if not dynamo:
        warn_user(_LEGACY_WARNING, DeprecationWarning)
    # PyTorch's eval-mode folding: EVAL, or PRESERVE of a model in eval mode.
    preserved_eval = training == TrainingMode.PRESERVE and not getattr(model, "training", True)
    fold = do_constant_folding and (training in (None, TrainingMode.EVAL) or preserved_eval)
    global _exporting
    _exporting, before = True, _exporting
    try:
        with _training_mode(model, TrainingMode.EVAL if training is None else training):
            return _export(onnx, model, args, f, input_names, output_names, dynamic_axes,
                           opset_version, verbose, fold)  # fmt: skip
    finally:
        _exporting = before


_LEGACY_WARNING = (
    "You are using the legacy TorchScript-based ONNX export. Starting in PyTorch 2.9, the new "
    "torch.export-based ONNX exporter has become the default. Learn more about the new export "
    "logic: https://docs.pytorch.org/docs/stable/onnx_export.html. For exporting control flow: "
    "https://pytorch.org/tutorials/beginner/onnx/export_control_flow_model_to_onnx_tutorial.html"
)

DEFAULT_OPSET = 20  # as torch.onnx's (``_constants.ONNX_DEFAULT_OPSET``)
_exporting = False  # while export traces the model (is_in_onnx_export)


def is_in_onnx_export() -> bool:
    """Whether :func:`export` is tracing a model now (``torch.onnx.is_in_onnx_export``):
    libraries take an export-friendly path in their forward then (PyG does)."""
    return _exporting


class TrainingMode(enum.IntEnum):
    """The modes a model is traced in, as ``torch.onnx.TrainingMode``."""

    EVAL = 0
    PRESERVE = 1
    TRAINING = 2


@contextlib.contextmanager
def _training_mode(model, mode):
    """``model`` (and every submodule) in ``mode`` for the trace, then back to its own modes."""
    modules = list(model.modules()) if hasattr(model, "modules") else []
    saved = [(m, m.training) for m in modules]
    if mode is not TrainingMode.PRESERVE and modules:
        model.train(mode is TrainingMode.TRAINING)
    try:
        yield
    finally:
        for m, flag in saved:
            m.training = flag


def _export(
    onnx, model, args, f, input_names, output_names, dynamic_axes, opset_version, verbose, fold
):
    """:func:`export` once the model is in the mode to trace."""
    args = as_args(args)
    versions = []
    inputs, records, output = trace(model, args, leaves=_modules.is_leaf, versions=versions)
    _check_in_place(records, versions, output)
    outputs = flatten(output)
    input_names = list(input_names or [f"input_{i}" for i in range(len(inputs))])
    output_names = list(output_names or [f"output_{i}" for i in range(len(outputs))])
    if len(input_names) != len(inputs) or len(output_names) != len(outputs):
        raise ValueError(
            f"onnx.export: {len(input_names)} input names for {len(inputs)} inputs and "
            f"{len(output_names)} output names for {len(outputs)} outputs"
        )
    dynamic = _dynamic_axes(dynamic_axes, input_names + output_names)
    records2 = outputs2 = None
    if any(name in dynamic for name in input_names):
        args2 = _resized(args, [dynamic.get(n, {}) for n in input_names])
        _, records2, output2 = trace(model, args2, leaves=_modules.is_leaf)
        outputs2 = flatten(output2)
        if len(records2) != len(records):
            raise NotImplementedError(
                "onnx.export: the model applies different ops for other sizes of the dynamic "
                "axes (data-dependent control flow), which a traced graph cannot express"
            )

    g = _Exporter(onnx, opset_version, model)
    for name, t in zip(input_names, inputs):
        g.bind(t, name)
    needed = _needed(records, outputs)
    for i, (op, op_args, result) in enumerate(records):
        if i not in needed:
            continue
        op2, result2 = (records2[i][0], records2[i][2]) if records2 is not None else (None, None)
        if isinstance(op, ModuleCall):
            g.module_call(op, op_args, result, records2[i][1] if records2 else None)
            continue
        name = op.label()
        convert = CONVERTERS.get(name)
        if convert is None:
            raise NotImplementedError(f"onnx export: op {name} has no ONNX conversion")
        names = [g.value(a) if isinstance(a, Tensor) else None for a in op_args]
        if op2 is not None:
            _check_constants(g, name, op_args, records2[i][1])
        out = convert(Call(g, op, op2, op_args, names, result, result2))
        g.bind(result, out)

    name_outputs(g, [g.value(t) for t in outputs], output_names, set(input_names))
    optimize(g, output_names, fold)
    graph_outputs = []
    for k, (name, t) in enumerate(zip(output_names, outputs)):
        shape = _shape(t, outputs2[k] if outputs2 else None, dynamic.get(name, {}), name)
        graph_outputs.append(
            g.helper.make_tensor_value_info(name, _onnx_type(g, t._data.dtype), shape)
        )
    graph_inputs = [
        g.helper.make_tensor_value_info(
            name, _onnx_type(g, t._data.dtype), _shape(t, None, dynamic.get(name, {}), name)
        )
        for name, t in zip(input_names, inputs)
    ]
    graph = g.helper.make_graph(
        g.nodes, type(model).__name__, graph_inputs, graph_outputs, g.initializers
    )
    proto = g.helper.make_model(
        graph,
        opset_imports=[g.helper.make_opsetid("", opset_version)],
        producer_name="minigrad",
    )
    # The oldest IR version the opset allows (8 up to opset 18, 9 for 19 and 20), as PyTorch
    # writes: readable by older runtimes too.
    proto.ir_version = max(8, onnx.helper.find_min_ir_version_for(list(proto.opset_import)))
    _check_opset(onnx, g.nodes, opset_version)
    onnx.checker.check_model(proto)
    if verbose:
        print(g.helper.printable_graph(graph))
    if isinstance(f, (str, os.PathLike)):
        onnx.save(proto, os.fspath(f))
    else:
        f.write(proto.SerializeToString())
    return proto


class _Exporter(GraphBuilder):
    """The graph builder with the traced values' names: inputs, parameters, constants."""

    def __init__(self, onnx, opset, model):
        super().__init__(onnx, opset)
        self._names = {}  # id(tensor) or id(array) -> value name
        self._keep = []  # the keyed objects, kept alive so that ids stay unique
        self._params = {}
        self.constants = set()  # names of the tensors made inside forward, baked in
        if hasattr(model, "named_parameters"):
            for name, p in model.named_parameters():
                self._params.setdefault(id(p), (name, p))
            for name, b in model.named_buffers():
                if b is not None:
                    self._params.setdefault(id(b), (name, b))

    def bind(self, tensor, name: str) -> None:
        self._names[id(tensor)] = self._names[id(tensor._data)] = name
        self._keep.append(tensor)

    def value(self, t) -> str:
        """The value name of tensor ``t``: traced, a parameter, or else a constant."""
        name = self._names.get(id(t)) or self._names.get(id(t._data))
        if name is not None:
            return name
        if id(t) in self._params:
            pname, p = self._params[id(t)]
            name = self.initializer(pname, p.detach().cpu().numpy())
        elif t.requires_grad:
            made_by = t.grad_fn.name() if t.grad_fn is not None else "an untraced operation"
            raise NotImplementedError(
                f"onnx export: a value computed by {made_by} was not recorded by the tracer "
                "(an in-place change or a custom autograd.Function), so it cannot be exported"
            )
        else:  # a tensor made inside forward that needs no grad (a mask, a table)
            name = self.const(t.detach().cpu().numpy())
            self.constants.add(name)
        self.bind(t, name)
        return name

    def traced(self, array):
        """The value name of an array a traced op made, or None (a constant)."""
        return self._names.get(id(array))

    def index_value(self, array, array2=None):
        """The value name of an index array kept by an op (an embedding's): a traced tensor's,
        or else a constant, which must not change with the dynamic axes."""
        name = self._names.get(id(array))
        if name is None:
            if array2 is not None and (array.shape != array2.shape or (array != array2).any()):
                raise NotImplementedError(
                    "onnx export: Embedding indices made inside forward (not from the inputs) "
                    "change with the dynamic axes, so they cannot be a constant"
                )
            name = self.const(array)
        return name

    def module_call(self, call, args, result, args2) -> None:
        _modules.convert(self, call, args, result)


def _needed(records, outputs) -> set:
    """Indices of the records that the outputs depend on (the rest are not exported)."""
    producer = {}
    for i, (_, _, result) in enumerate(records):
        for t in flatten(result):
            producer[id(t)] = producer[id(t._data)] = i
    needed, stack = set(), [producer.get(id(t), producer.get(id(t._data))) for t in outputs]
    while stack:
        i = stack.pop()
        if i is None or i in needed:
            continue
        needed.add(i)
        op, args, _ = records[i]
        for t in flatten(list(args)):
            stack.append(producer.get(id(t), producer.get(id(t._data))))
        for attr in ("indices", "index"):  # index arrays kept by Embedding and Gather
            array = getattr(op, attr, None)
            if array is not None and not isinstance(array, tuple):
                stack.append(producer.get(id(array)))
    return needed


def _dynamic_axes(dynamic_axes, names) -> dict:
    out = {}
    for name, axes in (dynamic_axes or {}).items():
        if name not in names:
            raise ValueError(f"onnx.export: dynamic_axes names {name!r}, not an input or output")
        if isinstance(axes, dict):
            out[name] = {int(k): str(v) for k, v in axes.items()}
        else:
            out[name] = {int(k): f"{name}_dynamic_axes_{k}" for k in axes}
    return out


def _resized(args, axes_per_input):
    """``args`` with each dynamic axis one longer (its entries repeated cyclically)."""
    it = iter(axes_per_input)

    def resize(a):
        if isinstance(a, Tensor):
            axes = next(it)
            data = a.detach().cpu().numpy()
            for axis in axes:
                n = data.shape[axis]
                data = np.take(data, np.arange(n + 1) % n, axis=axis)
            return Tensor._make(a.device.xp.asarray(data), a.device)
        if isinstance(a, (tuple, list)):
            return type(a)(resize(v) for v in a)
        return a

    return tuple(resize(a) for a in args)


def _shape(t, t2, labels: dict, name: str) -> list:
    """The shape written for a graph input or output: labels on dynamic axes."""
    shape = list(t.shape)
    for axis in range(len(shape)):
        if axis in labels:
            shape[axis] = labels[axis]
        elif t2 is not None and t2.shape[axis] != shape[axis]:
            shape[axis] = f"{name}_dim_{axis}"
    for axis in labels:
        if axis >= len(shape):
            raise ValueError(f"onnx.export: dynamic axis {axis} of {name!r}, of rank {len(shape)}")
    return shape
