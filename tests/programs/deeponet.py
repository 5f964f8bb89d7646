"""DeepONet (Lu et al. 2021) as the DeepXDE-style PyTorch scripts write it: learn the
antiderivative operator G(u)(y) = integral_0^y u(s) ds from input functions u sampled at fixed
sensors. A branch net encodes u(sensors), a trunk net encodes the query point y, and the output
is their dot product ``torch.einsum("bp,np->bn", branch, trunk) + bias``; input functions are
drawn from a Gaussian process (covariance built with ``torch.cdist`` and sampled through
``torch.linalg.cholesky``), targets made by ``torch.cumulative_trapezoid``; trained with Adam and
a ``CosineAnnealingLR``, then tested on new functions (relative L2 error) and on u = cos(pi y),
whose antiderivative is sin(pi y) / pi."""

import math

import numpy as np
import torch
import torch.nn as nn
from numpy_init import init_from_numpy, randn

N_SENSORS, P = 24, 16
sensors = torch.linspace(0, 1, N_SENSORS)


def gp_functions(rng, n, length_scale=0.2):
    cov = torch.exp(-0.5 * torch.cdist(sensors[:, None], sensors[:, None]) ** 2 / length_scale**2)
    chol = torch.linalg.cholesky(cov + 1e-4 * torch.eye(N_SENSORS))
    return randn(rng, n, N_SENSORS) @ chol.T


def mlp(sizes):
    layers = []
    for a, b in zip(sizes, sizes[1:]):
        layers += [nn.Linear(a, b), nn.Tanh()]
    return nn.Sequential(*layers[:-1])


class DeepONet(nn.Module):
    def __init__(self):
        super().__init__()
        self.branch = mlp([N_SENSORS, 40, 40, P])
        self.trunk = mlp([1, 40, 40, P])
        self.trunk.append(nn.Tanh())
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, u, y):
        return torch.einsum("bp,np->bn", self.branch(u), self.trunk(y)) + self.bias


rng = np.random.default_rng(0)
u_train = gp_functions(rng, 128)
s_train = torch.cumulative_trapezoid(u_train, sensors, dim=1)
s_train = torch.cat([torch.zeros(128, 1), s_train], dim=1)
y_query = sensors[:, None]

model = init_from_numpy(DeepONet(), seed=1)
optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=300, eta_min=1e-4)
losses = []
for step in range(300):
    batch = torch.arange(step * 32, step * 32 + 32) % 128
    loss = nn.functional.mse_loss(model(u_train[batch], y_query), s_train[batch])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    scheduler.step()
    losses.append(loss.item())

u_test = gp_functions(rng, 32)
s_test = torch.cat([torch.zeros(32, 1), torch.cumulative_trapezoid(u_test, sensors, dim=1)], 1)
with torch.no_grad():
    pred = model(u_test, y_query)
    rel_l2 = (
        (torch.linalg.vector_norm(pred - s_test, dim=1) / torch.linalg.vector_norm(s_test, dim=1))
        .mean()
        .item()
    )
    cos_pred = model(torch.cos(math.pi * sensors)[None], y_query)[0]
cos_target = torch.sin(math.pi * sensors) / math.pi
cos_error = (cos_pred - cos_target).abs().max().item()
trapezoid_check = torch.trapezoid(torch.cos(sensors), sensors).item()
last_lr = scheduler.get_last_lr()[0]
pred_sample = pred[0, ::6].tolist()
