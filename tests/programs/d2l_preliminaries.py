"""d2l.ai's chapter 2 ("Preliminaries") run top to bottom as a reader types it: tensor
creation and reshaping (``arange``, ``reshape(-1, 4)``, ``numel``, ``torch.randn``), operators
and broadcasting, ``id(Y)`` before and after ``Y = Y + X`` against ``Z[:] = X + Y`` and
``X += Y``, NumPy round trips (``X.numpy()``, ``torch.from_numpy``, ``float(a)``/``int(a)``),
linear algebra with NumPy-style keywords (``A.sum(axis=[0, 1])``, ``A.mean(axis=0)``,
``A / A.sum(axis=1, keepdims=True)``, ``A.cumsum(axis=0)``, ``torch.dot``/``torch.mv``/
``torch.mm``, ``torch.norm``), automatic differentiation (``x.grad.zero_()``,
``y.backward(gradient=torch.ones(len(y)))``, ``detach`` for a constant, gradients through
Python control flow), and probability: ``torch.distributions.multinomial.Multinomial``
samples, running frequency estimates by ``cumsum`` divided by ``sum(dim=1, keepdims=True)``,
and a hand-rolled data set of pixels loaded by ``pandas``-free ``torch.tensor(...)`` with the
missing entries filled with the column mean (``torch.nanmean(..., axis=0, keepdims=True)``)."""

import numpy as np
import torch
from torch.distributions import multinomial

torch.manual_seed(0)
x = torch.arange(12, dtype=torch.float32)
X = x.reshape(3, -1)
basics = [x.numel(), tuple(x.shape), tuple(X.shape), tuple(torch.zeros((2, 3, 4)).shape), len(X)]
R = torch.randn(3, 4)
x2 = torch.tensor([1.0, 2, 4, 8])
y2 = torch.tensor([2, 2, 2, 2])
operators = [
    (x2 + y2).tolist(),
    (x2 - y2).tolist(),
    (x2 * y2).tolist(),
    (x2 / y2).tolist(),
    (x2**y2).tolist(),
]
exp_x = torch.exp(x2).tolist()
Y = torch.tensor([[2.0, 1, 4, 3], [1, 2, 3, 4], [4, 3, 2, 1]])
concat_shapes = [tuple(torch.cat((X, Y), dim=0).shape), tuple(torch.cat((X, Y), dim=1).shape)]
equal = (X == Y).tolist()
a = torch.arange(3).reshape((3, 1))
b = torch.arange(2).reshape((1, 2))
broadcast = (a + b).tolist()
X[1, 2] = 17
X[:2, :] = 12
slices = [X[-1].tolist(), X[1:3].tolist()]

before = id(Y)
Y = Y + X
new_object = id(Y) != before
Z = torch.zeros_like(Y)
before = id(Z)
Z[:] = X + Y
same_after_slice = id(Z) == before
before = id(X)
X += Y
same_after_iadd = id(X) == before
A = X.numpy()
B = torch.from_numpy(A)
types = [type(A).__name__, type(B).__name__ == "Tensor"]
a = torch.tensor([3.5])
scalars = [a.item(), float(a), int(a)]

A = torch.arange(20, dtype=torch.float32).reshape(5, 4)
B = A.clone()
linalg = {
    "sum_axis0": A.sum(axis=0).tolist(),
    "sum_axes": A.sum(axis=[0, 1]).item(),
    "mean": A.mean().item(),
    "mean_axis0": A.mean(axis=0).tolist(),
    "normalised": (A / A.sum(axis=1, keepdims=True)).tolist(),
    "cumsum": A.cumsum(axis=0)[-1].tolist(),
    "hadamard": (A * B)[1].tolist(),
    "dot": torch.dot(torch.arange(4.0), torch.ones(4)).item(),
    "mv": torch.mv(A, torch.arange(4.0)).tolist(),
    "mm": torch.mm(A, torch.ones(4, 3)).tolist(),
    "l2": torch.norm(torch.tensor([3.0, -4.0])).item(),
    "l1": torch.abs(torch.tensor([3.0, -4.0])).sum().item(),
    "frobenius": torch.norm(torch.ones((4, 9))).item(),
    "keepdims_shape": tuple(A.sum(axis=1, keepdims=True).shape),
    "max_axis": A.max(axis=1, keepdims=True).values.flatten().tolist(),
}

x = torch.arange(4.0)
x.requires_grad_(True)
y = 2 * torch.dot(x, x)
y.backward()
grads = [x.grad.tolist(), (x.grad == 4 * x).tolist()]
x.grad.zero_()
y = x.sum()
y.backward()
grads.append(x.grad.tolist())
x.grad.zero_()
y = x * x
y.backward(gradient=torch.ones(len(y)))
grads.append(x.grad.tolist())
x.grad.zero_()
y = x * x
u = y.detach()
z = u * x
z.sum().backward()
grads.append((x.grad == u).tolist())
x.grad.zero_()
y.sum().backward()
grads.append((x.grad == 2 * x).tolist())


def f(a):
    b = a * 2
    while b.norm() < 1000:
        b = b * 2
    if b.sum() > 0:
        c = b
    else:
        c = 100 * b
    return c


a = torch.randn(size=(), requires_grad=True)
d = f(a)
d.backward()
control_flow = [a.grad.item(), bool(a.grad == d / a)]

fair_probs = torch.ones([6]) / 6
one_roll = multinomial.Multinomial(1, fair_probs).sample().tolist()
ten_rolls = multinomial.Multinomial(10, fair_probs).sample().tolist()
counts = multinomial.Multinomial(1000, fair_probs).sample()
frequencies = (counts / 1000).tolist()
counts = multinomial.Multinomial(10, fair_probs).sample((500,))
cum_counts = counts.cumsum(dim=0)
estimates = cum_counts / cum_counts.sum(dim=1, keepdims=True)
estimate_rows = estimates[[0, 9, 99, 499]].tolist()

rows = [
    [float("nan"), 1.0, 127500.0],
    [2.0, 0.0, 106000.0],
    [4.0, float("nan"), 178100.0],
    [float("nan"), float("nan"), 140000.0],
]
data = torch.tensor(rows)
inputs, outputs = data[:, :2], data[:, 2]
filled = torch.where(torch.isnan(inputs), torch.nanmean(inputs, axis=0, keepdims=True), inputs)
filled_rows = filled.tolist()
np_back = np.asarray(filled).sum(axis=0).tolist()
