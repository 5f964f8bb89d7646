"""``sparse.spdiags``: a sparse matrix from diagonals, as ``torch.sparse.spdiags``."""

from __future__ import annotations

import numpy as np

from .. import backend
from .._sparse_coo import sparse_coo
from ..ops.indexing import GetItem
from ..tensor import Tensor
from . import _core


def spdiags(diagonals: Tensor, offsets: Tensor, shape, layout=None) -> Tensor:
    """The ``shape`` matrix holding row ``i`` of ``diagonals`` on diagonal ``offsets[i]``
    (0 the main one, positive above it): entry ``(r, c)`` on diagonal ``c - r = k`` takes
    ``diagonals[i, c]``, as SciPy's and PyTorch's ``spdiags``. A COO result lists the entries
    diagonal by diagonal, in the order of ``offsets``, uncoalesced (as PyTorch's).

    Args:
        diagonals: (number of diagonals, length) values; gradients reach them.
        offsets: one int64 offset per row of ``diagonals``, no repeats.
        shape: (rows, columns) of the result.
        layout: None or ``minigrad.sparse_coo`` (COO), ``sparse_csr`` or ``sparse_csc``.

    Example:
        >>> minigrad.sparse.spdiags(minigrad.ones(2, 3), minigrad.tensor([0, 1]), (3, 3))
    """
    if diagonals.dim() != 2 or offsets.dim() != 1:
        raise RuntimeError(
            f"spdiags: expected 2-D diagonals and 1-D offsets, got shapes "
            f"{list(diagonals.shape)} and {list(offsets.shape)}"
        )
    if len(offsets) != diagonals.shape[0]:
        raise RuntimeError(
            f"Number of diagonals ({diagonals.shape[0]}) does not match the number of offsets "
            f"({len(offsets)})"
        )
    rows, cols = (int(n) for n in shape)
    ks = [int(k) for k in offsets.tolist()]
    if len(set(ks)) != len(ks):
        raise RuntimeError(f"spdiags: offsets must be unique, got {ks}")
    length = diagonals.shape[1]
    picks, coords = [], []
    for i, k in enumerate(ks):
        c = np.arange(max(k, 0), min(rows + k, cols, length))
        picks.append(np.stack([np.full_like(c, i), c]))
        coords.append(np.stack([c - k, c]))
    picks, coords = np.concatenate(picks, axis=1), np.concatenate(coords, axis=1)
    device = diagonals.device
    key = tuple(backend.to_device(p, backend.CPU, device) for p in picks)
    indices = backend.to_device(coords.astype(np.int64), backend.CPU, device)
    # in the order of the diagonals, uncoalesced as PyTorch's (unless at most one entry)
    out = _core.make(indices, GetItem(key)(diagonals), (rows, cols), coords.shape[1] <= 1)
    if layout is None or layout is sparse_coo:
        return out
    return out.to_sparse(layout=layout)
