"""Tensor storage, as ``torch.storage``: ``UntypedStorage`` (bytes), ``TypedStorage`` (elements
of a dtype; deprecated in PyTorch) and the legacy ``FloatStorage``, ``LongStorage``, ... whose
constructors make a TypedStorage of their dtype.

A storage shares memory with the tensors over it (``Tensor.untyped_storage()``,
``Tensor.set_(storage, offset, size, stride)``); one made directly (``UntypedStorage(8)``,
``FloatStorage([1, 2])``) owns a new zero-filled array. minigrad has no quantized storages.
"""

from __future__ import annotations

import numpy as np

from . import _public_name, backend, dtypes

__all__ = ["TypedStorage", "UntypedStorage"]


def _new_array(args, np_dtype, device, what: str):
    """A fresh host array for ``Storage()``, ``Storage(n)`` or ``Storage(sequence)``, on ``device``."""
    dev = backend.device(device if device is not None else "cpu")
    if len(args) > 1:
        raise TypeError(f"{what}(): expected at most one argument (a size or a sequence)")
    if not args:
        host = np.zeros(0, np_dtype)
    elif isinstance(args[0], (int, np.integer)) and not isinstance(args[0], bool):
        if args[0] < 0:
            raise RuntimeError(f"{what}(): size must be non-negative, got {args[0]}")
        host = np.zeros(int(args[0]), np_dtype)
    else:
        host = np.asarray(list(args[0])).astype(np_dtype).reshape(-1)
    return dev.backend.from_host(host, dev.index), dev


class _StorageBase:
    """What both storages share: an array (C-contiguous) and its device."""

    @classmethod
    def _wrap(cls, array, device) -> UntypedStorage:
        """The storage of an existing (C-contiguous) backend array, sharing it."""
        obj = cls.__new__(cls)
        obj._array, obj.device = array, device
        return obj

    def nbytes(self) -> int:
        return int(self._array.nbytes)

    def size(self) -> int:
        return self.nbytes()

    def __len__(self) -> int:
        return self.size()

    def element_size(self) -> int:
        return 1

    def data_ptr(self) -> int:
        data = self._array
        return data.ctypes.data if isinstance(data, np.ndarray) else int(data.data.ptr)

    def _host(self, array):
        return self.device.backend.to_host(array)

    def _flat(self):
        return self._array.reshape(-1).view(np.uint8)

    def __getitem__(self, index):
        if isinstance(index, slice):  # PyTorch: a storage over those bytes (UntypedStorage only)
            if not isinstance(self, UntypedStorage):
                raise RuntimeError("slices are only supported in UntypedStorage.__getitem__")
            if index.step not in (None, 1):
                raise RuntimeError(
                    f"Trying to slice with a step of {index.step}, but only a step of 1 is "
                    f"supported"
                )
            return UntypedStorage._wrap(self._flat()[index], self.device)
        values = self._flat()[index]
        return values.item() if np.ndim(values) == 0 else self._host(values).tolist()

    def __setitem__(self, index, value) -> None:
        self._flat()[index] = value

    def __iter__(self):
        return iter(self.tolist())

    def tolist(self) -> list:
        return self._host(self._flat()).tolist()

    def fill_(self, value):
        self._flat()[...] = value
        return self

    def copy_(self, source):
        self._flat()[...] = source._flat()
        return self

    def is_shared(self) -> bool:
        return False

    def is_pinned(self) -> bool:
        return False

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"


class UntypedStorage(_StorageBase):
    """The bytes of a tensor's memory: size, address and device, byte reads and writes, and
    tensors over it with ``Tensor.set_``. ``UntypedStorage(n, device=None)`` makes ``n`` zero
    bytes; ``UntypedStorage([1, 2, 255])`` bytes of those values."""

    def __init__(self, *args, device=None):
        self._array, self.device = _new_array(args, np.uint8, device, "UntypedStorage")

    def untyped(self) -> UntypedStorage:
        """This storage itself (already untyped)."""
        return self

    @classmethod
    def from_file(cls, filename, shared: bool = False, nbytes: int = 0) -> UntypedStorage:
        """The first ``nbytes`` bytes of ``filename`` (``shared=True``: mapped, so writes reach
        the file; see :func:`minigrad.from_file`, which this reads with)."""
        from ._from_file import from_file

        t = from_file(filename, shared, nbytes, dtype=dtypes.uint8)
        return cls._wrap(t._data, t.device)

    def __sizeof__(self) -> int:
        """The object and its bytes, as PyTorch's (``sys.getsizeof``: torchinfo's input size)."""
        return object.__sizeof__(self) + self.nbytes()

    def __repr__(self) -> str:
        values = "\n".join(f" {v}" for v in self.tolist())
        head = f"{values}\n" if values else ""
        return f"{head}[minigrad.storage.UntypedStorage(device={self.device}) of size {len(self)}]"


class TypedStorage(_StorageBase):
    """Deprecated in PyTorch: a storage counted in elements of ``dtype`` (float32 unless given):
    ``TypedStorage(n, dtype=...)``, ``TypedStorage([1.0, 2.0], dtype=...)``; the legacy
    ``FloatStorage(...)`` etc. make one of their dtype. ``Tensor.storage()`` returns one."""

    def __init__(self, *args, dtype=None, device=None, wrap_storage=None):
        d = dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
        if wrap_storage is not None:
            self._array = wrap_storage._flat().view(d.numpy)
            self.device = wrap_storage.device
            return
        self._array, self.device = _new_array(args, d.numpy, device, "TypedStorage")

    @property
    def dtype(self):
        return dtypes.from_numpy(self._array.dtype)

    def size(self) -> int:
        return int(self._array.size)

    def element_size(self) -> int:
        return int(self._array.itemsize)

    def _flat(self):
        return self._array.reshape(-1)

    def _storage_array(self):
        """The elements as a flat host array (what ``minigrad.tensor(storage)`` reads)."""
        return self._host(self._flat())

    def untyped(self) -> UntypedStorage:
        return UntypedStorage._wrap(self._array, self.device)

    @property
    def _untyped_storage(self) -> UntypedStorage:
        """PyTorch's attribute for :meth:`untyped` (its ``_utils._rebuild_tensor`` reads it)."""
        return self.untyped()

    def type(self, dtype=None):
        """``'minigrad.FloatStorage'`` and so on, the legacy name of this storage's dtype."""
        if dtype is not None:
            raise NotImplementedError("TypedStorage.type(dtype): convert a tensor instead")
        legacy = dtypes.legacy_type_name(self.dtype).split(".")[-1][: -len("Tensor")]
        return f"{_public_name.shown()}.{legacy}Storage"

    @classmethod
    def from_buffer(cls, buffer, byte_order: str = "native", *, dtype=None):
        """A storage of ``dtype`` (or this legacy class's) read from the bytes of ``buffer``."""
        d = dtypes.to_dtype(
            dtype if dtype is not None else getattr(cls, "_legacy", None) or "float32"
        )
        host = np.frombuffer(bytes(buffer), dtype=d.numpy.newbyteorder(
            {"native": "=", "little": "<", "big": ">"}[byte_order]
        )).astype(d.numpy)  # fmt: skip
        return TypedStorage(host.tolist(), dtype=d)

    def __repr__(self) -> str:
        values = "\n".join(f" {v}" for v in self.tolist())
        head = f"{values}\n" if values else ""
        return (
            f"{head}[{_public_name.shown()}.storage.TypedStorage(dtype={self.dtype}, device={self.device}) "
            f"of size {len(self)}]"
        )


def _load_from_bytes(b: bytes) -> TypedStorage:
    """The storage in ``b``, a legacy ``torch.save`` of one: what PyTorch pickles a storage as
    (``pickle.dumps`` of a tensor names ``torch.storage._load_from_bytes``), so that such a pickle
    loads under ``minigrad.as_torch``. Read with :func:`minigrad.load` (nothing in it runs)."""
    import io

    from .io.api import load

    t = load(io.BytesIO(b))
    return TypedStorage._wrap(t._data.reshape(-1), t.device)


class _LegacyStorageMeta(type):
    """``FloatStorage(...)`` makes a TypedStorage of float32; ``isinstance(s, FloatStorage)``
    asks whether ``s`` is a TypedStorage of that dtype, as in PyTorch."""

    def __call__(cls, *args, **kwargs):
        if "dtype" in kwargs:
            raise TypeError(f"{cls.__name__}(): got an unexpected keyword argument 'dtype'")
        return TypedStorage(*args, dtype=cls._legacy, **kwargs)

    def __instancecheck__(cls, obj) -> bool:
        return isinstance(obj, TypedStorage) and obj.dtype.name == cls._legacy

    @property
    def dtype(cls):
        return dtypes.from_name(cls._legacy)


_LEGACY = {
    "Float": "float32", "Double": "float64", "Half": "float16", "BFloat16": "bfloat16",
    "Long": "int64", "Int": "int32", "Short": "int16", "Char": "int8", "Byte": "uint8",
    "Bool": "bool", "ComplexFloat": "complex64", "ComplexDouble": "complex128",
}  # fmt: skip
for _prefix, _dtype_name in _LEGACY.items():
    _cls = _LegacyStorageMeta(f"{_prefix}Storage", (TypedStorage,), {"_legacy": _dtype_name})
    _cls.__module__ = "minigrad"
    globals()[_cls.__name__] = _cls
    __all__.append(_cls.__name__)
