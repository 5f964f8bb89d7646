"""Sparse compressed tensors as Tensors: the sparse rules of the dense ops PyTorch also runs on
them (``+``, ``*``, ``clone``, ``t()``, ``sum``, ``.to(device)``, zero-preserving elementwise ops
on any sparse layout; products: :mod:`._compressed_mm`), their Tensor methods
(``crow_indices`` ...), and the repr."""

from __future__ import annotations

import importlib

from .. import _memory_format, backend, dtypes
from .._sparse_compressed import (
    BLOCKED,
    SparseCompressed,
    sparse_bsc,
    sparse_bsr,
    sparse_csc,
    sparse_csr,
)
from .._sparse_coo import SparseCOO
from .._sparse_coo import emptied as emptied_coo
from ..autograd import _jvp_rules
from ..autograd import grad_mode as _grad_mode
from ..autograd.graph import class_name
from ..ops import base as _base
from ..ops.base import Op
from ..ops.elementwise import Add, Div, Mul, Neg, Sub
from ..ops.linalg import MatMul
from ..ops.movement import Clone, Permute
from ..ops.reduce import Sum
from ..tensor import Tensor, ToDevice
from . import _compressed, _compressed_mm, _convert, _core
from ._compressed import index_names, is_compressed, layout_name, make, pattern_of, values_of
from ._tensor import _array_repr


def _scaled(x, fn):
    rec = x._data
    return make(rec.compressed, rec.plain, fn(values_of(x)), rec.shape, rec.layout)


def _scalar(x) -> bool:
    return not isinstance(x, Tensor) or (x.ndim == 0 and type(x._data) not in _SPARSE)


def _mul(op, args, previous):
    a, b = args
    if is_compressed(b) and (_scalar(a) or type(a._data) not in _SPARSE):
        a, b = b, a
    if is_compressed(a) and _scalar(b):
        return _scaled(a, lambda v: v * b)
    if not any(is_compressed(t) for t in args):
        return previous(op, args)
    if is_compressed(a) and type(b._data) not in _SPARSE and a.layout is sparse_csr:
        if tuple(a.shape) != tuple(b.shape):
            raise RuntimeError(
                f"mul: a sparse CSR tensor of size {list(a.shape)} times a dense tensor of size "
                f"{list(b.shape)}: the sizes must match (no broadcasting with sparse tensors)"
            )
        p = pattern_of(a._data)
        return _scaled(a, lambda v: v * _compressed.gather(b, p, p.values_shape))
    raise NotImplementedError(
        "mul: minigrad multiplies a sparse compressed tensor by a scalar, and a CSR tensor by a "
        "dense tensor of its size; use .to_dense() for the rest"
    )


def _div(op, args, previous):
    a, b = args
    if is_compressed(a) and _scalar(b):
        return _scaled(a, lambda v: v / b)
    if not any(is_compressed(t) for t in args):
        return previous(op, args)
    raise NotImplementedError(
        "div: minigrad divides a sparse compressed tensor by a scalar only; use .to_dense()"
    )


def _add(op, args, previous, sign=1):
    a, b = args
    if not any(is_compressed(t) for t in args):
        return previous(op, args)
    if is_compressed(a) and isinstance(b, Tensor) and type(b._data) not in _SPARSE:
        if sign == 1:  # csr + dense is dense, as PyTorch (it refuses csr - dense)
            return _compressed.to_dense(a) + b
    if _same_pattern(a, b):  # one pattern (x - x.trunc(), ...): the values add
        rec = a._data
        values = values_of(a) + values_of(b) * sign
        return make(rec.compressed, rec.plain, values, rec.shape, rec.layout)
    if is_compressed(a) and is_compressed(b) and a.layout is b.layout:
        rec = a._data
        if rec.layout in BLOCKED or rec.batch_dim or a.shape != b.shape:
            raise NotImplementedError(
                f"{op.label().lower()}: minigrad adds CSR or CSC tensors of one shape without "
                "batch dims only"
            )
        coo = _convert.to_sparse(a) + _convert.to_sparse(b) * sign
        return _convert.to_layout(coo, rec.layout)
    if not is_compressed(a):  # dense + sparse is dense, as PyTorch
        return a + _compressed.to_dense(b) * sign
    raise RuntimeError(
        f"{op.label().lower()}(sparse, dense) is not supported. Use "
        f"{op.label().lower()}(dense, sparse) instead."
    )


def _same_pattern(a, b) -> bool:
    if not (is_compressed(a) and is_compressed(b)) or a.layout is not b.layout:
        return False
    ra, rb = a._data, b._data
    if ra.shape != rb.shape or ra.values.shape != rb.values.shape:
        return False
    if ra.plain is rb.plain and ra.compressed is rb.compressed:
        return True
    xp = a.device.xp
    with backend.on(a.device):
        return bool(xp.array_equal(ra.plain, rb.plain)) and bool(
            xp.array_equal(ra.compressed, rb.compressed)
        )


def _neg(op, args, previous):
    return _scaled(args[0], lambda v: -v)


def _clone(op, args, previous):
    x = args[0]
    rec = x._data
    return make(
        rec.compressed.copy(), rec.plain.copy(), values_of(x).clone(), rec.shape, rec.layout
    )


def _to_device(op, args, previous):
    x = args[0]
    rec = x._data
    move = lambda a: backend.to_device(a, x.device, op.target)  # noqa: E731
    values = values_of(x).to(op.target)
    return make(move(rec.compressed), move(rec.plain), values, rec.shape, rec.layout)


_TRANSPOSED = {sparse_csr: sparse_csc, sparse_csc: sparse_csr, sparse_bsr: sparse_bsc,
               sparse_bsc: sparse_bsr}  # fmt: skip


def _permute(op, args, previous):
    x = args[0]
    rec = x._data
    if rec.ndim != 2 or tuple(op.dims) not in ((1, 0), (0, 1)):
        raise NotImplementedError(
            f"permute: minigrad transposes 2-D sparse compressed tensors only; got dims "
            f"{list(op.dims)} of a tensor of shape {list(rec.shape)}"
        )
    if tuple(op.dims) == (0, 1):
        return x
    return CompressedTranspose()(x)


class CompressedTranspose(Op):
    """y = xᵀ for a 2-D compressed x: the same index arrays in the transposed layout (CSR <->
    CSC, BSR <-> BSC with each block transposed); dx = dyᵀ in dy's own layout (a dense dy
    gives a dense gradient, as PyTorch's transpose)"""

    backward_name = "PermuteBackward0"

    def forward(self, x):
        values = x.values.transpose(0, 2, 1) if x.layout in BLOCKED else x.values
        shape = (x.shape[1], x.shape[0])
        return SparseCompressed(x.compressed, x.plain, values, shape, _TRANSPOSED[x.layout])

    def backward(self, gy):
        if type(gy._data) is SparseCompressed:
            return CompressedTranspose()(gy)
        return gy.t()


def _sum(op, args, previous):
    x = args[0]
    values = values_of(x) if op.out is None else values_of(x).to(dtypes.from_numpy(op.out))
    if len(op.dims) == x.ndim and not op.keepdim:
        return values.sum()
    rec = x._data
    if not op.keepdim:
        raise RuntimeError("reduction operations on CSR tensors with keepdim=False is unsupported")
    if rec.layout is not sparse_csr:
        raise RuntimeError(
            "Currently the only compressed sparse format supported for sum.dim_IntList is CSR, "
            f"but got layout {layout_name(rec.layout)}"
        )
    if rec.ndim != 2:
        raise NotImplementedError("sum: minigrad sums 2-D CSR tensors over dims only")
    # The kept entries: those of each remaining row (column), summed into one each.
    (_, rows, cols), flat = _convert.elements_of(x)
    flat = flat if op.out is None else flat.to(values.dtype)
    xp = x.device.xp
    rows, cols = (xp.zeros_like(k) if d in op.dims else k for d, k in enumerate((rows, cols)))
    shape = tuple(1 if d in op.dims else n for d, n in enumerate(rec.shape))
    return _convert.from_elements((rows, cols), flat, shape, sparse_csr, (1, 1))


_SPARSE = (SparseCOO, SparseCompressed)

# Elementwise ops with f(0) = 0, which PyTorch runs on the stored values of a sparse tensor
# (any layout): (module, class) -> the function of the values tensor.
_ZERO_PRESERVING = {
    ("unary", "Abs"): lambda v, op: v.abs(), ("complex", "Abs"): lambda v, op: v.abs(),
    ("unary", "Sin"): lambda v, op: v.sin(), ("unary", "Tan"): lambda v, op: v.tan(),
    ("unary", "TanhOp"): lambda v, op: v.tanh(), ("unary", "Sqrt"): lambda v, op: v.sqrt(),
    ("unary", "Sign"): lambda v, op: v.sign(), ("unary", "Floor"): lambda v, op: v.floor(),
    ("unary", "Ceil"): lambda v, op: v.ceil(), ("unary", "Trunc"): lambda v, op: v.trunc(),
    ("unary", "Round"): lambda v, op: v.round(decimals=op.decimals),
    ("unary", "Expm1"): lambda v, op: v.expm1(), ("unary", "Log1p"): lambda v, op: v.log1p(),
    ("unary", "Erf"): lambda v, op: v.erf(), ("special", "Erfinv"): lambda v, op: v.erfinv(),
    ("trig", "Asin"): lambda v, op: v.asin(), ("trig", "Atan"): lambda v, op: v.atan(),
    ("trig", "Sinh"): lambda v, op: v.sinh(), ("trig", "Asinh"): lambda v, op: v.asinh(),
    ("trig", "Atanh"): lambda v, op: v.atanh(), ("activation", "ReLUOp"): lambda v, op: v.relu(),
}  # fmt: skip


def _elementwise(fn):
    """The sparse rule of a zero-preserving elementwise op: ``fn`` on the stored values (of
    the coalesced tensor, for COO: f of a sum is not the sum of f's)."""

    def rule(op, args):
        x = args[0]
        if type(x._data) is SparseCompressed:
            return _scaled(x, lambda v: fn(v, op))
        x = _core.coalesce(x)
        rec = x._data
        return _core.make(rec.indices, fn(_core.values_of(x), op), rec.shape, True)

    return rule


def _install_elementwise() -> None:
    for (module, name), fn in _ZERO_PRESERVING.items():
        cls = getattr(importlib.import_module(f"minigrad.ops.{module}"), name)
        _base.sparse_rules.setdefault(cls, _elementwise(fn))


def _install_rules() -> None:
    """Wrap the COO rules of each op so that compressed inputs take this module's rule."""
    rules = {
        MatMul: _compressed_mm.matmul_rule, Mul: _mul, Div: _div, Add: _add, Neg: _neg, Clone: _clone,
        ToDevice: _to_device, Permute: _permute, Sum: _sum,
        Sub: lambda op, args, prev: _add(op, args, prev, -1),
    }  # fmt: skip
    for cls, rule in rules.items():
        previous = _base.sparse_rules.get(cls, _refuse)
        wants = _both_sparse if cls is MatMul else _any_compressed
        _base.sparse_rules[cls] = _combined(rule, previous, wants)


def _any_compressed(args) -> bool:
    return any(isinstance(a, Tensor) and type(a._data) is SparseCompressed for a in args)


def _both_sparse(args) -> bool:
    return _any_compressed(args) or all(type(a._data) in _SPARSE for a in args)


def _combined(rule, previous, wants):
    def apply(op, args):
        if wants(args):
            return rule(op, args, previous)
        return previous(op, args)

    return apply


def _refuse(op, args):
    raise NotImplementedError(f"{op.label()}: minigrad does not support sparse tensors here")


# -- Tensor methods -----------------------------------------------------------------------------
def _record(t, op: str, layouts, what: str) -> SparseCompressed:
    rec = t._data
    if type(rec) is not SparseCompressed or rec.layout not in layouts:
        raise RuntimeError(f"{op} expected {what} tensor layout but got {layout_name(t.layout)}")
    return rec


def _index_method(name: str, layouts, what: str, compressed: bool):
    def method(self) -> Tensor:
        rec = _record(self, name, layouts, what)
        return _base.constant(rec.compressed if compressed else rec.plain, self.device)

    method.__name__ = name
    method.__doc__ = f"The {name.replace('_', ' ')} of a sparse {what} tensor."
    return method


def _dispatch(name: str, compressed_fn):
    """``Tensor.name`` that runs ``compressed_fn`` on compressed tensors, the COO/dense method
    otherwise."""
    previous = getattr(Tensor, name)

    def method(self, *args, **kwargs):
        if type(self._data) is SparseCompressed:
            return compressed_fn(self, *args, **kwargs)
        return previous(self, *args, **kwargs)

    method.__name__, method.__doc__ = name, previous.__doc__
    return method


def _refusal(name: str):
    def refuse(self, *args, **kwargs):
        raise RuntimeError(
            f"{name} expected sparse coordinate tensor layout but got {layout_name(self.layout)}"
        )

    return refuse


def _install_methods() -> None:
    row, col = (sparse_csr, sparse_bsr), (sparse_csc, sparse_bsc)
    for name, layouts, what, comp in (
        ("crow_indices", row, "sparse row compressed", True),
        ("col_indices", row, "sparse row compressed", False),
        ("ccol_indices", col, "sparse column compressed", True),
        ("row_indices", col, "sparse column compressed", False),
    ):
        setattr(Tensor, name, _index_method(name, layouts, what, comp))
    dispatched = {
        "values": values_of, "_values": values_of, "to_dense": _compressed.to_dense,
        "sparse_dim": lambda self: 2, "dense_dim": lambda self: self._data.dense_dim,
        "_nnz": lambda self: self._data.nnz, "indices": _refusal("indices"),
        "_indices": _refusal("_indices"), "is_coalesced": _refusal("is_coalesced"),
        "coalesce": _refusal("coalesce"),
    }  # fmt: skip
    for name, fn in dispatched.items():
        setattr(Tensor, name, _dispatch(name, fn))
    for name, what in (("is_contiguous", "is_contiguous"), ("stride", "strides")):
        setattr(Tensor, name, _dispatch(name, _no_strides(what)))
    Tensor.zero_ = _sparse_zero(Tensor.zero_)
    for name in ("to_sparse", "to_sparse_coo", "to_sparse_csr", "to_sparse_csc"):
        setattr(Tensor, name, getattr(_convert, name))
    Tensor.to_sparse_bsr, Tensor.to_sparse_bsc = _convert.to_sparse_bsr, _convert.to_sparse_bsc


def _no_strides(what: str):
    def refuse(self, *args, **kwargs):
        kind = self.layout.name[7:].upper()
        raise RuntimeError(f"Sparse {kind} tensors do not have {what}")

    return refuse


def _sparse_zero(dense_zero):
    """``Tensor.zero_`` that empties a sparse tensor (COO or compressed) in place, as PyTorch."""

    def zero_(self):
        rec = self._data
        if type(rec) not in _SPARSE:
            return dense_zero(self)
        if self.requires_grad and self.grad_fn is None and _grad_mode.is_grad_enabled():
            raise RuntimeError(
                "a leaf Variable that requires grad is being used in an in-place operation."
            )
        self._data = rec.emptied() if type(rec) is SparseCompressed else emptied_coo(rec)
        return self

    zero_.__doc__ = dense_zero.__doc__
    return zero_


def _like(make, input, args, kwargs, layout):
    """``zeros_like`` (no entries) and the other ``*_like`` factories (made for the stored
    values, same pattern) of a compressed ``input``, as PyTorch's; None for other inputs."""
    rec = getattr(input, "_data", None)
    if type(rec) is not SparseCompressed:
        return None
    if layout is not None and layout is not rec.layout:
        raise RuntimeError(
            f"empty_like with different sparse layout is not supported (self is "
            f"{layout_name(rec.layout)} but you requested {layout_name(layout)})"
        )
    if make.__name__ == "zeros_like":
        rec = rec.emptied()
    requires_grad = kwargs.pop("requires_grad", False)
    device = kwargs.get("device")
    values = make(_base.constant(rec.values, input.device), *args, **kwargs)
    move = (lambda a: backend.to_device(a, input.device, values.device)) if device else None
    indices = (move(rec.compressed), move(rec.plain)) if move else (rec.compressed, rec.plain)
    out = Tensor._make(
        SparseCompressed(*indices, values._data, rec.shape, rec.layout), values.device
    )
    return out.requires_grad_(requires_grad)


# -- repr ---------------------------------------------------------------------------------------
def compressed_repr(t) -> str:
    """PyTorch's repr of a compressed tensor: both index arrays, values, size, nnz, layout."""
    rec = t._data
    cn, pn = index_names(rec.layout)
    text = f"tensor({cn}=" + _array_repr(rec.compressed, t.device, 8 + len(cn)) + ",\n"
    text += f"       {pn}=" + _array_repr(rec.plain, t.device, 8 + len(pn)) + ",\n"
    text += "       values=" + _array_repr(rec.values, t.device, 14)
    suffixes = [f"size={rec.shape}", f"nnz={rec.nnz}"]
    if t.dtype not in (dtypes.get_default_dtype(), dtypes.int64, dtypes.bool):
        suffixes.append(f"dtype={t.dtype}")
    if t.device.type != "cpu":
        suffixes.append(f"device='{t.device}'")
    suffixes.append(f"layout={t.layout!r}")
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{class_name(t.grad_fn)}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    from .. import _format

    return _format._add_suffixes(text, suffixes, 7) + ")"


_install_rules()
_install_methods()
_install_elementwise()
_memory_format.sparse_like = _like
_jvp_rules.RULES.update({
    "SparseCompressedTensor": _jvp_rules.linear, "CompressedValues": _jvp_rules.linear,
    "CompressedMM": _jvp_rules.multilinear, "DenseCompressedMM": _jvp_rules.multilinear,
    "CompressedTranspose": _jvp_rules.linear,
})  # fmt: skip
