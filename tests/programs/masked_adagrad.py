"""The MaskedTensor Adagrad tutorial: one step of sparse Adagrad written the way
``torch.optim.Adagrad`` does it for sparse COO gradients (``coalesce``, ``_indices``,
``_values``, ``sparse_mask``), and again with ``torch.masked.masked_tensor`` (mask from the
gradient's specified entries, ``pow``/``sqrt``/``add``/division on masked values, ``get_data``);
both against the dense ``torch.optim.Adagrad`` run on the same gradients over a few steps."""

import torch
from torch.masked import masked_tensor

i = [[0, 1, 1], [2, 0, 2]]
v = [3.0, 4.0, 5.0]
grad = torch.sparse_coo_tensor(i, v, [2, 4], dtype=torch.float32)
param = torch.sparse_coo_tensor(i, v, [2, 4], dtype=torch.float32)
state_sum = torch.full_like(param.to_dense(), 0.5)  # initial accumulator
lr, eps = 0.01, 1e-10


def _make_sparse(grad, grad_indices, values):
    size = grad.size()
    return torch.sparse_coo_tensor(grad_indices, values, size)


# the sparse implementation of torch.optim.Adagrad (sparse gradient, dense state)
grad = grad.coalesce()
grad_indices = grad._indices()
grad_values = grad._values()
state_sum.add_(_make_sparse(grad, grad_indices, grad_values.pow(2)).to_dense())
std = state_sum.sparse_mask(grad)
std_values = std._values().sqrt_().add_(eps)
param = param.to_dense().add_(
    _make_sparse(grad, grad_indices, grad_values / std_values).to_dense(), alpha=-lr
)
sparse_state = state_sum.tolist()
sparse_param = param.tolist()

# the MaskedTensor version: the mask says which entries the gradient specifies
param2 = torch.sparse_coo_tensor(i, v, [2, 4], dtype=torch.float32).to_dense()
state_sum2 = torch.full_like(param2, 0.5)
mask = (grad.to_dense() != 0).to_sparse()
masked_grad = masked_tensor(grad, mask)
state_sum2 = state_sum2 + masked_grad.pow(2).get_data().to_dense()
std2 = masked_tensor(state_sum2.to_sparse(), mask)
std2 = std2.sqrt().add(eps)
update = (masked_grad / std2).get_data()
param2 = param2.add(update.to_dense(), alpha=-lr)
masked_state = state_sum2.tolist()
masked_param = param2.tolist()
masked_layout = str(update.layout)
update_nnz = update._nnz()

# reference: dense Adagrad on a few steps of gradients with zeros
weights = torch.nn.Parameter(torch.tensor(v + [1.0, -2.0]))
opt = torch.optim.Adagrad([weights], lr=lr, initial_accumulator_value=0.5, eps=eps)
manual = weights.detach().clone()
acc = torch.full_like(manual, 0.5)
steps = [torch.tensor([1.0, 0.0, 2.0, 0.0, -1.0]), torch.tensor([0.0, 3.0, 0.0, 0.0, 0.5])]
for g in steps:
    weights.grad = g.clone()
    opt.step()
    m = masked_tensor(g, g != 0)
    acc = acc + m.pow(2).to_tensor(0.0)
    step = (m / masked_tensor(acc, g != 0).sqrt().add(eps)).to_tensor(0.0)
    manual = manual - lr * step
adagrad_values = weights.detach().tolist()
manual_values = manual.tolist()
