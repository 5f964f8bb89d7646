"""The MaskedTensor "distinguishing 0 and NaN gradient" issues: ``torch.where`` with a
``log``/``sqrt`` branch gives NaN gradients where the branch is masked out, the double-``where``
workaround fixes them, and a MaskedTensor gives masked (absent) gradients instead; a masked
softmax over padded scores leaves a fully masked row undefined instead of NaN."""

import warnings

import torch
from torch.masked import masked_tensor

warnings.filterwarnings("ignore")
x = torch.tensor([-10.0, -5, 0, 5, 10, 50, 60, 70, 80, 90, 100], requires_grad=True)
y = torch.where(x < 0, torch.exp(x), torch.ones_like(x))
y.sum().backward()
where_grad = x.grad.tolist()

x2 = torch.tensor([-4.0, -1, 0, 1, 4], requires_grad=True)
torch.where(x2 > 0, torch.sqrt(x2), torch.zeros_like(x2)).sum().backward()
sqrt_grad = x2.grad.tolist()  # NaN / inf where the unused branch blows up

x3 = torch.tensor([-4.0, -1, 0, 1, 4], requires_grad=True)
safe = torch.where(x3 > 0, x3, torch.ones_like(x3))
torch.where(x3 > 0, torch.sqrt(safe), torch.zeros_like(x3)).sum().backward()
double_where_grad = x3.grad.tolist()

data = torch.tensor([-4.0, -1, 0, 1, 4])
mask = data > 0
mx = masked_tensor(data, mask, requires_grad=True)
my = torch.sqrt(mx)
my.sum().backward()
masked_grad_data = [
    v if k else None for v, k in zip(mx.grad.get_data().tolist(), mx.grad.get_mask().tolist())
]
masked_grad_mask = mx.grad.get_mask().tolist()

scores = torch.tensor([[1.0, 2.0, 0.5, 0.0], [0.3, 0.1, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
valid = torch.tensor([[True, True, True, False], [True, True, False, False], [False] * 4])
plain = torch.softmax(scores.masked_fill(~valid, float("-inf")), dim=-1)
plain_row_nan = torch.isnan(plain[2]).all().item()
ms = torch.softmax(masked_tensor(scores, valid), dim=-1)
masked_rows = [
    [v if k else None for v, k in zip(r, m)]
    for r, m in zip(ms.get_data().tolist(), ms.get_mask().tolist())
]
