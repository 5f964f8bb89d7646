"""The dtypes PyTorch runs few ops on (uint16/32/64 and the float8 types): which ops take
them, and float8 conversions rounded as PyTorch's.

PyTorch's CPU kernels for these dtypes cover copies, views, indexing, joins, ``mul``, ``==``
and a few more; every other op raises ``NotImplementedError("... not implemented for
'UInt16'")``. :func:`check_op` refuses the same ops by name. ml_dtypes (the storage) converts
finite overflows to NaN where PyTorch saturates float8_e4m3fn to ±448, and writes other NaN
and sign patterns for float8_e5m2 and float8_e8m0fnu: :func:`to_float8` gives PyTorch's bits.
"""

from __future__ import annotations

import numpy as np

from . import dtypes

_VIEWS = {"Expand", "Permute", "Reshape", "AsStrided", "GetItem", "CopySlices", "SumToSize"}
_MOVES = {"Cast", "Cat", "Clone", "ToDevice", "Where", "Mul"}
# Op labels that accept the dtype (Compare: only the ufuncs in _COMPARES).
_ALLOWED = {
    "uint": _VIEWS | _MOVES | {"Div", "Sum", "Cumsum", "Prod", "Compare", "Gather"},  # (sort)
    "float8": _VIEWS | _MOVES | {"Abs", "MatMul", "Compare"},
    "float8_e8m0fnu": _VIEWS | _MOVES | {"Compare"},
}
_COMPARES = {
    "uint": {"equal", "not_equal", "bitwise_and", "bitwise_or", "bitwise_xor"},
    "float8": {"equal", "not_equal"},
    "float8_e8m0fnu": {"equal", "not_equal"},
}
_LIMITED_NAMES = dtypes.NO_PROMOTION


def _family(name: str) -> str:
    if name.startswith("uint"):
        return "uint"
    return "float8_e8m0fnu" if name == "float8_e8m0fnu" else "float8"


def check_op(op, numpy_dtype, args: tuple = ()) -> None:
    """Raise PyTorch's NotImplementedError when ``op`` (called on ``args``) has no kernel for
    ``numpy_dtype`` (one of the limited dtypes; other dtypes pass)."""
    name = numpy_dtype.name
    if name not in _LIMITED_NAMES:
        return
    family = _family(name)
    label = op.label()
    if label in _ALLOWED[family]:
        ufunc = getattr(op, "ufunc_name", None)
        scalar = family != "uint" and label == "Mul" and not all(hasattr(a, "_data") for a in args)
        if not scalar and (label != "Compare" or ufunc in _COMPARES[family]):
            return  # (float8 times a Python number has no kernel in PyTorch)
        label = f"{label}({ufunc})" if label == "Compare" else f"{label} by a Python number"
    d = dtypes.from_name(name)
    raise NotImplementedError(
        f"{label}: not implemented for '{dtypes.scalar_type_name(d)}' (as in PyTorch, {name} "
        "tensors support only copies, views, indexing, joins, mul and comparisons for "
        "equality; convert with .to(minigrad.float32) or .long() first)"
    )


def to_float8(array, np_dtype):
    """``array`` (any real dtype, on the CPU) converted to a float8 NumPy dtype with PyTorch's
    rounding: through float32 (as PyTorch converts), then ml_dtypes' nearest-even rounding, with
    PyTorch's treatment of overflow, NaN, sign and zero."""
    x = np.asarray(array).astype(np.float32)
    name = np_dtype.name
    if name == "float8_e8m0fnu":  # no sign bit and no zero: |x|, and 0 is the smallest power
        out = np.abs(x).astype(np_dtype)
        bits = out.view(np.uint8)
        bits[x == 0] = 0
        return out
    out = x.astype(np_dtype)
    bits = out.view(np.uint8)
    if name == "float8_e4m3fn":  # saturate finite overflow and inf to ±448 (0x7e), keep NaN
        over = ((bits & 0x7F) == 0x7F) & ~np.isnan(x)
        bits[over] -= 1
    elif name == "float8_e5m2":  # NaN is 0x7f with the input's sign
        nan = np.isnan(x)
        bits[nan] = 0x7F | (np.signbit(x[nan]).astype(np.uint8) << 7)
    return out


def astype(array, np_dtype):
    """``array.astype(np_dtype)``, with PyTorch's rounding when ``np_dtype`` is a float8 type."""
    if np_dtype.itemsize == 1 and np_dtype.name.startswith("float8"):
        return to_float8(array, np_dtype)
    return array.astype(np_dtype, copy=False)


# Factories PyTorch has no kernel for, by dtype family.
_NO_FACTORY = {
    "uint": {"arange", "linspace", "logspace", "randperm", "eye"},
    "float8": {"arange", "linspace", "logspace", "rand", "randn", "randint", "randperm", "normal"},
}
_NO_FACTORY["float8_e8m0fnu"] = _NO_FACTORY["float8"]


def check_factory(op: str, d) -> None:
    """Raise PyTorch's NotImplementedError when factory ``op`` cannot make dtype ``d``."""
    if d.name in _LIMITED_NAMES and op in _NO_FACTORY[_family(d.name)]:
        raise NotImplementedError(
            f"{op}: not implemented for '{dtypes.scalar_type_name(d)}' (as in PyTorch); make "
            f"the values in another dtype and convert them with .to(minigrad.{d.name})"
        )
