"""safetensors files, through the ``safetensors`` package's NumPy API (``pip install safetensors``).

A safetensors file is an 8-byte header length, a JSON header (each tensor's dtype, shape and
byte range, and an optional ``__metadata__`` dict of strings) and the raw tensor bytes; it
holds a flat dict of named tensors and nothing that could run code. These helpers mirror
``safetensors.torch``: ``save_file``/``load_file`` for paths, ``save``/``load`` for bytes, and
:func:`load_metadata` for the metadata.

``BF16`` tensors come back as ``bfloat16`` when the optional ``ml_dtypes`` package is
installed, else as ``float32`` (exactly the same values); the safetensors NumPy API refuses
to read them, so minigrad decodes them from the raw bytes. bfloat16 tensors are saved as BF16.
"""

from __future__ import annotations

import json
import os
import struct

import numpy as np

from .. import backend, dtypes
from ..tensor import Tensor
from ._files import atomic_write

__all__ = [
    "load",
    "load_file",
    "load_metadata",
    "load_safetensors",
    "looks_like_safetensors",
    "save",
    "save_file",
    "save_safetensors",
]

_MAX_HEADER = 100_000_000  # the safetensors package's own limit


def _package():
    try:
        import safetensors.numpy
    except ImportError as e:
        raise ImportError(
            "reading and writing .safetensors files needs the safetensors package: "
            "pip install safetensors (or pip install 'minigrad[io]')"
        ) from e
    return safetensors.numpy


def looks_like_safetensors(head: bytes, size: int) -> bool:
    """True if the first bytes of a ``size``-byte file are a safetensors header."""
    if len(head) < 9:
        return False
    (n,) = struct.unpack("<Q", head[:8])
    return head[8:9] == b"{" and 8 + n <= size


def _host_arrays(tensors: dict, fn: str) -> dict:
    if not isinstance(tensors, dict):
        raise TypeError(
            f"{fn} saves a dict of str to Tensor (a state_dict), got {type(tensors).__name__}"
        )
    out = {}
    for k, v in tensors.items():
        if not isinstance(k, str):
            raise TypeError(f"{fn}: keys must be str, got {k!r}")
        if isinstance(v, Tensor):
            v = v.detach().cpu().numpy()
        if not isinstance(v, np.ndarray):
            raise TypeError(f"{fn}: {k!r} is a {type(v).__name__}; only tensors can be saved")
        out[k] = np.ascontiguousarray(v)
    return out


def _check_metadata(metadata, fn: str) -> None:
    if metadata is not None and (
        not isinstance(metadata, dict)
        or not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())
    ):
        raise TypeError(f"{fn}: metadata must be a dict of str to str, got {metadata!r}")


def save(tensors: dict, metadata: dict | None = None) -> bytes:
    """The bytes of a safetensors file holding ``tensors`` (a dict of str to Tensor)."""
    _check_metadata(metadata, "save")
    return _package().save(_host_arrays(tensors, "save"), metadata=metadata)


def save_file(tensors: dict, filename, metadata: dict | None = None) -> None:
    """Write ``tensors`` (a dict of str to Tensor, e.g. a state_dict) to a ``.safetensors`` file.

    Args:
        tensors: names to tensors (any device; saved from host memory).
        filename: a path, written atomically, or a writable binary file object.
        metadata: an optional dict of str to str, stored in the header.

    Example:
        >>> minigrad.io.save_file(model.state_dict(), "model.safetensors", {"epoch": "3"})
    """
    data = save(tensors, metadata)
    if hasattr(filename, "write"):
        filename.write(data)
    else:
        atomic_write(filename, lambda fh: fh.write(data))


def load(data: bytes, device="cpu") -> dict:
    """The tensors in the bytes of a safetensors file, as a dict of str to Tensor."""
    header, start = _header(data[: min(len(data), 8 + _MAX_HEADER)], len(data))
    if any(v.get("dtype") == "BF16" for k, v in header.items() if k != "__metadata__"):
        arrays = {k: _decode(v, data, start) for k, v in header.items() if k != "__metadata__"}
    else:
        arrays = _package().load(data)
        arrays = {k: arrays[k] for k in header if k != "__metadata__"}  # file order
    return _tensors(arrays, device)


def load_file(filename, device="cpu") -> dict:
    """The tensors in a ``.safetensors`` file (a path or binary file object), by name.

    Args:
        filename: a path or a readable binary file object.
        device: where to put the tensors (default the CPU).

    Returns:
        A dict of str to Tensor in the file's order, ready for ``model.load_state_dict``.

    Example:
        >>> model.load_state_dict(minigrad.io.load_file("model.safetensors"))
    """
    if hasattr(filename, "read"):
        return load(filename.read(), device)
    with open(filename, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        header, start = _header(fh.read(min(size, 8 + _MAX_HEADER)), size)
    keys = [k for k in header if k != "__metadata__"]
    if any(header[k].get("dtype") == "BF16" for k in keys):
        with open(filename, "rb") as fh:
            return load(fh.read(), device)
    arrays = _package().load_file(filename)
    return _tensors({k: arrays[k] for k in keys}, device)


def load_metadata(filename) -> dict | None:
    """The ``__metadata__`` dict (str to str) of a safetensors file, or None if it has none."""
    if hasattr(filename, "read"):
        here = filename.tell()
        try:
            head = filename.read(8 + _MAX_HEADER)
            size = here + len(head) + len(filename.read(1))
        finally:
            filename.seek(here)
    else:
        with open(filename, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            head = fh.read(min(size, 8 + _MAX_HEADER))
    header, _ = _header(head, max(size, len(head)))
    return header.get("__metadata__")


def _header(head: bytes, size: int) -> tuple[dict, int]:
    if len(head) < 8:
        raise RuntimeError("not a safetensors file: shorter than its 8-byte header length")
    (n,) = struct.unpack("<Q", head[:8])
    if n > _MAX_HEADER or 8 + n > size or 8 + n > len(head):
        raise RuntimeError(f"not a safetensors file: its header declares {n} bytes")
    try:
        header = json.loads(head[8 : 8 + n].decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise RuntimeError(f"corrupted safetensors header ({e})") from e
    if not isinstance(header, dict):
        raise RuntimeError("corrupted safetensors header (not a JSON object)")
    return header, 8 + n


_NUMPY = {"F16": "<f2", "F32": "<f4", "F64": "<f8", "I8": "i1", "U8": "u1", "I16": "<i2",
          "I32": "<i4", "I64": "<i8", "BOOL": "?", "BF16": "<u2"}  # fmt: skip


def _decode(entry: dict, data: bytes, start: int) -> np.ndarray:
    """One tensor from its header entry (used for files with BF16, which NumPy cannot read)."""
    try:
        dtype = np.dtype(_NUMPY[entry["dtype"]])
        shape = tuple(int(s) for s in entry["shape"])
        begin, end = (int(x) for x in entry["data_offsets"])
    except (KeyError, TypeError, ValueError) as e:
        raise RuntimeError(f"corrupted safetensors header entry {entry!r} ({e})") from e
    count = int(np.prod(shape, dtype=object)) if shape else 1
    if not 0 <= begin <= end <= len(data) - start or end - begin != count * dtype.itemsize:
        raise RuntimeError(f"safetensors entry {entry!r} does not match the data")
    array = np.frombuffer(data, dtype, count, start + begin).reshape(shape)
    if entry["dtype"] == "BF16":
        return dtypes.bfloat16_from_bits(array).copy()
    return array.copy()


def _tensors(arrays: dict, device) -> dict:
    dev = backend.device(device or "cpu")
    out = {}
    for k, a in arrays.items():
        a = np.ascontiguousarray(a)
        host = a if a.flags.writeable else a.copy()
        out[k] = Tensor._make(dev.backend.from_host(host, dev.index), dev)
    return out


load_safetensors = load_file
save_safetensors = save_file
