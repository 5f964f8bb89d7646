"""Tensor element types: PyTorch-style names over NumPy dtypes, and type promotion."""

from __future__ import annotations

import builtins as _builtins

import numpy as np


class dtype:  # noqa: N801 - PyTorch spells it in lower case
    """An element type such as ``minigrad.float32``; wraps the NumPy dtype that stores it."""

    __slots__ = ("name", "numpy", "is_floating_point", "is_signed", "itemsize", "_category")

    def __init__(self, name: str, numpy_dtype, category: int):
        self.name = name
        self.numpy = np.dtype(numpy_dtype)
        self.is_floating_point = category == _FLOAT
        self.is_signed = category != _BOOL
        self.itemsize = self.numpy.itemsize
        self._category = category

    def __repr__(self) -> str:
        return f"minigrad.{self.name}"

    def __reduce__(self):
        return (from_name, (self.name,))


_BOOL, _INT, _FLOAT = 0, 1, 2

float16 = half = dtype("float16", np.float16, _FLOAT)
float32 = float = dtype("float32", np.float32, _FLOAT)
float64 = double = dtype("float64", np.float64, _FLOAT)
uint8 = dtype("uint8", np.uint8, _INT)
int8 = dtype("int8", np.int8, _INT)
int16 = short = dtype("int16", np.int16, _INT)
int32 = int = dtype("int32", np.int32, _INT)
int64 = long = dtype("int64", np.int64, _INT)
bool = dtype("bool", np.bool_, _BOOL)  # noqa: A001 - minigrad.bool, as torch.bool

ALL = (float16, float32, float64, uint8, int8, int16, int32, int64, bool)
_BY_NUMPY = {d.numpy: d for d in ALL}
_BY_NAME = {d.name: d for d in ALL}

_default_float = float32


def from_name(name: str) -> dtype:
    """The dtype called ``name`` (``"float32"``); used when loading files."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown dtype name {name!r}; valid: {sorted(_BY_NAME)}") from None


def from_numpy(numpy_dtype) -> dtype:
    """The minigrad dtype for a NumPy dtype; a clear error for types minigrad has no name for."""
    try:
        return _BY_NUMPY[numpy_dtype]
    except KeyError:
        pass
    try:
        return _BY_NUMPY[np.dtype(numpy_dtype)]
    except (KeyError, TypeError):
        valid = ", ".join(d.name for d in ALL)
        raise TypeError(f"unsupported element type {numpy_dtype!r}; minigrad has {valid}") from None


def to_dtype(value) -> dtype:
    """Accept a minigrad dtype, a NumPy dtype/type, a dtype name, or Python float/int/bool."""
    if isinstance(value, dtype):
        return value
    if value is _builtins.float:
        return _default_float
    if value is _builtins.int:
        return int64
    if value is _builtins.bool:
        return bool
    if isinstance(value, str):
        return from_name(value)
    return from_numpy(value)


def get_default_dtype() -> dtype:
    """The dtype of tensors made from Python floats (float32 unless changed)."""
    return _default_float


def set_default_dtype(d) -> None:
    """Set the default floating dtype (float16, float32 or float64), as torch.set_default_dtype."""
    global _default_float
    d = to_dtype(d)
    if not d.is_floating_point:
        raise TypeError(f"set_default_dtype needs a floating dtype, got {d}")
    _default_float = d


def category(d: dtype) -> _builtins.int:
    """0 for bool, 1 for integers, 2 for floating types: the order of type promotion."""
    return d._category


def promote_types(a: dtype, b: dtype) -> dtype:
    """The smallest dtype both can be cast to, as torch.promote_types: a floating dtype wins
    over integers as it is (int32 with float32 is float32, where NumPy would say float64)."""
    if a._category != b._category:
        return a if a._category > b._category else b
    return from_numpy(np.promote_types(a.numpy, b.numpy))


def result_type(*operands) -> dtype:
    """PyTorch's promotion for an op's operands (tensors and Python scalars).

    Categories rank bool < integer < float. Within the winning category, tensors with
    dimensions decide first, then zero-dimensional tensors, then Python scalars (which only
    contribute the default dtype of their kind): ``int64 tensor * 2.5`` is float32 and
    ``float32 tensor + float64 0-d tensor`` is float32, as in PyTorch.
    """
    dims_dtype = zero_dim_dtype = None
    scalar_cat = -1
    for x in operands:
        d = getattr(x, "dtype", None)
        if isinstance(d, dtype):
            if x.ndim:
                dims_dtype = d if dims_dtype is None else promote_types(dims_dtype, d)
            else:
                zero_dim_dtype = d if zero_dim_dtype is None else promote_types(zero_dim_dtype, d)
        else:
            scalar_cat = max(scalar_cat, _scalar_category(x))
    result = None
    for d in (dims_dtype, zero_dim_dtype):
        if d is not None and (result is None or d._category > result._category):
            result = d
    if scalar_cat > (result._category if result is not None else -1):
        return (bool, int64, _default_float)[scalar_cat]
    return result


def _scalar_category(x) -> _builtins.int:
    if isinstance(x, (_builtins.bool, np.bool_)):
        return _BOOL
    if isinstance(x, (_builtins.int, np.integer)):
        return _INT
    if isinstance(x, (_builtins.float, np.floating)):
        return _FLOAT
    raise TypeError(f"expected a Tensor or a Python number, got {type(x).__name__}")


# PyTorch's legacy tensor-type names (``x.type()``, ``x.type('torch.LongTensor')``).
_LEGACY_NAMES = {
    "float32": "FloatTensor",
    "float64": "DoubleTensor",
    "float16": "HalfTensor",
    "int64": "LongTensor",
    "int32": "IntTensor",
    "int16": "ShortTensor",
    "int8": "CharTensor",
    "uint8": "ByteTensor",
    "bool": "BoolTensor",
}


def legacy_type_name(dtype, cuda: bool = False) -> str:
    """``'minigrad.FloatTensor'`` (``'minigrad.cuda.FloatTensor'`` on a GPU) for a dtype."""
    return f"minigrad.{'cuda.' if cuda else ''}{_LEGACY_NAMES[dtype.name]}"


def from_legacy_type_name(name: str):
    """The dtype of a legacy name, with or without the ``torch.``/``minigrad.`` prefix."""
    short = name.rsplit(".", 1)[-1]
    for dtype_name, legacy in _LEGACY_NAMES.items():
        if legacy == short:
            return to_dtype(dtype_name)
    raise ValueError(f"invalid type: {name!r}; expected a name like 'torch.FloatTensor'")
