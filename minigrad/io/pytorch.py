"""Reading PyTorch checkpoints (``torch.save``) without PyTorch and without running their code.

Both of PyTorch's formats are read: the zip format (``archive/data.pkl`` plus one member per
storage, the default since PyTorch 1.6) and the legacy format (pickles followed by raw storage
bytes, ``_use_new_zipfile_serialization=False``). The pickle is read by
:class:`~minigrad.io.unpickler.RestrictedUnpickler`, which rebuilds only tensors, parameters,
storages, ``torch.Size``, dtypes, ``OrderedDict`` and plain containers, and refuses anything
else with an error that names it, as ``torch.load(weights_only=True)`` does (classes allowed
with :func:`minigrad.serialization.add_safe_globals` are built too).

Every storage's declared size is checked against the bytes in the file before it is allocated.
Tensors that view one storage in the file (``torch.save([x, x[1:], x.t()])``, tied weights) come
back as windows of one array, sharing memory again with PyTorch's offsets and strides.
Differences from PyTorch, on purpose: a bare storage comes
back as a 1-D tensor; ``bfloat16`` comes back as ``bfloat16`` when the optional ``ml_dtypes``
package is installed, else as ``float32`` (exactly the same values); a whole pickled ``torch.nn.Module`` is refused (save its ``state_dict()`` instead).
"""

from __future__ import annotations

import collections
import io
import pickle
import pickletools
import struct
import zipfile

import numpy as np

from .. import _sparse_compressed, _sparse_coo, dtypes
from .._memory_format import strided
from .._strided import _window
from ..tensor import Tensor
from . import _archive
from .safe_globals import BLOCKED_MODULES, blocked, resolve
from .skip_data import skipping
from .unpickler import PY2_MODULES, RestrictedUnpickler

__all__ = ["is_pytorch_zip", "load_legacy", "load_zip", "unsafe_globals"]

_MAGIC = 0x1950A86A20F9469CFC6C
_PROTOCOL = 1001
_DTYPES = {
    "float32": "<f4", "float64": "<f8", "float16": "<f2", "bfloat16": "<u2", "int64": "<i8",
    "int32": "<i4", "int16": "<i2", "int8": "i1", "uint8": "u1", "bool": "?",
    "complex64": "<c8", "complex128": "<c16", "uint16": "<u2", "uint32": "<u4", "uint64": "<u8",
    **{f"float8_{kind}": "u1" for kind in ("e4m3fn", "e5m2", "e4m3fnuz", "e5m2fnuz", "e8m0fnu")},
}  # fmt: skip
_STORAGES = {
    "FloatStorage": "float32", "DoubleStorage": "float64", "HalfStorage": "float16",
    "BFloat16Storage": "bfloat16", "LongStorage": "int64", "IntStorage": "int32",
    "ShortStorage": "int16", "CharStorage": "int8", "ByteStorage": "uint8",
    "BoolStorage": "bool", "UntypedStorage": "uint8", "ComplexFloatStorage": "complex64",
    "ComplexDoubleStorage": "complex128", "UInt16Storage": "uint16", "UInt32Storage": "uint32",
    "UInt64Storage": "uint64",
    **{f"Float8_{kind}Storage": f"float8_{kind}" for kind in ("e4m3fn", "e5m2", "e4m3fnuz",
                                                             "e5m2fnuz", "e8m0fnu")},
}  # fmt: skip
_TORCH_ALIASES = {"float": "float32", "double": "float64", "half": "float16", "long": "int64",
                  "int": "int32", "short": "int16", "cfloat": "complex64",
                  "cdouble": "complex128"}  # fmt: skip


class _TorchDtype:
    """A ``torch.<dtype>`` named in a pickle: the storage element type it stands for."""

    def __init__(self, name: str):
        self.name = name
        self.numpy = np.dtype(_DTYPES[name])

    def __repr__(self) -> str:
        return f"torch.{self.name}"


class _Storage:
    """One storage: its element type, where it was saved, and (once read) its elements."""

    def __init__(self, dtype: _TorchDtype, numel: int, location: str):
        self.dtype, self.numel, self.location = dtype, numel, location
        self.array: np.ndarray | None = None


def is_pytorch_zip(names: list[str]) -> bool:
    """True if the member names are those of a ``torch.save`` zip file."""
    return any(n == "data.pkl" or n.endswith("/data.pkl") for n in names)


class _Reader:
    """The state shared by both formats: the storages read so far, and the tensor rebuilders."""

    def __init__(self, name: str, locate, read_storage):
        self.name, self.locate, self.read_storage = name, locate, read_storage
        self.storages: dict[str, _Storage] = {}
        self.flats: dict = {}  # (id(storage), dtype, device) -> its elements there (_flat)
        self.first_pass = False  # the legacy format's first pass, before storages are read

    def fail(self, what: str) -> RuntimeError:
        return RuntimeError(f"{self.name}: corrupted PyTorch checkpoint: {what}")

    def find_class(self, module: str, name: str):
        if module == "torch._utils" and name in _REBUILDERS:
            return getattr(self, _REBUILDERS[name])
        if module in ("torch", "torch.storage") and name in _STORAGES:
            return _TorchDtype(_STORAGES[name])
        if module == "torch" and (name in _DTYPES or name in _TORCH_ALIASES):
            name = _TORCH_ALIASES.get(name, name)
            bits = name == "bfloat16" or name.startswith("float8")  # read as bit patterns
            return _TorchDtype(name) if bits else dtypes.from_name(name)
        if (module, name) == ("torch.serialization", "_get_layout"):
            return _layout
        if (module, name) == ("torch", "Size"):
            return lambda sizes=(): tuple(int(s) for s in sizes)
        if (module, name) == ("_codecs", "encode"):  # how protocol 2 pickles bytes
            return _encode
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("collections", "Counter"):  # MultiStepLR's milestones; PyTorch
            return collections.Counter  # allows it with weights_only=True as well
        if module.startswith("torch.nn.modules."):
            raise pickle.UnpicklingError(
                f"{self.name} holds a whole PyTorch module ({module}.{name}, from "
                f"torch.save(model)); minigrad reads tensors and containers only. Save "
                f"model.state_dict() in PyTorch and load it with model.load_state_dict()"
            )
        return resolve(module, name, where=self.name)

    def persistent_load(self, pid):
        if not isinstance(pid, tuple) or not pid or pid[0] != "storage" or len(pid) < 5:
            raise pickle.UnpicklingError(f"unknown persistent id {str(pid)[:80]}")
        dtype, key, location, numel = pid[1:5]
        view = pid[5] if len(pid) > 5 else None
        if not isinstance(dtype, _TorchDtype) or not isinstance(numel, int) or numel < 0:
            raise pickle.UnpicklingError(f"malformed storage id {str(pid)[:80]}")
        key = str(key)
        storage = self.storages.get(key)
        if storage is None:
            storage = self.storages[key] = _Storage(dtype, numel, str(location))
            self.read_storage(key, storage)
        if view is not None:  # legacy: (view_key, offset, size) into the root storage
            _, offset, size = view
            part = _Storage(dtype, size, str(location))
            if storage.array is not None:
                if not 0 <= offset <= offset + size <= storage.numel:
                    raise self.fail(f"storage view {view} is outside its storage of {numel}")
                part.array = storage.array[offset : offset + size]
            return part
        return storage

    # -- the rebuilders that torch._utils names --------------------------------------------------
    def _flat(self, storage: _Storage, array, dtype_name: str, dev):
        """The storage's elements as ``dtype_name`` on ``dev``, converted and moved once for
        all the tensors that view it."""
        key = (id(storage), dtype_name, str(dev))
        flat = self.flats.get(key)
        if flat is None:
            host = array
            if dtype_name == "bfloat16":  # read as uint16 bit patterns
                host = dtypes.bfloat16_from_bits(host)
            elif dtype_name.startswith("float8"):  # read as uint8 bit patterns (needs ml_dtypes)
                host = host.view(dtypes.from_name(dtype_name).numpy)
            host = host.astype(host.dtype.newbyteorder("="), copy=False)
            host = host if host.flags.writeable else host.copy()  # (a read-only mapping)
            flat = self.flats[key] = dev.backend.from_host(host, dev.index)
        return flat

    def rebuild_v2(self, storage, offset, size, stride, requires_grad, hooks, metadata=None):
        return self._tensor(storage, offset, size, stride, requires_grad, None)

    def rebuild_v3(self, storage, offset, size, stride, requires_grad, hooks, dtype, meta=None):
        return self._tensor(storage, offset, size, stride, requires_grad, dtype)

    def rebuild_parameter(self, data, requires_grad, hooks, state=None):
        from ..nn.parameter import Parameter

        if not isinstance(data, Tensor):
            raise pickle.UnpicklingError("a Parameter is rebuilt from a non-tensor")
        p = Parameter(data, bool(requires_grad) and data.dtype.is_floating_point)
        if state:
            p.__dict__.update(state)
        return p

    def rebuild_sparse(self, layout, data):
        """A sparse tensor (``torch._utils._rebuild_sparse_tensor``), its indices checked as
        minigrad's constructors check them (PyTorch validates them after loading)."""
        from ..sparse import sparse_compressed_tensor, sparse_coo_tensor

        if self.first_pass:  # legacy format: the parts are placeholders until the second pass
            return None
        if not isinstance(data, tuple) or not all(isinstance(x, Tensor) for x in data[:-2]):
            raise pickle.UnpicklingError("a sparse tensor is rebuilt from malformed parts")
        try:
            if layout is _sparse_coo.sparse_coo and len(data) in (3, 4):
                # (the file's coalesced flag: not trusted; minigrad checks the indices anyway)
                t = sparse_coo_tensor(*data[:3], check_invariants=False)
                return t.coalesce() if len(data) == 4 and data[3] else t
            if layout in _sparse_compressed.LAYOUTS and len(data) == 4:
                return sparse_compressed_tensor(*data, layout=layout, check_invariants=False)
        except RuntimeError as e:
            raise self.fail(f"invalid sparse tensor ({e})") from None
        raise pickle.UnpicklingError(f"a sparse tensor of unknown layout {layout!r}")

    def _tensor(self, storage, offset, size, stride, requires_grad, dtype) -> Tensor:
        if not isinstance(storage, _Storage):
            raise pickle.UnpicklingError("a tensor is rebuilt from something not a storage")
        shape, strides = tuple(int(s) for s in size), tuple(int(s) for s in stride)
        if len(shape) != len(strides) or min((*shape, *strides, offset), default=0) < 0:
            raise self.fail(f"bad tensor layout: size {shape}, stride {strides}, offset {offset}")
        if storage.array is None:  # legacy format, first pass: the data comes later
            return Tensor._make(np.empty(0), self.locate("cpu"))
        array = storage.array
        if dtype is not None:  # v3: an untyped storage and the tensor's dtype
            n = array.nbytes // dtype.numpy.itemsize
            array = array[: n * dtype.numpy.itemsize].view(dtype.numpy)
            dtype_name = dtype.name
        else:
            dtype_name = storage.dtype.name
        last = offset + sum((n - 1) * s for n, s in zip(shape, strides))
        if 0 not in shape and last >= len(array):
            raise self.fail(
                f"a tensor of size {list(shape)} at offset {offset} reaches element {last} of "
                f"a storage of {len(array)}"
            )
        dev = self.locate(storage.location)
        flat = self._flat(storage, array, dtype_name, dev)
        if 0 in shape:
            data = dev.backend.from_host(np.empty(shape, flat.dtype), dev.index)
        else:  # a window of the storage: tensors of one storage share memory, as PyTorch's
            data = _window(flat, shape, strides, offset, dev.xp)
        t = Tensor._make(data, dev)
        if requires_grad and t.dtype.is_floating_point:
            t.requires_grad_(True)
        return t


_REBUILDERS = {
    "_rebuild_tensor_v2": "rebuild_v2",
    "_rebuild_tensor_v3": "rebuild_v3",
    "_rebuild_parameter": "rebuild_parameter",
    "_rebuild_parameter_with_state": "rebuild_parameter",
    "_rebuild_sparse_tensor": "rebuild_sparse",
}


def _layout(name):
    """``torch.serialization._get_layout``: a layout from its name (``"torch.sparse_csr"``)."""
    layouts = {x.name: x for x in (*_sparse_compressed.LAYOUTS, _sparse_coo.sparse_coo, strided)}
    found = layouts.get(str(name).removeprefix("torch."))
    if found is None:
        raise pickle.UnpicklingError(f"unknown layout {str(name)[:40]!r}")
    return found


def load_zip(zf: zipfile.ZipFile, name: str, locate):
    """The object in an open ``torch.save`` zip archive (tensors as minigrad tensors)."""
    names = zf.namelist()
    pkl = next(n for n in names if n == "data.pkl" or n.endswith("/data.pkl"))
    prefix = pkl[: -len("data.pkl")]
    big = _record(zf, prefix + "byteorder") == b"big"

    def read_storage(key: str, storage: _Storage) -> None:
        member = f"{prefix}data/{key}"
        dtype = storage.dtype.numpy.newbyteorder(">" if big else "<")
        need = storage.numel * dtype.itemsize
        try:
            info = zf.getinfo(member)
            _archive.check_member(info, need, "its storage id")
            if info.file_size != need:
                raise _archive.ArchiveError(
                    f"{member} holds {info.file_size} bytes; its storage id declares {need}"
                )
            storage.array = np.empty(storage.numel, dtype)
            if skipping():  # (skip_data: the memory stays unread)
                return
            with zf.open(info) as fp:
                _archive.read_into(fp, storage.array, member)
                fp.read(1)  # reaching the end checks the CRC
        except KeyError:
            raise RuntimeError(
                f"{name}: the pickle refers to storage {key}, but there is no {member}"
            ) from None
        except (_archive.ArchiveError, *_archive.ERRORS) as e:
            raise RuntimeError(f"{name}: cannot read {member} ({e})") from e

    reader = _Reader(name, locate, read_storage)
    data = _pickle_bytes(zf, pkl, name)
    return _unpickle(reader, io.BytesIO(data), len(data))


def _pickle_bytes(zf: zipfile.ZipFile, pkl: str, name: str) -> bytes:
    try:
        info = zf.getinfo(pkl)
        return _archive.read_member(zf, info, info.compress_size * 1032 + 64, "its size")
    except (_archive.ArchiveError, *_archive.ERRORS) as e:
        raise RuntimeError(f"{name}: cannot read {pkl} ({e})") from e


def unsafe_globals(fh, name: str) -> list[tuple[str, str]]:
    """The globals of the ``torch.save`` file ``fh`` (zip or legacy) that loading refuses, in
    order: its pickles' opcodes are read, nothing is built or run (as PyTorch's
    ``get_unsafe_globals_in_checkpoint``)."""
    start = fh.tell()
    if fh.read(2) == b"PK":
        fh.seek(start)
        with zipfile.ZipFile(fh) as zf:
            names = zf.namelist()
            pkl = next(n for n in names if n == "data.pkl" or n.endswith("/data.pkl"))
            found = _globals_in_pickles(io.BytesIO(_pickle_bytes(zf, pkl, name)), 1, name)
    else:  # legacy: magic number, protocol, system info, then the object's pickle
        fh.seek(start)
        found = _globals_in_pickles(fh, 4, name)
    reader = _Reader(name, None, None)
    found = [(PY2_MODULES.get(module, module), qualname) for module, qualname in found]
    return [g for g in dict.fromkeys(found) if not _finds(reader, *g)]


def _globals_in_pickles(fh, count: int, name: str) -> list[tuple[str, str]]:
    """The ``GLOBAL`` and ``STACK_GLOBAL`` names of the next ``count`` pickles in ``fh``."""
    found, strings = [], []
    try:
        for _ in range(count):
            for op, arg, _pos in pickletools.genops(fh):
                if op.name == "GLOBAL":
                    found.append(tuple(arg.split(" ", 1)))
                elif op.name == "STACK_GLOBAL" and len(strings) >= 2:
                    found.append((strings[-2], strings[-1]))
                elif isinstance(arg, str) and "UNICODE" in op.name:
                    strings.append(arg)
    except (ValueError, EOFError, struct.error) as e:
        raise RuntimeError(f"{name}: corrupted PyTorch checkpoint ({e})") from e
    return found


def _finds(reader: _Reader, module: str, qualname: str) -> bool:
    try:
        reader.find_class(module, qualname)
    except pickle.UnpicklingError:
        return False
    return True


def _record(zf: zipfile.ZipFile, member: str) -> bytes | None:
    try:
        return _archive.read_member(zf, zf.getinfo(member), 64, "a record").strip()
    except KeyError:
        return None


def _unpickle(reader: _Reader, fh, limit: int):
    unpickler = RestrictedUnpickler(fh, reader.find_class, reader.persistent_load, limit)
    obj = unpickler.load()
    return _storage_tensors(reader, obj)


def _storage_tensors(reader: _Reader, obj):
    """A bare storage at the top comes back as a 1-D tensor."""
    if isinstance(obj, _Storage):
        return reader._tensor(obj, 0, (obj.numel,), (1,), False, None)
    return obj


def load_legacy(fh, name: str, size: int, locate):
    """The object in a legacy ``torch.save`` file (``_use_new_zipfile_serialization=False``)."""

    def header(what: str):
        return RestrictedUnpickler(fh, _refuse_globals, None, size).load()

    try:
        magic = header("magic number")
    except _HeaderGlobal as e:
        if e.module in BLOCKED_MODULES:  # (as PyTorch: an UnpicklingError, in its words)
            raise blocked(e.module, e.name, name) from None
        raise RuntimeError(
            f"{name} is not a minigrad checkpoint: it is a pickle that is not a PyTorch "
            f"checkpoint ({e}); minigrad never unpickles arbitrary pickles"
        ) from e
    except pickle.UnpicklingError as e:
        raise RuntimeError(
            f"{name} is not a minigrad checkpoint: it is a pickle that is not a PyTorch "
            f"checkpoint ({e}); minigrad never unpickles arbitrary pickles"
        ) from e
    if magic != _MAGIC:
        raise RuntimeError(
            f"{name} is not a minigrad checkpoint: it is a pickle but not a PyTorch checkpoint "
            f"(no PyTorch magic number); minigrad never unpickles arbitrary pickles"
        )
    try:
        if header("protocol") != _PROTOCOL:
            raise RuntimeError(f"{name}: unknown PyTorch legacy protocol version")
        info = header("system info")
        little = not isinstance(info, dict) or info.get("little_endian", True)
        body = fh.tell()
        # First pass: learn the storages the pickle declares (their data comes after it).
        first = _Reader(name, locate, lambda key, storage: None)
        first.first_pass = True
        RestrictedUnpickler(fh, first.find_class, first.persistent_load, size).load()
        keys = RestrictedUnpickler(fh, _refuse_globals, None, size).load()
        if not isinstance(keys, list):
            raise _archive.ArchiveError("the storage key list is not a list")
        arrays = {}
        for key in keys:
            storage = first.storages.get(str(key))
            if storage is None:
                raise _archive.ArchiveError(f"storage {key} is not used by the pickle")
            (numel,) = struct.unpack("<q", _exact(fh, 8))
            dtype = storage.dtype.numpy.newbyteorder("<" if little else ">")
            if numel != storage.numel or numel * dtype.itemsize > size - fh.tell():
                raise _archive.ArchiveError(
                    f"storage {key} declares {numel} elements, but the pickle says "
                    f"{storage.numel} and {size - fh.tell()} bytes are left in the file"
                )
            array = np.empty(numel, dtype)
            _archive.read_into(fh, array, f"storage {key}")
            arrays[str(key)] = array
    except (_archive.ArchiveError, struct.error, EOFError) as e:
        raise RuntimeError(f"{name}: corrupted PyTorch checkpoint ({e})") from e

    # Second pass: the same pickle again, now with the storages' data.
    def fill(key: str, storage: _Storage) -> None:
        storage.array = arrays.get(key)
        if storage.array is None:
            raise pickle.UnpicklingError(f"storage {key} has no data in the file")

    reader = _Reader(name, locate, fill)
    end = fh.tell()
    fh.seek(body)
    try:
        return _unpickle(reader, fh, size)
    finally:
        fh.seek(end)


def _encode(text, encoding="latin1"):
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1", "utf-8", "utf8"):
        raise pickle.UnpicklingError("_codecs.encode is allowed on strings, latin1 or utf-8")
    return text.encode(encoding)


class _HeaderGlobal(pickle.UnpicklingError):
    """A global in a pickle that may hold none (a legacy file's headers, its storage keys)."""

    def __init__(self, module: str, name: str):
        super().__init__(f"a header pickle names the global {module}.{name}")
        self.module, self.name = module, name


def _refuse_globals(module: str, name: str):
    raise _HeaderGlobal(module, name)


def _exact(fh, n: int) -> bytes:
    data = fh.read(n)
    if len(data) != n:
        raise EOFError("the file is truncated")
    return data
