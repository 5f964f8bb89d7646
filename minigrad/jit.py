"""``minigrad.jit``: the parts of ``torch.jit`` that model code uses while it runs eagerly.

minigrad has no TorchScript compiler, so it behaves as PyTorch does with TorchScript turned off
(``PYTORCH_JIT=0``): ``script`` and ``trace`` return the function they are given, or for a
module a view of it (:class:`ScriptModule`: the same parameters, buffers and submodules, run
eagerly with the same results, plus TorchScript's ``save``), and ``fork`` runs its call at
once. The annotations that PyTorch models carry for the compiler (``@torch.jit.ignore``,
``@unused``, ``@export``, ``annotate``, ``Final``) leave the code as it is, and
``is_scripting()``/``is_tracing()`` are False.

``save``/``load`` (and ``ScriptModule.save``) write and read the whole module in minigrad's
checkpoint format, as ``minigrad.save(model)``: loading needs the model's class importable,
where a TorchScript archive carries its code. A TorchScript archive written by PyTorch cannot
be run: loading one raises ``NotImplementedError``.
"""

from __future__ import annotations

import contextlib
import zipfile
from typing import Final  # noqa: F401 - torch.jit.Final is typing.Final for eager code

import numpy as np

from .futures import Future
from .io import _files

_INSTEAD = (
    "minigrad has no TorchScript; run the module eagerly, capture a training step with "
    "minigrad.compile, or serialize it with minigrad.onnx.export or minigrad.save"
)


def _identity_decorator(fn=None, **kwargs):
    if fn is None:  # used with arguments: @torch.jit.ignore(drop=True)
        return lambda f: f
    return fn


ignore = unused = export = _identity_decorator


def annotate(the_type, the_value):
    """``the_value`` itself: the annotation only guides the TorchScript compiler."""
    return the_value


def is_scripting() -> bool:
    """False: minigrad code never runs as TorchScript."""
    return False


def is_tracing() -> bool:
    """False: minigrad has no TorchScript tracer (ONNX export traces without flagging this)."""
    return False


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
        from .fx import symbolic_trace

        return symbolic_trace(self._plain()).code

    @property
    def graph(self):
        """The graph of ``forward`` as :func:`minigrad.fx.symbolic_trace` records it."""
        from .fx import symbolic_trace

        return symbolic_trace(self._plain()).graph

    def _plain(self):
        plain = object.__new__(self._saved_as)
        object.__setattr__(plain, "__dict__", self.__dict__)
        return plain


class RecursiveScriptModule(ScriptModule):
    """The kind of :class:`ScriptModule` that :func:`script` returns."""


class TracedModule(ScriptModule):
    """The kind of :class:`ScriptModule` that :func:`trace` returns."""


class TopLevelTracedModule(TracedModule):
    """The kind of :class:`ScriptModule` that :func:`trace` returns."""


_views: dict[tuple[type, type], type] = {}


def _view(module, kind: type):
    """``module`` as a :class:`ScriptModule` of ``kind`` sharing its state (itself if it is
    one already)."""
    if isinstance(module, ScriptModule):
        return module
    cls = type(module)
    view_cls = _views.get((cls, kind))
    if view_cls is None:
        attrs = {"_saved_as": cls, "original_name": cls.__name__, "__module__": __name__}
        view_cls = _views[cls, kind] = type(kind.__name__, (kind, cls), attrs)
    view = object.__new__(view_cls)
    object.__setattr__(view, "__dict__", module.__dict__)  # the same state, not a copy
    return view


def _is_module(obj) -> bool:
    from .nn import Module

    return isinstance(obj, Module)


def script(obj, optimize=None, _frames_up=0, _rcb=None, example_inputs=None):
    """``obj`` itself (a function or method), or for a module its :class:`ScriptModule` view,
    as PyTorch's with ``PYTORCH_JIT=0`` plus ``save``: its eager code is what TorchScript would
    compile, so results are the same."""
    return _view(obj, RecursiveScriptModule) if _is_module(obj) else obj


def trace(func, example_inputs=None, *args, **kwargs):
    """``func`` itself, or for a module its :class:`ScriptModule` view, as PyTorch's with
    ``PYTORCH_JIT=0``. Differs from a real trace only where ``func`` has control flow on
    tensor values, which a trace would freeze at the example's branch: here every call takes
    its own branch."""
    return _view(func, TopLevelTracedModule) if _is_module(func) else func


def trace_module(mod, inputs, *args, **kwargs):
    """``mod``'s :class:`ScriptModule` view (see :func:`trace`)."""
    return _view(mod, TopLevelTracedModule)


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
    """Write module ``m`` (scripted, traced or plain) and ``_extra_files`` (a dict of name to
    str or bytes, as PyTorch's) to ``f``, a path or a binary file object.

    The file is a minigrad checkpoint of the whole module (:func:`minigrad.save`), not a
    TorchScript archive: :func:`load` rebuilds it by importing the model's class.
    """
    if not _is_module(m):
        raise NotImplementedError(
            f"jit.save: minigrad saves modules (got {type(m).__name__}); a scripted function "
            f"is the Python function itself: import it instead"
        )
    extra = {name: _as_bytes(name, data) for name, data in (_extra_files or {}).items()}
    from .io import save as save_checkpoint

    save_checkpoint({_MARK: 1, "module": m, "extra_files": extra}, f)


def _as_bytes(name, data) -> np.ndarray:
    """An extra file's contents as a uint8 array (what the checkpoint format stores)."""
    if isinstance(data, str):
        data = data.encode()
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError(f"jit.save: _extra_files[{name!r}] must be str or bytes, got {type(data)}")
    return np.frombuffer(bytes(data), dtype=np.uint8)


def load(f, map_location=None, _extra_files=None):
    """The module :func:`save` wrote to ``f``, as a :class:`ScriptModule` (its class must be
    importable), with its tensors where ``map_location`` says (as :func:`minigrad.load`).
    ``_extra_files``: a dict whose keys name the extra files to read; their contents (bytes)
    are filled in, as PyTorch's.

    Only load files you trust: the file names the classes it rebuilds (as PyTorch's TorchScript
    files carry code). A TorchScript archive written by PyTorch raises NotImplementedError.
    """
    from .io import load as load_checkpoint

    _refuse_torchscript(f)
    saved = load_checkpoint(f, map_location, weights_only=False)
    if not (isinstance(saved, dict) and saved.get(_MARK) == 1):
        if _is_module(saved):  # a whole module saved by minigrad.save: as good
            return _view(saved, RecursiveScriptModule)
        raise RuntimeError(f"jit.load: {_files.describe(f)} holds no module saved by jit.save")
    for name in list(_extra_files or {}):
        if name in saved["extra_files"]:
            _extra_files[name] = saved["extra_files"][name].tobytes()
    return _view(saved["module"], RecursiveScriptModule)


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
