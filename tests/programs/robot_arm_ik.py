"""Forward and inverse kinematics of a planar 3-link arm and a 3-D arm by Denavit-Hartenberg
transforms (the "differentiable robotics" notebooks and ``pytorch_kinematics``'s style): FK
composes 4x4 homogeneous matrices built with ``torch.stack`` and chained ``@``; IK is solved
three ways from a batch of targets - plain gradient descent with Adam, damped least squares
with the Jacobian from ``torch.autograd.functional.jacobian`` (``vectorize=True``) and
``torch.linalg.solve``, and ``torch.optim.LBFGS`` with a strong-Wolfe line search and a closure.
Joint limits are enforced with ``clamp_`` under ``no_grad``; the manipulability
``sqrt(det(J J^T))`` and ``torch.linalg.svdvals`` of J report singular poses."""

import math

import torch

torch.set_default_dtype(torch.float64)
LINKS = torch.tensor([1.0, 0.8, 0.5])
LIMIT = math.pi * 0.9


def fk_planar(q):
    """(..., 3) joint angles -> (..., 2) end-effector position, by cumulative angles."""
    angles = torch.cumsum(q, dim=-1)
    x = (LINKS * torch.cos(angles)).sum(-1)
    y = (LINKS * torch.sin(angles)).sum(-1)
    return torch.stack([x, y], dim=-1)


def dh_matrix(theta, d, a, alpha):
    ct, st = torch.cos(theta), torch.sin(theta)
    ca, sa = math.cos(alpha), math.sin(alpha)
    zero, one = torch.zeros_like(theta), torch.ones_like(theta)
    rows = [
        torch.stack([ct, -st * ca, st * sa, a * ct], -1),
        torch.stack([st, ct * ca, -ct * sa, a * st], -1),
        torch.stack([zero, zero + sa, zero + ca, zero + d], -1),
        torch.stack([zero, zero, zero, one], -1),
    ]
    return torch.stack(rows, -2)


DH = [(0.3, 0.0, math.pi / 2), (0.0, 0.6, 0.0), (0.0, 0.5, 0.0)]


def fk_3d(q):
    T = torch.eye(4).expand(*q.shape[:-1], 4, 4)
    for i, (d, a, alpha) in enumerate(DH):
        T = T @ dh_matrix(q[..., i], d, a, alpha)
    return T[..., :3, 3]


torch.manual_seed(0)
q_true = (torch.rand(6, 3) - 0.5) * 2.0
targets = fk_planar(q_true)
q_start = torch.zeros(6, 3) + 0.1

# 1. gradient descent on the squared position error, all targets in one batch
q = q_start.clone().requires_grad_()
opt = torch.optim.Adam([q], lr=0.05)
adam_errors = []
for step in range(60):
    err = (fk_planar(q) - targets).pow(2).sum(-1)
    opt.zero_grad()
    err.sum().backward()
    opt.step()
    with torch.no_grad():
        q.clamp_(-LIMIT, LIMIT)
    if step % 10 == 9:
        adam_errors.append(err.max().item())

# 2. damped least squares (Levenberg-Marquardt) with the analytic Jacobian from autograd
q_dls = q_start[0].clone()
dls_errors = []
for it in range(8):
    J = torch.autograd.functional.jacobian(fk_planar, q_dls, vectorize=True)  # (2, 3)
    e = targets[0] - fk_planar(q_dls)
    dq = J.T @ torch.linalg.solve(J @ J.T + 1e-3 * torch.eye(2), e)
    q_dls = q_dls + dq
    dls_errors.append(e.norm().item())
manipulability = torch.sqrt(torch.det(J @ J.T)).item()
singular_values = torch.linalg.svdvals(J).tolist()
stretched_svals = torch.linalg.svdvals(
    torch.autograd.functional.jacobian(fk_planar, torch.zeros(3))
).tolist()  # a fully stretched arm loses a direction

# 3. LBFGS on the 3-D arm, with a closure
target_3d = fk_3d(torch.tensor([0.4, -0.3, 0.8]))
q3 = torch.zeros(3, requires_grad=True)
lbfgs = torch.optim.LBFGS([q3], lr=1, max_iter=30, line_search_fn="strong_wolfe")
closure_calls = 0


def closure():
    global closure_calls
    closure_calls += 1
    lbfgs.zero_grad()
    loss = (fk_3d(q3) - target_3d).pow(2).sum()
    loss.backward()
    return loss


lbfgs.step(closure)
lbfgs_error = (fk_3d(q3) - target_3d).norm().item()
lbfgs_n_iter = lbfgs.state[q3]["n_iter"]
reached_3d = fk_3d(q3).detach().tolist()
batch_3d = fk_3d(q_true).shape
rotation = torch.eye(4)
for d, a, alpha in DH:
    rotation = rotation @ dh_matrix(torch.tensor(0.2), d, a, alpha)
orthonormal_gap = (rotation[:3, :3] @ rotation[:3, :3].T - torch.eye(3)).abs().max().item()
torch.set_default_dtype(torch.float32)
