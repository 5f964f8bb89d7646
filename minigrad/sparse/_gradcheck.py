"""``minigrad.sparse.as_sparse_gradcheck``: a gradcheck of functions of sparse tensors run on
strided tensors only, as ``torch.sparse.as_sparse_gradcheck``."""

from __future__ import annotations

import functools

from .. import dtypes
from .._sparse_compressed import sparse_csc, sparse_csr
from .._sparse_coo import sparse_coo
from ..autograd.gradcheck import _as_inputs, _is_sparse, _sparse_through_values, dense_results
from ..creation import ones
from ._core import sparse_coo_tensor

_CONVERT = {sparse_csr: "to_sparse_csr", sparse_csc: "to_sparse_csc"}


def as_sparse_gradcheck(gradcheck):
    """Wrap ``gradcheck`` (``minigrad.autograd.gradcheck`` or a ``functools.partial`` of it) so
    that it checks functions taking or returning sparse tensors: each sparse input that
    requires grad is checked through a strided tensor (its dense form; with ``masked=True``
    its specified values only) that the function gets back in its layout, and sparse outputs
    are compared in their dense form.

    Example:
        >>> gradcheck = minigrad.sparse.as_sparse_gradcheck(minigrad.autograd.gradcheck)
        >>> x = minigrad.tensor([[0.0, 1.0]], dtype=minigrad.float64).to_sparse()
        >>> gradcheck(lambda x: x.to_sparse_csr(), x.requires_grad_())
        True
    """

    @functools.wraps(gradcheck)
    def gradcheck_with_sparse_support(func, inputs, **kwargs):
        masked = kwargs.pop("masked", False)
        through = _sparse_through_values if masked else _through_dense
        func, inputs = through(func, _as_inputs(inputs))
        return gradcheck(func, inputs, **kwargs)

    return gradcheck_with_sparse_support


def _through_dense(func, inputs: tuple):
    """``(func, inputs)`` with each sparse input that requires grad replaced by a dense leaf,
    which ``func`` gets back as a sparse tensor specifying every element (so that the
    derivative with respect to unspecified elements is checked too, as PyTorch's unmasked
    semantics)."""
    layouts, leaves = {}, list(inputs)
    for i, x in enumerate(inputs):
        if _is_sparse(x) and x.requires_grad:
            if x.layout is not sparse_coo and (x.layout not in _CONVERT or x.ndim != 2):
                raise NotImplementedError(
                    f"as_sparse_gradcheck: an unmasked {x.layout} input of {x.ndim} dims (only "
                    "COO and 2-D CSR/CSC are supported); pass masked=True to check its "
                    "specified values"
                )
            layouts[i] = (x.layout, x.sparse_dim(), tuple(x.shape))
            leaves[i] = x.to_dense().detach().requires_grad_()

    def restored(*args):
        args = list(args)
        for i, (layout, sparse_dim, shape) in layouts.items():
            every = ones(shape[:sparse_dim], dtype=dtypes.bool).nonzero().T
            values = args[i].reshape(-1, *shape[sparse_dim:])
            full = sparse_coo_tensor(every, values, shape, check_invariants=False)
            args[i] = full if layout is sparse_coo else getattr(full, _CONVERT[layout])()
        return dense_results(func(*args))

    return restored, tuple(leaves)
