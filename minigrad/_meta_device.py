"""The ``meta`` device: tensors with a shape and a dtype but no data (:class:`MetaArray`).

A meta tensor is an ordinary :class:`~minigrad.Tensor` whose ``_data`` is a :class:`MetaArray`
record, as a sparse tensor's is a ``SparseCOO``. The meta backend's array module
(:class:`_MetaModule`) makes records for the factory functions (``zeros``, ``arange``, ...) and
its generator makes records for random draws, so factories and ``nn.init`` allocate nothing.
Ops on meta tensors go through ``minigrad._meta_ops`` (an op's forward fails on the record).
"""

from __future__ import annotations

import numpy as np

from . import backend
from ._storage_record import StorageRecord
from ._unsupported import UnsupportedAttributeError

NO_DATA = "Cannot copy out of meta tensor; no data!"


class MetaArray(StorageRecord):
    """A shape and a NumPy dtype standing where an array would be; refuses to act as one."""

    __slots__ = ("shape", "dtype")

    def __init__(self, shape, dtype):
        self.shape, self.dtype = tuple(int(n) for n in shape), np.dtype(dtype)

    def __array__(self, *args, **kwargs):
        raise NotImplementedError(NO_DATA)

    @property
    def itemsize(self) -> int:
        return self.dtype.itemsize

    @property
    def nbytes(self) -> int:
        return self.size * self.itemsize

    @property
    def strides(self) -> tuple:
        strides, step = [], self.itemsize
        for n in reversed(self.shape):
            strides.append(step)
            step *= max(n, 1)
        return tuple(reversed(strides))

    @property
    def flags(self):
        """Layout questions (``is_contiguous``): a meta tensor is made contiguous."""
        return _Flags(True, self.ndim <= 1 or sum(n > 1 for n in self.shape) <= 1)

    def copy(self) -> MetaArray:
        return MetaArray(self.shape, self.dtype)

    def astype(self, dtype, copy: bool = True) -> MetaArray:
        return MetaArray(self.shape, dtype)

    def reshape(self, *shape) -> MetaArray:
        shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        return MetaArray(np.empty(self.shape, dtype=[]).reshape(shape).shape, self.dtype)

    def _scalar_op(self, other) -> MetaArray:
        """``self <op> number`` (the factories' ``arange * step + start``): same shape."""
        if not isinstance(other, (int, float, bool, np.generic)):
            return NotImplemented
        return MetaArray(self.shape, np.result_type(np.empty((), self.dtype), other))

    __add__ = __radd__ = __mul__ = __rmul__ = __sub__ = __rsub__ = _scalar_op


class _Flags:
    __slots__ = ("c_contiguous", "f_contiguous")

    def __init__(self, c: bool, f: bool):
        self.c_contiguous, self.f_contiguous = c, f


def _shape(shape) -> tuple:
    return (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(shape)


class _MetaType(type):
    def __getattr__(cls, name):
        raise UnsupportedAttributeError(
            f"{name}: minigrad does not run this on meta tensors (they have no data); "
            "README's 'Devices' section says what runs on them"
        )


class _MetaModule(metaclass=_MetaType):
    """The few array-module functions the factories call, making records; any other name
    raises :class:`~minigrad._unsupported.UnsupportedAttributeError`, so an op's forward fails
    on the meta device and its meta rule runs instead."""

    int64 = staticmethod(np.int64)

    @staticmethod
    def empty(shape, dtype="float64", **_):
        return MetaArray(_shape(shape), dtype)

    zeros = ones = empty

    @staticmethod
    def full(shape, fill_value, dtype=None, **_):
        return MetaArray(_shape(shape), dtype or np.asarray(fill_value).dtype)

    @staticmethod
    def arange(count, dtype="int64", **_):
        return MetaArray((int(count),), dtype)

    @staticmethod
    def linspace(start, stop, num, **_):
        return MetaArray((int(num),), "float64")

    logspace = linspace

    @staticmethod
    def eye(n, m=None, dtype="float64", **_):
        return MetaArray((n, n if m is None else m), dtype)

    @staticmethod
    def empty_like(a, dtype=None, **_):
        return MetaArray(a.shape, dtype or a.dtype)

    zeros_like = ones_like = empty_like

    @staticmethod
    def full_like(a, fill_value, dtype=None, **_):
        return MetaArray(a.shape, dtype or a.dtype)


class _MetaRandom:
    """Random draws on the meta device: records of the asked shape and dtype."""

    def uniform(self, shape, dtype, *_):
        return MetaArray(shape, dtype)

    normal = uniform

    def integers(self, low, high, shape, dtype):
        return MetaArray(shape, dtype)

    def permutation(self, n):
        return MetaArray((n,), np.int64)

    def get_state(self):
        return {"bit_generator": "meta"}

    def set_state(self, state):
        pass


class MetaBackend(backend.ArrayBackend):
    """The ``meta`` device type: records instead of arrays; nothing comes back to the host."""

    name = "meta"

    @property
    def xp(self):
        return _MetaModule

    def from_host(self, array, index):
        return MetaArray(array.shape, array.dtype)

    def to_host(self, array):
        raise NotImplementedError(NO_DATA)

    def is_array(self, obj) -> bool:
        return isinstance(obj, MetaArray)

    def new_generator(self, seed, index):
        return _MetaRandom()


backend.register_backend(MetaBackend())
META = backend.device("meta")
