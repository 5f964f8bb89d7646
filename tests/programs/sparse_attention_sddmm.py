"""Sparse attention with PyTorch's sparse kernels, as the ``torch.sparse`` documentation's
examples combine them: ``torch.sparse.sampled_addmm`` computes the scores only at the positions
of a CSR pattern (SDDMM, a local causal window here), ``torch.sparse.softmax`` normalizes the
specified scores of each row (COO), ``torch.sparse.mm`` multiplies by the values; compared with
dense masked attention. Then a pruned weight matrix in CSR: gradients of ``torch.sparse.mm``
reaching the CSR operand (sparse, on its pattern) and the dense operand, ``torch.sparse.sum``,
``torch.sparse.addmm``, and the layouts of ``t()``, scaling, ``relu`` and ``to_sparse_bsr``."""

import torch

torch.manual_seed(2)
S, D, window = 12, 4, 3
q, k, v = torch.randn(S, D), torch.randn(S, D), torch.randn(S, D)
i, j = torch.arange(S)[:, None], torch.arange(S)[None, :]
allowed = (j <= i) & (i - j < window)
pattern = allowed.float().to_sparse_csr()
scores = torch.sparse.sampled_addmm(pattern, q, k.T / D**0.5, beta=0.0)
probs = torch.sparse.softmax(scores.to_sparse_coo(), dim=1)
out = torch.sparse.mm(probs, v)
dense_scores = (q @ k.T / D**0.5).masked_fill(~allowed, float("-inf"))
dense_out = torch.softmax(dense_scores, -1) @ v
attention = {
    "nnz": scores._nnz(),
    "crow": scores.crow_indices().tolist(),
    "layouts": [str(t.layout).split(".")[-1] for t in (scores, probs, out)],
    "gap": (out - dense_out).abs().max().item(),
    "row_sums": torch.sparse.sum(probs, 1).to_dense().tolist(),
    "sample": out[5].tolist(),
}

weight = torch.randn(6, 5)
weight = weight * (weight.abs() > 0.6)  # pruned
w_csr = weight.to_sparse_csr().requires_grad_()
x = torch.randn(5, 3, requires_grad=True)
y = torch.sparse.mm(w_csr, x)
(y * torch.arange(18.0).reshape(6, 3)).sum().backward()
dense_w = weight.clone().requires_grad_()
x2 = x.detach().clone().requires_grad_()
(dense_w @ x2 * torch.arange(18.0).reshape(6, 3)).sum().backward()
grads = {
    "w_layout": str(w_csr.grad.layout).split(".")[-1],
    "w_grad_nnz": w_csr.grad._nnz(),
    "w_grad_gap": (w_csr.grad.to_dense() - dense_w.grad * (weight != 0)).abs().max().item(),
    "x_grad_gap": (x.grad - x2.grad).abs().max().item(),
    "x_grad": x.grad.flatten().tolist(),
}
w = w_csr.detach()
layouts = {
    "t": str(w.t().layout).split(".")[-1],
    "scaled": str((w * 2).layout).split(".")[-1],
    "relu": str(w.relu().layout).split(".")[-1],
    "bsr": str(w.to_sparse_bsr((2, 1)).layout).split(".")[-1],
}
bias = torch.ones(6, 3)
addmm_gap = (torch.sparse.addmm(bias, w, x.detach()) - (bias + weight @ x.detach())).abs().max()
addmm_gap = addmm_gap.item()
row_sums = torch.sparse.sum(w.to_sparse_coo(), 1).to_dense().tolist()
