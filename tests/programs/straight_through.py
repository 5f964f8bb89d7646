"""Straight-through estimators as quantization and binarization code writes them: a custom
torch.autograd.Function whose backward passes the gradient through where |x| <= 1
(BinaryConnect / XNOR-Net style sign), the detach trick x + (q(x) - x).detach() for
fake-quantizing activations to 8 levels, a Function that marks an output non-differentiable
(ctx.mark_non_differentiable) and a once_differentiable backward; a binarized MLP trains on a
linearly separable task."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy, randn
from torch.autograd.function import once_differentiable


class BinarizeSTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return torch.where(input >= 0, torch.ones_like(input), -torch.ones_like(input))

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        (input,) = ctx.saved_tensors
        grad_input = grad_output.clone()
        grad_input[input.abs() > 1] = 0
        return grad_input


class SortWithIndices(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        values, indices = x.sort(dim=-1)
        ctx.mark_non_differentiable(indices)
        ctx.save_for_backward(indices)
        return values, indices

    @staticmethod
    def backward(ctx, grad_values, grad_indices):
        (indices,) = ctx.saved_tensors
        return torch.zeros_like(grad_values).scatter(-1, indices, grad_values)


def fake_quantize(x, levels=8):
    q = torch.round(x.clamp(0, 1) * (levels - 1)) / (levels - 1)
    return x + (q - x).detach()


class BinaryLinear(nn.Linear):
    def forward(self, input):
        return F.linear(input, BinarizeSTE.apply(self.weight), self.bias)


rng = np.random.default_rng(0)
x = randn(rng, 256, 10)
y = (x[:, :5].sum(1) > x[:, 5:].sum(1)).long()
model = init_from_numpy(
    nn.Sequential(BinaryLinear(10, 32), nn.BatchNorm1d(32), nn.Sigmoid(), nn.Linear(32, 2))
)
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
losses = []
for step in range(40):
    optimizer.zero_grad()
    hidden = fake_quantize(model[2](model[1](model[0](x))))
    loss = F.cross_entropy(model[3](hidden), y)
    loss.backward()
    optimizer.step()
    with torch.no_grad():
        model[0].weight.clamp_(-1, 1)  # BinaryConnect keeps the real-valued weights in [-1, 1]
    losses.append(loss.item())
print(f"binarized MLP loss {losses[0]:.4f} -> {losses[-1]:.4f}")
model.eval()
with torch.no_grad():
    accuracy = (
        (model[3](fake_quantize(model[2](model[1](model[0](x))))).argmax(1) == y)
        .float()
        .mean()
        .item()
    )
binary_weights = BinarizeSTE.apply(model[0].weight).unique().tolist()
print(f"accuracy {accuracy:.3f}; binary weights take the values {binary_weights}")

# the straight-through gradients, checked by hand
w = torch.tensor([-2.0, -0.5, 0.3, 1.5], requires_grad=True)
BinarizeSTE.apply(w).mul(torch.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
ste_grad = w.grad.tolist()
a = torch.tensor([0.1, 0.5, 0.93, 1.2], requires_grad=True)
quantized = fake_quantize(a)
quantized.sum().backward()
quantized_values, quantize_grad = quantized.tolist(), a.grad.tolist()
s = torch.tensor([[3.0, 1.0, 2.0]], requires_grad=True)
values, indices = SortWithIndices.apply(s)
(values * torch.tensor([[10.0, 20.0, 30.0]])).sum().backward()
sort_grad, indices_requires_grad = s.grad.tolist(), indices.requires_grad
print(f"STE grad {ste_grad}, fake-quantized {quantized_values}, sort grad {sort_grad}")
