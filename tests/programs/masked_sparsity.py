"""The MaskedTensor sparsity tutorial: masked tensors over sparse COO and CSR data (built
from a dense MaskedTensor with ``to_sparse_coo``/``to_sparse_csr``, or from sparse data and a
sparse mask of one pattern, a specified ``False`` masking an element out), their layout
queries, elementwise unary and binary operations on the specified values, reductions over the
kept elements, and ``to_dense``."""

import torch
from torch.masked import masked_tensor


def show(mt):
    """The kept elements of a masked tensor as a nested list, None where masked out."""
    dense = mt.to_dense() if mt.is_sparse or mt.is_sparse_csr() else mt
    data, mask = dense.get_data().tolist(), dense.get_mask().tolist()
    return [[v if m else None for v, m in zip(r, k)] for r, k in zip(data, mask)]


values = torch.tensor([[0, 0, 3], [4, 0, 5]], dtype=torch.float32)
mask = torch.tensor([[False, False, True], [False, False, True]])
mt_dense = masked_tensor(values, mask)
mt_coo = mt_dense.to_sparse_coo()
mt_csr = mt_dense.to_sparse_csr()
layouts = [
    (mt.is_sparse, mt.is_sparse_coo(), mt.is_sparse_csr()) for mt in (mt_dense, mt_coo, mt_csr)
]
from_dense = [show(mt_coo), show(mt_csr)]
coo_nnz = mt_coo.get_data()._nnz()

i = [[0, 1, 1], [2, 0, 2]]
v = torch.tensor([3.0, 4.0, 5.0])
m = torch.tensor([True, False, True])
coo_values = torch.sparse_coo_tensor(i, v, (2, 3))
coo_mask = torch.sparse_coo_tensor(i, m, (2, 3))
mt = masked_tensor(coo_values, coo_mask)
coo_result = {
    "shown": show(mt),
    "sin": show(mt.sin()),
    "plus": show(mt + 3),
    "times": show(mt * mt),
    "div": show(mt / (mt + 1)),
    "sum": mt.sum().get_data().item(),
}

crow = torch.tensor([0, 2, 4])
col = torch.tensor([0, 1, 0, 1])
csr = torch.sparse_csr_tensor(crow, col, torch.tensor([1.0, 2.0, 3.0, 4.0]), dtype=torch.double)
csr_mask = torch.sparse_csr_tensor(crow, col, torch.tensor([True, False, False, True]))
mt2 = masked_tensor(csr, csr_mask)
csr_result = {
    "shown": show(mt2),
    "exp": show(mt2.exp()),
    "minus": show(mt2 - mt2 * 2),
    "pow": show(mt2.pow(2)),
    "dense_type": type(mt2.to_dense()).__name__,
    "dtype": str(mt2.dtype).split(".")[-1],
}
