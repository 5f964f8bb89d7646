"""Run PyTorch code unchanged on minigrad: ``import torch`` (and ``torch.nn``, ``from
torch.utils.data import DataLoader``, ...) gives minigrad's modules.

``import minigrad as torch`` rebinds one name only: a script's ``import torch.nn as nn`` or
``from torch.optim import AdamW`` still imports PyTorch (or fails where it is not installed).
Here every ``torch`` import resolves to the minigrad module of the same path:

    python -m minigrad.as_torch train.py --epochs 3     # the script runs as __main__
    python -m minigrad.as_torch -m pytest tests/        # a module, as python -m runs it
    python -m minigrad.as_torch -c "import torch; print(torch.ones(2))"

    with minigrad.as_torch.imports():
        import torch.nn as nn                            # minigrad.nn
        module = importlib.import_module("my_pytorch_code")

``import torchvision`` gives :mod:`minigrad.vision` (transforms, datasets, models, ops, utils);
``import torchaudio`` gives :mod:`minigrad.audio` (functional, transforms, WAV I/O, datasets).
``torch.__version__`` reads ``2.13.0+minigrad0.1.0`` there: the PyTorch API minigrad follows, with
minigrad's own version as the local label (``minigrad.__version__`` outside stays ``0.1.0``).
A name minigrad lacks fails as it would in an old PyTorch: ``ModuleNotFoundError`` for a
module, ``AttributeError`` or ``ImportError`` for a name.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.abc
import importlib.util
import io
import os
import runpy
import sys
import types


class _TorchAsMinigrad(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports ``torch.X`` as the module ``minigrad.X`` (the very module, not a second copy:
    binding a few names in ``sys.modules`` is not enough, as ``from torch.utils.data.dataset
    import random_split`` would execute ``minigrad/utils/data/dataset.py`` again as a new
    module)."""

    def find_spec(self, name, path=None, target=None):
        mapped = _minigrad_name(name)
        if mapped is None:
            return None
        if importlib.util.find_spec(mapped) is None:
            return None  # no such minigrad module: ModuleNotFoundError, as for a typo
        return importlib.util.spec_from_loader(name, self)

    def create_module(self, spec):
        module = importlib.import_module(_minigrad_name(spec.name))
        self._name = spec.name
        self._spec = module.__spec__  # the import system overwrites __spec__; put it back
        return module

    def exec_module(self, module):
        module.__spec__ = self._spec
        module.__name__ = self._name  # ``torch.nn.__name__ == "torch.nn"`` (pyro asserts it)


_PACKAGES = {"torch": "minigrad", "torchvision": "minigrad.vision", "torchaudio": "minigrad.audio"}


def _minigrad_name(name: str) -> str | None:
    """The minigrad module that stands in for ``name`` (``torch.nn`` → ``minigrad.nn``,
    ``torchvision.transforms`` → ``minigrad.vision.transforms``), or None for other names."""
    top, dot, rest = name.partition(".")
    return _PACKAGES[top] + dot + rest if top in _PACKAGES else None


def _shadowed_submodules() -> dict:
    """``{"torch.X.Y": module}`` for each loaded minigrad submodule whose package binds ``Y``
    to something else, as ``torch.autograd.gradcheck`` is the function and not the module.
    Loading it under the ``torch`` name would make the import system set the package's ``Y``
    to the module; PyTorch's import finds it loaded already and leaves the name alone, and so
    does this one, with these names in ``sys.modules`` beforehand."""
    prefixes = sorted(((m, t) for t, m in _PACKAGES.items()), key=lambda p: -len(p[0]))
    aliases = {}
    for name, module in list(sys.modules.items()):
        parent, _, child = name.rpartition(".")
        holder = sys.modules.get(parent) if parent.partition(".")[0] == "minigrad" else None
        if holder is None or getattr(holder, child, module) is module:
            continue
        for prefix, top in prefixes:
            if name.startswith(prefix + "."):
                aliases[top + name[len(prefix) :]] = module
                break
    return aliases


def _torch_modules() -> dict:
    """The imported modules named ``torch``/``torchvision``/``torchaudio`` or under them."""
    return {n: m for n, m in sys.modules.items() if n.partition(".")[0] in _PACKAGES}


@contextlib.contextmanager
def imports():
    """Within the block, ``import torch`` and ``torch.*`` give minigrad's modules
    (``torchvision`` gives :mod:`minigrad.vision`, ``torchaudio`` :mod:`minigrad.audio`), named as imported (``torch.__name__ ==
    "torch"``, which libraries check), and reprs say ``torch`` (``torch.float32``, ``torch.Size([2])``, ``x.type() == "torch.FloatTensor"``);
    PyTorch's modules already imported are set aside and put back afterwards."""
    from . import _public_name

    saved = _torch_modules()
    for name in saved:
        del sys.modules[name]
    sys.modules.update(_shadowed_submodules())
    finder = _TorchAsMinigrad()
    sys.meta_path.insert(0, finder)
    shown_before = _public_name.show_as("torch")
    version_before = _show_torch_version()
    autoray_before = _autoray_backend("torch")
    try:
        yield
    finally:
        _autoray_backend(autoray_before)
        _show_torch_version(version_before)
        _public_name.show_as(shown_before)
        sys.meta_path.remove(finder)
        for name, module in _torch_modules().items():
            if getattr(module, "__name__", None) == name:  # named by the finder: minigrad's again
                module.__name__ = _minigrad_name(name)
            del sys.modules[name]
        sys.modules.update(saved)


def _autoray_backend(name: str | None) -> str | None:
    """Make autoray (torchquad's and quimb's array dispatch) name minigrad's tensors' backend
    ``name`` (None: by their module, ``minigrad``, as outside); returns the name it had. It
    names a backend by the array class's top module, and has its torch translations
    (``expand_dims`` as ``unsqueeze``, ...) for ``torch`` only, which imports minigrad here."""
    if "autoray" not in sys.modules and importlib.util.find_spec("autoray") is None:
        return None
    autoray = importlib.import_module("autoray")
    custom = getattr(autoray.autoray, "_CUSTOM_BACKENDS", None)
    if custom is None:  # (a release without the registry this relies on)
        return None
    from .nn.parameter import Buffer, Parameter
    from .tensor import Tensor

    before = custom.get(Tensor)
    for cls in (Tensor, Parameter, Buffer):
        if name is None:
            custom.pop(cls, None)
        else:
            custom[cls] = name
    invalidate = getattr(autoray.autoray, "_invalidate_backend_inference_caches", None)
    if invalidate is not None:
        invalidate()
    return before


TORCH_API = "2.13.0"  # the PyTorch release whose API minigrad follows (DESIGN.md's contract)


def _show_torch_version(version=None):
    """Set ``__version__`` (of ``minigrad`` and ``minigrad.version``) to ``version``, or by
    default to PyTorch's API version with minigrad's as a PEP 440 local label
    (``2.13.0+minigrad0.1.0``), so that libraries checking ``torch.__version__ >= "2.0"`` run;
    returns the version it replaced."""
    import minigrad
    from minigrad import version as version_module
    from minigrad.torch_version import TorchVersion

    before = minigrad.__version__
    if version is None:
        version = TorchVersion(f"{TORCH_API}+minigrad{before.split('+minigrad')[-1]}")
    minigrad.__version__ = version_module.__version__ = version
    return before


def run_path(path: str, args: list[str] = ()) -> dict:
    """Run the script at ``path`` as ``__main__`` with ``sys.argv = [path, *args]`` and
    ``torch`` bound to minigrad (:func:`imports`); returns its globals. As ``python SCRIPT``
    does, the script's folder comes first on ``sys.path`` (its sibling modules import), its
    ``__file__`` is absolute (warnings and tracebacks name the full path) and ``sys.argv[0]``
    is ``path`` as given."""
    argv, search_path, main_module = sys.argv, list(sys.path), sys.modules.get("__main__")
    file = os.path.abspath(path)
    with io.open_code(file) as source:
        code = compile(source.read(), file, "exec")
    script = types.ModuleType("__main__")
    script.__dict__.update(__file__=file, __cached__=None, __loader__=None, __spec__=None)
    sys.argv = [path, *args]
    sys.path.insert(0, os.path.dirname(file))
    sys.modules["__main__"] = script  # classes the script defines pickle as __main__.<name>
    try:
        with imports():
            exec(code, script.__dict__)
        return dict(script.__dict__)
    finally:
        sys.argv, sys.path[:] = argv, search_path
        if main_module is None:
            del sys.modules["__main__"]
        else:
            sys.modules["__main__"] = main_module


def run_module(name: str, args: list[str] = ()) -> dict:
    """Run the module ``name`` as ``python -m NAME ARGS`` does (``sys.argv[0]`` its file, the
    module as ``__main__``), with ``torch`` bound to minigrad: ``python -m minigrad.as_torch
    -m pytest tests/`` runs a project's PyTorch tests on minigrad. Returns its globals."""
    argv = sys.argv
    sys.argv = [name, *args]
    try:
        with imports():
            return runpy.run_module(name, run_name="__main__", alter_sys=True)
    finally:
        sys.argv = argv


def run_code(source: str, args: list[str] = ()) -> dict:
    """Run ``source`` as ``python -c SOURCE ARGS`` does, with ``torch`` bound to minigrad."""
    argv, main_module = sys.argv, sys.modules.get("__main__")
    script = types.ModuleType("__main__")
    sys.argv = ["-c", *args]
    sys.modules["__main__"] = script
    try:
        with imports():
            exec(compile(source, "<string>", "exec"), script.__dict__)
        return dict(script.__dict__)
    finally:
        sys.argv = argv
        if main_module is None:
            del sys.modules["__main__"]
        else:
            sys.modules["__main__"] = main_module


_USAGE = "usage: python -m minigrad.as_torch (SCRIPT | -m MODULE | -c CODE) [ARGS...]"


def main(argv: list[str] | None = None) -> int:
    """``python -m minigrad.as_torch SCRIPT [ARGS...]`` (or ``-m MODULE``, ``-c CODE``)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(_USAGE + "\n\n" + __doc__.split("\n\n")[1])
        return 0 if argv else 2
    if argv[0] in ("-m", "-c"):
        if len(argv) < 2:
            print(f"{_USAGE}\nArgument expected for the {argv[0]} option", file=sys.stderr)
            return 2
        run = run_module if argv[0] == "-m" else run_code
        run(argv[1], argv[2:])
        return 0
    run_path(argv[0], argv[1:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
