"""``minigrad.jit``: the parts of ``torch.jit`` that model code uses while it runs eagerly.

minigrad has no TorchScript compiler. ``script`` returns for a function a
:class:`ScriptFunction` calling it (with ``graph``/``code`` from fx, ``schema`` from its
signature and ``save``: :mod:`minigrad.jit._script_function`), for a module a view of it
(:class:`ScriptModule`: the same parameters, buffers and submodules, run eagerly with the same
results, plus TorchScript's ``save``): TorchScript compiles Python's control flow, so the live
Python code is the faithful behaviour. ``trace`` records, as
PyTorch's, the operations run on the example inputs and returns an object that runs that
recording: a branch or loop on tensor values keeps the path the example took (with PyTorch's
``TracerWarning`` where a tensor becomes a Python value), sizes passed to ops are recorded, the
``training`` mode is frozen as traced (the traced module and its submodules have ``training``
flags of their own, and share the parameters and buffers), and ``check_trace`` traces again and
compares. ``fork`` runs its call at once. The annotations
that PyTorch models carry for the compiler (``@torch.jit.ignore``, ``@unused``, ``@export``,
``annotate``, ``Final``) leave the code as it is; ``is_scripting()`` is False and
``is_tracing()`` is True only while ``trace`` records.

``save``/``load`` (and ``ScriptModule.save``) write a traced module (or a traced or scripted
function) as its recording, as a
TorchScript archive (:mod:`minigrad._jit_save`: graph, constants, module hierarchy, parameters
and buffers, with minigrad's types only), which loads without the model's class; a scripted or
plain module is written whole in minigrad's checkpoint format, as ``minigrad.save(model)``, and
loading it needs the model's class importable. A TorchScript archive written by PyTorch cannot
be run: loading one raises ``NotImplementedError``.
"""

from __future__ import annotations

import contextlib
import inspect
import pickle
import types
import zipfile
from collections import OrderedDict
from typing import Final

import numpy as np

from .. import _jit_trace
from .._jit_trace import TracingCheckError
from ..futures import Future
from ..io import _files

_INSTEAD = (
    "minigrad has no TorchScript; run the module eagerly, capture a training step with "
    "minigrad.compile, or serialize it with minigrad.onnx.export or minigrad.save"
)


def _identity_decorator(fn=None, **kwargs):
    if fn is None:  # used with arguments: @torch.jit.ignore(drop=True)
        return lambda f: f
    return fn


ignore = unused = export = _identity_decorator


def _overload(func):
    """``torch.jit._overload``: TorchScript records the declaration; here it is returned as is
    and the later definition of the same name replaces it (as ``typing.overload``'s)."""
    return func


_overload_method = _overload


def annotate(the_type, the_value):
    """``the_value`` itself: the annotation only guides the TorchScript compiler."""
    return the_value


def is_scripting() -> bool:
    """False: minigrad code never runs as TorchScript."""
    return False


def is_tracing() -> bool:
    """True while :func:`trace` records in this thread (ONNX export traces without flagging
    this)."""
    return _jit_trace.is_tracing()


class ScriptModule:
    """What :func:`script` and :func:`trace` return for a module: a view of it, of a class
    derived from the module's own (named as PyTorch's, ``RecursiveScriptModule`` or
    ``TopLevelTracedModule``), sharing its parameters, buffers and submodules, with
    TorchScript's ``save``. ``minigrad.save`` writes it as the module itself."""

    original_name: str

    def save(self, f, _extra_files=None) -> None:
        """Write the module to ``f`` (see :func:`save`)."""
        save(self, f, _extra_files)

    @property
    def code(self) -> str:
        """The Python code of ``forward`` as :func:`minigrad.fx.symbolic_trace` records it (in
        place of TorchScript's code: minigrad has none)."""
        return self._symbolic("code").code

    @property
    def graph(self):
        """The graph of ``forward`` as :func:`minigrad.fx.symbolic_trace` records it."""
        return self._symbolic("graph").graph

    def _symbolic(self, what: str):
        """``forward`` traced by fx; a forward that branches on tensor values or loops over an
        argument (which TorchScript compiles to an ``if`` or a ``for``) has no such trace (fx
        raises a TraceError, or Python a TypeError for ``range(proxy)``): NotImplementedError
        saying so."""
        from ..fx import symbolic_trace
        from ..fx.proxy import TraceError

        try:
            return symbolic_trace(self._plain())
        except (TraceError, TypeError) as error:
            raise NotImplementedError(
                f"{self.original_name}.{what}: minigrad has no TorchScript compiler; its {what} "
                f"comes from fx.symbolic_trace, which cannot record this forward ({error})"
            ) from error

    def extra_repr(self) -> str:
        """What PyTorch's script modules print in their repr."""
        return f"original_name={self.original_name}"

    def _plain(self):
        """This module as an object of the model's class (its traced submodules too), sharing
        its state: what ``symbolic_trace`` and rebuilding a layer from its repr read."""
        plain = object.__new__(self._saved_as)
        state = self.__dict__
        children = state.get("_modules", {})
        if any(isinstance(m, ScriptModule) for m in children.values()):
            state = dict(state)
            state["_modules"] = {
                k: m._plain() if isinstance(m, ScriptModule) else m for k, m in children.items()
            }
        object.__setattr__(plain, "__dict__", state)
        return plain


class RecursiveScriptModule(ScriptModule):
    """The kind of :class:`ScriptModule` that :func:`script` returns."""


class TracedModule(ScriptModule):
    """The kind of :class:`ScriptModule` that :func:`trace` returns."""

    def _get_name(self) -> str:
        return self.original_name  # (PyTorch's traced modules print their class's name)


class TopLevelTracedModule(TracedModule):
    """The kind of :class:`ScriptModule` that :func:`trace` returns: its ``forward`` (and each
    method given to :func:`trace_module`) runs the recorded operations, in the ``training``
    modes they were traced in; ``code`` and ``graph`` are the recording's. Its submodules are
    :class:`TracedModule` s: copies holding the module's parameters and buffers, with
    ``training`` flags and attributes of their own, as PyTorch's."""

    @property
    def code(self) -> str:
        """The Python code of the recorded ``forward``."""
        return type(self)._recordings["forward"].code

    @property
    def graph(self):
        """The minigrad.fx Graph of the recorded ``forward``."""
        return type(self)._recordings["forward"].graph


_views: dict[tuple[type, type], type] = {}


def _view(module, kind: type):
    """``module`` as a :class:`ScriptModule` of ``kind`` sharing its state (itself if it is
    one already)."""
    if isinstance(module, ScriptModule):
        return module
    view = object.__new__(_view_class(type(module), kind))
    object.__setattr__(view, "__dict__", module.__dict__)  # the same state, not a copy
    return view


def _view_class(cls: type, kind: type) -> type:
    """The class of a ``kind`` view of a ``cls`` module (made once per pair)."""
    cls = getattr(cls, "_saved_as", cls)
    view_cls = _views.get((cls, kind))
    if view_cls is None:
        attrs = {"_saved_as": cls, "original_name": cls.__name__, "__module__": __name__}
        if kind is RecursiveScriptModule and callable(getattr(cls, "forward", None)):
            from ._script_method import ScriptMethodDescriptor  # script(m).forward: ScriptMethod

            attrs["forward"] = ScriptMethodDescriptor(cls.forward, "forward")
        view_cls = _views[cls, kind] = type(kind.__name__, (kind, cls), attrs)
    return view_cls


def _traced_copy(module, view_cls: type, memo: dict, kind: type = TracedModule):
    """``module`` and its submodules as :class:`ScriptModule` s of their own, of ``kind``
    (``TracedModule`` as PyTorch's trace makes them, ``RecursiveScriptModule`` as its script
    does): each has its own attributes, ``training`` flag and hooks, and holds the
    same parameter and buffer tensors (``to()`` converts the parameters of both in place, and
    replaces the buffers of the copy only, as in PyTorch). As TorchScript's, ``state_dict``
    holds the non-persistent buffers too. A module met twice is copied once."""
    if id(module) in memo:
        return memo[id(module)]
    copy = memo[id(module)] = object.__new__(view_cls)
    state = {}
    for key, value in module.__dict__.items():
        if key == "_compiled_call_impl":
            continue  # (the original's compiled call)
        state[key] = value.copy() if isinstance(value, (dict, set, list)) else value
    state["_non_persistent_buffers_set"] = set()
    state["_modules"] = {
        name: None if m is None else _traced_copy(m, _view_class(type(m), kind), memo, kind)
        for name, m in module._modules.items()
    }
    object.__setattr__(copy, "__dict__", state)
    return copy


def _is_module(obj) -> bool:
    from ..nn import Module

    return isinstance(obj, Module)


def script(obj, optimize=None, _frames_up=0, _rcb=None, example_inputs=None):
    """For a function, a :class:`ScriptFunction` that calls it, with ``graph``, ``code``,
    ``schema`` and ``save`` (see :mod:`minigrad.jit._script_function`); for a module a
    :class:`RecursiveScriptModule` copy (as PyTorch's with ``PYTORCH_JIT=0`` plus ``save``: its
    eager code is what TorchScript would compile, so results are the same). As PyTorch's, the
    copy and its submodules have ``training`` flags and attributes of their own, taken when
    scripted, and hold the module's parameters and buffers (see :func:`_traced_copy`); a script
    module or function is returned as is, and so are other objects (classes, methods)."""
    if isinstance(obj, (ScriptModule, ScriptFunction)):
        return obj
    if isinstance(obj, types.FunctionType):
        from ._script_function import ScriptedFunction

        return ScriptedFunction(obj)
    if not _is_module(obj):
        return obj
    return _traced_copy(
        obj, _view_class(type(obj), RecursiveScriptModule), {}, RecursiveScriptModule
    )


class ScriptFunction:
    """What :func:`trace` returns for a function: calling it runs the recorded operations
    (``code`` and ``graph`` are the recording's). :func:`script` returns one of a subclass
    that calls the function itself."""

    def __init__(self, fn, recording):
        self.__name__ = self.name = getattr(fn, "__name__", type(fn).__name__)
        self.__qualname__ = getattr(fn, "__qualname__", self.__name__)
        self._recording = recording
        self.__dict__.update(recording.constants)  # what the code reads as self.<constant>

    def __call__(self, *args, **kwargs):
        return self._recording.forward(self, *args, **kwargs)

    def save(self, f, _extra_files=None) -> None:
        """Write the recording to ``f`` (see :func:`save`): it loads as a module whose
        ``forward`` it is."""
        save(self, f, _extra_files)

    @property
    def code(self) -> str:
        """The Python code of the recording."""
        return self._recording.code

    @property
    def graph(self):
        """The minigrad.fx Graph of the recording."""
        return self._recording.graph


def _as_args(example) -> tuple:
    return example if isinstance(example, tuple) else (example,)


def _as_call(example, is_kwarg: bool) -> tuple[tuple, dict]:
    """``(args, kwargs)`` of an example: a dict of keyword inputs, a tuple or one input."""
    if is_kwarg:
        if not isinstance(example, dict):
            raise TypeError(f"jit.trace: keyword example inputs must be a dict, got {example!r}")
        return (), dict(example)
    return _as_args(example), {}


def trace(
    func,
    example_inputs=None,
    optimize=None,
    check_trace: bool = True,
    check_inputs=None,
    check_tolerance: float = 1e-5,
    strict: bool = True,
    _force_outplace: bool = False,
    _module_class=None,
    _compilation_unit=None,
    example_kwarg_inputs=None,
    _store_inputs: bool = True,
):
    """Record the operations ``func`` runs on ``example_inputs``, as PyTorch's
    ``torch.jit.trace``: the result runs that recording on new inputs.

    Python control flow is frozen where the example took it: a branch on a tensor's value, a
    loop over a tensor or its size, the ``training`` mode (dropout, batch norm's statistics).
    A module's forward hooks are recorded with its ``forward`` (PyTorch traces the call).
    Sizes passed to ops follow the input, as in PyTorch (``x.view(x.size(0), -1)`` records
    ``x.size(0)``). Reading a
    Python value from a tensor (``bool``, ``.item()``, ``float``, ``int``, ``.tolist()``,
    ``len``, iteration) warns with :class:`TracerWarning`, as PyTorch does. Random ops stay
    random (each call draws anew). ``check_trace`` (default) traces again on ``check_inputs``
    (default: the example) and raises :class:`TracingCheckError` when the graph differs, then
    warns where the traced and the Python outputs differ by more than ``check_tolerance``.
    ``strict=False`` allows a list or dict output (strict: a list warns, a dict raises).

    Args:
        func: a function or an ``nn.Module`` (its ``forward`` is traced; see
            :func:`trace_module`).
        example_inputs: a tensor or a tuple of inputs (tensors or nests of them).
        check_trace, check_inputs, check_tolerance, strict: as PyTorch's.
        example_kwarg_inputs: a dict of keyword example inputs (instead of example_inputs).

    Returns:
        For a module, a :class:`TopLevelTracedModule`: as PyTorch's, a copy of the module and
        its submodules (:class:`TracedModule` s) holding the same parameters and buffers
        (training it trains them), with ``training`` flags of their own that the recording does
        not read (``traced.eval()`` leaves the model as it is, and the reverse); for a function,
        a :class:`ScriptFunction`.

    Example:
        >>> traced = minigrad.jit.trace(model, minigrad.randn(2, 4))
        >>> traced(minigrad.randn(2, 4))
    """
    is_kwarg = example_kwarg_inputs is not None
    example = example_kwarg_inputs if is_kwarg else example_inputs
    if isinstance(func, RecursiveScriptModule):
        return func  # (PyTorch returns a scripted module as it is)
    if _is_module(func):
        checks = None if check_inputs is None else [{"forward": c} for c in check_inputs]
        return trace_module(func, {"forward": example}, None, check_trace, checks,
                            check_tolerance, strict, example_inputs_is_kwarg=is_kwarg)  # fmt: skip
    if not callable(func):
        raise TypeError(f"jit.trace: expected a function or an nn.Module, got {type(func)}")
    args, kwargs = _as_call(example, is_kwarg)
    recording = _jit_trace.record(func, None, args, kwargs, strict)
    traced = ScriptFunction(func, recording)
    if check_trace:
        calls = [_as_call(c, is_kwarg) for c in (check_inputs or [example])]
        _jit_trace.check(recording, lambda a, k: _jit_trace.record(func, None, a, k, strict),
                         traced, func, calls, check_tolerance)  # fmt: skip
    return traced


def trace_module(
    mod,
    inputs,
    optimize=None,
    check_trace: bool = True,
    check_inputs=None,
    check_tolerance: float = 1e-5,
    strict: bool = True,
    _force_outplace: bool = False,
    _module_class=None,
    _compilation_unit=None,
    example_inputs_is_kwarg: bool = False,
    _store_inputs: bool = True,
):
    """Trace the methods of ``mod`` named by ``inputs`` (a dict: method name -> its example
    inputs), as PyTorch's: a :class:`TopLevelTracedModule` copy of ``mod`` (holding its
    parameters and buffers, with ``training`` flags of its own) whose methods run their
    recordings (see :func:`trace`). ``check_inputs``: a list of such dicts.

    Example:
        >>> traced = minigrad.jit.trace_module(model, {"forward": x, "encode": (x,)})
    """
    if not _is_module(mod):
        raise AttributeError("jit.trace_module: expected minigrad.nn.Module as the first argument")
    if not isinstance(inputs, dict):
        raise AttributeError(
            "jit.trace_module: expected a dictionary of (method_name, input) pairs"
        )
    cls = getattr(type(mod), "_saved_as", type(mod))
    recordings, constants = {}, {}

    def retrace(name):
        python = _traced_method(mod, cls, name)
        prefix = "" if name == "forward" else f"_{name}"
        return lambda a, k: _jit_trace.record(python, mod, a, k, strict, prefix)

    for name, example in inputs.items():
        args, kwargs = _as_call(example, example_inputs_is_kwarg)
        recordings[name] = retrace(name)(args, kwargs)
        constants.update(recordings[name].constants)
    attrs = {"_saved_as": cls, "original_name": cls.__name__, "__module__": __name__,
             "_recordings": recordings, **constants}  # fmt: skip
    attrs.update((name, rec.method()) for name, rec in recordings.items())
    top = type(TopLevelTracedModule.__name__, (TopLevelTracedModule, cls), attrs)
    view = _traced_copy(mod, top, {})
    if "forward" in recordings and _hooks_recorded(mod):
        view.__dict__.update(_forward_pre_hooks=OrderedDict(), _forward_hooks=OrderedDict())
    if check_trace:
        for name, rec in recordings.items():
            examples = [c[name] for c in check_inputs] if check_inputs else [inputs[name]]
            calls = [_as_call(c, example_inputs_is_kwarg) for c in examples]
            python = _traced_method(mod, cls, name)
            _jit_trace.check(rec, retrace(name), getattr(view, name), python, calls,
                             check_tolerance)  # fmt: skip
    return view


def _hooks_recorded(mod) -> bool:
    """Whether tracing ``mod.forward`` records its forward hooks (it has some, and no backward
    hooks, which stay on the traced module and run around the recording)."""
    from ..nn.modules._hooks import _has_backward_hooks

    has_hooks = bool(mod._forward_pre_hooks or mod._forward_hooks)
    return has_hooks and not _has_backward_hooks(mod)


def _traced_method(mod, cls, name: str):
    """What :func:`trace_module` records for method ``name``: for ``forward``, the call of
    ``mod`` with its forward hooks, as PyTorch traces it (their effect is in the recording, and
    the traced module runs them no more)."""
    method = getattr(cls, name).__get__(mod)
    if name != "forward" or not _hooks_recorded(mod):
        return method
    from ..nn.modules._hooks import call_with_hooks

    def forward(*args, **kwargs):
        return call_with_hooks(mod, args, kwargs)

    forward.__signature__ = inspect.signature(method)
    return forward


script_method = script_if_tracing = interface = _identity_decorator


def freeze(mod, preserved_attrs=None, optimize_numerics: bool = True):
    """``mod``'s :class:`ScriptModule` view (TorchScript would fold its parameters into
    constants; eager code runs the same). As PyTorch's, only for a module in eval mode."""
    if getattr(mod, "training", False):
        raise RuntimeError(
            "Freezing is currently only implemented for modules in eval mode. Please call "
            ".eval() on your module before freezing."
        )
    return _view(mod, RecursiveScriptModule)


def optimize_for_inference(mod, other_methods=None):
    """``mod`` in eval mode, frozen (:func:`freeze`): nothing else to optimize eagerly."""
    return freeze(mod.eval())


@contextlib.contextmanager
def optimized_execution(should_optimize: bool):
    """A context in which TorchScript would (not) optimize; eager code is unaffected."""
    yield


@contextlib.contextmanager
def fuser(name: str):
    """A context choosing TorchScript's fuser; eager code is unaffected."""
    yield


strict_fusion = contextlib.nullcontext
_fusion = {"strategy": [("STATIC", 2), ("DYNAMIC", 10)], "onednn": False}


def set_fusion_strategy(strategy):
    """Set TorchScript's fusion strategy (kept, unused eagerly); returns the previous one."""
    previous, _fusion["strategy"] = _fusion["strategy"], list(strategy)
    return previous


def enable_onednn_fusion(enabled: bool) -> None:
    """Turn TorchScript's oneDNN fusion on or off (kept, unused eagerly)."""
    _fusion["onednn"] = bool(enabled)


def onednn_fusion_enabled() -> bool:
    return _fusion["onednn"]


def Attribute(value, type=None):  # noqa: N802 - PyTorch's name
    """``value`` itself: the type annotates it for TorchScript only."""
    return value


class Error(RuntimeError):
    """TorchScript's error type (never raised by eager code)."""


class TracerWarning(Warning):
    """The warning category PyTorch's tracer uses (for ``warnings.filterwarnings``)."""


class ScriptWarning(Warning):
    """The warning category TorchScript uses (for ``warnings.filterwarnings``)."""


def fork(func, *args, **kwargs) -> Future:
    """Run ``func(*args, **kwargs)`` now (TorchScript would run it asynchronously): a
    completed :class:`minigrad.futures.Future` holding its result."""
    future = Future()
    future.set_result(func(*args, **kwargs))
    return future


def wait(future: Future):
    """The value of a :func:`fork`."""
    return future.wait()


_MARK = "minigrad.jit"


def save(m, f, _extra_files=None) -> None:
    """Write module ``m`` (traced, scripted or plain) and ``_extra_files`` (a dict of name to
    str or bytes, as PyTorch's) to ``f``, a path or a binary file object.

    A traced module (or one :func:`load` gave) is written as its recording, as PyTorch's
    TorchScript archive: :func:`load` rebuilds it in a process without the model's class (see
    :mod:`minigrad._jit_save`); what the recording holds that cannot be written so (a Python
    function passed to an op, a constant other than a tensor, a layer called whole that its
    repr does not rebuild) raises NotImplementedError. Any other module is written whole
    (:func:`minigrad.save`): :func:`load` rebuilds it by importing the model's class.
    """
    if not (_is_module(m) or isinstance(m, ScriptFunction)):
        raise NotImplementedError(
            f"jit.save: minigrad saves modules and traced or scripted functions (got "
            f"{type(m).__name__})"
        )
    extra = {name: _as_bytes(name, data) for name, data in (_extra_files or {}).items()}
    from .. import _jit_save
    from ..io import save as save_checkpoint

    if isinstance(m, ScriptFunction) or _jit_save.is_traced(m):
        _jit_save.save(m, f, extra, _MARK)
        return
    save_checkpoint({_MARK: 1, "module": m, "extra_files": extra}, f)


def _as_bytes(name, data):
    """An extra file's contents as a uint8 tensor (what the checkpoint stores: a tensor, which
    ``weights_only=True`` loading allows, where a NumPy array needs NumPy's globals allowed)."""
    if isinstance(data, str):
        data = data.encode()
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError(f"jit.save: _extra_files[{name!r}] must be str or bytes, got {type(data)}")
    from ..creation import from_numpy

    return from_numpy(np.frombuffer(bytearray(data), dtype=np.uint8))


def load(f, map_location=None, _extra_files=None):
    """The module :func:`save` wrote to ``f``, with its tensors where ``map_location`` says (as
    :func:`minigrad.load`). ``_extra_files``: a dict whose keys name the extra files to read;
    their contents (bytes) are filled in, as PyTorch's.

    A traced module loads as PyTorch's does, without its class: a ``RecursiveScriptModule``
    (``original_name``: the class name) with the saved submodules, parameters, buffers and
    ``training`` flags, whose ``forward`` replays the recording (its file holds minigrad's
    types only). A module saved whole loads as a :class:`ScriptModule` view of it; its class
    must be importable, and such a file names the classes it rebuilds: only load files you
    trust. A TorchScript archive written by PyTorch raises NotImplementedError.
    """
    _refuse_torchscript(f)
    saved = _load_checkpoint(f, map_location)
    if not (isinstance(saved, dict) and saved.get(_MARK) in (1, 2)):
        if _is_module(saved):  # a whole module saved by minigrad.save: as good
            return _view(saved, RecursiveScriptModule)
        raise RuntimeError(f"jit.load: {_files.describe(f)} holds no module saved by jit.save")
    for name in list(_extra_files or {}):
        if name in saved["extra_files"]:
            _extra_files[name] = np.asarray(saved["extra_files"][name]).tobytes()
    if saved[_MARK] == 2:
        from .. import _jit_save

        return _jit_save.load(saved)
    return _view(saved["module"], RecursiveScriptModule)


def _load_checkpoint(f, map_location):
    """The checkpoint in ``f``: read with ``weights_only=True`` (a traced module's file holds
    only minigrad's types), else, for a file naming the model's classes, without the
    allowlist."""
    from ..io import load as load_checkpoint

    with _files.open_source(f) as (fh, _):
        start = fh.tell()
        try:
            return load_checkpoint(fh, map_location, weights_only=True)
        except pickle.UnpicklingError:
            fh.seek(start)
            return load_checkpoint(fh, map_location, weights_only=False)


def _refuse_torchscript(f) -> None:
    """A TorchScript archive (code/ and constants.pkl inside a zip) cannot be run here."""
    with _files.open_source(f) as (fh, _):
        start = fh.tell()
        try:
            names = zipfile.ZipFile(fh).namelist() if fh.read(2) == b"PK" else []
        except (zipfile.BadZipFile, OSError, EOFError, ValueError):
            names = []  # (minigrad.load says what is wrong with it)
        fh.seek(start)
    if any(n.endswith("constants.pkl") for n in names) and any("/code/" in n for n in names):
        raise NotImplementedError(
            f"jit.load: {_files.describe(f)} is a TorchScript archive written by PyTorch; "
            f"minigrad cannot run TorchScript code. Save the model's state_dict with "
            f"torch.save and load it into the model class with minigrad.load"
        )


def __getattr__(name: str):
    """``torch.jit.isinstance`` (:mod:`._isinstance`), kept out of this module's globals where
    it would shadow the builtin."""
    if name == "isinstance":
        from ._isinstance import jit_isinstance

        return jit_isinstance
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
