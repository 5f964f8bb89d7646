"""A deep equilibrium layer (Bai et al.; the implicit-layers tutorial's DEQFixedPoint): the
forward solves ``z = f(z, x)`` by fixed-point iteration under ``torch.no_grad``, re-engages
autograd with one more ``f`` call, and makes the backward implicit by a ``register_hook`` on
the output that solves ``g = J^T g + grad`` with ``torch.autograd.grad`` (``retain_graph``)
through a detached copy of the fixed point; the gradients are checked against unrolled
differentiation of many iterations."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy, randn

rng = np.random.default_rng(61)


class TanhCell(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.linear = nn.Linear(n, n, bias=False)

    def forward(self, z, x):
        return torch.tanh(self.linear(z) + x)


def fixed_point(f, x0, max_iter=80, tol=1e-6):
    z = x0
    for k in range(max_iter):
        z_next = f(z)
        res = (z_next - z).norm().item() / (1e-5 + z_next.norm().item())
        z = z_next
        if res < tol:
            break
    return z, k + 1, res


class DEQFixedPoint(nn.Module):
    def __init__(self, f, tol=1e-6, max_iter=80):
        super().__init__()
        self.f, self.tol, self.max_iter = f, tol, max_iter
        self.forward_iters, self.backward_iters = [], []

    def forward(self, x):
        with torch.no_grad():
            z, iters, _ = fixed_point(
                lambda z: self.f(z, x), torch.zeros_like(x), self.max_iter, self.tol
            )
        self.forward_iters.append(iters)
        z = self.f(z, x)
        z0 = z.clone().detach().requires_grad_()
        f0 = self.f(z0, x)

        def backward_hook(grad):
            g, iters, _ = fixed_point(
                lambda y: torch.autograd.grad(f0, z0, y, retain_graph=True)[0] + grad,
                grad,
                self.max_iter,
                self.tol,
            )
            self.backward_iters.append(iters)
            return g

        if z.requires_grad:
            z.register_hook(backward_hook)
        return z


width = 8
cell = init_from_numpy(TanhCell(width), seed=61)
with torch.no_grad():
    cell.linear.weight.mul_(0.5)  # a contraction: the fixed point exists and is unique
deq = DEQFixedPoint(cell)
x = randn(rng, 5, width)
target = randn(rng, 5, width) * 0.5

loss = F.mse_loss(deq(x), target)
loss.backward()
implicit_grad = cell.linear.weight.grad.clone()
cell.zero_grad()
z = torch.zeros_like(x)
for _ in range(80):
    z = cell(z, x)
F.mse_loss(z, target).backward()
unrolled_grad = cell.linear.weight.grad.clone()
grad_gap = (implicit_grad - unrolled_grad).abs().max().item()

model = nn.Sequential(
    nn.Linear(4, width),
    DEQFixedPoint(init_from_numpy(TanhCell(width), seed=62)),
    nn.Linear(width, 3),
)
init_from_numpy(model[0], seed=63)
init_from_numpy(model[2], seed=64)
with torch.no_grad():
    model[1].f.linear.weight.mul_(0.5)
inputs = randn(rng, 96, 4)
labels = (inputs[:, 0] > 0).long() + (inputs[:, 1] > 0.5).long()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
losses = []
for step in range(25):
    loss = F.cross_entropy(model(inputs), labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
iterations = (model[1].forward_iters[:5], model[1].backward_iters[:5])
print(f"implicit vs unrolled gradient gap {grad_gap:.2e}; loss {losses[0]:.3f} -> {losses[-1]:.3f}")
