"""Sparse COO tensors as Tensors: the sparse rules of the dense ops that PyTorch also runs on
them (``+``, ``*``, ``@``, ``clone``, ``.to(device)``, transpose, ``sum``), the Tensor methods
of the sparse layout, and the repr."""

from __future__ import annotations

from .. import _format, backend, dtypes
from .._sparse_coo import SparseCOO
from ..autograd import _jvp_rules
from ..autograd.graph import class_name
from ..ops import base as _base
from ..ops import cat
from ..ops.elementwise import Add, Div, Mul, Neg, Pow, Sub
from ..ops.indexing import GetItem
from ..ops.linalg import MatMul
from ..ops.movement import Clone, Permute
from ..ops.reduce import Sum
from ..tensor import Tensor, ToDevice
from . import _core, _functions
from ._core import coalesce, expect_sparse, is_sparse, make, to_dense, values_of


def _scalar(x) -> bool:
    return not isinstance(x, Tensor) or (x.ndim == 0 and not is_sparse(x))


def _same_shape(a, b, op: str) -> None:
    if tuple(a.shape) != tuple(b.shape):
        raise RuntimeError(
            f"{op}: sparse operands must have the same size, got {list(a.shape)} and "
            f"{list(b.shape)}"
        )


def _add(op, args):
    a, b = args
    if is_sparse(a) and is_sparse(b):
        _same_shape(a, b, "add")
        ra, rb = a._data, b._data
        if ra.sparse_dim != rb.sparse_dim:
            raise RuntimeError("add: sparse operands must have the same sparse_dim")
        xp = a.device.xp
        with backend.on(a.device):
            indices = xp.concatenate([ra.indices, rb.indices], axis=1)
        values = cat([values_of(a), values_of(b)])
        out = make(indices, values, ra.shape)
        return coalesce(out) if ra.coalesced and rb.coalesced else out
    if is_sparse(b) and isinstance(a, Tensor):  # dense + sparse is dense, as PyTorch
        return a + to_dense(b)
    raise RuntimeError(
        f"{op.label().lower()}(sparse, dense) is not supported. Use "
        f"{op.label().lower()}(dense, sparse) instead."
    )


def _sub(op, args):
    a, b = args
    if is_sparse(b) and is_sparse(a):
        return _add(op, (a, _scaled(b, -1)))
    if is_sparse(b) and isinstance(a, Tensor):
        return a - to_dense(b)
    return _add(op, args)  # (its refusal)


def _scaled(x, factor):
    rec = x._data
    return make(rec.indices, values_of(x) * factor, rec.shape, rec.coalesced)


def _mul(op, args):
    a, b = args
    if is_sparse(b) and not is_sparse(a):
        a, b = b, a
    if is_sparse(b):
        raise NotImplementedError(
            "mul: the product of two sparse tensors is not supported in minigrad; make one "
            "dense with .to_dense()"
        )
    if _scalar(b):
        return _scaled(a, b)
    _same_shape(a, b, "mul")  # dense * sparse keeps the sparse pattern, as PyTorch
    rec = a._data
    return make(rec.indices, values_of(a) * GetItem(_core._key(rec.indices))(b), rec.shape)


def _div(op, args):
    a, b = args
    if is_sparse(a) and _scalar(b):
        rec = a._data
        return make(rec.indices, values_of(a) / b, rec.shape, rec.coalesced)
    raise NotImplementedError(
        "div: minigrad divides a sparse tensor by a scalar only; use .to_dense() for the rest"
    )


def _neg(op, args):
    return _scaled(args[0], -1)


def _clone(op, args):
    rec = args[0]._data
    return make(rec.indices.copy(), values_of(args[0]).clone(), rec.shape, rec.coalesced)


def _to_device(op, args):
    x = args[0]
    rec = x._data
    indices = backend.to_device(rec.indices, x.device, op.target)
    return make(indices, values_of(x).to(op.target), rec.shape, rec.coalesced)


def _permute(op, args):
    return _functions.permute(args[0], op.dims)


def _sum(op, args):
    x = args[0]
    if op.keepdim:
        raise NotImplementedError("sum: keepdim=True is not supported for sparse tensors")
    if len(op.dims) == x.ndim:
        return values_of(x).sum()
    return _functions.sum(x, op.dims)


def _matmul(op, args):
    a, b = args
    if is_sparse(a):
        return _functions.spmm(a, b, op="mm")
    if a.ndim != 2:
        raise NotImplementedError("mm: dense @ sparse takes a 2-D dense matrix in minigrad")
    return _functions.spmm(_functions.transpose(b), a.t(), op="mm").t()


def _pow(op, args):
    x, exponent = args
    if isinstance(exponent, Tensor):
        if exponent.ndim or is_sparse(exponent):
            raise NotImplementedError(
                "pow: minigrad raises a sparse COO tensor to a scalar power only"
            )
        exponent = exponent.item()
    if exponent == 0:
        raise RuntimeError(
            "pow: cannot raise to zeroth power on sparse tensor; it would make the result "
            "tensor dense"
        )
    x = coalesce(x)  # (a power of a sum is not the sum of powers)
    rec = x._data
    return make(rec.indices, values_of(x).pow(exponent), rec.shape, True)


def _select_along(x, key):
    """``(dim, positions)`` of a key that indexes one sparse dim of ``x`` with an index vector
    or a unit-step slice (``index_select``, ``narrow``), the others whole; else None."""
    chosen = [(d, k) for d, k in enumerate(key) if not (isinstance(k, slice) and k == _WHOLE)]
    if len(chosen) != 1 or chosen[0][0] >= x._data.sparse_dim:
        return None
    dim, k = chosen[0]
    size = x.shape[dim]
    if isinstance(k, slice):
        start, stop, step = k.indices(size)
        return (dim, list(range(start, stop))) if step == 1 else None
    if getattr(k, "ndim", None) == 1 and k.dtype.kind in "iu":
        return dim, [int(i) % size for i in x.device.backend.to_host(k).tolist()]
    return None


def _getitem(op, args):
    x = args[0]
    found = _select_along(x, op.key) if type(x._data) is SparseCOO else None
    if found is None:
        raise NotImplementedError(
            f"{op.label()}: minigrad indexes a sparse COO tensor along one sparse dim only (an "
            "index vector, as index_select, or a unit-step slice, as narrow_copy); call "
            ".to_dense() first"
        )
    dim, positions = found
    x = coalesce(x)
    rec = x._data
    xp = x.device.xp
    with backend.on(x.device):
        wanted = xp.asarray(positions, dtype=rec.indices.dtype)
        entry, slot = xp.nonzero(rec.indices[dim][:, None] == wanted[None, :])
        indices = rec.indices[:, entry]
        indices[dim] = slot
    shape = tuple(len(positions) if d == dim else n for d, n in enumerate(rec.shape))
    out = make(indices, GetItem((entry,))(values_of(x)), shape)
    return coalesce(out)


_WHOLE = slice(None)

_base.sparse_rules.update({
    Add: _add, Sub: _sub, Mul: _mul, Div: _div, Neg: _neg, Clone: _clone, ToDevice: _to_device,
    Permute: _permute, Sum: _sum, MatMul: _matmul, Pow: _pow, GetItem: _getitem,
})  # fmt: skip


# -- Tensor methods of the sparse layout --------------------------------------------------------
def _coalesced_record(t, op: str) -> SparseCOO:
    rec = expect_sparse(t, op)
    if not rec.coalesced:
        raise RuntimeError(
            f"Cannot get {op} on an uncoalesced tensor, please call .coalesce() first"
        )
    return rec


def indices(self) -> Tensor:
    """The (sparse_dim, nnz) indices of a coalesced sparse tensor."""
    return _base.constant(_coalesced_record(self, "indices").indices, self.device)


def values(self) -> Tensor:
    """The values of a coalesced sparse tensor (in the graph)."""
    _coalesced_record(self, "values")
    return values_of(self)


def _indices(self) -> Tensor:
    """The indices of a sparse tensor, coalesced or not."""
    return _base.constant(expect_sparse(self, "_indices").indices, self.device)


def _values(self) -> Tensor:
    """The values of a sparse tensor, coalesced or not (in the graph)."""
    expect_sparse(self, "_values")
    return values_of(self)


def is_coalesced(self) -> bool:
    return expect_sparse(self, "is_coalesced").coalesced


def sparse_dim(self) -> int:
    return self._data.sparse_dim if is_sparse(self) else 0


def dense_dim(self) -> int:
    return self._data.ndim - self._data.sparse_dim if is_sparse(self) else self.ndim


def _nnz(self) -> int:
    return expect_sparse(self, "_nnz").nnz


def to_sparse_coo(self) -> Tensor:
    return _core.to_sparse(self)


_METHODS = {
    "to_dense": to_dense, "to_sparse": _core.to_sparse, "to_sparse_coo": to_sparse_coo,
    "coalesce": coalesce, "is_coalesced": is_coalesced, "indices": indices, "values": values,
    "_indices": _indices, "_values": _values, "sparse_dim": sparse_dim, "dense_dim": dense_dim,
    "_nnz": _nnz,
}  # fmt: skip
for _name, _fn in _METHODS.items():
    setattr(Tensor, _name, _fn)


# -- repr ---------------------------------------------------------------------------------------
def _array_repr(array, device, indent: int) -> str:
    host = device.backend.to_host(array)
    if host.dtype == dtypes.bfloat16.numpy:
        host = host.astype("float32")
    prefix = " " * indent + "tensor("  # (wrapped as placed, at column indent)
    text = "tensor(" + _format.format_array(host, prefix)
    if host.size == 0:  # (PyTorch shows the size of every empty part, 1-D ones too)
        text += f", size={tuple(host.shape)}"
    return text + ")"


def sparse_repr(t) -> str:
    """PyTorch's repr of a sparse COO tensor: indices, values, size, nnz and layout."""
    rec = t._data
    head = "tensor(indices=" + _array_repr(rec.indices, t.device, 15) + ",\n"
    head += "       values=" + _array_repr(rec.values, t.device, 14) + ",\n"
    last = f"       size={rec.shape}, nnz={rec.nnz}"
    suffixes = []
    if t.dtype not in (dtypes.get_default_dtype(), dtypes.int64, dtypes.bool):
        suffixes.append(f"dtype={t.dtype}")  # (as for dense tensors, int64 goes unsaid)
    if t.device.type != "cpu":
        suffixes.append(f"device='{t.device}'")
    suffixes.append(f"layout={t.layout!r}")  # (torch.sparse_coo under minigrad.as_torch)
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{class_name(t.grad_fn)}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    return head + _format._add_suffixes(last, suffixes, 7) + ")"


# -- forward-mode AD: the primitives are linear (construction, values) or bilinear (SparseMM)
_jvp_rules.RULES.update({
    "SparseCooTensor": _jvp_rules.linear, "SparseValues": _jvp_rules.linear,
    "SparseMM": _jvp_rules.multilinear,
})  # fmt: skip
