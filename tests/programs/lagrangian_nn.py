"""Lagrangian neural networks (Cranmer et al. 2020) as their PyTorch ports write them with
``torch.func``: an MLP learns a scalar L(q, q_dot); the acceleration is
``q_ddot = (d2L/dq_dot2)^-1 (dL/dq - d2L/(dq_dot dq) q_dot)`` with the Hessian from
``torch.func.hessian``, the gradient from ``torch.func.grad``, batched over states with
``torch.func.vmap``, the solve by ``torch.linalg.solve`` (and ``pinv`` compared with it); trained
on a double-well particle (a known Lagrangian, whose accelerations are also computed by the
same code to check it), then rolled out with a semi-implicit Euler step. ``jacrev`` of the
acceleration gives the flow's Jacobian, compared with ``jacfwd``."""

import numpy as np
import torch
import torch.nn as nn
from numpy_init import init_from_numpy
from torch.func import grad, hessian, jacfwd, jacrev, vmap


def true_lagrangian(state):
    q, qd = state[:2], state[2:]
    return 0.5 * (qd**2).sum() - (0.25 * q[0] ** 4 - 0.5 * q[0] ** 2 + 0.5 * q[1] ** 2)


class LNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(4, 32), nn.Softplus(), nn.Linear(32, 32), nn.Softplus(), nn.Linear(32, 1)
        )

    def forward(self, state):
        return self.net(state).squeeze(-1)


def acceleration(lagrangian, state):
    n = state.numel() // 2
    H = hessian(lagrangian)(state)
    g = grad(lagrangian)(state)
    mass, mixed = H[n:, n:], H[n:, :n]
    return torch.linalg.solve(mass, g[:n] - mixed @ state[n:])


rng = np.random.default_rng(0)
states = torch.from_numpy(rng.uniform(-1.5, 1.5, (96, 4)).astype(np.float32))
targets = vmap(lambda s: acceleration(true_lagrangian, s))(states)
analytic = torch.stack([states[:, 0] - states[:, 0] ** 3, -states[:, 1]], dim=1)
analytic_gap = (targets - analytic).abs().max().item()

model = init_from_numpy(LNN(), seed=1)
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
losses = []
for step in range(50):
    pred = vmap(lambda s: acceleration(model, s))(states)
    loss = (pred - targets).pow(2).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())

state = torch.tensor([0.5, 0.3, 0.0, 0.2])
with torch.no_grad():
    s = state.clone()
    trajectory = []
    for _ in range(20):
        a = acceleration(true_lagrangian, s)
        s = torch.cat([s[:2] + 0.05 * (s[2:] + 0.05 * a), s[2:] + 0.05 * a])
        trajectory.append(s[0].item())

H = hessian(true_lagrangian)(state)
mass = H[2:, 2:]
pinv_gap = (torch.linalg.pinv(mass) - torch.linalg.inv(mass)).abs().max().item()
jac_rev = jacrev(lambda s: acceleration(true_lagrangian, s))(state)
jac_fwd = jacfwd(lambda s: acceleration(true_lagrangian, s))(state)
jac_gap = (jac_rev - jac_fwd).abs().max().item()
jac_row = jac_rev[0].tolist()
hessian_shape = tuple(hessian(model)(state).shape)
