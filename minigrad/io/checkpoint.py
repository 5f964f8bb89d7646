"""minigrad's own checkpoint format: a zip of ``.npy`` arrays with a JSON index, never pickle.

A checkpoint is a zip archive (the ``.npz`` layout): one ``.npy`` member per array, written by
NumPy with ``allow_pickle=False``, and a JSON index, ``minigrad.json``, that describes the saved
object. Loading parses JSON and array headers only, so a file can never run code; classes the
index names are built only when allowed (:mod:`minigrad.io.safe_globals`). Loading also has
bounded memory: every array's dtype and shape is declared in the index, checked against what
the archive can hold before anything is allocated, and a member is never inflated past what
the index declares.

What can be saved: tensors (dtype, shape, device, ``requires_grad`` and their class, such as
``nn.Parameter``, are kept), NumPy arrays, dicts (any hashable keys that can be saved),
OrderedDicts, defaultdicts, lists, tuples, ``Size``s, sets, ``None``, bools, ints, floats (nan and
inf included), strings, dtypes, devices, layouts and memory formats, classes and functions with an
importable name (as a reference), and objects of classes with an importable name, through their ``__dict__`` (or
``__getstate__``/``__setstate__``): whole ``nn.Module``s and optimizers. An object or tensor
that appears several times is stored once and loaded as one object (so an optimizer saved with
its model still refers to the model's parameters). Distinct tensors that share host memory
(views: ``x[1:]``, ``x.t()``, tied weights) save that memory once, as ``torch.save`` saves a
storage once, each as a window of it (offset and strides, version 3 of the index), and load
sharing memory again; so saving ``x[:2]`` saves all of ``x``'s memory (``clone()`` it to save
only its own). Device (GPU) tensors save their own values.
"""

from __future__ import annotations

import collections
import json
import zipfile

import numpy as np

from .. import _memory_format, backend, dtypes
from .._strided import _window
from ..ops._size import Size
from ..tensor import Tensor
from . import _archive
from ._encoder import Encoder
from .safe_globals import global_name, require, resolve
from .skip_data import skipping

__all__ = ["INDEX", "globals_in_index", "load_archive", "read_index", "save_checkpoint"]

INDEX = "minigrad.json"
_FORMAT = "minigrad"
_VERSION = 3  # 3: tensors that view the same memory save it once (offset, stride, storage)
_READS = (1, 2, 3)
# The globals a pickle of these would name (``torch.save``), which ``weights_only`` checks
_IMPLIED = {
    "$defaultdict": [("collections", "defaultdict")],
    "$frozenset": [("builtins", "frozenset")],
    "$ndarray": [
        global_name(np._core.multiarray._reconstruct), global_name(np.ndarray),
        global_name(np.dtype),
    ],
}  # fmt: skip


def _implied(tag: str, value) -> list[tuple[str, str]]:
    """The globals ``torch.save`` would write for this entry: :data:`_IMPLIED`'s, and for a NumPy
    array its dtype's class (``numpy.dtypes.Float64DType``), as PyTorch asks for it too."""
    found = _IMPLIED.get(tag, [])
    if tag == "$ndarray" and isinstance(value, dict) and isinstance(value.get("dtype"), str):
        try:
            found = [*found, global_name(type(np.dtype(value["dtype"])))]
        except TypeError:
            pass  # (a malformed dtype: decode reports it)
    return found


# -- save -----------------------------------------------------------------------------------------
def save_checkpoint(obj, fh) -> None:
    """Write ``obj`` to the binary file object ``fh`` in minigrad's format (no pickle).

    Raises:
        TypeError: ``obj`` holds a value that cannot be saved (the message gives its place,
            e.g. ``obj['state'][0]['fn']``); nothing is written.
        ValueError: ``obj`` contains itself through lists, tuples or dicts.
    """
    encoder = Encoder()
    index = {"format": _FORMAT, "version": _VERSION, "root": encoder.encode(obj, "obj")}
    with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        zf.writestr(INDEX, json.dumps(index, allow_nan=False, separators=(",", ":")))
        for i, (array, device) in enumerate(encoder.arrays):
            if skipping():  # the space of the bytes only (zero pages: nothing is copied)
                host = np.zeros(array.shape, np.dtype(array.dtype))
            else:
                host = device.backend.to_host(array) if device is not None else array
            host = np.asarray(host)
            if host.dtype.name.startswith("float8"):  # as raw bytes (.npy has no float8 descr)
                host = host.view("V1")
            with zf.open(_member(i), "w", force_zip64=True) as out:
                np.lib.format.write_array(out, host, allow_pickle=False)


def _is_bfloat16_bytes(stored: np.dtype, declared: np.dtype) -> bool:
    """True for a bfloat16 or float8 array, which ``.npy`` records as raw bytes (``|V2``,
    ``|V1``)."""
    ml_dtypes_type = declared.name == "bfloat16" or declared.name.startswith("float8")
    return ml_dtypes_type and stored.kind == "V" and stored.itemsize == declared.itemsize


def _member(i: int) -> str:
    return f"arrays/{i}.npy"


# -- load -----------------------------------------------------------------------------------------
def load_archive(
    zf: zipfile.ZipFile, name: str, size: int, locate, weights_only: bool = True
) -> object:
    """Rebuild the object saved in the open minigrad archive ``zf`` (``size`` bytes long)."""
    index = read_index(zf, name, size)
    decoder = _Decoder(zf, name, locate, weights_only)
    decoder.check_declared_sizes(index["root"])
    try:
        return decoder.decode(index["root"])
    except RecursionError:
        raise decoder.fail("the index is nested too deeply") from None


def read_index(zf: zipfile.ZipFile, name: str, size: int) -> dict:
    """The parsed JSON index of the open minigrad archive ``zf`` (``size`` bytes long)."""
    try:
        info = zf.getinfo(INDEX)
        # A stored index is at most the file; a compressed one may not inflate past that either.
        data = _archive.read_member(zf, info, max(size, 1 << 20), "the size of the file")
        index = json.loads(data.decode("utf-8"))
    except (_archive.ArchiveError, *_archive.ERRORS, UnicodeDecodeError, RecursionError) as e:
        raise RuntimeError(f"{name}: the checkpoint index {INDEX} is corrupted ({e})") from e
    if not isinstance(index, dict) or index.get("format") != _FORMAT or "root" not in index:
        raise RuntimeError(f"{name}: {INDEX} is not a minigrad checkpoint index")
    if index.get("version") not in _READS:
        raise RuntimeError(
            f"{name} has checkpoint format version {index.get('version')!r}; this minigrad reads "
            f"versions {list(_READS)} (upgrade minigrad to read it)"
        )
    return index


class _Decoder:
    """Rebuilds the saved object from the index tree, reading arrays on demand."""

    def __init__(self, zf: zipfile.ZipFile, name: str, locate, weights_only: bool):
        self.zf, self.name, self.locate, self.weights_only = zf, name, locate, weights_only
        self._tensors: dict = {}  # array index (or ("tensor", number)) -> the tensor
        self._storages: dict = {}  # (array index, device) -> the flat memory, loaded once
        self._objects: dict[int, object] = {}

    def fail(self, what: str) -> RuntimeError:
        return RuntimeError(f"{self.name}: corrupted checkpoint: {what}")

    def check_declared_sizes(self, root) -> None:
        """Before allocating anything: every array the index declares must fit its member.

        Walks the tree as :meth:`decode` reads it (tags only where decode sees tags, so a user
        key such as ``"$tensor"`` inside a saved dict is data); malformed entries are left for
        :meth:`decode` to report.
        """
        stack = [root]
        while stack:
            node = stack.pop()
            if isinstance(node, list):
                stack.extend(node)
                continue
            if not isinstance(node, dict) or len(node) != 1:
                continue
            ((tag, value),) = node.items()
            if (
                tag == "$sparse"
                and isinstance(value, dict)
                and isinstance(value.get("parts"), list)
            ):
                stack.extend({"$tensor": part} for part in value["parts"])
            elif tag in ("$tensor", "$ndarray") and isinstance(value, dict):
                self._check_declared(tag, value)
                if tag == "$tensor" and "attrs" in value:
                    stack.append(value["attrs"])
            elif tag in ("$dict", "$odict") and isinstance(value, dict):
                stack.extend(value.values())
            elif tag == "$object" and isinstance(value, dict):
                stack.append(value.get("state"))
            elif tag in (
                "$dict",
                "$odict",
                "$defaultdict",
                "$tuple",
                "$size",
                "$set",
                "$frozenset",
            ):
                stack.append(value)

    def _check_declared(self, tag: str, meta: dict) -> None:
        try:
            i, (shape, dtype) = int(meta["array"]), self._declared(meta, {tag: meta})
        except (KeyError, TypeError, ValueError, _archive.ArchiveError) as e:
            raise self.fail(f"malformed {tag} entry {str(meta)[:80]} ({e})") from e
        info, need = self._info(i), _archive.nbytes(shape, dtype)
        try:
            _archive.check_member(info, need + _archive.MAX_NPY_HEADER, "the index")
        except _archive.ArchiveError as e:
            raise self.fail(str(e)) from None
        if info.file_size < need:
            raise self.fail(
                f"the index declares {need} bytes for array {i}, but {info.filename} holds "
                f"{info.file_size}"
            )

    @staticmethod
    def _declared(meta: dict, node: dict) -> tuple[tuple, np.dtype]:
        if "$tensor" in node:
            dtype = dtypes.from_name(meta["dtype"]).numpy
        else:
            dtype = np.dtype(str(meta["dtype"]))
        shape = (int(meta["storage"]),) if "storage" in meta else tuple(meta["shape"])
        _archive.nbytes(shape, dtype)  # validates the shape
        if dtype.hasobject:
            raise ValueError("arrays of Python objects are never loaded")
        return shape, dtype

    def decode(self, node):
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            return [self.decode(x) for x in node]
        if not isinstance(node, dict) or len(node) != 1:
            raise self.fail(f"unexpected entry {str(node)[:80]} in the index")
        ((tag, value),) = node.items()
        for module, qualname in _implied(tag, value):
            require(module, qualname, self.weights_only)
        handler = _HANDLERS.get(tag)
        if handler is None:
            raise self.fail(f"unknown tag {tag!r} in the index")
        try:
            return handler(self, value)
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise self.fail(f"malformed {tag} entry ({type(e).__name__}: {e})") from e

    def resolve(self, name):
        module, qualname = name
        return resolve(str(module), str(qualname), weights_only=self.weights_only, where=self.name)

    def tensor(self, meta: dict) -> Tensor:
        i = meta["array"]
        key = ("tensor", int(meta["tensor"])) if "tensor" in meta else i
        if key in self._tensors:
            return self._tensors[key]
        dtype, shape = dtypes.from_name(meta["dtype"]), tuple(meta["shape"])
        requires_grad, saved_device = bool(meta["requires_grad"]), str(meta["device"])
        if requires_grad and not dtype.is_floating_point:
            raise self.fail(f"array {i} of dtype {dtype.name} is marked requires_grad")
        cls = self.resolve(meta["class"]) if "class" in meta else Tensor
        if not (isinstance(cls, type) and issubclass(cls, Tensor)):
            raise self.fail(f"array {i} has the class {cls!r}, which is not a Tensor class")
        dev = self.locate(saved_device)
        if "storage" in meta:  # a window of memory other tensors may share
            t = cls._make(self._window(meta, dtype, dev), dev)
        else:
            array = self.array(i, (shape, dtype.numpy))
            t = cls._make(dev.backend.from_host(array, dev.index), dev)
        t.requires_grad_(requires_grad)
        self._tensors[key] = t
        if "attrs" in meta:
            t.__dict__.update(self.decode(meta["attrs"]))
        return t

    def _window(self, meta: dict, dtype, dev):
        """The tensor's window (``offset``, ``stride``, ``shape``) of the flat memory it was
        saved in, which is read and moved to ``dev`` once for all the windows of it."""
        i = meta["array"]
        flat = self._storages.get((i, str(dev)))
        if flat is None:
            host = self.array(i, ((int(meta["storage"]),), dtype.numpy))
            flat = self._storages[(i, str(dev))] = dev.backend.from_host(host, dev.index)
        if flat.dtype != dtype.numpy:
            raise self.fail(
                f"array {i} is {flat.dtype.name}, but a tensor reads it as {dtype.name}"
            )
        size, stride = [int(n) for n in meta["shape"]], [int(s) for s in meta["stride"]]
        try:
            return _window(flat, size, stride, int(meta["offset"]), dev.xp)
        except RuntimeError as e:  # (set_'s bounds check, in its words)
            raise self.fail(str(e)) from None

    def sparse(self, meta: dict) -> Tensor:
        """A sparse tensor from its parts, checked as its constructor checks them."""
        from .._sparse_compressed import LAYOUTS
        from ..sparse import sparse_compressed_tensor, sparse_coo_tensor

        parts = [self.tensor(part) for part in meta["parts"]]
        shape, layout = tuple(int(s) for s in meta["shape"]), str(meta["layout"])
        compressed = {x.name: x for x in LAYOUTS}
        try:
            if layout == "sparse_coo" and len(parts) == 2:
                # (the file's coalesced flag: not trusted; minigrad checks the indices anyway)
                t = sparse_coo_tensor(*parts, shape, check_invariants=False)
                t = t.coalesce() if meta["coalesced"] else t
            elif layout in compressed and len(parts) == 3:
                t = sparse_compressed_tensor(
                    *parts, shape, layout=compressed[layout], check_invariants=False
                )
            else:
                raise ValueError(f"unknown sparse layout {layout!r} with {len(parts)} parts")
        except RuntimeError as e:
            raise self.fail(f"invalid sparse tensor ({e})") from None
        return t.requires_grad_(bool(meta["requires_grad"]))

    def ndarray(self, meta) -> np.ndarray:
        if isinstance(meta, dict):  # version 2: the index declares dtype and shape
            return self.array(meta["array"], self._declared(meta, {"$ndarray": meta}))
        return self.array(meta, None)  # version 1: only the member says

    def _info(self, i) -> zipfile.ZipInfo:
        member = _member(int(i))
        try:
            return self.zf.getinfo(member)
        except KeyError:
            raise self.fail(f"the index refers to array {i}, but there is no {member}") from None

    def array(self, i, declared) -> np.ndarray:
        """Array ``i``, refused before allocation unless it is what ``declared`` says."""
        info = self._info(i)
        member = info.filename
        try:
            if declared is not None:
                limit = _archive.nbytes(*declared) + _archive.MAX_NPY_HEADER
            elif info.compress_type != zipfile.ZIP_STORED:
                raise _archive.ArchiveError("a compressed array needs its size in the index")
            else:
                limit = info.file_size
            _archive.check_member(info, limit, "the index")
            with self.zf.open(info) as fp:
                shape, fortran, dtype = _archive.read_npy_header(fp, member)
                if declared is not None and _is_bfloat16_bytes(dtype, declared[1]):
                    dtype = declared[1]
                if declared is not None and (shape, dtype) != declared:
                    raise self.fail(
                        f"array {i} is {dtype.name}{list(shape)}, but the index says "
                        f"{declared[1].name}{list(declared[0])}"
                    )
                need = _archive.nbytes(shape, dtype)
                if fp.tell() + need != info.file_size:
                    raise _archive.ArchiveError(
                        f"its header declares {need} data bytes, but the member holds "
                        f"{info.file_size - fp.tell()}"
                    )
                out = np.empty(shape[::-1] if fortran else shape, dtype)
                if skipping():  # (skip_data: the memory stays unread)
                    return out.T if fortran else out
                _archive.read_into(fp, out, member)
                if fp.read(1):  # also reaches the end of the member, where zipfile checks the CRC
                    raise ValueError("trailing bytes after the array")
        except (_archive.ArchiveError, *_archive.ERRORS) as e:
            raise self.fail(f"cannot read {member} ({e})") from e
        return out.T if fortran else out

    def object(self, value: dict):
        cls = self.resolve(value["class"])
        if not isinstance(cls, type):
            raise TypeError(f"{value['class']} is not a class")
        obj = cls.__new__(cls)
        self._objects[int(value["id"])] = obj  # before its state: the state may refer to it
        state = self.decode(value["state"])
        setstate = getattr(obj, "__setstate__", None)
        if setstate is not None:
            setstate(state)
        else:
            obj.__dict__.update(state)
        return obj


def globals_in_index(root) -> list[tuple[str, str]]:
    """Every global a saved object's index names or implies, ``(module, qualname)``, in order
    (the classes of objects and tensors, functions, and :data:`_IMPLIED`'s)."""
    found, stack = [], [root]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(reversed(node))
            continue
        if not isinstance(node, dict) or len(node) != 1:
            continue
        ((tag, value),) = node.items()
        found += _implied(tag, value)
        if tag == "$global":
            found.append(tuple(value))
        elif tag in ("$object", "$tensor") and isinstance(value, dict):
            found += [tuple(value["class"])] if "class" in value else []
            stack.extend(value.get(k) for k in ("attrs", "state") if k in value)
        elif tag == "$sparse" and isinstance(value, dict):
            stack.extend({"$tensor": part} for part in value.get("parts", ()))
        elif tag in ("$dict", "$odict") and isinstance(value, dict):
            stack.extend(reversed(list(value.values())))
        elif tag not in ("$ndarray", "$float", "$dtype", "$device", "$layout", "$ref"):
            stack.append(value)
    return list(dict.fromkeys((str(m), str(q)) for m, q in found))


def _decode_dict(dec: _Decoder, value, cls=dict):
    if isinstance(value, dict):
        return cls((k, dec.decode(v)) for k, v in value.items())
    return cls((dec.decode(k), dec.decode(v)) for k, v in value)


def _decode_defaultdict(dec: _Decoder, value):
    factory, pairs = value
    factory = dec.decode(factory)
    if factory is not None and not callable(factory):
        raise TypeError(f"the default factory {factory!r} is not callable")
    return collections.defaultdict(factory, _decode_dict(dec, pairs))


def _decode_float(dec: _Decoder, value: str) -> float:
    if value not in ("inf", "-inf", "nan"):
        raise ValueError(f"{value!r} is not inf, -inf or nan")
    return float(value)


_HANDLERS = {
    "$tensor": _Decoder.tensor,
    "$ndarray": _Decoder.ndarray,
    "$sparse": _Decoder.sparse,
    "$object": _Decoder.object,
    "$ref": lambda dec, k: dec._objects[int(k)],
    "$global": lambda dec, name: dec.resolve(name),
    "$dict": _decode_dict,
    "$odict": lambda dec, value: _decode_dict(dec, value, collections.OrderedDict),
    "$defaultdict": _decode_defaultdict,
    "$tuple": lambda dec, items: tuple(dec.decode(x) for x in items),
    "$size": lambda dec, items: Size(dec.decode(x) for x in items),
    "$set": lambda dec, items: {dec.decode(x) for x in items},
    "$frozenset": lambda dec, items: frozenset(dec.decode(x) for x in items),
    "$float": _decode_float,
    "$dtype": lambda dec, name: dtypes.from_name(name),
    "$device": lambda dec, name: backend.device(name),
    "$layout": lambda dec, name: _memory_format.named(name),
}
