"""``save``/``load`` of an :class:`ExportedProgram` in one file (minigrad.save's format).

The file holds the generated code (text), the lifted graph as JSON node records whose
function targets are public dotted names, the reprs of the minigrad.nn layers the graph calls
(parsed back with ``ast``, never executed), the same records for the branches of its
``minigrad.cond`` calls (GraphModules, with their code), the signature, the state dict and
the constants. Loading rebuilds the Graph from the records and the GraphModule recompiles it
through minigrad.fx's own code generation; the result must equal the saved code. No code
object or pickle is stored, and the records are checked before anything is built from them
(``_safe_records``, shared with ``jit.load``): an edited file cannot make loading, or the
loaded program, run other code.

Format 2 (``minigrad.export/2``) holds the lifted graph (state as inputs); files written
before ``cond`` branches could be saved hold no ``branches`` record and load as they did.
Files of format 1 (the graph read its state from the graph module) still load: their graph is
lifted on loading.
"""

from __future__ import annotations

import ast
import json

from .. import nn
from ..backend import Device
from ..backend import device as _device
from ..dtypes import dtype as _dtype
from ..fx import Graph, GraphModule, Node
from ..fx._codegen import public_path
from ..nn.modules.module import Module
from ..nn.parameter import Parameter
from ._layer_calls import constructor_call, same_layer
from ._safe_records import ALLOWED_ROOTS, UnsafeRecordError, check_path, check_records, resolve
from .exported_program import ExportedProgram
from .graph_signature import (
    ConstantArgument,
    ExportGraphSignature,
    InputKind,
    InputSpec,
    OutputKind,
    OutputSpec,
    TensorArgument,
)

_FORMAT = "minigrad.export/2"
_FORMAT_V1 = "minigrad.export/1"


def _encode(value, index: dict):
    """A JSON form of a node argument; raises for what cannot be saved."""
    if isinstance(value, Node):
        return {"node": index[value]}
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return {"float": repr(value)}
    if isinstance(value, (tuple, list)):
        return {type(value).__name__: [_encode(v, index) for v in value]}
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"dict": {k: _encode(v, index) for k, v in value.items()}}
    if isinstance(value, slice):
        return {"slice": [_encode(v, index) for v in (value.start, value.stop, value.step)]}
    if value is Ellipsis:
        return {"ellipsis": None}
    if isinstance(value, _dtype):
        return {"dtype": value.name}
    if isinstance(value, Device):
        return {"device": str(value)}
    raise NotImplementedError(
        f"minigrad.export.save: a graph argument of type {type(value).__name__} ({value!r}) "
        f"cannot be saved; only tensors from the graph, numbers, strings, None, dtypes, devices, "
        f"slices and tuples/lists/dicts of them can"
    )


def _decode(value, made: list):
    if not isinstance(value, dict):
        return value
    ((kind, body),) = value.items()
    if kind == "node":
        return made[body]
    if kind == "float":
        return float(body)
    if kind in ("tuple", "list"):
        items = [_decode(v, made) for v in body]
        return tuple(items) if kind == "tuple" else items
    if kind == "dict":
        return {k: _decode(v, made) for k, v in body.items()}
    if kind == "slice":
        return slice(*(_decode(v, made) for v in body))
    if kind == "ellipsis":
        return Ellipsis
    if kind == "dtype":
        import minigrad

        value = getattr(minigrad, str(body), None)
        if not isinstance(value, _dtype):
            raise ValueError(f"minigrad.export.load: unknown dtype {body!r}")
        return value
    if kind == "device":
        return _device(body)
    raise ValueError(f"minigrad.export.load: unknown argument record {kind!r}")


def _function_name(fn) -> str:
    path = public_path(fn)
    try:
        same = path.split(".")[0] in ALLOWED_ROOTS and resolve(path) is fn
    except (ValueError, AttributeError):
        same = False
    if not same:
        raise NotImplementedError(
            f"minigrad.export.save: the graph calls {fn!r}, which cannot be saved by name; only "
            f"functions reachable as minigrad.*, operator.* or math.* can"
        )
    return path


def _layer_repr(module: Module, target: str) -> str:
    """The repr that rebuilds ``module`` (or, where the repr prints submodules, its constructor
    call); raises if rebuilding it gives another layer."""
    same = False
    for text in (repr(module), constructor_call(module)):
        try:
            same = type(module).__module__.startswith("minigrad.nn") and (
                same_layer(_layer_from_repr(text), module)
            )
        except (ValueError, TypeError, SyntaxError, AttributeError):
            same = False
        if same:
            break
    if not same:
        raise NotImplementedError(
            f"minigrad.export.save: submodule {target} ({type(module).__name__}) cannot be "
            f"saved; only minigrad.nn layers rebuilt exactly from their repr can"
        )
    return text


def _layer_from_repr(text: str) -> Module:
    """Rebuild a minigrad.nn layer from its repr: a call with literal arguments only."""
    call = ast.parse(text, mode="eval").body
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)):
        raise ValueError(f"minigrad.export.load: bad layer record {text!r}")
    cls = getattr(nn, call.func.id, None)
    if not (isinstance(cls, type) and issubclass(cls, Module)):
        raise ValueError(f"minigrad.export.load: {call.func.id} is not a minigrad.nn layer")
    args = [ast.literal_eval(a) for a in call.args]
    kwargs = {k.arg: ast.literal_eval(k.value) for k in call.keywords}
    from ..random import fork_rng

    with fork_rng(devices=[]):  # PyTorch's save and load draw no numbers: the init's are undone
        return cls(*args, **kwargs)


def _records(graph: Graph) -> list:
    """The nodes of ``graph`` as JSON records (see :func:`_rebuild_graph`)."""
    index = {n: i for i, n in enumerate(graph.nodes)}
    out = []
    for n in graph.nodes:
        target = _function_name(n.target) if n.op == "call_function" else n.target
        args, kwargs = _encode(n.args, index), _encode(n.kwargs, index)
        out.append([n.name, n.op, target, args, kwargs, "is_wrapped" in n.meta])
    return out


def _module_records(gm: GraphModule) -> dict:
    """The node records of ``gm``, the reprs of the layers it calls, and, recursively, the
    records of the branch GraphModules its ``cond`` calls read (with their code, checked on
    loading)."""
    targets = [n.target for n in gm.graph.nodes if n.op in ("call_module", "get_attr")]
    held = {t: gm.get_submodule(t) for t in targets}
    branches = {t: m for t, m in held.items() if isinstance(m, GraphModule)}
    layers = {t: _layer_repr(m, t) for t, m in held.items() if t not in branches}
    training = {name: m.training for name, m in gm.named_modules()}
    records = {"records": _records(gm.graph), "layers": layers, "training": training}
    if branches:
        records["branches"] = {
            t: {**_module_records(b), "code": b.code} for t, b in branches.items()
        }
    return records


def _branch_modules(meta: dict) -> dict:
    """The branch GraphModules of a :func:`_module_records` record, rebuilt."""
    out = {}
    for target, record in meta.get("branches", {}).items():
        root = {**_root(record), **_branch_modules(record)}
        branch = GraphModule(root, _rebuild_graph(record["records"]), "GraphModule")
        for name, module in branch.named_modules():
            module.training = record["training"].get(name, branch.training)
        if branch.code != record["code"]:
            raise RuntimeError(
                f"minigrad.export.load: the branch {target} rebuilt from the file generates "
                f"other code than the saved code (file written by another minigrad version, "
                f"or edited)"
            )
        branch._cond_branch_name = target
        out[target] = branch
    return out


def _spec_records(sig: ExportGraphSignature) -> dict:
    inputs = [
        [s.kind.name, s.arg.name, s.target, s.persistent]
        + ([s.arg.value] if isinstance(s.arg, ConstantArgument) else [])
        for s in sig.input_specs
    ]
    outputs = [
        [s.kind.name, s.arg.name, isinstance(s.arg, ConstantArgument), s.target]
        for s in sig.output_specs
    ]
    return {"inputs": inputs, "outputs": outputs}


def save(ep: ExportedProgram, f) -> None:
    """Write ``ep`` to the path or binary file ``f`` (one minigrad.save file).

    Raises NotImplementedError for graphs calling functions that are not public minigrad,
    operator or math functions, layers other than minigrad.nn's, or arguments of other kinds.

    Example:
        >>> minigrad.export.save(ep, "net.mgexport")
    """
    from .. import save as save_tensors

    if not isinstance(ep, ExportedProgram):
        raise TypeError(
            f"minigrad.export.save: expected an ExportedProgram, got {type(ep).__name__}"
        )
    gm = ep.graph_module
    meta = {**_module_records(gm), "signature": _spec_records(ep.graph_signature),
            "input_checks": ep._input_checks, "out_spec": ep._out_spec}  # fmt: skip
    payload = {"format": _FORMAT, "code": gm.code, "meta": json.dumps(meta),
               "state_dict": dict(ep.state_dict), "constants": dict(ep.constants)}  # fmt: skip
    save_tensors(payload, f)


def _rebuild_graph(records: list) -> Graph:
    graph, made = Graph(), []
    for name, op, target, args, kwargs, wrapped in records:
        if op == "call_function":
            target = resolve(target)
        args, kwargs = _decode(args, made), _decode(kwargs, made)
        made.append(graph.create_node(op, target, args, kwargs, name))
        if wrapped:
            made[-1].meta["is_wrapped"] = True
    return graph


def _root(meta: dict, state: dict | None = None, graph: Graph | None = None) -> dict:
    """The layers (with ``state``, format 1) and, format 1, the tensors ``graph`` reads."""
    root = {}
    for target, text in meta["layers"].items():
        layer = _layer_from_repr(text)
        if state is not None:
            prefix = target + "."
            layer.load_state_dict(
                {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
            )
        root[target] = layer
    params = set(meta.get("parameters", ()))
    for node in [] if graph is None else graph.find_nodes(op="get_attr"):
        value = state[node.target]
        root[node.target] = Parameter(value) if node.target in params else value
    return root


def _signature(spec: dict) -> ExportGraphSignature:
    inputs = [
        InputSpec(
            InputKind[kind],
            ConstantArgument(name, rest[0]) if rest else TensorArgument(name),
            target,
            persistent,
        )
        for kind, name, target, persistent, *rest in spec["inputs"]
    ]
    outputs = [
        OutputSpec(
            OutputKind[kind],
            ConstantArgument(name, None) if const else TensorArgument(name),
            *target,
        )
        for kind, name, const, *target in spec["outputs"]
    ]
    return ExportGraphSignature(inputs, outputs)


def load(f) -> ExportedProgram:
    """Read an ExportedProgram written by :func:`save` (format 2, or format 1 of earlier
    minigrad versions, whose graph is lifted on loading). Raises RuntimeError, naming it, for
    a record that saving does not write (a function other than minigrad's ops and a few
    ``operator``/``math`` ones, a name that is not an identifier, a path into a dunder).

    Example:
        >>> ep = minigrad.export.load("net.mgexport")
        >>> ep.module()(x)
    """
    from .. import load as load_tensors

    payload = load_tensors(f)
    version = payload.get("format") if isinstance(payload, dict) else None
    if version not in (_FORMAT, _FORMAT_V1):
        raise ValueError(
            f"minigrad.export.load: not a {_FORMAT} file (nor a {_FORMAT_V1} file of earlier "
            f"minigrad versions); format field: {version!r}"
        )
    meta = json.loads(payload["meta"])
    old = version == _FORMAT_V1
    try:
        _check(meta, set(payload["graph_state"]) if old else set())
        _check_signature(meta["signature"])
    except UnsafeRecordError as error:
        raise RuntimeError(
            f"minigrad.export.load: refusing the graph in the file (corrupted, or edited to run "
            f"other code): {error}"
        ) from None
    graph = _rebuild_graph(meta["records"])
    root = _root(meta, payload["graph_state"], graph) if old else _root(meta)
    root.update(_branch_modules(meta))
    gm = GraphModule(root, graph, "GraphModule")
    for name, module in gm.named_modules():
        module.training = meta["training"].get(name, gm.training)
    if gm.code != payload["code"]:
        raise RuntimeError(
            "minigrad.export.load: the graph rebuilt from the file generates other code than "
            "the saved code (file written by another minigrad version, or edited)"
        )
    signature = _signature(meta["signature"])
    if old:
        return _lift_v1(gm, signature, payload["state_dict"], meta.get("input_checks"))
    params = set(signature.parameters)
    state = {k: Parameter(v) if k in params else v for k, v in payload["state_dict"].items()}
    ep = ExportedProgram(gm, signature, state, constants=payload["constants"])
    ep._input_checks, ep._out_spec = meta.get("input_checks"), meta.get("out_spec")
    return ep


def _check(meta: dict, tensors: set) -> None:
    """Refuse records :func:`save` does not write, before anything is built from them (see
    ``_safe_records``), in the graph and its ``cond`` branches: ``get_attr`` and
    ``call_module`` reach the file's layers and branches (and, format 1, its ``tensors``)."""
    held = [*meta["layers"], *meta.get("branches", {})]
    for path in [*held, *tensors]:
        check_path(path, "submodule or tensor")
    for branch in meta.get("branches", {}).values():
        _check(branch, set())
    check_records(meta["records"], set(held) | tensors, set(held))


def _check_signature(spec: dict) -> None:
    """Refuse state paths in the signature that are not attribute paths: ``module()`` writes
    them into its code."""
    targets = [s[2] for s in spec["inputs"]] + [s[3] for s in spec["outputs"] if len(s) > 3]
    for target in targets:
        if target is not None:
            check_path(target, "signature's state")


def _lift_v1(gm: GraphModule, old: ExportGraphSignature, state: dict, checks) -> ExportedProgram:
    """A format-1 program (its graph module holds the state) in today's lifted form."""
    from ._export import lift_program, output_specs

    persistent = {s.target: s.persistent for s in old.input_specs if s.kind is InputKind.BUFFER}
    lifted, lifter, out_spec = lift_program(gm, gm.graph, {}, persistent)
    held = dict(gm.named_parameters(remove_duplicate=False))
    held.update(gm.named_buffers(remove_duplicate=False))
    state = {k: held.get(k, v) for k, v in state.items()}  # the graph module's: Parameters
    users = [s for s in old.input_specs if s.kind is InputKind.USER_INPUT]
    signature = ExportGraphSignature(lifter.specs + users, output_specs(lifted.graph))
    ep = ExportedProgram(lifted, signature, state, constants=lifter.constants)
    ep._input_checks, ep._out_spec = checks, out_spec
    return ep
