"""Tensor element types: PyTorch-style names over NumPy dtypes, and type promotion."""

from __future__ import annotations

import builtins as _builtins
import functools
import importlib
import math

import numpy as np

from . import _public_name, _warnings


class dtype:  # noqa: N801 - PyTorch spells it in lower case
    """An element type such as ``minigrad.float32``; wraps the NumPy dtype that stores it."""

    __slots__ = (
        "name", "numpy", "is_floating_point", "is_complex", "is_signed", "itemsize", "_category"
    )  # fmt: skip

    def __init__(self, name: str, numpy_dtype, category: int):
        self.name = name
        self.numpy = np.dtype(numpy_dtype)
        self.is_floating_point = category == _FLOAT
        self.is_complex = category == _COMPLEX
        self.is_signed = category != _BOOL and self.numpy.kind != "u"
        self.itemsize = self.numpy.itemsize
        self._category = category

    def __repr__(self) -> str:
        return f"{_public_name.shown()}.{self.name}"

    def __reduce__(self):
        return (from_name, (self.name,))

    def to_real(self) -> dtype:
        """PyTorch's ``dtype.to_real()``: the type of a complex dtype's parts (complex64 ->
        float32, complex32 -> float16); any other dtype is itself."""
        real = _PARTS_OF.get(self.name)
        return self if real is None else _BY_NAME[real]

    def to_complex(self) -> dtype:
        """PyTorch's ``dtype.to_complex()``: the complex dtype with parts of this type (float32
        -> complex64; float16 -> complex32, a name minigrad has but cannot compute with;
        bfloat16 -> complex64); a complex dtype is itself; integer types raise."""
        if self.is_complex:
            return self
        name = _WITH_PARTS.get(self.name)
        if name is None:
            name = _SCALAR_TYPE_NAMES.get(self.name, self.name)
            raise RuntimeError(f"Unknown Complex ScalarType for {name}")
        return _BY_NAME[name]


class _OptionalDtype(dtype):
    """A dtype whose NumPy type comes from another package (bfloat16 from ``ml_dtypes``, a
    dependency), imported the first time the type is used, so that ``import minigrad`` does not
    pay for it; where the package is missing, using the dtype raises an ImportError naming it."""

    __slots__ = ("_numpy", "_package")

    def __init__(self, name: str, itemsize: _builtins.int, package: str):
        self.name, self.itemsize, self._category = name, itemsize, _FLOAT
        self.is_floating_point, self.is_complex = True, False
        self.is_signed = name != "float8_e8m0fnu"  # (an exponent only: no sign bit)
        self._numpy, self._package = None, package

    @property
    def numpy(self):
        if self._numpy is None:
            try:
                module = importlib.import_module(self._package)
            except ImportError:
                raise ImportError(
                    f"minigrad.{self.name} needs the package {self._package!r} (a dependency "
                    f"of minigrad, missing here): pip install {self._package}"
                ) from None
            self._numpy = np.dtype(getattr(module, self.name))
        return self._numpy


class _UnsupportedDtype(dtype):
    """A PyTorch dtype NumPy cannot hold (complex32): the name exists, any use raises."""

    __slots__ = ()

    def __init__(self, name: str, itemsize: _builtins.int, category: _builtins.int):
        self.name, self.itemsize, self._category = name, itemsize, category
        self.is_floating_point, self.is_complex, self.is_signed = False, True, True

    @property
    def numpy(self):
        raise NotImplementedError(
            f"minigrad.{self.name} is not supported: NumPy has no complex type with float16 "
            "parts; use minigrad.complex64 (cfloat)"
        )


_BOOL, _INT, _FLOAT, _COMPLEX = 0, 1, 2, 3

float16 = half = dtype("float16", np.float16, _FLOAT)
float32 = float = dtype("float32", np.float32, _FLOAT)
float64 = double = dtype("float64", np.float64, _FLOAT)
bfloat16 = _OptionalDtype("bfloat16", 2, "ml_dtypes")  # NumPy's storage: ml_dtypes
uint8 = dtype("uint8", np.uint8, _INT)
uint16 = dtype("uint16", np.uint16, _INT)  # uint16/32/64: few ops, as in PyTorch (_dtype_limits)
uint32 = dtype("uint32", np.uint32, _INT)
uint64 = dtype("uint64", np.uint64, _INT)
int8 = dtype("int8", np.int8, _INT)
int16 = short = dtype("int16", np.int16, _INT)
int32 = int = dtype("int32", np.int32, _INT)
int64 = long = dtype("int64", np.int64, _INT)
bool = dtype("bool", np.bool_, _BOOL)  # minigrad.bool, as torch.bool
complex64 = cfloat = dtype("complex64", np.complex64, _COMPLEX)
complex128 = cdouble = dtype("complex128", np.complex128, _COMPLEX)
complex32 = chalf = _UnsupportedDtype("complex32", 4, _COMPLEX)
# float8 storage from ml_dtypes, as bfloat16; conversions and allowed ops: _dtype_limits
float8_e4m3fn = _OptionalDtype("float8_e4m3fn", 1, "ml_dtypes")
float8_e5m2 = _OptionalDtype("float8_e5m2", 1, "ml_dtypes")
float8_e4m3fnuz = _OptionalDtype("float8_e4m3fnuz", 1, "ml_dtypes")
float8_e5m2fnuz = _OptionalDtype("float8_e5m2fnuz", 1, "ml_dtypes")
float8_e8m0fnu = _OptionalDtype("float8_e8m0fnu", 1, "ml_dtypes")

FLOAT8 = (float8_e4m3fn, float8_e5m2, float8_e4m3fnuz, float8_e5m2fnuz, float8_e8m0fnu)
ALL = (
    float16, bfloat16, float32, float64, uint8, int8, int16, int32, int64, bool, complex64,
    complex128, uint16, uint32, uint64, *FLOAT8,
)  # fmt: skip
_OPTIONAL = {d.name: d for d in ALL if isinstance(d, _OptionalDtype)}  # found by NumPy's name
_BY_NUMPY = {d.numpy: d for d in ALL if d.name not in _OPTIONAL}
_BY_NAME = {d.name: d for d in ALL}
_BY_NAME["complex32"] = complex32
# dtypes that PyTorch promotes with no other (float8) or with no other integer (uint16/32/64)
NO_PROMOTION = frozenset(["uint16", "uint32", "uint64", *(d.name for d in FLOAT8)])


class QuantizedDtype(dtype):
    """A quantized element type (``minigrad.qint8``, ``quint8``, ``qint32``): the dtype of
    quantized tensors, whose storage record (minigrad._quantized) keeps integers of
    ``storage`` and the scale and zero point. No dense array has it: ``numpy`` raises."""

    __slots__ = ("storage", "bounds")
    kind = "q"  # read by is_floating and the like: neither float nor complex
    # read on every op's inputs (Op.__call__'s dtype check): one of the plain characters, so
    # that the op's forward runs, fails on the record, and the quantized rule takes over
    char = "q"

    def __init__(self, name: str, storage, signed: _builtins.bool):
        self.name, self.storage, self._category = name, np.dtype(storage), _INT
        self.is_floating_point, self.is_complex, self.is_signed = False, False, signed
        self.itemsize = self.storage.itemsize
        info = np.iinfo(self.storage)
        self.bounds = (_builtins.int(info.min), _builtins.int(info.max))

    @property
    def numpy(self):
        raise TypeError(
            f"minigrad.{self.name} is a quantized dtype: no dense tensor has it; make quantized "
            "tensors with minigrad.quantize_per_tensor / quantize_per_channel"
        )


qint8 = QuantizedDtype("qint8", np.int8, True)
quint8 = QuantizedDtype("quint8", np.uint8, False)
qint32 = QuantizedDtype("qint32", np.int32, True)
quint4x2 = QuantizedDtype("quint4x2", np.uint8, False)  # 4-bit (0..15), one per byte here
quint4x2.bounds = (0, 15)
QUANTIZED = (qint8, quint8, qint32, quint4x2)
QUANTIZED_OF_STORAGE = {d.storage.name: d for d in (qint8, quint8, qint32)}
_BY_NUMPY.update({d: d for d in QUANTIZED})  # a quantized record's dtype is the dtype itself
_BY_NAME.update({d.name: d for d in QUANTIZED})


def is_floating(numpy_dtype) -> _builtins.bool:
    """Whether a NumPy dtype is a floating type minigrad treats as one: NumPy's own (kind
    ``'f'``) and ml_dtypes' bfloat16, whose kind is ``'V'``. The one place that decides it:
    never test ``dtype.kind == 'f'`` or ``np.issubdtype(..., np.floating)`` on tensor data."""
    return numpy_dtype.kind == "f" or (
        numpy_dtype.kind == "V" and numpy_dtype.name.startswith(("bfloat16", "float8"))
    )


def is_complex(numpy_dtype) -> _builtins.bool:
    """Whether a NumPy dtype is one of the complex types (complex64, complex128)."""
    return numpy_dtype.kind == "c"


def is_differentiable(numpy_dtype) -> _builtins.bool:
    """Whether tensors of a NumPy dtype can require grad: floating and complex types."""
    return numpy_dtype.kind in "fc" or is_floating(numpy_dtype)


# dtype.to_real / to_complex, PyTorch's pairs (complex32 exists by name only)
_PARTS_OF = {"complex32": "float16", "complex64": "float32", "complex128": "float64"}
_WITH_PARTS = {"float16": "complex32", "bfloat16": "complex64", "float32": "complex64",
               "float64": "complex128"}  # fmt: skip
# PyTorch's C++ ScalarType names, which its messages use
_SCALAR_TYPE_NAMES = {
    "bool": "Bool", "uint8": "Byte", "int8": "Char", "int16": "Short", "int32": "Int",
    "int64": "Long", "uint16": "UInt16", "uint32": "UInt32", "uint64": "UInt64",
    "float8_e4m3fn": "Float8_e4m3fn", "float8_e5m2": "Float8_e5m2",
    "float8_e4m3fnuz": "Float8_e4m3fnuz", "float8_e5m2fnuz": "Float8_e5m2fnuz",
    "float8_e8m0fnu": "Float8_e8m0fnu", "qint8": "QInt8", "quint8": "QUInt8", "qint32": "QInt32",
}  # fmt: skip
_REAL_OF = {"complex64": "float32", "complex128": "float64"}
_COMPLEX_OF = {"float32": "complex64", "float64": "complex128"}


def to_real(d: dtype) -> dtype:
    """The real dtype of a complex one's parts (complex64 -> float32); other dtypes as they are."""
    return _BY_NAME[_REAL_OF[d.name]] if d._category == _COMPLEX else d


def to_complex(d: dtype) -> dtype:
    """The complex dtype whose parts are ``d`` (float32 -> complex64); complex dtypes as they are.

    float16 and bfloat16 would need ``complex32``, which minigrad does not have."""
    if d._category == _COMPLEX:
        return d
    if d.name not in _COMPLEX_OF:
        raise NotImplementedError(
            f"minigrad has no complex dtype with {d.name} parts (PyTorch's complex32/chalf); "
            "use float32 or float64 values for complex numbers"
        )
    return _BY_NAME[_COMPLEX_OF[d.name]]


def default_complex(strict: _builtins.bool = True) -> dtype:
    """The dtype of tensors made from Python complex numbers: complex64, or complex128 when the
    default dtype is float64, as in PyTorch. Under a float16 default PyTorch's is complex32,
    which minigrad lacks: NotImplementedError (with ``strict=False``, complex64: the dtype
    PyTorch's repr leaves unsaid then)."""
    if strict and _default_float is float16:
        raise NotImplementedError(
            "minigrad has no complex32 (PyTorch's dtype for complex numbers while the default "
            "dtype is float16); give dtype=complex64 or set a float32/float64 default dtype"
        )
    return complex128 if _default_float is float64 else complex64


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
        np_dtype = np.dtype(numpy_dtype)
        return _OPTIONAL.get(np_dtype.name) or _BY_NUMPY[np_dtype]
    except (KeyError, TypeError):
        valid = ", ".join(d.name for d in ALL)  # (complex32 left out: it cannot hold data)
        raise TypeError(f"unsupported element type {numpy_dtype!r}; minigrad has {valid}") from None


def to_dtype(value) -> dtype:
    """Accept a minigrad dtype, a NumPy dtype/type, a dtype name, or Python float/int/bool.

    Python's ``float`` is float64 (a C double), ``int`` int64 and ``bool`` bool, as in
    PyTorch (``zeros(2, dtype=float)`` is float64 whatever the default dtype).
    """
    if isinstance(value, dtype):
        return value
    if value is _builtins.float:
        return float64
    if value is _builtins.int:
        return int64
    if value is _builtins.bool:
        return bool
    if value is _builtins.complex:
        return complex128
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
    """0 for bool, 1 for integers, 2 for floating types, 3 for complex: the order of type
    promotion."""
    return d._category


def promote_types(a: dtype, b: dtype) -> dtype:
    """The smallest dtype both can be cast to, as torch.promote_types: a floating dtype wins
    over integers as it is (int32 with float32 is float32, where NumPy would say float64), and
    a complex dtype's parts widen to the floating one's (complex64 with float64 is complex128).
    float8 dtypes promote with nothing else, uint16/32/64 with no other integer (PyTorch's
    RuntimeError)."""
    if a is not b and (a.name in NO_PROMOTION or b.name in NO_PROMOTION):
        _check_limited_promotion(a, b)
    if a._category == _COMPLEX or b._category == _COMPLEX:
        return to_complex(promote_types(to_real(a), to_real(b)))
    if a._category != b._category:
        return a if a._category > b._category else b
    if a is b:
        return a
    if a is bfloat16 or b is bfloat16:  # bfloat16 with float16 is float32, as in PyTorch
        other = b if a is bfloat16 else a
        return float64 if other is float64 else float32
    return from_numpy(np.promote_types(a.numpy, b.numpy))


_TORCH_NAMES = {
    "uint8": "Byte", "int8": "Char", "int16": "Short", "int32": "Int", "int64": "Long",
    "bool": "Bool", "float16": "Half", "float32": "Float", "float64": "Double",
    "bfloat16": "BFloat16", "complex64": "ComplexFloat", "complex128": "ComplexDouble",
}  # fmt: skip


def scalar_type_name(d: dtype) -> str:
    """PyTorch's C++ name of a dtype, as its error messages spell it (``Long``, ``UInt16``,
    ``Float8_e4m3fn``)."""
    name = _TORCH_NAMES.get(d.name)
    if name is None:
        name = d.name[0].upper() + d.name[1:].replace("int", "Int")
    return name


_CPP_NAMES = {"float16": "c10::Half", "bfloat16": "c10::BFloat16", "float32": "float",
              "float64": "double", "int64": "long int", "int32": "int", "int16": "short int",
              "int8": "signed char", "uint8": "unsigned char", "bool": "bool"}  # fmt: skip


def cpp_type_name(d: dtype) -> str:
    """The C++ type of a dtype as some of PyTorch's messages spell it (``long int``,
    ``c10::Half``: "expected dtype long int for `end` but got dtype float")."""
    return _CPP_NAMES.get(d.name, scalar_type_name(d))


def _check_limited_promotion(a: dtype, b: dtype) -> None:
    pair = f"{scalar_type_name(a)} and {scalar_type_name(b)}"
    if a.name.startswith("float8") or b.name.startswith("float8"):
        raise RuntimeError(
            f"Promotion for Float8 Types is not supported, attempted to promote {pair}"
        )
    if a._category <= _INT and b._category <= _INT:
        raise RuntimeError(
            f"Promotion for uint16, uint32, uint64 types is not supported, attempted to promote "
            f"{pair}"
        )


def result_type(*operands) -> dtype:
    """PyTorch's promotion for an op's operands (tensors and Python scalars).

    Categories rank bool < integer < float < complex. Within the winning category, tensors
    with dimensions decide first, then zero-dimensional tensors, then Python scalars (which
    only contribute the default dtype of their kind): ``int64 tensor * 2.5`` is float32 and
    ``float32 tensor + float64 0-d tensor`` is float32, as in PyTorch. A complex operand of
    lower rank makes a floating result complex of the same width (``float64 tensor * 1j`` is
    complex128, ``float32 tensor * complex128 0-d tensor`` complex64).
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
    scalar_dtype = None if scalar_cat < 0 else _scalar_default(scalar_cat)
    return _combine(_combine(dims_dtype, zero_dim_dtype), scalar_dtype)


def _scalar_default(cat: _builtins.int) -> dtype:
    return (bool, int64, _default_float)[cat] if cat < _COMPLEX else default_complex()


def _combine(higher: dtype | None, lower: dtype | None) -> dtype | None:
    """The result of an operand of higher priority (more dimensions) with one of lower: the
    higher one unless the lower one is of a higher category."""
    if lower is None or (higher is not None and lower._category <= higher._category):
        return higher
    if higher is not None and lower._category == _COMPLEX and higher._category == _FLOAT:
        return to_complex(higher)
    return lower


def _scalar_category(x) -> _builtins.int:
    if isinstance(x, (_builtins.bool, np.bool_)):
        return _BOOL
    if isinstance(x, (_builtins.int, np.integer)):
        return _INT
    if isinstance(x, (_builtins.float, np.floating)):
        return _FLOAT
    if isinstance(x, (_builtins.complex, np.complexfloating)):
        return _COMPLEX
    raise TypeError(f"expected a Tensor or a Python number, got {type(x).__name__}")


# PyTorch's legacy tensor-type names (``x.type()``, ``x.type('torch.LongTensor')``).
_LEGACY_NAMES = {
    "float32": "FloatTensor",
    "float64": "DoubleTensor",
    "float16": "HalfTensor",
    "bfloat16": "BFloat16Tensor",
    "int64": "LongTensor",
    "int32": "IntTensor",
    "int16": "ShortTensor",
    "int8": "CharTensor",
    "uint8": "ByteTensor",
    "bool": "BoolTensor",
    "complex64": "ComplexFloatTensor",
    "complex128": "ComplexDoubleTensor",
    "uint16": "UInt16Tensor",
    "uint32": "UInt32Tensor",
    "uint64": "UInt64Tensor",
    **{d.name: scalar_type_name(d) + "Tensor" for d in FLOAT8},
}


def legacy_type_name(dtype, cuda: bool = False) -> str:
    """``'minigrad.FloatTensor'`` (``'minigrad.cuda.FloatTensor'`` on a GPU) for a dtype."""
    return f"{_public_name.shown()}.{'cuda.' if cuda else ''}{_LEGACY_NAMES[dtype.name]}"


def from_legacy_type_name(name: str):
    """The dtype of a legacy name, with or without the ``torch.``/``minigrad.`` prefix."""
    short = name.rsplit(".", 1)[-1]
    for dtype_name, legacy in _LEGACY_NAMES.items():
        if legacy == short:
            return to_dtype(dtype_name)
    raise ValueError(f"invalid type: {name!r}; expected a name like 'torch.FloatTensor'")


# -- accumulation and checked conversion ---------------------------------------------------------


def accumulate_dtype(d: dtype) -> dtype:
    """The dtype reductions of ``d`` accumulate in: float32 for float16 and bfloat16, as
    PyTorch's ``acc_type``; every other dtype accumulates in itself (integer sums pick int64
    on their own).

    Summing 70,000 float16 ones in float16 stops at 2048 (and overflows at 65,504): sums,
    means, norms, variances, softmax and cumulative sums of float16 tensors therefore run in
    float32 and round once, at the end, back to float16.
    """
    return float32 if d is float16 or d is bfloat16 else d


def bfloat16_from_bits(bits):
    """bfloat16 values from their 16-bit patterns (a uint16 array of either byte order), as
    files store them: an ml_dtypes bfloat16 array when ml_dtypes is installed, else the same
    values, exactly, as float32 (a bfloat16 is the top half of a float32)."""
    bits = bits.astype(np.uint16, copy=False)  # native byte order
    try:
        return bits.view(bfloat16.numpy)
    except ImportError:
        return (bits.astype(np.uint32) << 16).view(np.float32)


def is_bfloat16(numpy_dtype) -> _builtins.bool:
    """Whether a NumPy dtype is ml_dtypes' bfloat16 (its kind is ``'V'``: the test of the kind
    comes first, as reading a NumPy dtype's ``name`` costs a few microseconds)."""
    return numpy_dtype.kind == "V" and numpy_dtype.name == "bfloat16"


def kernel_dtype(numpy_dtype):
    """The NumPy dtype to run a kernel in for data of ``numpy_dtype``: float32 for bfloat16,
    for which NumPy has no einsum, linalg or float32-accumulating loops (round the result
    back once, which is what PyTorch's CPU bfloat16 kernels do in effect); else the same."""
    return np.dtype(np.float32) if is_bfloat16(numpy_dtype) else numpy_dtype


def computed_in_float32(forward):
    """Decorate an op's ``forward(self, *arrays)`` so that bfloat16 inputs are computed in
    float32 and the result is rounded once back to bfloat16.

    For fused ops whose intermediates (means, variances, log-sum-exps) would otherwise round
    to 8 bits at every step, and for NumPy kernels with no bfloat16 loop (einsum): PyTorch's
    CPU bfloat16 kernels accumulate in float32 the same way. Other dtypes run unchanged.
    """

    @functools.wraps(forward)
    def run(self, *arrays):
        low = None
        for a in arrays:
            d = getattr(a, "dtype", None)
            if d is not None and d.kind == "V" and d.name == "bfloat16":
                low = d
                break
        if low is None:
            return forward(self, *arrays)
        wide = tuple(
            a.astype(np.float32) if getattr(a, "dtype", None) == low else a for a in arrays
        )
        return forward(self, *wide).astype(low)

    return run


def integer_limits(d: dtype) -> tuple:
    """``(lowest, highest)`` of an integer dtype, as Python ints."""
    info = np.iinfo(d.numpy)
    return _builtins.int(info.min), _builtins.int(info.max)


def overflow_error(value, d: dtype, op: str = "") -> RuntimeError:
    where = f"{op}: " if op else ""
    return RuntimeError(f"{where}value cannot be converted to type {d.name} without overflow")


def checked_scalar(value, d: dtype, op: str = "", *, half_saturates: _builtins.bool = False):
    """``value`` (a Python or NumPy number) as a Python number for a tensor of dtype ``d``.

    Raises ``RuntimeError("value cannot be converted to type ... without overflow")`` where
    PyTorch's ``checked_convert`` does (``fill_``, ``full``, ``masked_fill``): an integer target
    takes floats in [lowest, highest] (truncated toward zero; NaN and inf overflow) and ints in
    [lowest, highest], where an unsigned target also takes -highest..-1, which wrap (uint8: -1
    is 255); a floating target takes anything whose magnitude is at most its largest finite
    value, plus inf and NaN. ``half_saturates=True``: float16 and bfloat16 take any float, too
    large ones becoming inf (PyTorch's ``fill_`` and ``full`` do that; its ``masked_fill`` raises).
    """
    if isinstance(value, np.generic):
        value = value.item()
    if d is bool:
        return _builtins.bool(value)
    if d._category == _COMPLEX:
        return _builtins.complex(value)
    if isinstance(value, _builtins.complex):
        raise TypeError(f"{op or 'value'}: a complex number cannot be stored in a {d.name} tensor")
    if d.is_floating_point:
        f = _builtins.float(value)
        if (
            not (half_saturates and (d is float16 or d is bfloat16))
            and math.isfinite(f)
            and abs(f) > _builtins.float(np.finfo(d.numpy).max)
        ):
            raise overflow_error(value, d, op)
        if d.itemsize == 1 and not _fits_float8(f, d):
            raise overflow_error(value, d, op)
        return f
    lo, hi = integer_limits(d)
    if isinstance(value, _builtins.float):
        if not math.isfinite(value) or not lo <= value <= hi:
            raise overflow_error(value, d, op)
        return _builtins.int(value)
    value = _builtins.int(value)
    if lo == 0:  # unsigned: -highest..-1 wrap around, as in C
        if not -hi <= value <= hi:
            raise overflow_error(value, d, op)
        return value % (hi + 1)
    if not lo <= value <= hi:
        raise overflow_error(value, d, op)
    return value


def _fits_float8(f: _builtins.float, d: dtype) -> _builtins.bool:
    """Whether PyTorch's checked conversion takes ``f`` into float8 ``d``: inf only where the
    type has one (e5m2); float8_e8m0fnu holds only positive powers of two from 2**-127."""
    if d is float8_e8m0fnu:
        return math.isnan(f) or 2.0**-127 <= f <= 2.0**127
    return not math.isinf(f) or d is float8_e5m2


def host_array(data, d: dtype | None) -> tuple:
    """Python data (numbers, nested lists, NumPy scalars) as a host array and its dtype, as
    ``torch.tensor`` reads it.

    Without ``d``: Python floats give the default dtype, ints int64, bools bool, and NumPy
    scalars keep their own dtype, all promoted together (``[np.float64(1.5)]`` is float64,
    ``[np.int32(1), 2.5]`` float32). With an integer ``d``, values it cannot hold raise
    ``RuntimeError`` as PyTorch's checked conversion does (``tensor([300], dtype=uint8)``); a
    Python int beyond int64 raises ``ValueError`` unless the target is floating.
    NumPy arrays are not read here: they keep their dtype and convert without checks.
    """
    if _other_sequence(data):  # (a pandas Series) read item by item, as PyTorch reads it
        data = [data[i] for i in range(len(data))]
    _refuse_leading_0d_array(data)
    try:
        host = np.asarray(data)
    except OverflowError:
        host = np.asarray(data, dtype=object)
    except ValueError as error:  # NumPy's "inhomogeneous shape": say where, as PyTorch
        raise _ragged_sequence_error(data) from error
    if host.size and isinstance(data, (list, tuple)) and _holds_ndarray(data):
        _warnings.warn_user_once("list of ndarrays", _NDARRAYS_IN_SEQUENCE)
    if host.dtype == np.uint64 or host.dtype == object:
        host = _big_integers(data, host, d)
    if d is uint64 and host.dtype.kind == "f" and isinstance(data, (list, tuple)):
        host = _exact_uint64(data, host)
    if d is None:
        if host.dtype.kind in "fc" and isinstance(data, (list, tuple)):
            d = _leaf_dtype(data)
        elif host.dtype.kind == "f" and not isinstance(data, np.generic):
            d = _default_float
        elif host.dtype.kind == "c" and not isinstance(data, np.generic):
            d = default_complex()
        else:
            d = from_numpy(host.dtype)  # also rejects object/string arrays
    elif d._category == _INT and (host.dtype.kind in "iu" or is_floating(host.dtype)) and host.size:
        _check_integer_range(host, d)
    return host, d


_NDARRAYS_IN_SEQUENCE = (
    "Creating a tensor from a list of numpy.ndarrays is extremely slow. Please consider "
    "converting the list to a single numpy.ndarray with numpy.array() before converting to a "
    "tensor."
)


def _other_sequence(data) -> _builtins.bool:
    """Whether ``data`` is a sequence other than a list, a tuple or an array (a pandas
    Series, a deque): PyTorch infers its dtype from its items (``series[i]``: NumPy scalars),
    where NumPy would read it as one array of floats."""
    kind = type(data)
    return (
        hasattr(kind, "__len__")
        and hasattr(kind, "__getitem__")
        and not issubclass(kind, (list, tuple, range, np.ndarray, np.generic, str, bytes, dict))
        and not hasattr(data, "__array_interface__")
    )


def _refuse_leading_0d_array(data) -> None:
    """PyTorch reads the shape of nested sequences along their first elements, taking the
    ``len`` of each: a 0-d NumPy array there (``[np.array(1.5), 2]``) has none and raises
    Python's ``TypeError``, though one later in the sequence is read as a number."""
    first = data
    while isinstance(first, (list, tuple)) and len(first):
        first = first[0]
    if first is not data and isinstance(first, np.ndarray) and first.ndim == 0:
        raise TypeError(
            "len() of unsized object (tensor(): a 0-d NumPy array opens a sequence; give "
            "array.item() or a NumPy scalar instead)"
        )


def _holds_ndarray(seq) -> bool:
    """Whether nested lists/tuples hold a NumPy array anywhere: PyTorch then warns, once per
    process, that reading them element by element is slow (``torch.tensor([a1, a2])``)."""
    return any(
        isinstance(x, np.ndarray) or (isinstance(x, (list, tuple)) and _holds_ndarray(x))
        for x in seq
    )


def _ragged_sequence_error(data) -> Exception:
    """PyTorch's error for nested sequences that are not rectangular: the shape is read along
    the first elements, and the first sequence of another length, or number where a sequence
    belongs (or the reverse), is named with its dimension. A NumPy array in the nesting is
    a sequence too, as PyTorch reads it."""

    def nested_type(x) -> bool:
        return isinstance(x, (list, tuple)) or (isinstance(x, np.ndarray) and x.ndim > 0)

    shape, first = [], data
    while nested_type(first) and len(first):
        shape.append(len(first))
        first = first[0]
    stack = [(data, 0)]
    while stack:
        item, dim = stack.pop()
        nested = nested_type(item)
        if dim == len(shape):
            if nested:
                return TypeError(
                    f"tensor(): expected a number at dim {dim}, got a {type(item).__name__} "
                    "(nested sequences must be rectangular)"
                )
            continue
        if not nested:
            return TypeError(
                f"not a sequence: tensor() expected a sequence of length {shape[dim]} at dim "
                f"{dim}, got {type(item).__name__}"
            )
        if len(item) != shape[dim]:
            return ValueError(
                f"expected sequence of length {shape[dim]} at dim {dim} (got {len(item)})"
            )
        stack.extend((x, dim + 1) for x in reversed(item))
    return ValueError("tensor(): the nested sequences do not form a rectangular array")


def _exact_uint64(data, host):
    """Python ints for a uint64 tensor that NumPy read as float64 (ints beyond int64 mixed with
    small ones) read again exactly, so that ``2**63 + 5`` keeps its last digits."""
    items = np.asarray(data, dtype=object)
    flat = items.reshape(-1).tolist()
    if not _builtins.all(
        isinstance(v, (_builtins.int, np.integer)) and 0 <= v < 2**64 for v in flat
    ):
        return host
    return np.array(flat, dtype=np.uint64).reshape(items.shape)


def _big_integers(data, host, d):
    """An array that NumPy could only hold as uint64 or object: Python ints beyond int64."""
    if d is uint64 and host.dtype == np.uint64:
        return host  # beyond int64 but within uint64
    flat = host.reshape(-1).tolist() if host.dtype == object else None
    if flat is not None and not _builtins.all(
        isinstance(v, (_builtins.int, _builtins.float, np.number)) for v in flat
    ):
        return host  # strings, None, ragged lists: from_numpy names the problem
    floating = d.is_floating_point if d is not None else None
    if floating is None and flat is not None:
        floating = _builtins.any(isinstance(v, (_builtins.float, np.floating)) for v in flat)
    if floating:
        return np.asarray(host, dtype=np.float64)
    if d is bool:
        return host != 0
    raise ValueError(
        "Overflow when unpacking long long: a Python int beyond int64 cannot be stored in an "
        f"integer tensor{'' if d is None else ' of ' + d.name} (ask for a floating dtype)"
    )


def _check_integer_range(host, d: dtype) -> None:
    lo, hi = integer_limits(d)
    low, high = host.min(), host.max()
    if is_floating(host.dtype):
        bad = not (np.isfinite(low) and np.isfinite(high)) or low < lo or high > hi
    else:
        bad = low < (-hi if lo == 0 else lo) or high > hi
    if bad:
        culprit = high if high > hi or (is_floating(host.dtype) and not np.isfinite(high)) else low
        raise overflow_error(culprit.item(), d, "tensor")


def _leaf_dtype(data) -> dtype:
    """The promoted dtype of the leaves of a nested list, as ``torch.tensor`` infers it."""
    kinds: set = set()
    _leaf_types(data, kinds)
    result = None
    for t in kinds:
        if t is _builtins.float:
            d = _default_float
        elif t is _builtins.complex:
            d = default_complex()
        elif t is _builtins.bool:
            d = bool
        elif t is _builtins.int:
            d = int64
        elif isinstance(t, np.dtype):
            d = from_numpy(t)
        elif issubclass(t, np.generic):
            d = from_numpy(np.dtype(t))
        else:
            d = _default_float if issubclass(t, _builtins.float) else int64
        result = d if result is None else promote_types(result, d)
    return result if result is not None else _default_float


def _leaf_types(data, kinds: set) -> None:
    if len(data) and isinstance(data[0], (list, tuple)):
        for x in data:
            _leaf_types(x, kinds)
        return
    found = set(map(type, data))  # one C-level pass over a row of numbers
    if np.ndarray in found:
        found.discard(np.ndarray)
        kinds.update(x.dtype for x in data if isinstance(x, np.ndarray))
    kinds |= found
