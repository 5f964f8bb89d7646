"""Control with autograd (the ``mpc.pytorch`` and "differentiable LQR" tutorials): a
double-integrator-with-drag system is first identified from a noisy trajectory, by
``torch.linalg.lstsq`` on stacked (state, action) -> next-state pairs and by gradient descent
on a ``nn.Linear(bias=False)`` model; then the infinite-horizon LQR gain comes from iterating
the discrete Riccati recursion, a linear policy trained by backpropagating a differentiable
rollout's quadratic cost (BPTT with Adam) is compared with it, and a shooting MPC optimises an
open-loop action sequence with ``torch.optim.SGD`` under ``clamp`` action limits and feeds back
its first action at every step (receding horizon)."""

import torch
from torch import nn

torch.manual_seed(0)
dt = 0.1
A_true = torch.tensor([[1.0, dt], [0.0, 1.0 - 0.2 * dt]])
B_true = torch.tensor([[0.5 * dt**2], [dt]])
Q = torch.diag(torch.tensor([1.0, 0.1]))
R = torch.tensor([[0.01]])

# 1. system identification from one excited trajectory
x = torch.zeros(2)
states, actions, nexts = [], [], []
for t in range(40):
    u = torch.randn(1)
    x_next = A_true @ x + B_true @ u + 0.001 * torch.randn(2)
    states.append(x), actions.append(u), nexts.append(x_next)
    x = x_next
XU = torch.cat([torch.stack(states), torch.stack(actions)], dim=1)  # (60, 3)
X_next = torch.stack(nexts)
theta = torch.linalg.lstsq(XU, X_next).solution  # (3, 2) = [A B]^T
A_ls, B_ls = theta[:2].T, theta[2:].T

model = nn.Linear(3, 2, bias=False)
opt = torch.optim.Adam(model.parameters(), lr=0.08)
sysid_losses = []
for epoch in range(50):
    loss = nn.functional.mse_loss(model(XU), X_next)
    opt.zero_grad()
    loss.backward()
    opt.step()
    sysid_losses.append(loss.item())
A_gd = model.weight.detach()[:, :2]
lstsq_error = (A_ls - A_true).abs().max().item()
gd_error = (A_gd - A_true).abs().max().item()


# 2. LQR by the Riccati recursion on the identified model
def lqr_gain(A, B, Q, R, iters=100):
    P = Q.clone()
    for _ in range(iters):
        K = torch.linalg.solve(R + B.T @ P @ B, B.T @ P @ A)
        P = Q + A.T @ P @ (A - B @ K)
    return K, P


K_lqr, P_lqr = lqr_gain(A_ls, B_ls, Q, R)
closed_loop_eigs = torch.linalg.eigvals(A_ls - B_ls @ K_lqr).abs().tolist()


def rollout_cost(K, x0, horizon=20):
    x, cost = x0, 0.0
    for _ in range(horizon):
        u = -(x @ K.T)
        cost = cost + (x @ Q * x).sum(-1) + (u @ R * u).sum(-1)
        x = x @ A_ls.T + u @ B_ls.T
    return cost.mean()


x0 = torch.randn(16, 2)
K_learn = torch.zeros(1, 2, requires_grad=True)
opt = torch.optim.Adam([K_learn], lr=0.5)
policy_costs = []
for it in range(20):
    cost = rollout_cost(K_learn, x0)
    opt.zero_grad()
    cost.backward()
    opt.step()
    policy_costs.append(cost.item())
lqr_cost = rollout_cost(K_lqr, x0).item()
learned_gain = K_learn.detach().squeeze(0).tolist()

# 3. receding-horizon shooting MPC with action limits, from one initial state
x = torch.tensor([0.3, 0.0])
u_plan = torch.zeros(5, 1, requires_grad=True)
mpc_states, mpc_actions = [], []
for t in range(5):
    planner = torch.optim.SGD([u_plan], lr=0.5, momentum=0.5)
    for _ in range(5):
        xs, cost = x, 0.0
        for u in u_plan.clamp(-1.0, 1.0):
            cost = cost + xs @ Q @ xs + u @ R @ u
            xs = A_ls @ xs + B_ls @ u
        planner.zero_grad()
        cost.backward()
        planner.step()
    with torch.no_grad():
        u0 = u_plan[0].clamp(-1.0, 1.0)
        x = A_true @ x + B_true @ u0
        u_plan.copy_(torch.cat([u_plan[1:], torch.zeros(1, 1)]))  # warm start: shift the plan
    mpc_states.append(x.tolist())
    mpc_actions.append(u0.item())
