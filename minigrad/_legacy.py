"""PyTorch's legacy tensor constructors: ``Tensor(2, 3)``, ``Tensor([1, 2])``,
``FloatTensor``, ``DoubleTensor``, ``LongTensor``, ``IntTensor``, ``BoolTensor`` and friends.

Each typed constructor is a class, so ``isinstance(t, minigrad.LongTensor)`` asks whether ``t``
is an int64 CPU tensor, as in PyTorch. "Uninitialised" tensors (``Tensor(2, 3)``) are zeros
here: a defined value costs almost nothing.
"""

from __future__ import annotations

import numbers

import numpy as np

from . import backend, dtypes
from .autograd import graph
from .ops._size import Size


def _is_size(value) -> bool:
    return isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, bool)


def legacy_array(args: tuple, dtype: dtypes.dtype, dev: backend.Device, name: str):
    """The array for ``name(*args)``: no args, sizes (ints), or one sequence of data."""
    xp = dev.xp
    if not args:
        with backend.on(dev):
            return xp.zeros((0,), dtype=dtype.numpy)
    if len(args) == 1 and isinstance(args[0], Size):  # Tensor(t.shape): a shape, as PyTorch
        args = tuple(args[0])
    if all(_is_size(a) for a in args):
        shape = tuple(int(a) for a in args)
        if any(s < 0 for s in shape):
            raise RuntimeError(
                f"{name}(): Trying to create tensor with negative dimension: {list(shape)}"
            )
        with backend.on(dev):
            return xp.zeros(shape, dtype=dtype.numpy)
    if len(args) == 1:
        data = args[0]
        if isinstance(data, graph.Tensor):
            return data.detach().to(dev, dtype)._data.copy()
        if isinstance(data, (numbers.Number, str)) or data is None:
            raise TypeError(f"{name}(): new(): data must be a sequence (got {type(data).__name__})")
        array = backend.as_array(data, dtype, dev)
        return array.copy() if array is data or getattr(array, "base", None) is data else array
    kinds = ", ".join(type(a).__name__ for a in args)
    raise TypeError(
        f"{name}() received an invalid combination of arguments - got ({kinds}), but expected "
        f"one of: (), (int... sizes), (sequence data)"
    )


class LegacyType(type):
    """The metaclass of the typed constructors: calling one builds a Tensor of its dtype;
    ``isinstance`` checks the dtype (and that the tensor is on the CPU)."""

    def __call__(cls, *args, device=None):
        dev = backend.device(device or "cpu")
        return graph.Tensor._make(legacy_array(args, cls.dtype, dev, cls.__name__), dev)

    def __instancecheck__(cls, obj) -> bool:
        return isinstance(obj, graph.Tensor) and obj.dtype is cls.dtype and obj.device.type == "cpu"

    def __repr__(cls) -> str:
        return f"<class 'minigrad.{cls.__name__}'>"


def _legacy(name: str, dtype: dtypes.dtype):
    return LegacyType(
        name,
        (),
        {
            "dtype": dtype,
            "__doc__": f"``{name}(*sizes)`` or ``{name}(data)``: a {dtype.name} tensor.",
        },
    )


FloatTensor = _legacy("FloatTensor", dtypes.float32)
DoubleTensor = _legacy("DoubleTensor", dtypes.float64)
HalfTensor = _legacy("HalfTensor", dtypes.float16)
BFloat16Tensor = _legacy("BFloat16Tensor", dtypes.bfloat16)
LongTensor = _legacy("LongTensor", dtypes.int64)
IntTensor = _legacy("IntTensor", dtypes.int32)
ShortTensor = _legacy("ShortTensor", dtypes.int16)
CharTensor = _legacy("CharTensor", dtypes.int8)
ByteTensor = _legacy("ByteTensor", dtypes.uint8)
BoolTensor = _legacy("BoolTensor", dtypes.bool)
