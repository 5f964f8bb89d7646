"""The constructors of sparse compressed tensors (``sparse_csr_tensor`` and its kin), with
PyTorch's argument checks and its index invariants, which minigrad always checks."""

from __future__ import annotations

import functools

import numpy as np

from .. import backend, dtypes
from .._sparse_compressed import (
    BLOCKED,
    LAYOUTS,
    NAMES,
    ROW_MAJOR,
    SparseCompressed,
    sparse_bsc,
    sparse_bsr,
    sparse_csc,
    sparse_csr,
)
from ..tensor import Tensor
from . import _core
from ._compressed import index_names, layout_name, make, torch_name


def _index_array(indices, device):
    """An index argument as (array, dtype name)."""
    if isinstance(indices, Tensor):
        return backend.to_device(indices._data, indices.device, device), indices.dtype
    array = backend.as_array(indices, dtypes.int64, device)
    return array, dtypes.int64


def sparse_compressed_tensor(
    compressed_indices,
    plain_indices,
    values,
    size=None,
    *,
    dtype=None,
    layout=None,
    device=None,
    pin_memory=False,
    requires_grad: bool = False,
    check_invariants=None,
) -> Tensor:
    """A sparse tensor of ``layout`` (``sparse_csr``, ``sparse_csc``, ``sparse_bsr`` or
    ``sparse_bsc``) from its compressed indices, plain indices and values, as
    ``torch.sparse_compressed_tensor``.

    Args:
        compressed_indices: (*batch, ncompressed + 1) int32/int64 offsets into the values.
        plain_indices: (*batch, nnz) column (row, for CSC/BSC) index of each value.
        values: (*batch, nnz, *blocksize, *dense) values; a tensor that requires grad stays in
            the graph.
        size: the full shape; inferred from the indices when omitted.
        dtype, device: of the values. requires_grad: make the result a leaf that requires grad.
        check_invariants: accepted; minigrad always checks the indices (None, with the global
            switch never set, warns once as :func:`sparse_coo_tensor` does).

    Example:
        >>> s = minigrad.sparse_compressed_tensor(
        ...     [0, 1, 2], [1, 0], [3.0, 4.0], (2, 2), layout=minigrad.sparse_csr)
        >>> s.to_dense()
        tensor([[0., 3.],
                [4., 0.]])
    """
    if layout not in LAYOUTS:
        raise RuntimeError(
            "sparse_compressed_tensor expected sparse compressed tensor layout but got "
            f"{layout_name(layout)}"
        )
    _core.warn_implicit_invariants(check_invariants)
    return _build(
        compressed_indices, plain_indices, values, size, dtype, layout, device, requires_grad
    )


def _constructor(fixed):
    op = f"sparse_{fixed.name[7:]}_tensor"
    c_name, p_name = index_names(fixed)
    blocked = fixed in BLOCKED

    def construct(
        compressed_indices,
        plain_indices,
        values,
        size=None,
        *,
        dtype=None,
        layout=None,
        device=None,
        pin_memory=False,
        requires_grad: bool = False,
        check_invariants=None,
    ) -> Tensor:
        if layout is not None and layout is not fixed:
            raise RuntimeError(f"{op}: layout must be {NAMES[fixed]} but got {layout_name(layout)}")
        _core.warn_implicit_invariants(check_invariants)
        return _build(
            compressed_indices, plain_indices, values, size, dtype, fixed, device, requires_grad
        )

    construct.__name__ = construct.__qualname__ = op
    construct.__doc__ = (
        f"A sparse {fixed.name[7:].upper()} tensor from ``{c_name}``, ``{p_name}`` and "
        f"``values`` ({'blocks' if blocked else 'entries'}), as ``torch.{op}``; the arguments "
        "are those of :func:`sparse_compressed_tensor` without ``layout``."
    )
    return construct


def _build(ci, pi, values, size, dtype, layout, device, requires_grad) -> Tensor:
    vals = _core._as_values(values, dtype, device)
    with backend.on(vals.device):
        c_arr, c_dtype = _index_array(ci, vals.device)
        p_arr, p_dtype = _index_array(pi, vals.device)
        shape = _check_args(c_arr, c_dtype, p_arr, p_dtype, vals, size, layout)
        c_arr, p_arr = c_arr.copy(), p_arr.copy()  # (the record owns its indices)
        if requires_grad:
            rec = SparseCompressed(c_arr, p_arr, vals.detach()._data, shape, layout)
            return Tensor._make(rec, vals.device).requires_grad_(True)
        return make(c_arr, p_arr, vals, shape, layout)


def _check_args(c, c_dtype, p, p_dtype, vals: Tensor, size, layout) -> tuple:
    """The full shape (inferred when ``size`` is None); PyTorch's errors for bad arguments."""
    cn, pn = index_names(layout)
    if c_dtype != p_dtype:
        raise RuntimeError(
            f"{cn} and {pn} must have the same dtype, but got {torch_name(c_dtype)} and "
            f"{torch_name(p_dtype)}, respectively"
        )
    if c_dtype not in (dtypes.int32, dtypes.int64):
        raise RuntimeError(
            f"{cn} and {pn} dtype must be Int or Long, but got {torch_name(c_dtype)}"
        )
    if c.ndim < 1:
        raise RuntimeError(f"{cn} must have dimensionality >= 1 but got {c.ndim}")
    if c.ndim != p.ndim:
        raise RuntimeError(
            f"{cn} and {pn} dimensionalities must be equal but got {c.ndim} and {p.ndim}, "
            "respectively"
        )
    b, block_dims = c.ndim - 1, 2 if layout in BLOCKED else 0
    if vals.ndim <= b + block_dims:
        raise backend.DimensionError(
            f"values must have dimensionality > sum of batch and block dimensionalities "
            f"(={b} + {block_dims}) but got {vals.ndim}"
        )
    nnz = vals.shape[b]
    if p.shape[-1] != nnz:
        raise RuntimeError(
            f"{pn}.shape[-1] must be equal to nnz (={nnz}) as defined by values.shape[{b}], "
            f"but got {p.shape[-1]}"
        )
    block = tuple(vals.shape[b + 1 : b + 3]) if block_dims else (1, 1)
    dense = tuple(vals.shape[b + 1 + block_dims :])
    row_major = layout in ROW_MAJOR
    host_c, host_p = vals.device.backend.to_host(c), vals.device.backend.to_host(p)
    if size is None:
        ncomp = (c.shape[-1] - 1) * block[0 if row_major else 1]
        nplain = (int(host_p.max()) + 1 if nnz and host_p.size else 0) * block[
            1 if row_major else 0
        ]
        base = (ncomp, nplain) if row_major else (nplain, ncomp)
        shape = tuple(c.shape[:-1]) + base + dense
    else:
        shape = tuple(int(s) for s in size)
    _check_shape(shape, c, p, vals, b, block, dense, layout)
    _check_invariants(host_c, host_p, shape[b : b + 2], block, layout)
    return shape


def _check_shape(shape, c, p, vals, b, block, dense, layout) -> None:
    cn, pn = index_names(layout)
    if len(shape) != b + 2 + len(dense):
        raise RuntimeError(
            f"tensor dimensionality must be sum of batch, base, and dense dimensionalities "
            f"(={b} + 2 + {len(dense)}) but got {len(shape)}"
        )
    batch = list(shape[:b])
    if any(list(a.shape[:b]) != batch for a in (c, p, vals)):
        raise RuntimeError(
            f"all batch dimensions of {cn} (={list(c.shape[:b])}), {pn} (={list(p.shape[:b])}), "
            f"and values (={list(vals.shape[:b])}) must be equal to tensor batch dimensions "
            f"(={batch})"
        )
    if tuple(shape[b + 2 :]) != dense:
        raise RuntimeError(
            f"values' dense dimensions {list(dense)} must be equal to the tensor's dense "
            f"dimensions {list(shape[b + 2 :])}"
        )
    if any(s < 0 for s in shape):
        raise RuntimeError(f"{layout_name(layout)} tensor size must be non-negative, got {shape}")
    for i in (0, 1):
        if shape[b + i] % block[i]:
            raise RuntimeError(
                f"tensor shape[{b + i}] (={shape[b + i]}) must be divisible with blocksize[{i}] "
                f"(={block[i]}) as defined by values shape"
            )
    row_major = layout in ROW_MAJOR
    ncomp = shape[b + (0 if row_major else 1)] // block[0 if row_major else 1]
    what = (
        ("rows" if row_major else "columns")
        if layout not in BLOCKED
        else ("row blocks" if row_major else "column blocks")
    )
    if c.shape[-1] != ncomp + 1:
        raise RuntimeError(
            f"{cn}.shape[-1] must be equal to the number of {what} + 1 (={ncomp + 1}), but got "
            f"{c.shape[-1]}"
        )


def c2_rows(c) -> int:
    """The number of batches of compressed indices ``c`` (1 when unbatched)."""
    return int(np.prod(c.shape[:-1], dtype=np.int64))


def _check_invariants(c, p, base, block, layout) -> None:
    """PyTorch's invariants of compressed indices (checked always; PyTorch checks them when
    ``check_invariants=True``)."""
    cn, pn = index_names(layout)
    row_major = layout in ROW_MAJOR
    nplain = base[1 if row_major else 0] // block[1 if row_major else 0]
    pl, nm = ("ncols", "nrows") if row_major else ("nrows", "ncols")
    nnz = p.shape[-1]
    c2, p2 = c.reshape(-1, c.shape[-1]), p.reshape(c2_rows(c), nnz)
    if c2.size and not (c2[:, 0] == 0).all():
        raise RuntimeError(f"`{cn}[..., 0] == 0` is not satisfied.")
    if c2.size and not (c2[:, -1] == nnz).all():
        raise RuntimeError(f"`{cn}[..., -1] == nnz` is not satisfied.")
    steps = np.diff(c2, axis=1)
    if ((steps < 0) | (steps > nplain)).any():
        raise RuntimeError(f"`0 <= {cn}[..., 1:] - {cn}[..., :-1] <= {pl}` is not satisfied.")
    if p2.size and ((p2 < 0) | (p2 >= nplain)).any():
        raise RuntimeError(f"`0 <= {pn} < {pl}` is not satisfied.")
    for row_c, row_p in zip(c2, p2):
        increasing = np.diff(row_p) > 0
        starts = np.zeros(max(nnz - 1, 0), dtype=bool)
        inner = row_c[1:-1]
        starts[inner[(inner > 0) & (inner < nnz)] - 1] = True
        if not (increasing | starts).all():
            raise RuntimeError(
                f"`{pn}[..., {cn}[..., i - 1]:{cn}[..., i]] for all i = 1, ..., {nm} are sorted "
                "and distinct along the last dimension values` is not satisfied."
            )


sparse_csr_tensor = _constructor(sparse_csr)
sparse_csc_tensor = _constructor(sparse_csc)
sparse_bsr_tensor = _constructor(sparse_bsr)
sparse_bsc_tensor = _constructor(sparse_bsc)


class check_sparse_tensor_invariants:  # noqa: N801 - PyTorch's spelling
    """``torch.sparse.check_sparse_tensor_invariants``: PyTorch's switch for checking the
    indices of new sparse tensors, as a context manager, decorator and ``enable()``/
    ``disable()``/``is_enabled()``. minigrad differs on purpose: its constructors always check
    (a bad index would otherwise give wrong results); the switch is kept so that programs
    using it run, and ``is_enabled()`` reports it as PyTorch's does.
    """

    _enabled = False

    def __init__(self, enable: bool = True):
        self.state, self.saved = bool(enable), None

    @staticmethod
    def is_enabled() -> bool:
        return check_sparse_tensor_invariants._enabled

    @staticmethod
    def enable() -> None:
        check_sparse_tensor_invariants._enabled = _core.invariants_set[0] = True

    @staticmethod
    def disable() -> None:
        check_sparse_tensor_invariants._enabled = False
        _core.invariants_set[0] = True

    def __enter__(self):
        self.saved = check_sparse_tensor_invariants._enabled
        check_sparse_tensor_invariants._enabled = self.state
        _core.invariants_set[0] = True  # (PyTorch's switch stays explicitly set on exit)
        return self

    def __exit__(self, *exc) -> None:
        check_sparse_tensor_invariants._enabled = self.saved

    def __call__(self, fn):
        @functools.wraps(fn)
        def run(*args, **kwargs):
            with check_sparse_tensor_invariants(self.state):
                return fn(*args, **kwargs)

        return run
