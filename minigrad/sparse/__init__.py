"""``minigrad.sparse``: sparse COO tensors, as ``torch.sparse``.

A sparse tensor is a :class:`~minigrad.Tensor` with ``layout == minigrad.sparse_coo`` whose
storage is its indices and values (see :mod:`minigrad._sparse_coo`). Make one with
:func:`minigrad.sparse_coo_tensor` or ``Tensor.to_sparse()``; multiply it with a dense matrix
with :func:`mm` (or ``minigrad.spmm``, ``minigrad.mm``, ``@``). Gradients flow to the values
and to dense operands; ``nn.Embedding(sparse=True)`` gives sparse gradients, which ``optim.SGD``,
``optim.Adagrad`` and ``optim.SparseAdam`` take. Ops without a sparse rule refuse sparse inputs
by name, as PyTorch's do.
"""

from .. import dtypes
from . import _tensor
from ._core import legacy_constructor, sparse_coo_tensor, to_sparse
from ._functions import log_softmax, softmax, spmm, sum

# isort: split
# -- branch sparse2: the compressed layouts (CSR, CSC, BSR, BSC) and sparse x sparse products
from . import _compressed_tensor, _resize
from ._compressed import to_dense
from ._compressed_mm import addmm, mm
from ._construct import (
    check_sparse_tensor_invariants,
    sparse_bsc_tensor,
    sparse_bsr_tensor,
    sparse_compressed_tensor,
    sparse_csc_tensor,
    sparse_csr_tensor,
)
from ._masked import hspmm, sampled_addmm, smm, sspaddmm
from ._semi_structured import to_sparse_semi_structured
from ._spdiags import spdiags

# isort: split
# -- branch docs13: gradcheck of functions of sparse tensors
from ._gradcheck import as_sparse_gradcheck

# Old programs' constructors (``torch.sparse.FloatTensor(indices, values, size)``)
FloatTensor = legacy_constructor(dtypes.float32)
DoubleTensor = legacy_constructor(dtypes.float64)
LongTensor = legacy_constructor(dtypes.int64)

__all__ = [
    "addmm", "log_softmax", "mm", "softmax", "sparse_coo_tensor", "spmm", "sum", "to_dense",
    "to_sparse", "FloatTensor", "DoubleTensor", "LongTensor", "sparse_compressed_tensor",
    "sparse_csr_tensor", "sparse_csc_tensor", "sparse_bsr_tensor", "sparse_bsc_tensor",
    "sampled_addmm", "check_sparse_tensor_invariants", "spdiags", "as_sparse_gradcheck",
    "to_sparse_semi_structured",
]  # fmt: skip
