"""Custom ``torch.autograd.Function``s that use the rest of ``ctx``: ``ctx.needs_input_grad``
to skip unneeded gradients, ``ctx.mark_non_differentiable`` on an integer output (a top-k
with its indices), ``ctx.mark_dirty`` for an in-place op, ``ctx.set_materialize_grads(False)``
with ``None`` incoming gradients, ``@once_differentiable``, non-tensor arguments, and
``gradcheck`` on each; then a small model trained through them."""

import numpy as np
import torch
import torch.nn as nn
from numpy_init import init_from_numpy, randn
from torch.autograd import Function, gradcheck
from torch.autograd.function import once_differentiable

rng = np.random.default_rng(5)
calls = {"weight_grad": 0, "input_grad": 0}


class LinearFunction(Function):
    @staticmethod
    def forward(ctx, input, weight, bias=None):
        ctx.save_for_backward(input, weight, bias)
        output = input.mm(weight.t())
        if bias is not None:
            output += bias.unsqueeze(0).expand_as(output)
        return output

    @staticmethod
    def backward(ctx, grad_output):
        input, weight, bias = ctx.saved_tensors
        grad_input = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            calls["input_grad"] += 1
            grad_input = grad_output.mm(weight)
        if ctx.needs_input_grad[1]:
            calls["weight_grad"] += 1
            grad_weight = grad_output.t().mm(input)
        if bias is not None and ctx.needs_input_grad[2]:
            grad_bias = grad_output.sum(0)
        return grad_input, grad_weight, grad_bias


class TopK(Function):
    """Values and indices of the k largest entries per row; only the values are differentiable."""

    @staticmethod
    def forward(ctx, x, k):
        values, indices = x.topk(k, dim=1)
        ctx.mark_non_differentiable(indices)
        ctx.save_for_backward(indices)
        ctx.shape = x.shape
        return values, indices

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_values, grad_indices):
        (indices,) = ctx.saved_tensors
        grad = torch.zeros(ctx.shape, dtype=grad_values.dtype)
        return grad.scatter(1, indices, grad_values), None


class ScaleInPlace(Function):
    @staticmethod
    def forward(ctx, x, scale):
        ctx.scale = scale
        x.mul_(scale)
        ctx.mark_dirty(x)
        return x

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * ctx.scale, None


class SplitHalves(Function):
    """Two outputs; the backward sees None for the one the loss did not use."""

    @staticmethod
    def forward(ctx, x):
        ctx.set_materialize_grads(False)
        a, b = x.chunk(2, dim=1)
        return a.clone(), b.clone()

    @staticmethod
    def backward(ctx, grad_a, grad_b):
        seen.append((grad_a is None, grad_b is None))
        if grad_a is None and grad_b is None:
            return None
        if grad_a is None:
            grad_a = torch.zeros_like(grad_b)
        if grad_b is None:
            grad_b = torch.zeros_like(grad_a)
        return torch.cat([grad_a, grad_b], dim=1)


seen = []
x64 = randn(rng, 4, 6).double().requires_grad_()
w64 = randn(rng, 3, 6).double().requires_grad_()
b64 = randn(rng, 3).double().requires_grad_()
checks = [
    gradcheck(LinearFunction.apply, (x64, w64, b64)),
    gradcheck(lambda t: TopK.apply(t, 2)[0], (x64,)),
    gradcheck(lambda t: ScaleInPlace.apply(t.clone(), 2.5), (x64,)),
    gradcheck(lambda t: SplitHalves.apply(t)[1], (x64,)),
]

values, indices = TopK.apply(x64, 3)
flags = [values.requires_grad, indices.requires_grad, indices.dtype == torch.int64]
try:
    TopK.apply(x64, 2)[0].sum().backward(create_graph=True)
    x64.grad.sum().backward()
    double_backward = "allowed"
except RuntimeError:
    double_backward = "refused"

frozen = torch.randn(2, 6, requires_grad=False)
calls.update(weight_grad=0, input_grad=0)
LinearFunction.apply(x64, frozen.double(), None).sum().backward()
calls_after_frozen = dict(calls)

leaf = randn(rng, 3, 4).requires_grad_()
out = ScaleInPlace.apply(leaf.clone(), 3.0)
dirty_version = out._version
out.sum().backward()
dirty_grad = leaf.grad.tolist()

seen.clear()
x = randn(rng, 2, 4).requires_grad_()
SplitHalves.apply(x)[0].sum().backward()
split_seen = list(seen)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.w1 = nn.Parameter(torch.empty(16, 8))
        self.b1 = nn.Parameter(torch.zeros(16))
        self.head = nn.Linear(4, 3)

    def forward(self, x):
        h = torch.tanh(LinearFunction.apply(x, self.w1, self.b1))
        top, _ = TopK.apply(h, 4)
        return self.head(top)


net = init_from_numpy(Net(), seed=5)
data = randn(rng, 64, 8)
target = torch.from_numpy(rng.integers(0, 3, 64))
optimizer = torch.optim.SGD(net.parameters(), lr=0.2, momentum=0.9)
losses = []
for step in range(30):
    loss = nn.functional.cross_entropy(net(data), target)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
print(
    f"gradchecks {checks}; double backward {double_backward}; loss {losses[0]:.3f} -> {losses[-1]:.3f}"
)
