"""pytorch/examples regression/main.py: fit a random degree-4 polynomial with a Linear layer on
features [x, x^2, x^3, x^4] built by ``torch.cat([x ** i for i in ...], 1)``; the loop uses
``smooth_l1_loss``, manual SGD updates ``param.add_(-lr * param.grad)`` and ``model.zero_grad()``,
and stops once the loss is small; the learned polynomial is printed with a string formatter."""

import numpy as np
import torch
import torch.nn.functional as F
from numpy_init import randn

POLY_DEGREE = 4
rng = np.random.default_rng(2)
W_target = randn(rng, POLY_DEGREE, 1) * 5
b_target = randn(rng, 1) * 5


def make_features(x):
    x = x.unsqueeze(1)
    return torch.cat([x**i for i in range(1, POLY_DEGREE + 1)], 1)


def f(x):
    return x.mm(W_target) + b_target.item()


def poly_desc(W, b):
    result = "y = "
    for i, w in enumerate(W):
        result += "{:+.2f} x^{} ".format(w, i + 1)
    result += "{:+.2f}".format(b[0])
    return result


def get_batch(batch_size=32):
    random = randn(rng, batch_size)
    x = make_features(random)
    return x, f(x)


fc = torch.nn.Linear(W_target.size(0), 1)
with torch.no_grad():
    fc.weight.zero_()
    fc.bias.zero_()
losses = []
for batch_idx in range(1, 400):
    batch_x, batch_y = get_batch()
    fc.zero_grad()
    output = F.smooth_l1_loss(fc(batch_x), batch_y)
    loss = output.item()
    output.backward()
    for param in fc.parameters():
        param.data.add_(-0.01 * param.grad)
    losses.append(loss)
    if loss < 1e-3:
        break
description = poly_desc(fc.weight.view(-1), fc.bias)
actual = poly_desc(W_target.view(-1), b_target)
batches = batch_idx
weight_error = (fc.weight.view(-1) - W_target.view(-1)).abs().max().item()
