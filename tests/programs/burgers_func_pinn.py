"""A physics-informed network for the viscous Burgers equation u_t + u u_x = nu u_xx on
[-1, 1] x [0, 1] with u(x, 0) = -sin(pi x) and u(+-1, t) = 0, written the torch.func way
(the PINN tutorials after functorch): the network is a pure function of its parameters through
``torch.func.functional_call``; per-point derivatives come from ``vmap(jacrev(...))`` and
``vmap(hessian(...))`` over the collocation points; the initial and boundary conditions are
built into the output ("hard constraints": u = (1 - x^2) t N(x, t) - sin(pi x)). Adam first,
then LBFGS with a strong-Wolfe line search fine-tunes; the same residual by
``torch.autograd.grad(create_graph=True)`` is checked against the torch.func one."""

import math

import numpy as np
import torch
import torch.nn as nn
from numpy_init import init_from_numpy, rand
from torch.func import functional_call, hessian, jacrev, vmap

NU = 0.01 / math.pi
rng = np.random.default_rng(0)

model = init_from_numpy(
    nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 1))
)
params = dict(model.named_parameters())  # the same tensors: the optimizers update them


def u_point(p, xt):
    """The constrained solution at one point xt = (x, t)."""
    x, t = xt[0], xt[1]
    n = functional_call(model, p, (xt.unsqueeze(0),)).squeeze()
    return (1 - x**2) * t * n - torch.sin(math.pi * x)


def residual(p, pts):
    u = vmap(u_point, in_dims=(None, 0))(p, pts)
    du = vmap(jacrev(u_point, argnums=1), in_dims=(None, 0))(p, pts)  # (N, 2): u_x, u_t
    d2u = vmap(hessian(u_point, argnums=1), in_dims=(None, 0))(p, pts)  # (N, 2, 2)
    return du[:, 1] + u * du[:, 0] - NU * d2u[:, 0, 0]


def residual_autograd(pts):
    pts = pts.clone().requires_grad_(True)
    x, t = pts[:, :1], pts[:, 1:]
    u = ((1 - x**2) * t * model(pts) - torch.sin(math.pi * x)).squeeze(1)
    (g,) = torch.autograd.grad(u, pts, grad_outputs=torch.ones_like(u), create_graph=True)
    (gx,) = torch.autograd.grad(g[:, 0].sum(), pts, create_graph=True)
    return g[:, 1] + u * g[:, 0] - NU * gx[:, 0]


def collocation(n):
    xt = rand(rng, n, 2)
    return torch.stack([2 * xt[:, 0] - 1, xt[:, 1]], dim=1)


pts = collocation(32)
r_func = residual(params, pts)
r_auto = residual_autograd(pts)
residual_gap = (r_func - r_auto).abs().max().item()
residual_shape = tuple(r_func.shape)

opt = torch.optim.Adam(model.parameters(), lr=1e-2)
adam_losses = []
for _ in range(10):
    opt.zero_grad()
    loss = residual(params, pts).pow(2).mean()
    loss.backward()
    opt.step()
    adam_losses.append(loss.item())

lbfgs = torch.optim.LBFGS(
    model.parameters(), lr=1.0, max_iter=5, history_size=5, line_search_fn="strong_wolfe"
)
lbfgs_losses = []


def closure():
    lbfgs.zero_grad()
    loss = residual(params, pts).pow(2).mean()
    loss.backward()
    lbfgs_losses.append(loss.item())
    return loss


lbfgs.step(closure)
final_loss = residual(params, pts).pow(2).mean().item()
func_evals = lbfgs.state[lbfgs._params[0]]["func_evals"]
first_layer_grad = model[0].weight.grad[:2].tolist()

with torch.no_grad():
    grid = torch.stack(
        torch.meshgrid(torch.linspace(-1, 1, 5), torch.tensor([0.0, 0.5]), indexing="ij"), -1
    )
    u_grid = vmap(u_point, in_dims=(None, 0))(params, grid.reshape(-1, 2)).reshape(5, 2).tolist()
