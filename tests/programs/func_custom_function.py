"""A custom op written for ``torch.func`` (the "Extending torch.func with autograd.Function"
tutorial): a numerically stable ``LogCosh`` in PyTorch 2's form, ``forward(x)`` without
``ctx`` and ``setup_context(ctx, inputs, output)``, with a ``vmap`` staticmethod, used inside a
model trained with per-sample gradients from ``vmap(grad(...))`` over ``functional_call``,
gradient clipping per sample (DP-SGD style), ``jacrev`` of the op checked against its closed
form, and ``torch.autograd.gradcheck`` in float64."""

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy, randn
from torch.func import functional_call, grad, jacrev, vmap

rng = np.random.default_rng(261)


class LogCosh(torch.autograd.Function):
    @staticmethod
    def forward(x):
        return x.abs() + F.softplus(-2 * x.abs()) - math.log(2.0)

    @staticmethod
    def setup_context(ctx, inputs, output):
        (x,) = inputs
        ctx.save_for_backward(x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * torch.tanh(x)

    @staticmethod
    def vmap(info, in_dims, x):
        return LogCosh.apply(x), in_dims[0]


class Regressor(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 16)
        self.fc2 = nn.Linear(16, 1)

    def forward(self, x):
        return self.fc2(torch.tanh(self.fc1(x)))


model = init_from_numpy(Regressor(), seed=261)
x = randn(rng, 64, 4)
y = (x[:, :1] * 2 - x[:, 1:2]) + 0.3 * randn(rng, 64, 1)
y[::9] += 4.0  # outliers: log-cosh is robust to them


def sample_loss(params, xi, yi):
    pred = functional_call(model, params, (xi.unsqueeze(0),))
    return LogCosh.apply(pred - yi.unsqueeze(0)).mean()


per_sample_grad = vmap(grad(sample_loss), in_dims=(None, 0, 0))
params = {k: v.detach() for k, v in model.named_parameters()}
clip, lr, noise_std = 1.0, 0.2, 0.05
losses, clipped_fraction = [], []
for step in range(20):
    grads = per_sample_grad(params, x, y)
    norms = torch.sqrt(sum(g.pow(2).flatten(1).sum(1) for g in grads.values()))
    factor = (clip / (norms + 1e-6)).clamp(max=1.0)
    clipped_fraction.append((norms > clip).float().mean().item())
    noise = {
        k: torch.from_numpy(rng.normal(0, noise_std, tuple(v.shape)).astype(np.float32))
        for k, v in params.items()
    }
    params = {
        k: v - lr * ((grads[k] * factor.view(-1, *[1] * (grads[k].dim() - 1))).mean(0) + noise[k])
        for k, v in params.items()
    }
    with torch.no_grad():
        losses.append(LogCosh.apply(functional_call(model, params, (x,)) - y).mean().item())

t = torch.linspace(-3, 3, 7)
jac = jacrev(LogCosh.apply)(t)
jac_gap = (jac.diagonal() - torch.tanh(t)).abs().max().item()
off_diagonal = (jac - torch.diag(jac.diagonal())).abs().max().item()
x64 = randn(rng, 5).double().requires_grad_()
check = torch.autograd.gradcheck(LogCosh.apply, (x64,))
values = LogCosh.apply(torch.tensor([-30.0, -1.0, 0.0, 2.0, 50.0])).tolist()
manual = (torch.log(torch.cosh(torch.tensor([-1.0, 0.0, 2.0])))).tolist()
with torch.no_grad():
    mse = F.mse_loss(functional_call(model, params, (x,)), y).item()
print(
    f"log-cosh loss {losses[0]:.3f} -> {losses[-1]:.3f}; jacobian gap {jac_gap:.1e}; gradcheck {check}"
)
