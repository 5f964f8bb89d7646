"""``save`` and ``load``: checkpoints of tensors and nested containers, without pickle.

A checkpoint is a zip archive (the ``.npz`` layout): one ``.npy`` member per array, written
and read by NumPy with ``allow_pickle=False``, and a JSON index, ``minigrad.json``, that
describes the saved object. Loading parses JSON and array headers only, so a file can never run
code. Saving goes to a temporary file in the target's directory that is renamed over the target
when complete, so a crash leaves the previous checkpoint intact.

What can be saved: tensors (dtype, shape, device and ``requires_grad`` are kept), NumPy
arrays, dicts (with str, int, float, bool, None or tuple keys), lists, tuples, ``None``,
bools, ints, floats (nan and inf included), strings, dtypes and devices. A tensor that appears
several times is stored once and loaded as one tensor; distinct tensors that share memory
(views) are stored separately.
"""

from __future__ import annotations

import collections
import contextlib
import json
import math
import os
import uuid
import zipfile
import zlib

import numpy as np

from . import backend, dtypes
from .tensor import Tensor

__all__ = ["load", "save"]

_INDEX = "minigrad.json"
_FORMAT = "minigrad"
_VERSION = 1
_KEY_TYPES = (str, int, float, bool, type(None), tuple)


# -- save -----------------------------------------------------------------------------------------
def save(obj, f) -> None:
    """Write ``obj`` to ``f`` (a path or a binary file object), as ``torch.save``.

    Args:
        obj: a tensor, a state_dict, or nested dicts/lists/tuples of tensors, arrays, numbers,
            strings, bools and None.
        f: a path (str or ``os.PathLike``) or a writable binary file object. A path is written
            atomically: to a temporary file in the same directory, renamed over ``f`` at the end.

    Raises:
        TypeError: ``obj`` holds a value of an unsupported type (the message gives its place,
            e.g. ``obj['state'][0]['fn']``); nothing is written.
        ValueError: ``obj`` contains itself.

    Example:
        >>> minigrad.save({"model": model.state_dict(), "epoch": 3}, "ckpt.mg")
    """
    encoder = _Encoder()
    index = {"format": _FORMAT, "version": _VERSION, "root": encoder.encode(obj, "obj")}
    if hasattr(f, "write"):
        _write_archive(f, index, encoder.arrays)
        return
    path = os.fspath(f)
    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{uuid.uuid4().hex[:12]}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            _write_archive(fh, index, encoder.arrays)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _write_archive(fh, index: dict, arrays: list) -> None:
    with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        zf.writestr(_INDEX, json.dumps(index, allow_nan=False, separators=(",", ":")))
        for i, (array, device) in enumerate(arrays):
            host = device.backend.to_host(array) if device is not None else array
            with zf.open(_member(i), "w", force_zip64=True) as out:
                np.lib.format.write_array(out, np.asarray(host), allow_pickle=False)


def _member(i: int) -> str:
    return f"arrays/{i}.npy"


class _Encoder:
    """Turns an object into a JSON-able tree; arrays go to ``self.arrays``.

    Every JSON object in the tree is a tag with one key (``{"$tensor": {...}}``), so that user
    data never needs escaping; JSON arrays are lists; other JSON values stand for themselves.
    """

    def __init__(self):
        self.arrays: list = []  # (array, device or None for host NumPy arrays)
        self._tensors: dict[int, int] = {}  # id(tensor) -> its array index (saved once)
        self._keep: list = []  # keeps encoded tensors alive, so their ids stay unique
        self._active: set[int] = set()  # containers being encoded, to catch cycles

    def encode(self, obj, where: str):
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, (int, np.integer)):
            return int(obj)
        if isinstance(obj, (float, np.floating)):
            return float(obj) if math.isfinite(obj) else {"$float": repr(float(obj))}
        if isinstance(obj, np.bool_):
            return bool(obj)
        if isinstance(obj, Tensor):
            return {"$tensor": self._tensor(obj)}
        if isinstance(obj, np.ndarray):
            return {"$ndarray": self._array(obj, None)}
        if isinstance(obj, dtypes.dtype):
            return {"$dtype": obj.name}
        if isinstance(obj, backend.Device):
            return {"$device": str(obj)}
        if isinstance(obj, (dict, list, tuple)):
            return self._container(obj, where)
        raise TypeError(
            f"minigrad.save cannot save {where}, of type {type(obj).__name__}: it saves tensors, "
            f"NumPy arrays, dicts, lists, tuples, numbers, strings, bools, None, dtypes and devices"
        )

    def _container(self, obj, where: str):
        if id(obj) in self._active:
            raise ValueError(f"minigrad.save cannot save {where}: the object contains itself")
        self._active.add(id(obj))
        try:
            if isinstance(obj, dict):
                return self._dict(obj, where)
            items = [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]
            return items if isinstance(obj, list) else {"$tuple": items}
        finally:
            self._active.discard(id(obj))

    def _dict(self, obj: dict, where: str):
        tag = "$odict" if isinstance(obj, collections.OrderedDict) else "$dict"
        for k in obj:
            if not isinstance(k, _KEY_TYPES):
                raise TypeError(
                    f"minigrad.save cannot save {where}: key {k!r} is a {type(k).__name__}; "
                    f"keys must be str, int, float, bool, None or tuple"
                )
        if all(isinstance(k, str) for k in obj):
            return {tag: {k: self.encode(v, f"{where}[{k!r}]") for k, v in obj.items()}}
        return {
            tag: [
                [self.encode(k, where), self.encode(v, f"{where}[{k!r}]")] for k, v in obj.items()
            ]
        }

    def _tensor(self, t: Tensor) -> dict:
        i = self._tensors.get(id(t))
        if i is None:
            i = self._tensors[id(t)] = self._array(t._data, t.device)
            self._keep.append(t)
        return {
            "array": i, "dtype": t.dtype.name, "shape": list(t.shape),
            "requires_grad": t.requires_grad, "device": str(t.device),
        }  # fmt: skip

    def _array(self, array, device) -> int:
        if device is None and array.dtype.hasobject:
            raise TypeError("minigrad.save cannot save NumPy arrays of Python objects")
        self.arrays.append((array, device))
        return len(self.arrays) - 1


# -- load -----------------------------------------------------------------------------------------
def load(f, map_location=None, *, weights_only=None):
    """Read an object written by :func:`save`, as ``torch.load``.

    Args:
        f: a path or a readable, seekable binary file object.
        map_location: where to put tensors: None (the device each was saved from), a device
            (``"cpu"``, ``"cuda"``, ``"cuda:1"``, a ``minigrad.device``), or a dict mapping saved
            device names to devices (``{"cuda:0": "cpu"}``).
        weights_only: accepted for PyTorch compatibility; loading never runs code anyway.

    Returns:
        The saved object. Dicts, lists, tuples and OrderedDicts come back as such (other dict
        subclasses as dicts); tensors keep their dtype, shape and ``requires_grad``.

    Raises:
        RuntimeError: the file is empty, truncated, corrupted, or not a minigrad checkpoint
            (the message names the file and what is wrong), or a tensor's device is not
            available here (pass ``map_location``).
    """
    name = _describe(f)
    with _open_archive(f, name) as zf:
        index = _read_index(zf, name)
        decoder = _Decoder(zf, name, _location_mapper(map_location))
        return decoder.decode(index["root"])


def _describe(f) -> str:
    if hasattr(f, "read"):
        return repr(getattr(f, "name", None) or f"<{type(f).__name__}>")
    return repr(os.fspath(f))


@contextlib.contextmanager
def _open_archive(f, name: str):
    fh = f if hasattr(f, "read") else open(f, "rb")  # closed below
    try:
        start = fh.tell()
        head = fh.read(8)
        fh.seek(start)
        try:
            zf = zipfile.ZipFile(fh)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
            raise RuntimeError(
                f"{name} is not a minigrad checkpoint: {_why_not_zip(head, e)}"
            ) from e
        with zf:
            yield zf
    finally:
        if fh is not f:
            fh.close()


def _why_not_zip(head: bytes, error: Exception) -> str:
    if not head:
        return "the file is empty"
    if head.startswith(b"PK"):
        return f"the zip archive is truncated or corrupted (zipfile: {error})"
    if head.startswith(b"\x80"):
        return "it is a pickle (e.g. an old torch.save file); minigrad never unpickles"
    if head.startswith(b"\x93NUMPY"):
        return "it is a bare .npy array (use numpy.load)"
    return f"it is not a zip archive (it starts with {head!r})"


def _read_index(zf: zipfile.ZipFile, name: str) -> dict:
    names = zf.namelist()
    if _INDEX not in names:
        kind = (
            "a PyTorch checkpoint (torch.save)"
            if any(n.endswith("data.pkl") for n in names)
            else f"a zip archive without {_INDEX} (members: {names[:5]})"
        )
        raise RuntimeError(f"{name} is not a minigrad checkpoint: it is {kind}")
    try:
        index = json.loads(zf.read(_INDEX).decode("utf-8"))
    except (zipfile.BadZipFile, zlib.error, UnicodeDecodeError, ValueError, OSError) as e:
        raise RuntimeError(f"{name}: the checkpoint index {_INDEX} is corrupted ({e})") from e
    if not isinstance(index, dict) or index.get("format") != _FORMAT or "root" not in index:
        raise RuntimeError(f"{name}: {_INDEX} is not a minigrad checkpoint index")
    if index.get("version") != _VERSION:
        raise RuntimeError(
            f"{name} has checkpoint format version {index.get('version')!r}; this minigrad reads "
            f"version {_VERSION} (upgrade minigrad to read it)"
        )
    return index


def _location_mapper(map_location):
    """A function from a saved device name to the device to load onto."""
    if map_location is None:
        return lambda saved: backend.device(saved)
    if isinstance(map_location, (str, backend.Device)):
        target = backend.device(map_location)
        return lambda saved: target
    if isinstance(map_location, dict):
        table = {str(backend.device(k)): backend.device(v) for k, v in map_location.items()}
        return lambda saved: table.get(str(backend.device(saved))) or backend.device(saved)
    raise TypeError(
        f"map_location must be None, a device or a dict of devices, got "
        f"{type(map_location).__name__}"
    )


class _Decoder:
    """Rebuilds the saved object from the index tree, reading arrays on demand."""

    def __init__(self, zf: zipfile.ZipFile, name: str, locate):
        self.zf, self.name, self.locate = zf, name, locate
        self._tensors: dict[int, Tensor] = {}

    def fail(self, what: str) -> RuntimeError:
        return RuntimeError(f"{self.name}: corrupted checkpoint: {what}")

    def decode(self, node):
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            return [self.decode(x) for x in node]
        if not isinstance(node, dict) or len(node) != 1:
            raise self.fail(f"unexpected entry {str(node)[:80]} in the index")
        ((tag, value),) = node.items()
        handler = _HANDLERS.get(tag)
        if handler is None:
            raise self.fail(f"unknown tag {tag!r} in the index")
        try:
            return handler(self, value)
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise self.fail(f"malformed {tag} entry ({type(e).__name__}: {e})") from e

    def tensor(self, meta: dict) -> Tensor:
        i = meta["array"]
        if i in self._tensors:
            return self._tensors[i]
        dtype, shape = dtypes.from_name(meta["dtype"]), list(meta["shape"])
        requires_grad, saved_device = bool(meta["requires_grad"]), str(meta["device"])
        if requires_grad and not dtype.is_floating_point:
            raise self.fail(f"array {i} of dtype {dtype.name} is marked requires_grad")
        array = self.array(i)
        if array.dtype != dtype.numpy or list(array.shape) != shape:
            raise self.fail(
                f"array {i} is {array.dtype}{list(array.shape)}, but the index says "
                f"{dtype.name}{shape}"
            )
        dev = self.device(saved_device)
        t = Tensor._make(dev.backend.from_host(array, dev.index), dev)
        t.requires_grad_(requires_grad)
        self._tensors[i] = t
        return t

    def device(self, saved: str) -> backend.Device:
        try:
            dev = self.locate(saved)
        except (RuntimeError, ValueError, TypeError) as e:
            raise RuntimeError(f"{self.name}: cannot place a tensor saved on {saved!r}: {e}") from e
        if not dev.backend.is_available():
            raise RuntimeError(
                f"{self.name} has a tensor saved on {saved!r}, but {dev.type} is not available "
                f"here; pass map_location='cpu' to load it onto the CPU"
            )
        return dev

    def array(self, i) -> np.ndarray:
        member = _member(int(i))
        try:
            with self.zf.open(member) as fp:
                array = np.lib.format.read_array(fp, allow_pickle=False)
                if fp.read(1):  # also reaches the end of the member, where zipfile checks the CRC
                    raise ValueError("trailing bytes after the array")
        except KeyError:
            raise self.fail(f"the index refers to array {i}, but there is no {member}") from None
        except (zipfile.BadZipFile, zlib.error, ValueError, EOFError, OSError) as e:
            raise self.fail(f"cannot read {member} ({e})") from e
        return array


def _decode_dict(dec: _Decoder, value, cls=dict):
    if isinstance(value, dict):
        return cls((k, dec.decode(v)) for k, v in value.items())
    return cls((dec.decode(k), dec.decode(v)) for k, v in value)


def _decode_float(dec: _Decoder, value: str) -> float:
    if value not in ("inf", "-inf", "nan"):
        raise ValueError(f"{value!r} is not inf, -inf or nan")
    return float(value)


_HANDLERS = {
    "$tensor": _Decoder.tensor,
    "$ndarray": lambda dec, i: dec.array(i),
    "$dict": _decode_dict,
    "$odict": lambda dec, value: _decode_dict(dec, value, collections.OrderedDict),
    "$tuple": lambda dec, items: tuple(dec.decode(x) for x in items),
    "$float": _decode_float,
    "$dtype": lambda dec, name: dtypes.from_name(name),
    "$device": lambda dec, name: backend.device(name),
}
