"""Second-order fitting with torch.func: Levenberg-Marquardt on a small network's parameters,
the Jacobian of the residuals from ``jacrev`` over ``functional_call`` with a dict of
parameters (flattened with ``torch.cat`` of ``reshape(n, -1)`` blocks), the damped normal
equations solved by ``linalg.solve``, the damping adapted on success/failure; Gauss-Newton
products checked with ``jvp``/``vjp``, ``hessian`` of a scalar loss compared with J^T J plus
the residual curvature; the fitted model is then run through ``torch.compile`` and
``torch.compiler.reset()`` between two input shapes."""

import numpy as np
import torch
import torch.nn as nn
from numpy_init import init_from_numpy, randn
from torch.func import functional_call, hessian, jacrev, jvp, vjp

torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(21)
x = torch.linspace(-2, 2, 40).unsqueeze(1)
y = torch.sin(2 * x) * torch.exp(-0.3 * x**2) + 0.02 * randn(rng, 40, 1).double()
model = init_from_numpy(
    nn.Sequential(nn.Linear(1, 8), nn.Tanh(), nn.Linear(8, 1)), seed=14
).double()
names = [n for n, _ in model.named_parameters()]
shapes = [p.shape for _, p in model.named_parameters()]
sizes = [p.numel() for _, p in model.named_parameters()]


def unflatten(theta):
    return {n: t.reshape(s) for n, t, s in zip(names, theta.split(sizes), shapes)}


def residuals(theta):
    return (functional_call(model, unflatten(theta), (x,)) - y).squeeze(1)


theta = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
lam, losses, lams = 1e-2, [], []
for it in range(25):
    r = residuals(theta)
    J = jacrev(residuals)(theta)
    A = J.T @ J + lam * torch.eye(theta.numel())
    step = torch.linalg.solve(A, -J.T @ r)
    new_loss = residuals(theta + step).pow(2).sum()
    if new_loss < r.pow(2).sum():
        theta, lam = theta + step, lam * 0.5
    else:
        lam = lam * 4.0
    losses.append(residuals(theta).pow(2).sum().item())
    lams.append(lam)

J = jacrev(residuals)(theta)
v = torch.from_numpy(rng.standard_normal(theta.numel()))
_, Jv = jvp(residuals, (theta,), (v,))
_, vjp_fn = vjp(residuals, theta)
(JTJv,) = vjp_fn(Jv)
gn_gap = (JTJv - J.T @ (J @ v)).abs().max().item()
H = hessian(lambda t: 0.5 * residuals(t).pow(2).sum())(theta)
curvature_gap = (H - J.T @ J).abs().max().item()  # small where residuals are small
symmetric = bool(torch.allclose(H, H.T, atol=1e-10))

with torch.no_grad():
    for p, t in zip(model.parameters(), unflatten(theta).values()):
        p.copy_(t)
    compiled = torch.compile(model, backend="eager")  # the compiler itself is not timed here
    first = compiled(x).squeeze(1)
    torch.compiler.reset()
    second = compiled(x[:10]).squeeze(1)
compiled_gap = max(
    (first - model(x).squeeze(1)).abs().max().item(), (second - first[:10]).abs().max().item()
)
fit = first.tolist()
torch.set_default_dtype(torch.float32)
