"""Block-sparse weights as in the pruning / block-sparse kernel blog posts: a linear layer's
weight pruned to keep the strongest 2x2 blocks, stored as BSR (``to_sparse_bsr``) and CSC
(``to_sparse_csc``), with ``crow_indices``/``ccol_indices``/``row_indices`` checked, the sparse
matmuls matching the dense masked weight, and a masked-dense fine-tuning loop."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy, randn

rng = np.random.default_rng(11)
layer = init_from_numpy(nn.Linear(8, 6), seed=11)
w = layer.weight.detach()
block_norms = w.reshape(3, 2, 4, 2).pow(2).sum((1, 3))
keep = block_norms >= block_norms.flatten().kthvalue(7).values
block_mask = keep.repeat_interleave(2, 0).repeat_interleave(2, 1)
pruned = w * block_mask
bsr = pruned.to_sparse_bsr((2, 2))
bsr_info = {
    "crow": bsr.crow_indices().tolist(),
    "col": bsr.col_indices().tolist(),
    "values_shape": list(bsr.values().shape),
}
csc = pruned.to_sparse_csc()
csc_info = {"ccol": csc.ccol_indices().tolist(), "row": csc.row_indices().tolist()}
csr = pruned.to_sparse_csr()
x = randn(rng, 5, 8)
dense_out = x @ pruned.t()
bsr_gap = (bsr.to_dense() - pruned).abs().max().item()
csr_mm_gap = (torch.sparse.mm(csr, x.t()).t() - dense_out).abs().max().item()
csc_mm_gap = ((csc @ x.t()).t() - dense_out).abs().max().item()
kept_fraction = block_mask.float().mean().item()

with torch.no_grad():
    layer.weight.mul_(block_mask)
target = randn(rng, 5, 6)
opt = torch.optim.SGD(layer.parameters(), lr=0.1)
losses = []
for _ in range(10):
    opt.zero_grad()
    loss = F.mse_loss(layer(x), target)
    loss.backward()
    layer.weight.grad.mul_(block_mask)
    opt.step()
    losses.append(loss.item())
still_sparse = bool((layer.weight.detach()[~block_mask] == 0).all())
final_bsr_nnz_blocks = layer.weight.detach().to_sparse_bsr((2, 2)).values().shape[0]
