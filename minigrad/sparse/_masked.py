"""Products and selections with sparse results, as PyTorch's: ``Tensor.sparse_mask``,
``smm``, ``hspmm``, ``sspaddmm`` and ``sparse.sampled_addmm``. Each is composed from the
values of its sparse operands and dense ops, so gradients reach every floating operand."""

from __future__ import annotations

import numpy as np

from .. import backend, dtypes
from .._sparse_compressed import SparseCompressed, sparse_csr
from .._sparse_coo import SparseCOO
from ..ops import cat
from ..ops.indexing import GetItem
from ..tensor import Tensor
from . import _compressed, _convert, _core, _products
from ._compressed import layout_name

_SPARSE = (SparseCOO, SparseCompressed)


def _expect(t, op: str, name: str, kinds: tuple, what: str):
    if not isinstance(t, Tensor) or type(t._data) not in kinds:
        got = layout_name(t.layout) if isinstance(t, Tensor) else type(t).__name__
        raise RuntimeError(f"{op}: expected {name} to be {what}, but got {got}")
    return t._data


def sparse_mask(self: Tensor, mask: Tensor) -> Tensor:
    """The entries of ``self`` where sparse ``mask`` stores one: a tensor of ``mask``'s layout
    and indices (``Tensor.sparse_mask``); ``self``'s gradient is masked the same way.

    Example:
        >>> m = minigrad.tensor([[0.0, 1.0], [1.0, 0.0]]).to_sparse()
        >>> minigrad.ones(2, 2).sparse_mask(m).to_dense()
        tensor([[0., 1.],
                [1., 0.]])
    """
    rec = _expect(mask, "sparse_mask", "mask", (SparseCOO, SparseCompressed), "a sparse tensor")
    if tuple(self.shape) != tuple(mask.shape):
        raise RuntimeError(
            f"sparse_mask(): operands have incompatible sizes; self has size {list(self.shape)} "
            f"but mask has size {list(mask.shape)}"
        )
    if self.device is not mask.device:
        raise RuntimeError(
            f"sparse_mask: expected self and mask on the same device, got {self.device} and "
            f"{mask.device}"
        )
    dense = _compressed.to_dense(self)
    with backend.on(dense.device):
        if type(rec) is SparseCOO:
            values = GetItem(_core._key(rec.indices))(dense)
            return _core.make(rec.indices, values, rec.shape, rec.coalesced)
        p = _compressed.pattern_of(rec)
        values = _compressed.gather(dense, p, p.values_shape)
        return _compressed.make(rec.compressed, rec.plain, values, rec.shape, rec.layout)


def _check_coo_product(mat1, mat2, op: str):
    rec = _expect(mat1, op, "mat1", (SparseCOO,), "a sparse COO tensor")
    if rec.ndim != 2 or rec.sparse_dim != 2:
        raise RuntimeError(f"{op}: expected a 2-D sparse matrix, got shape {list(rec.shape)}")
    if not isinstance(mat2, Tensor) or mat2.ndim != 2 or type(mat2._data) in _SPARSE:
        raise RuntimeError(f"{op}: expected mat2 to be a 2-D dense tensor")
    _products.check_operands(mat1, mat2, op)
    return rec


def hspmm(mat1: Tensor, mat2: Tensor) -> Tensor:
    """``mat1 @ mat2`` for a sparse COO ``mat1`` as a hybrid COO tensor: one sparse dim (the
    rows of ``mat1`` that hold an entry) and the product's rows as values (``torch.hspmm``)."""
    rec = _check_coo_product(mat1, mat2, "hspmm")
    xp = mat1.device.xp
    product = _products.pattern_product(mat1, mat2)
    with backend.on(mat1.device):
        rows = xp.unique(rec.indices[0]).astype(np.int64)
    shape = (rec.shape[0], mat2.shape[1])
    return _core.make(rows.reshape(1, -1), GetItem((rows,))(product), shape, True)


def smm(input: Tensor, mat: Tensor) -> Tensor:
    """``input @ mat`` for a sparse COO ``input`` as a sparse COO tensor holding every column
    of each row of ``input`` that has an entry (``torch.smm``)."""
    hybrid = hspmm(input, mat)
    xp = input.device.xp
    rows, cols = hybrid._data.indices[0], mat.shape[1]
    with backend.on(input.device):
        indices = xp.stack([xp.repeat(rows, cols), xp.tile(xp.arange(cols), len(rows))])
    values = _core.values_of(hybrid).reshape(-1)
    return _core.make(indices.astype(np.int64), values, hybrid.shape, True)


def sspaddmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * (mat1 @ mat2)`` as an uncoalesced sparse COO tensor: the entries
    of ``input`` then those of :func:`smm` (``torch.sspaddmm``)."""
    rec = _expect(input, "sspaddmm", "input", (SparseCOO,), "a sparse COO tensor")
    product = smm(mat1, mat2)
    if tuple(rec.shape) != tuple(product.shape):
        raise RuntimeError(
            f"sspaddmm: input of size {list(rec.shape)} does not match the product's size "
            f"{list(product.shape)}"
        )
    xp = input.device.xp
    with backend.on(input.device):
        indices = xp.concatenate([rec.indices, product._data.indices], axis=1)
    values = cat([_core.values_of(input) * beta, _core.values_of(product) * alpha])
    return _core.make(indices, values, rec.shape)


def _sampled_dtypes(input: Tensor, mat1: Tensor, mat2: Tensor) -> None:
    """PyTorch's dtype checks of ``sampled_addmm``, in its order: mat1, mat2 and input of one
    dtype, a floating-point one."""
    names = [dtypes.scalar_type_name(t.dtype) for t in (mat1, mat2, input)]
    for other, name in (("mat2", names[1]), ("self", names[2])):
        if name != names[0]:
            raise RuntimeError(
                f"sampled_addmm: Expected mat1 and {other} to have the same dtype, but got "
                f"{names[0]} and {name}"
            )
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise RuntimeError(
            "sparse_sampled_addmm: Expected self to be a floating-point or complex tensor, but "
            f"got {names[2]}"
        )


def sampled_addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1.0, alpha=1.0, out=None):
    """``beta * input + alpha * (mat1 @ mat2)`` at the entries of the CSR tensor ``input`` only
    (``torch.sparse.sampled_addmm``): a CSR tensor of ``input``'s pattern.

    Example:
        >>> s = minigrad.eye(2).to_sparse_csr()
        >>> minigrad.sparse.sampled_addmm(s, minigrad.ones(2, 3), minigrad.ones(3, 2)).values()
        tensor([4., 4.])
    """
    if out is not None:
        raise NotImplementedError("sparse.sampled_addmm: out= is not supported in minigrad")
    rec = _expect(input, "sampled_addmm", "input", (SparseCompressed,), "a sparse CSR tensor")
    if rec.layout is not sparse_csr or rec.ndim != 2:
        raise NotImplementedError(
            f"sampled_addmm: minigrad takes a 2-D CSR input without batch or dense dims; got a "
            f"{layout_name(input.layout)} tensor of shape {list(rec.shape)}"
        )
    if mat1.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError("sampled_addmm: expected mat1 and mat2 to be 2-D dense matrices")
    if mat1.shape[1] != mat2.shape[0]:
        raise RuntimeError(
            f"sampled_addmm: mat1 and mat2 shapes cannot be multiplied "
            f"({mat1.shape[0]}x{mat1.shape[1]} and {mat2.shape[0]}x{mat2.shape[1]})"
        )
    if mat1.shape[0] != rec.shape[0]:
        raise RuntimeError("sampled_addmm: self.shape[-2] must match mat1.shape[-2]")
    if mat2.shape[1] != rec.shape[1]:
        raise RuntimeError("sampled_addmm: self.shape[-1] must match mat2.shape[-1]")
    _sampled_dtypes(input, mat1, mat2)
    with backend.on(input.device):
        (_, rows, cols), values = _convert.elements_of(input)
        sampled = (GetItem((rows,))(mat1) * GetItem((cols,))(mat2.t())).sum(1)
        values = values * beta + sampled * alpha
        return _compressed.make(rec.compressed, rec.plain, values, rec.shape, rec.layout)


for _fn in (sparse_mask, smm, hspmm, sspaddmm):
    setattr(Tensor, _fn.__name__, _fn)
