"""Differentiable physics written directly in PyTorch, as DiffTaichi-style tutorials port it: a
chain of masses and linear springs stepped by implicit (backward) Euler, each step solving
(M + h D + h^2 K) v' = M v - h K x + h f with ``torch.linalg.solve``, the spring stiffnesses
identified from an observed trajectory by backpropagation through time; then a 2-D
mass-spring lattice with nonlinear springs (rest lengths, ``torch.linalg.vector_norm``),
gravity and symplectic Euler, its launch velocity found by shooting (gradient descent through
the rollout), with the BPTT gradient checked against central differences."""

import torch

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)

# -- system identification of a 1-D chain: wall - m0 - m1 - ... - m5
n, h, steps = 6, 0.05, 30
masses = torch.tensor([1.0, 1.2, 0.8, 1.0, 1.5, 0.9])
damping = 0.05


def stiffness_matrix(k):
    """Springs i join mass i-1 (or the wall) and mass i: K = sum_i k_i e e^T."""
    K = torch.diag(k + torch.cat([k[1:], torch.zeros(1)]))
    off = -torch.diag(k[1:], 1)
    return K + off + off.T


def rollout(log_k, x0, v0, force):
    K = stiffness_matrix(log_k.exp())
    A = torch.diag(masses) + h * damping * torch.eye(n) + h * h * K
    x, v, xs = x0, v0, []
    for t in range(steps):
        rhs = masses * v - h * (K @ x) + h * force[t]
        v = torch.linalg.solve(A, rhs)
        x = x + h * v
        xs.append(x)
    return torch.stack(xs)


true_log_k = torch.log(torch.tensor([4.0, 2.5, 6.0, 3.0, 5.0, 2.0]))
x0 = torch.zeros(n)
v0 = torch.zeros(n)
force = torch.zeros(steps, n)
force[:10, -1] = 5.0  # pull the free end, then let go
force[5:12, 2] = -3.0
with torch.no_grad():
    observed = rollout(true_log_k, x0, v0, force) + 0.002 * torch.randn(steps, n)

log_k = torch.full((n,), 1.0, requires_grad=True)
optimizer = torch.optim.Adam([log_k], lr=0.15)
ident_losses = []
for it in range(20):
    optimizer.zero_grad()
    loss = (rollout(log_k, x0, v0, force) - observed).pow(2).mean()
    loss.backward()
    optimizer.step()
    ident_losses.append(loss.item())
identified = log_k.exp().tolist()

# -- shooting on a 2-D lattice of 3 x 3 nodes with springs along edges and diagonals
grid = torch.stack(torch.meshgrid(torch.arange(3.0), torch.arange(3.0), indexing="ij"), -1)
rest_pos = 0.5 * grid.reshape(-1, 2) + torch.tensor([0.0, 1.0])
edges = []
for i in range(3):
    for j in range(3):
        for di, dj in ((0, 1), (1, 0), (1, 1), (1, -1)):
            if 0 <= i + di < 3 and 0 <= j + dj < 3:
                edges.append((3 * i + j, 3 * (i + di) + j + dj))
edges = torch.tensor(edges)
rest_len = torch.linalg.vector_norm(rest_pos[edges[:, 0]] - rest_pos[edges[:, 1]], dim=1)
gravity = torch.tensor([0.0, -9.8])
centre = rest_pos.mean(0)


def simulate(launch, n_steps=30, dt=0.01, k=300.0):
    x = centre + 0.85 * (rest_pos - centre)  # released from a squeeze
    v = launch.expand(9, 2)
    for _ in range(n_steps):
        d = x[edges[:, 1]] - x[edges[:, 0]]
        length = torch.linalg.vector_norm(d, dim=1, keepdim=True)
        f_edge = k * (length - rest_len[:, None]) * d / length
        f = torch.zeros(9, 2).index_add(0, edges[:, 0], f_edge).index_add(0, edges[:, 1], -f_edge)
        v = v + dt * (f + gravity)
        x = x + dt * v
    return x


goal = torch.tensor([1.5, 1.4])


def shooting_loss(launch):
    return (simulate(launch).mean(0) - goal).pow(2).sum()


launch = torch.tensor([[0.5, 0.5]], requires_grad=True)
(bptt_grad,) = torch.autograd.grad(shooting_loss(launch), launch)
fd_grad = []
with torch.no_grad():
    for c in range(2):
        e = torch.zeros(1, 2)
        e[0, c] = 1e-5
        fd_grad.append(((shooting_loss(launch + e) - shooting_loss(launch - e)) / 2e-5).item())
shoot_losses = []
opt = torch.optim.SGD([launch], lr=0.5)
for it in range(10):
    opt.zero_grad()
    loss = shooting_loss(launch)
    loss.backward()
    opt.step()
    shoot_losses.append(loss.item())
final_launch = launch.detach().squeeze(0).tolist()
with torch.no_grad():
    final_shape = simulate(launch)
    edge_strain = (
        (
            (torch.linalg.vector_norm(final_shape[edges[:, 0]] - final_shape[edges[:, 1]], dim=1))
            / rest_len
            - 1
        )
        .abs()
        .max()
        .item()
    )
bptt_grad = bptt_grad.squeeze(0).tolist()
torch.set_default_dtype(torch.float32)
