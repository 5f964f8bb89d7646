"""A differentiable PDE solver for an inverse problem, as scientific-ML scripts write it in
PyTorch: the 1-D heat equation ``u_t = (k(x) u_x)_x`` stepped by implicit Euler, its matrix
assembled from ``torch.diag`` with offsets (and ``torch.diag_embed`` for the batched form),
each step a ``torch.linalg.solve``; the unknown conductivity profile ``k(x) = softplus(theta)``
is recovered from noisy observations of the temperature by backpropagating through all the
solves (Adam, then a few L-BFGS iterations with ``line_search_fn="strong_wolfe"``), and the
solver's gradient is verified by ``torch.autograd.gradcheck`` in float64."""

import numpy as np
import torch
import torch.nn.functional as F

N, STEPS, DT = 16, 12, 0.01
DX = 1.0 / (N + 1)


def system_matrix(k):
    """I - dt * D^T diag(k) D for the Dirichlet Laplacian with conductivity on the N+1 faces."""
    main = k[:-1] + k[1:]
    off = -k[1:-1]
    lap = torch.diag(main) + torch.diag(off, 1) + torch.diag(off, -1)
    return torch.eye(N, dtype=k.dtype) + DT / DX**2 * lap


def solve_heat(k, u0):
    A = system_matrix(k)
    u, history = u0, []
    for _ in range(STEPS):
        u = torch.linalg.solve(A, u)
        history.append(u)
    return torch.stack(history)


x_faces = torch.linspace(0, 1, N + 1)
x_nodes = torch.linspace(DX, 1 - DX, N)
true_k = 0.5 + 0.4 * torch.sin(torch.pi * x_faces) ** 2
u0 = torch.exp(-((x_nodes - 0.5) ** 2) / 0.02)
rng = np.random.default_rng(0)
observed = solve_heat(true_k, u0) + torch.from_numpy(
    rng.normal(0, 1e-3, (STEPS, N)).astype(np.float32)
)

theta = torch.nn.Parameter(torch.zeros(N + 1))
optimizer = torch.optim.Adam([theta], lr=0.05)
losses = []
for step in range(60):
    loss = (
        F.mse_loss(solve_heat(F.softplus(theta), u0), observed) + 1e-5 * theta.diff().pow(2).sum()
    )
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())

lbfgs = torch.optim.LBFGS([theta], lr=1.0, max_iter=10, line_search_fn="strong_wolfe")


def closure():
    lbfgs.zero_grad()
    loss = (
        F.mse_loss(solve_heat(F.softplus(theta), u0), observed) + 1e-5 * theta.diff().pow(2).sum()
    )
    loss.backward()
    return loss


lbfgs_loss = lbfgs.step(closure).item()
final_loss = closure().item()
recovered = F.softplus(theta).detach()
k_error = (recovered - true_k)[2:-2].abs().max().item()
lbfgs_state_keys = sorted(lbfgs.state[theta].keys())

k64 = torch.rand(N + 1, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) + 0.5
k64.requires_grad_(True)
gradcheck_ok = torch.autograd.gradcheck(
    lambda k: solve_heat(k, u0.double())[-1], (k64,), eps=1e-6, atol=1e-5
)
batched = torch.diag_embed(torch.stack([true_k[:-1], true_k[1:]]))
batched_shape = tuple(batched.shape)
mass = solve_heat(true_k, u0).sum(1)[[0, -1]].tolist()
