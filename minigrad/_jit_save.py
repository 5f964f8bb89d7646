"""A traced module saved as its recording, as PyTorch's TorchScript archive: what
:func:`minigrad.jit.save` writes for a :func:`minigrad.jit.trace` result, and what
:func:`minigrad.jit.load` rebuilds in a process that does not have the model's class.

The file is one minigrad checkpoint holding only minigrad's own types (it loads with
``weights_only=True``; no pickle, no code object): for each traced method its graph as JSON node
records (functions by public dotted name, as :mod:`minigrad.export` saves graphs), its generated
code (the rebuilt graph must generate the same), its constant tensors and the modes frozen for
the layers it calls whole; the module hierarchy (each module's original class name, ``training``
flag, parameter and buffer names, and for minigrad.nn's layers their repr, rebuilt with ``ast``,
never executed, and for its containers their class); and the parameters and buffers (tensors
shared between names stay shared). Loading gives a ``RecursiveScriptModule`` hierarchy with
those names, so ``state_dict``/``named_parameters`` keys are the traced module's; the top
module's ``forward`` replays the recording, minigrad.nn layers and containers stay callable
(as PyTorch's loaded submodules), and a submodule of the model's own class holds its state only
(the trace went through it). What a recording holds that cannot be written this way (a Python
function passed to an op, a constant that is not a tensor, a layer called whole that its repr
does not rebuild) raises NotImplementedError at save time, naming it. Loading checks the records
before generating code from them (names are identifiers, attributes the saved tensors, calls
Tensor's methods and minigrad's ops): an edited file cannot make the code run anything else.
"""

from __future__ import annotations

import json
import re

from .backend import device
from .export import _serialize as records
from .export._safe_records import IDENTIFIER, UnsafeRecordError, check_records, is_member_path
from .jit import RecursiveScriptModule, _view_class
from .nn.modules.container import ModuleDict, ModuleList, Sequential
from .nn.modules.module import Module
from .tensor import Tensor

FORMAT = "minigrad.jit.trace/1"
_CONTAINERS = (Sequential, ModuleList, ModuleDict)


def is_traced(module) -> bool:
    """Whether ``module`` runs recordings (a traced module, or one loaded from such a file)."""
    return isinstance(getattr(type(module), "_recordings", None), dict)


def _name(module) -> str:
    return getattr(module, "original_name", None) or type(module).__name__


def _refused(where: str, error: NotImplementedError) -> NotImplementedError:
    why = str(error).removeprefix("minigrad.export.save: ")
    return NotImplementedError(f"jit.save: cannot save {where}: {why}")


def _rebuilt_as(module, path: str, required: bool) -> dict:
    """How loading rebuilds the submodule at ``path``: ``{"container": name}`` for minigrad's
    containers (their children follow), ``{"layer": repr}`` for a minigrad.nn layer its repr
    rebuilds (callable after loading, as PyTorch's loaded submodules), else ``{}`` (a module
    holding its state only), which a layer the trace calls whole (``required``) may not be."""
    cls = getattr(type(module), "_saved_as", type(module))
    if cls in _CONTAINERS:
        return {"container": cls.__name__}
    plain = module._plain() if hasattr(type(module), "_saved_as") else module
    try:
        with device("meta"):  # (rebuilding it to compare: no init of its tensors)
            return {"layer": records._layer_repr(plain, path)}
    except Exception:  # (a layer that cannot be built on meta: built as usual)
        pass
    try:
        return {"layer": records._layer_repr(plain, path)}
    except NotImplementedError as error:
        if required:
            raise _refused(f"the layer {path} that the trace calls whole", error) from None
        return {}


def _tree(module, path: str, layers: set, state: dict, in_layer: bool = False) -> dict:
    """The record of ``module`` at ``path`` and its submodules (``in_layer``: built by the
    constructor of a layer above); its tensors go to ``state``."""
    prefix = f"{path}." if path else ""
    node = {"name": _name(module), "training": module.training, "parameters": [], "buffers": []}
    for kind, store in (("parameters", module._parameters), ("buffers", module._buffers)):
        for name, value in store.items():
            if value is not None:
                node[kind].append(name)
                state[prefix + name] = value
    if path and not in_layer:
        node.update(_rebuilt_as(module, path, path in layers))
    node["children"] = {
        name: _tree(child, prefix + name, layers, state, in_layer or "layer" in node)
        for name, child in module._modules.items()
        if child is not None
    }
    return node


def _method(traced: str, rec, constants: dict) -> dict:
    """The record of the recording of ``traced`` (its name, for errors); its constant tensors
    go to ``constants``."""
    where = f"the trace of {traced}"
    for key, value in rec.constants.items():
        if not isinstance(value, Tensor):
            raise NotImplementedError(
                f"jit.save: cannot save {where}: it holds a constant of type "
                f"{type(value).__name__} ({value!r}) captured while tracing; only tensors can be "
                f"saved as constants"
            )
        constants[key] = value
    try:
        nodes = records._records(rec.graph)
    except NotImplementedError as error:
        raise _refused(where, error) from None
    return {"records": nodes, "code": rec.code, "names": rec.names, "modes": rec.modes}


def save(traced, f, extra_files: dict, mark: str) -> None:
    """Write ``traced`` (a traced module, or a traced function: it loads as a module whose
    ``forward`` it is, named ``PlaceholderModule`` as in PyTorch) with ``extra_files`` to
    ``f`` (see the module docstring)."""
    from .io import save as save_checkpoint

    constants, state = {}, {}
    if isinstance(traced, Module):
        recordings = type(traced)._recordings
        layers = {target for rec in recordings.values() for target in rec.modes}
        tree = _tree(traced, "", layers, state)
        methods = {
            name: _method(f"{_name(traced)}.{name}", rec, constants)
            for name, rec in recordings.items()
        }
    else:
        tree = {"name": "PlaceholderModule", "training": True, "parameters": [], "buffers": [],
                "children": {}}  # fmt: skip
        methods = {"forward": _method(traced.__name__, traced._recording, constants)}
    meta = {"format": FORMAT, "methods": methods, "tree": tree}
    payload = {mark: 2, "meta": json.dumps(meta), "state": state, "constants": constants,
               "extra_files": extra_files}  # fmt: skip
    save_checkpoint(payload, f)


class LoadedModule(RecursiveScriptModule, Module):
    """A module of a traced module loaded by :func:`minigrad.jit.load` (PyTorch's
    ``RecursiveScriptModule``): the saved parameters, buffers, submodules and ``training`` flag,
    under the original class name ``original_name``. The top module's methods replay the saved
    recordings; a submodule the trace went through has no recording of its own."""

    def __init__(self, original_name: str):
        super().__init__()
        self.original_name = original_name

    def forward(self, *args, **kwargs):
        raise NotImplementedError(
            f"jit.load: this {self.original_name} submodule was traced through as part of the "
            f"top module, whose recorded forward the file holds; it has no forward of its own "
            f"(call the top module)"
        )

    @property
    def code(self) -> str:
        """The Python code of the recorded ``forward`` (the top module's)."""
        return self._recording().code

    @property
    def graph(self):
        """The minigrad.fx Graph of the recorded ``forward`` (the top module's)."""
        return self._recording().graph

    def _recording(self):
        recordings = getattr(type(self), "_recordings", None)
        if recordings is None:
            raise NotImplementedError(
                f"jit.load: the {self.original_name} submodule has no recording of its own; "
                f"the top module's code is the recording"
            )
        return recordings["forward"]


LoadedModule.__name__ = LoadedModule.__qualname__ = "RecursiveScriptModule"


def _corrupt(what: str) -> RuntimeError:
    return RuntimeError(f"jit.load: the traced module in the file is corrupted: {what}")


def _fill(module: Module, node: dict, path: str, state: dict, built: bool = False) -> None:
    """Give ``module`` (and its submodules, as ``node`` records them) the saved tensors and
    ``training`` flags (``built``: its submodules were made by a layer's constructor)."""
    prefix = f"{path}." if path else ""
    built = built or "layer" in node
    for kind, store in (("parameters", module._parameters), ("buffers", module._buffers)):
        if built and set(node[kind]) != {k for k, v in store.items() if v is not None}:
            raise _corrupt(f"the layer rebuilt at {path!r} has other {kind} than saved")
        for name in node[kind]:
            if prefix + name not in state:
                raise _corrupt(f"no tensor {prefix + name}")
            store[name] = state[prefix + name]
    module.training = bool(node["training"])
    module.__dict__["_non_persistent_buffers_set"] = set()  # (TorchScript's state_dict has them)
    for name, child in node["children"].items():
        if not built:
            module._modules[name] = _build(child, prefix + name, state, LoadedModule)
        elif module._modules.get(name) is None:
            raise _corrupt(f"the layer rebuilt at {path!r} has no submodule {name}")
        else:
            _fill(module._modules[name], child, prefix + name, state, built=True)
            _as_loaded(module._modules[name])


def _as_loaded(module: Module) -> None:
    """Make a rebuilt minigrad.nn module a ``RecursiveScriptModule`` of its class (it keeps
    its forward), as PyTorch's loaded submodules are."""
    object.__setattr__(module, "__class__", _view_class(type(module), RecursiveScriptModule))


def _layer(node: dict, path: str, state: dict) -> Module:
    """The layer of a saved repr with the saved tensors: built on the meta device (its
    tensors are all replaced, so nothing is initialized), or as usual where that fails or
    leaves a meta tensor in an attribute."""
    try:
        with device("meta"):
            module = records._layer_from_repr(node["layer"])
        _fill(module, node, path, state)
        if not any(_holds_meta(m) for m in module.modules()):
            return module
    except Exception:  # (built as usual below, which says what is wrong)
        pass
    module = records._layer_from_repr(node["layer"])
    _fill(module, node, path, state)
    return module


def _holds_meta(module: Module) -> bool:
    stores = (module._parameters, module._buffers, vars(module))
    return any(isinstance(v, Tensor) and v.is_meta for store in stores for v in store.values())


def _build(node: dict, path: str, state: dict, cls: type) -> Module:
    """The module of ``node``: a minigrad.nn layer or container, or a ``cls``."""
    if "layer" in node:
        module = _layer(node, path, state)
    elif "container" in node:
        container = {c.__name__: c for c in _CONTAINERS}.get(node["container"])
        if container is None:
            raise _corrupt(f"unknown container {node['container']!r}")
        module = container()
        _fill(module, node, path, state)
    else:
        module = cls(node["name"])
        _fill(module, node, path, state)
    if not isinstance(module, LoadedModule):
        _as_loaded(module)
    return module


def load(payload: dict) -> Module:
    """The module :func:`save` wrote, from the loaded checkpoint ``payload`` (its records are
    checked first: see :func:`_check_method`)."""
    from ._jit_trace import Recording

    meta = json.loads(payload["meta"])
    if meta.get("format") != FORMAT:
        raise RuntimeError(
            f"jit.load: the file holds a traced module of format {meta.get('format')!r}; this "
            f"minigrad reads {FORMAT!r}"
        )
    constants = payload["constants"]
    tensors, layers = set(), set()
    _check_tree(meta["tree"], "", tensors, layers)
    for key, value in constants.items():
        if not (_CONSTANT.fullmatch(key) and isinstance(value, Tensor)):
            raise _corrupt(f"bad constant {key!r}")
    recordings = {}
    for name, method in meta["methods"].items():
        _check_method(name, method, tensors | set(constants), layers)
        graph = records._rebuild_graph(method["records"])
        keys = {n.target for n in graph.find_nodes(op="get_attr") if n.target in constants}
        rec = Recording(graph, {k: constants[k] for k in keys}, method["names"], method["modes"])
        if rec.code != method["code"]:
            raise _corrupt(f"the graph of {name} generates other code than the saved code")
        recordings[name] = rec
    attrs = {"_recordings": recordings, "__module__": __name__, **constants}
    attrs.update((name, rec.method()) for name, rec in recordings.items())
    top = type("RecursiveScriptModule", (LoadedModule,), attrs)
    return _build(meta["tree"], "", payload["state"], top)


# -- what loading accepts: the records a trace makes (see export._safe_records) ----------------
_CONSTANT = re.compile(r"(_[A-Za-z0-9_]+)?_tensor_constant[0-9]+")  # (the recorder's names)


def _check_tree(node: dict, path: str, tensors: set, layers: set) -> None:
    """Check the names of the saved hierarchy (they become attribute paths in the code);
    collect the tensor and layer paths."""
    prefix = f"{path}." if path else ""
    for name in [*node["parameters"], *node["buffers"], *node["children"]]:
        if not (is_member_path(name) and "." not in name):
            raise _corrupt(f"bad member name {name!r} in {path or 'the top module'}")
    tensors.update(prefix + name for name in [*node["parameters"], *node["buffers"]])
    if "layer" in node:
        layers.add(path)
    for name, child in node["children"].items():
        _check_tree(child, prefix + name, tensors, layers)


def _check_method(name: str, method: dict, attrs: set, layers: set) -> None:
    """Refuse records that a trace does not make, before any code is generated from them
    (:func:`minigrad.export._safe_records.check_records`, which ``export.load`` uses too):
    ``get_attr`` reads only the saved tensors and constants, ``call_module`` calls only the
    saved layers."""
    if not (IDENTIFIER.fullmatch(name) and not name.startswith("__")):
        raise _corrupt(f"bad method name {name!r}")
    if not set(method["modes"]) <= layers:
        raise _corrupt(f"{name}: modes of layers not in the file")
    try:
        check_records(method["records"], attrs, layers)
    except UnsafeRecordError as error:
        raise _corrupt(f"{name}: {error}") from None
