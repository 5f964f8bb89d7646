"""The save side of minigrad's checkpoint format: an object as a JSON tree plus a list of arrays."""

from __future__ import annotations

import collections
import importlib
import math
import pickle
import types

import numpy as np

from .. import _memory_format, backend, dtypes
from .._sparse_compressed import SparseCompressed
from .._sparse_coo import SparseCOO
from ..ops._size import Size
from ..tensor import Tensor
from .safe_globals import global_name

__all__ = ["Encoder"]

_GETSTATE = getattr(object, "__getstate__", None)
_FUNCTIONS = (type, types.FunctionType, types.BuiltinFunctionType)


class Encoder:
    """Turns an object into a JSON-able tree; arrays go to ``self.arrays``.

    Every JSON object in the tree is a tag with one key (``{"$tensor": {...}}``), so that user
    data never needs escaping; JSON arrays are lists; other JSON values stand for themselves.
    """

    def __init__(self):
        self.arrays: list = []  # (array, device or None for host NumPy arrays)
        self._tensors: dict[int, dict] = {}  # id(tensor) -> its entry (saved once)
        self._storages: dict[tuple, int] = {}  # (id(memory), dtype) -> its array index
        self._objects: dict[int, int] = {}  # id(object) -> its object number (saved once)
        self._keep: list = []  # keeps encoded tensors and objects alive, so ids stay unique
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
            if type(obj._data) in (SparseCOO, SparseCompressed):
                return {"$sparse": self._sparse(obj, where)}
            return {"$tensor": self._tensor(obj, where)}
        if isinstance(obj, np.ndarray):
            if obj.dtype.hasobject:
                raise TypeError("minigrad.save cannot save NumPy arrays of Python objects")
            i = self._array(obj, None)
            return {"$ndarray": {"array": i, "dtype": obj.dtype.str, "shape": list(obj.shape)}}
        if isinstance(obj, dtypes.dtype):
            return {"$dtype": obj.name}
        if isinstance(obj, backend.Device):
            return {"$device": str(obj)}
        if isinstance(obj, (_memory_format.layout, _memory_format.memory_format)):
            return {"$layout": obj.name}  # (by name: loads as the same object)
        if isinstance(obj, (dict, list, tuple, set, frozenset)):
            return self._container(obj, where)
        if isinstance(obj, _FUNCTIONS):
            return {"$global": self._name(obj, where)}
        return self._object(obj, where)

    def _name(self, obj, where: str) -> list:
        try:
            module, qualname = global_name(obj)
        except TypeError as e:
            raise TypeError(f"minigrad.save cannot save {where}: {e}") from None
        _check_lookup(obj, module, qualname)
        return [module, qualname]

    def _container(self, obj, where: str):
        if id(obj) in self._active:
            raise ValueError(f"minigrad.save cannot save {where}: the object contains itself")
        self._active.add(id(obj))
        try:
            if isinstance(obj, dict):
                return self._dict(obj, where)
            items = [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]
            if isinstance(obj, (set, frozenset)):
                return {"$frozenset" if isinstance(obj, frozenset) else "$set": items}
            if isinstance(obj, list):
                return items
            return {"$size" if isinstance(obj, Size) else "$tuple": items}  # Size loads as Size
        finally:
            self._active.discard(id(obj))

    def _dict(self, obj: dict, where: str):
        if isinstance(obj, collections.defaultdict):
            factory = self.encode(obj.default_factory, f"{where}.default_factory")
            return {"$defaultdict": [factory, self._pairs(obj, where)]}
        tag = "$odict" if isinstance(obj, collections.OrderedDict) else "$dict"
        if all(isinstance(k, str) for k in obj):
            return {tag: {k: self.encode(v, f"{where}[{k!r}]") for k, v in obj.items()}}
        return {tag: self._pairs(obj, where)}

    def _pairs(self, obj: dict, where: str) -> list:
        return [
            [self.encode(k, f"{where} key {k!r}"), self.encode(v, f"{where}[{k!r}]")]
            for k, v in obj.items()
        ]

    def _sparse(self, t: Tensor, where: str) -> dict:
        """A sparse tensor as its layout, shape and index and value arrays (dense parts)."""
        if type(t) is not Tensor:
            raise NotImplementedError(
                f"minigrad.save cannot save {where}: a sparse {type(t).__name__} (only plain "
                "sparse tensors are saved)"
            )
        rec = t._data
        if type(rec) is SparseCOO:
            arrays, extra = (rec.indices, rec.values), {"coalesced": bool(rec.coalesced)}
        else:
            arrays, extra = (rec.compressed, rec.plain, rec.values), {}
        self._keep.append(t)
        parts = []
        for k, array in enumerate(arrays):
            parts.append(self._tensor(Tensor._make(array, t.device), f"{where} (part {k})"))
        meta = {"layout": t.layout.name, "shape": list(rec.shape), "parts": parts}
        return {**meta, "requires_grad": t.requires_grad, **extra}

    def _tensor(self, t: Tensor, where: str) -> dict:
        if t.is_nested:
            raise NotImplementedError(
                f"minigrad.save cannot save {where}: nested tensors are not supported in "
                f"checkpoints; save its .unbind() components instead"
            )
        place = self._tensors.get(id(t))
        if place is None:
            place = self._tensors[id(t)] = self._place(t)
            self._keep.append(t)
        meta = {
            **place, "dtype": t.dtype.name, "shape": list(t.shape),
            "requires_grad": t.requires_grad, "device": str(t.device),
        }  # fmt: skip
        if type(t) is not Tensor:
            meta["class"] = self._name(type(t), where)
        attrs = getattr(t, "__dict__", None)
        if attrs:
            meta["attrs"] = self.encode(attrs, f"{where}.__dict__")
        return meta

    def _place(self, t: Tensor) -> dict:
        """Where ``t``'s values are saved: a window (``offset``, ``stride``) of the whole memory
        it views, saved once for all the tensors that view it, as ``torch.save`` saves a
        storage once (so views load sharing memory again); else its own array."""
        window = _window_of(t._data)
        if window is None:
            return {"array": self._array(t._data, t.device)}
        flat, offset, stride, key = window
        i = self._storages.get(key)
        if i is None:
            i = self._storages[key] = self._array(flat, t.device)
        number = len(self._tensors)  # (tensors sharing an array are told apart by it)
        return {
            "array": i,
            "tensor": number,
            "storage": flat.size,
            "offset": offset,
            "stride": stride,
        }

    def _array(self, array, device) -> int:
        self.arrays.append((array, device))
        return len(self.arrays) - 1

    def _object(self, obj, where: str):
        k = self._objects.get(id(obj))
        if k is not None:
            return {"$ref": k}
        cls = getattr(type(obj), "_saved_as", type(obj))  # (a view class saves as its base)
        getstate = getattr(cls, "__getstate__", None)
        custom = getstate is not None and getstate is not _GETSTATE
        if cls.__module__ == "builtins" or not (custom or hasattr(obj, "__dict__")):
            raise TypeError(
                f"minigrad.save cannot save {where}, of type {cls.__name__}: it saves tensors, "
                f"NumPy arrays, containers, numbers, strings, dtypes, devices, and objects of "
                f"classes with an importable name through their __dict__"
            )
        name = self._name(cls, where)
        k = self._objects[id(obj)] = len(self._objects)
        self._keep.append(obj)
        state = obj.__getstate__() if custom else obj.__dict__
        return {"$object": {"id": k, "class": name, "state": self.encode(state, f"{where}.state")}}


def _window_of(array):
    """``(flat, offset, stride, key)``: ``array`` as a strided window of the whole contiguous
    host memory it views (``flat``, 1-D, in ``array``'s dtype; ``key`` names that memory), or
    None where it cannot be described so (device arrays, record types, odd alignments)."""
    if type(array) is not np.ndarray or array.dtype.hasobject:
        return None
    root, item = array, array.itemsize
    seen = array
    while getattr(seen, "base", None) is not None:  # (through as_strided's DummyArray too)
        seen = seen.base
        if isinstance(seen, np.ndarray):
            root = seen
    if not (root.flags.c_contiguous or root.flags.f_contiguous) or root.nbytes % item:
        return None
    # (a contiguous root ravels to a view; a view_as_real window of complex memory: its reals)
    flat = root.ravel(order="K").view(array.dtype)
    gap = array.ctypes.data - root.ctypes.data
    if gap % item or any(s % item or s < 0 for s in array.strides):
        return None
    stride = [s // item for s in array.strides]
    return flat, gap // item, stride, (id(root), array.dtype.str)


def _check_lookup(obj, module: str, qualname: str) -> None:
    """Refuse, as pickle (so ``torch.save``) does, a class or function whose recorded name does
    not lead back to it (defined by ``exec`` in a namespace, or redefined since): a file naming
    it could not be loaded.

    Raises:
        pickle.PicklingError: in pickle's words ("attribute lookup ... failed").
    """
    try:
        found = importlib.import_module(module)
        for part in qualname.split("."):
            found = getattr(found, part)
    except ImportError:
        raise pickle.PicklingError(
            f"Can't pickle {obj!r}: import of module {module!r} failed"
        ) from None
    except AttributeError:
        raise pickle.PicklingError(
            f"Can't pickle {obj!r}: attribute lookup {qualname} on {module} failed"
        ) from None
    if found is not obj:
        raise pickle.PicklingError(
            f"Can't pickle {obj!r}: it's not the same object as {module}.{qualname}"
        )
