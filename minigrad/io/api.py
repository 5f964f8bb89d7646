"""``save`` and ``load``: one entry point for every format minigrad reads and writes.

``load`` recognises the format from the file's first bytes: minigrad's own checkpoints (a zip
with ``minigrad.json``), PyTorch checkpoints (zip and legacy), and safetensors files. ``save``
writes minigrad's format, or safetensors when the path ends in ``.safetensors``.
"""

from __future__ import annotations

import os
import pickle
import zipfile

from .. import backend
from .._public_name import public_path
from .._warnings import warn_user
from . import _archive, checkpoint, pytorch, safetensors, unpickler
from ._files import atomic_write, describe, open_source
from .safe_globals import is_allowed

__all__ = ["get_unsafe_globals_in_checkpoint", "load", "load_pytorch", "save"]


def save(
    obj,
    f,
    pickle_module=None,
    pickle_protocol: int = 2,
    _use_new_zipfile_serialization: bool = True,
    _disable_byteorder_record: bool = False,
) -> None:
    """Write ``obj`` to ``f`` (a path or a binary file object), as ``torch.save``.

    Args:
        obj: a tensor, a state_dict, an ``nn.Module``, an optimizer, or nested
            dicts/lists/tuples/sets of tensors, NumPy arrays, numbers, strings, bools, None
            and objects of importable classes (see :mod:`minigrad.io.checkpoint`). With a path
            ending in ``.safetensors``, a dict of str to Tensor, written as safetensors.
        f: a path (str or ``os.PathLike``) or a writable binary file object. A path is written
            atomically: to a temporary file in the same directory, renamed over ``f`` at the
            end; an existing file's permissions are kept.
        pickle_module, pickle_protocol: taken as ``torch.save`` takes them (libraries pass
            them through); minigrad's format is JSON and ``.npy`` arrays, pickled by neither.
        _use_new_zipfile_serialization: True (a zip archive); PyTorch's legacy non-zip format
            (False) is not written (``NotImplementedError``).

    Raises:
        TypeError: ``obj`` holds a value of an unsupported type (the message gives its place,
            e.g. ``obj['state'][0]['fn']``); nothing is written.
        ValueError: ``obj`` contains itself through lists, tuples or dicts.

    Example:
        >>> minigrad.save({"model": model.state_dict(), "epoch": 3}, "ckpt.mg")
        >>> minigrad.save(model, "model.mg")  # the whole model
    """
    if not _use_new_zipfile_serialization:
        raise NotImplementedError(
            "save: _use_new_zipfile_serialization=False (PyTorch's legacy format) is not "
            "written by minigrad; it writes a zip archive"
        )
    if not hasattr(f, "write") and os.fspath(f).endswith(".safetensors"):
        safetensors.save_file(obj, f)
    elif hasattr(f, "write"):
        checkpoint.save_checkpoint(obj, f)
    else:
        atomic_write(f, lambda fh: checkpoint.save_checkpoint(obj, fh))


def load(
    f,
    map_location=None,
    pickle_module=None,
    *,
    weights_only: bool | None = None,
    mmap: bool | None = None,
    **pickle_load_args,
):
    """Read an object written by :func:`save`, ``torch.save`` or safetensors (``torch.load``).

    Nothing in the file is ever run: minigrad's format is JSON and ``.npy`` arrays, PyTorch's
    pickles are read by a restricted reader that rebuilds only tensors and plain containers,
    and with ``weights_only=True`` classes and functions named in a file are built only if
    allowed: PyTorch's default allowlist (tensors, ``nn.Parameter``, layouts, ``OrderedDict``,
    ``Counter``, ``set``, ``complex``), or those given to
    :func:`minigrad.serialization.add_safe_globals`. A whole module or optimizer, a
    ``defaultdict``, a ``frozenset``, a function or a NumPy array is refused, as
    ``torch.load`` refuses it. Declared sizes are checked against the file before anything is
    allocated.

    Args:
        f: a path or a readable, seekable binary file object.
        map_location: where to put tensors: None (the device each was saved from), a device
            (``"cpu"``, ``"cuda"``, ``"cuda:1"``, a ``minigrad.device``), a dict mapping saved
            device names to devices (``{"cuda:0": "cpu"}``), or PyTorch's function form
            ``lambda storage, loc: storage`` (the device of what it returns).
        weights_only: True (the default, as in PyTorch 2.6+): build only allowed globals.
            False, for files you trust: classes and functions that minigrad's format names are
            imported and rebuilt whatever they are. PyTorch pickles are always read
            restrictedly.
        mmap: accepted for PyTorch programs (``torch.load(f, mmap=True)``); the file is read
            into memory either way (``f`` must then be a path, as in PyTorch).
        pickle_module: None or the standard ``pickle`` (given, ``weights_only`` defaults to
            False, and ``weights_only=True`` is refused, as in PyTorch); minigrad reads
            pickles with its own restricted reader, never another module's.
        pickle_load_args: ``encoding`` (default "utf-8"; "bytes" keeps them bytes) and, with
            ``weights_only=False``, ``errors``: how the 8-bit strings of Python 2 pickles
            are decoded (``torch.load(f, encoding="latin1")``).

    Returns:
        The saved object. Dicts, lists, tuples, sets, OrderedDicts and defaultdicts come back
        as such; tensors keep their dtype, shape, class and ``requires_grad``. A PyTorch or
        safetensors file gives minigrad tensors.

    Raises:
        RuntimeError: the file is empty, truncated, corrupted, or in no format minigrad reads
            (the message names the file and what is wrong), or a tensor's device is not
            available here (pass ``map_location``).
        pickle.UnpicklingError: the file names a global that is not allowed (PyTorch's
            "Weights only load failed ... Unsupported global" message, saying how to allow it).

    Example:
        >>> model.load_state_dict(minigrad.load("resnet.pt", map_location="cpu"))
    """
    if weights_only is None:
        weights_only = pickle_module is None
    weights_only = bool(weights_only)
    strings = _py2_string_args(pickle_module, weights_only, pickle_load_args)
    if mmap and not isinstance(f, (str, os.PathLike)):
        raise ValueError("f must be a file path in order to use the mmap argument")
    name = describe(f)
    locate = _location_mapper(map_location, name)
    with open_source(f) as (fh, size), unpickler.py2_strings(**strings):
        start = fh.tell()
        head = fh.read(16)
        fh.seek(start)
        if head.startswith(b"PK"):
            return _load_zip(fh, name, size, head, locate, weights_only)
        if head.startswith(b"\x80"):
            return pytorch.load_legacy(fh, name, size, locate)
        if safetensors.looks_like_safetensors(head, size - start):
            tensors = safetensors.load(fh.read(), "cpu")
            return {k: _place(t, locate) for k, t in tensors.items()}
        raise RuntimeError(f"{name} is not a minigrad checkpoint: {_why_not_zip(head, None)}")


def _py2_string_args(pickle_module, weights_only: bool, pickle_load_args: dict) -> dict:
    """``torch.load``'s ``pickle_module`` and ``**pickle_load_args`` checked as PyTorch checks
    them, as the keyword arguments of :func:`unpickler.py2_strings`."""
    if pickle_module is not None:
        if weights_only:
            raise RuntimeError(
                "Can not safely load weights when explicit pickle_module is specified"
            )
        if pickle_module is not pickle:
            raise NotImplementedError(
                f"load: pickle_module={getattr(pickle_module, '__name__', pickle_module)!r}: "
                f"minigrad reads pickles with its own restricted reader, never another module's "
                f"(pass None or the standard pickle)"
            )
    if pickle_load_args and weights_only:
        warn_user("pickle_load_args only works if `weights_only=False`.")
    for key in pickle_load_args:
        if weights_only and key != "encoding":
            raise TypeError(f"Unpickler.__init__() got an unexpected keyword argument '{key}'")
        if key not in ("encoding", "errors"):
            raise TypeError(f"'{key}' is an invalid keyword argument for Unpickler()")
    return dict(pickle_load_args)


def load_pytorch(f, map_location=None):
    """A ``torch.save`` file (zip or legacy format) as minigrad tensors, without PyTorch.

    The same as :func:`load` on such a file, but any other format is an error.

    Example:
        >>> model.load_state_dict(minigrad.io.load_pytorch("model.pt"))
    """
    name = describe(f)
    locate = _location_mapper(map_location, name)
    with open_source(f) as (fh, size):
        start = fh.tell()
        head = fh.read(4)
        fh.seek(start)
        if head.startswith(b"\x80"):
            return pytorch.load_legacy(fh, name, size, locate)
        if head.startswith(b"PK"):
            with zipfile.ZipFile(fh) as zf:
                if pytorch.is_pytorch_zip(zf.namelist()):
                    _archive.check_unique(zf)
                    return pytorch.load_zip(zf, name, locate)
        raise RuntimeError(f"{name} is not a PyTorch checkpoint (it starts with {head!r})")


def get_unsafe_globals_in_checkpoint(f) -> list[str]:
    """The globals (classes, functions) a checkpoint names that ``weights_only=True`` loading
    refuses: neither in the default allowlist nor added with
    :func:`~minigrad.serialization.add_safe_globals` (``torch.serialization``'s function).

    The file is read, never built: minigrad's index, or a PyTorch file's pickle opcodes. Names
    are ``module.qualname`` (``torch.`` for minigrad's own under :mod:`minigrad.as_torch`).

    Example:
        >>> minigrad.save(model, "model.mg")
        >>> minigrad.serialization.get_unsafe_globals_in_checkpoint("model.mg")
        ['minigrad.nn.modules.container.Sequential', 'minigrad.nn.modules.linear.Linear']
    """
    name = describe(f)
    with open_source(f) as (fh, size):
        start = fh.tell()
        head = fh.read(16)
        fh.seek(start)
        if head.startswith(b"PK"):
            found = _unsafe_in_zip(fh, name, size, head)
        elif head.startswith(b"\x80"):
            found = pytorch.unsafe_globals(fh, name)
        elif safetensors.looks_like_safetensors(head, size - start):
            found = []
        else:
            raise RuntimeError(f"{name} is not a minigrad checkpoint: {_why_not_zip(head, None)}")
    return [public_path(f"{module}.{qualname}") for module, qualname in found]


def _unsafe_in_zip(fh, name, size, head) -> list[tuple[str, str]]:
    start = fh.tell()
    try:
        with zipfile.ZipFile(fh) as zf:
            names = zf.namelist()
            if checkpoint.INDEX in names:
                root = checkpoint.read_index(zf, name, size)["root"]
                return [g for g in checkpoint.globals_in_index(root) if not is_allowed(".".join(g))]
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
        raise RuntimeError(f"{name} is not a minigrad checkpoint: {_why_not_zip(head, e)}") from e
    if not pytorch.is_pytorch_zip(names):
        raise RuntimeError(f"{name} is not a checkpoint: a zip archive without {checkpoint.INDEX}")
    fh.seek(start)
    return pytorch.unsafe_globals(fh, name)


def _load_zip(fh, name, size, head, locate, weights_only):
    try:
        zf = zipfile.ZipFile(fh)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
        raise RuntimeError(f"{name} is not a minigrad checkpoint: {_why_not_zip(head, e)}") from e
    with zf:
        try:
            _archive.check_unique(zf)
        except _archive.ArchiveError as e:
            raise RuntimeError(f"{name}: corrupted checkpoint: {e}") from None
        names = zf.namelist()
        if checkpoint.INDEX in names:
            return checkpoint.load_archive(zf, name, size, locate, weights_only)
        if pytorch.is_pytorch_zip(names):
            return pytorch.load_zip(zf, name, locate)
        raise RuntimeError(
            f"{name} is not a minigrad checkpoint: it is a zip archive without "
            f"{checkpoint.INDEX} (members: {names[:5]})"
        )


def _why_not_zip(head: bytes, error: Exception | None) -> str:
    if not head:
        return "the file is empty"
    if head.startswith(b"PK"):
        return f"the zip archive is truncated or corrupted (zipfile: {error})"
    if head.startswith(b"\x93NUMPY"):
        return "it is a bare .npy array (use numpy.load)"
    return f"it is not a zip archive (it starts with {head[:8]!r})"


def _place(t, locate):
    dev = locate("cpu")
    return t if dev == t.device else t.to(dev)


def _callable_mapping(map_location):
    """PyTorch's ``map_location(storage, location)`` form (``lambda storage, loc: storage``
    loads onto the CPU, ``lambda storage, loc: storage.cuda(1)`` onto that GPU): the function is
    given an empty CPU tensor in place of the storage, and where what it returns lives is where
    the tensors saved on ``location`` go (None: where they were saved)."""
    from ..creation import zeros

    def mapping(saved: str) -> backend.Device:
        result = map_location(zeros(0), str(backend.device(saved)))
        if result is None:
            return backend.device(saved)
        if not hasattr(result, "device"):
            raise TypeError(
                f"map_location's function must return the storage it was given (or a copy on "
                f"another device), got {type(result).__name__}"
            )
        return result.device

    return mapping


def _location_mapper(map_location, name: str):
    """A function from a saved device name to an available device to load onto."""
    if map_location is None:
        mapping = backend.device
    elif isinstance(map_location, (str, backend.Device)):
        target = backend.device(map_location)
        mapping = lambda saved: target  # noqa: E731
    elif isinstance(map_location, dict):
        table = {str(backend.device(k)): backend.device(v) for k, v in map_location.items()}
        mapping = lambda saved: table.get(str(backend.device(saved))) or backend.device(saved)  # noqa: E731
    elif callable(map_location):
        mapping = _callable_mapping(map_location)
    else:
        raise TypeError(
            f"map_location must be None, a device or a dict of devices (or a function), got "
            f"{type(map_location).__name__}"
        )

    def locate(saved: str) -> backend.Device:
        try:
            dev = mapping(saved)
        except (RuntimeError, ValueError, TypeError) as e:
            raise RuntimeError(f"{name}: cannot place a tensor saved on {saved!r}: {e}") from e
        if not dev.backend.is_available():
            raise RuntimeError(
                f"{name} has a tensor saved on {saved!r}, but {dev.type} is not available "
                f"here; pass map_location='cpu' to load it onto the CPU"
            )
        return dev

    return locate
