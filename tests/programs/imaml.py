"""Implicit MAML (Rajeswaran et al. 2019) as its PyTorch reference code structures it: the inner
loop adapts a copy of the meta-parameters with a proximal term ``lam / 2 ||phi - theta||^2``
through ``torch.func.functional_call`` on a dict of detached tensors, the implicit
meta-gradient solves ``(I + H / lam) v = grad L_test(phi)`` by conjugate gradient with
Hessian-vector products from double ``torch.autograd.grad`` (one checked against
``torch.autograd.functional.hvp``), and the solution is written into ``p.grad`` for an Adam
meta-optimizer; compared with first-order MAML's update on the same sine tasks, drawn with
NumPy."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy
from torch.func import functional_call

LAM, INNER_STEPS, INNER_LR, CG_STEPS = 2.0, 5, 0.05, 5


def sample_task(rng):
    amp, phase = rng.uniform(0.5, 2.0), rng.uniform(0, np.pi)
    x = rng.uniform(-4, 4, (20, 1))
    y = amp * np.sin(x + phase)
    to = lambda a: torch.tensor(a, dtype=torch.float32)  # noqa: E731
    return to(x[:10]), to(y[:10]), to(x[10:]), to(y[10:])


def loss_fn(model, params, x, y):
    return F.mse_loss(functional_call(model, params, (x,)), y)


def adapt(model, meta_params, x, y):
    params = {k: v.detach().clone().requires_grad_() for k, v in meta_params.items()}
    for _ in range(INNER_STEPS):
        loss = loss_fn(model, params, x, y)
        loss = loss + LAM / 2 * sum(
            ((params[k] - meta_params[k].detach()) ** 2).sum() for k in params
        )
        grads = torch.autograd.grad(loss, list(params.values()))
        params = {
            k: (v - INNER_LR * g).detach().requires_grad_()
            for (k, v), g in zip(params.items(), grads)
        }
    return params


def hvp(model, params, x, y, vector):
    loss = loss_fn(model, params, x, y)
    grads = torch.autograd.grad(loss, list(params.values()), create_graph=True)
    dot = sum((g * v).sum() for g, v in zip(grads, vector))
    return torch.autograd.grad(dot, list(params.values()))


def conjugate_gradient(apply_a, b, steps):
    x = [torch.zeros_like(t) for t in b]
    r = [t.clone() for t in b]
    p = [t.clone() for t in b]
    rs = sum((t * t).sum() for t in r)
    residuals = []
    for _ in range(steps):
        ap = apply_a(p)
        alpha = rs / sum((a * b_).sum() for a, b_ in zip(p, ap))
        x = [xi + alpha * pi for xi, pi in zip(x, p)]
        r = [ri - alpha * api for ri, api in zip(r, ap)]
        rs_new = sum((t * t).sum() for t in r)
        residuals.append(rs_new.sqrt().item())
        p = [ri + (rs_new / rs) * pi for ri, pi in zip(r, p)]
        rs = rs_new
    return x, residuals


rng = np.random.default_rng(0)
results = {}
for variant in ("imaml", "fomaml"):
    model = init_from_numpy(nn.Sequential(nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 1)), seed=8)
    meta_optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    task_rng = np.random.default_rng(1)
    test_losses, cg_residuals = [], []
    for it in range(12):
        x_tr, y_tr, x_te, y_te = sample_task(task_rng)
        meta_params = dict(model.named_parameters())
        phi = adapt(model, meta_params, x_tr, y_tr)
        test_loss = loss_fn(model, phi, x_te, y_te)
        test_grad = torch.autograd.grad(test_loss, list(phi.values()))
        if variant == "imaml":
            apply_a = lambda v: [vi + hv / LAM for vi, hv in zip(v, hvp(model, phi, x_tr, y_tr, v))]  # noqa: E731
            meta_grad, residuals = conjugate_gradient(apply_a, test_grad, CG_STEPS)
            cg_residuals.append(residuals)
        else:
            meta_grad = test_grad
        meta_optimizer.zero_grad()
        for p, g in zip(model.parameters(), meta_grad):
            p.grad = g.detach().clone()
        meta_optimizer.step()
        test_losses.append(test_loss.item())
    results[variant] = (test_losses, cg_residuals, model)

imaml_losses, cg_residuals, imaml_model = results["imaml"]
fomaml_losses = results["fomaml"][0]
weight_sample = imaml_model[0].weight[:5, 0].tolist()

# one Hessian-vector product checked against torch.autograd.functional.hvp
x_tr, y_tr, _, _ = sample_task(rng)
names = [n for n, _ in imaml_model.named_parameters()]
flat_params = tuple(p.detach() for p in imaml_model.parameters())
vector = tuple(torch.ones_like(p) * 0.1 for p in flat_params)
_, reference = torch.autograd.functional.hvp(
    lambda *ps: loss_fn(imaml_model, dict(zip(names, ps)), x_tr, y_tr), flat_params, vector
)
params = {n: p.detach().requires_grad_() for n, p in zip(names, flat_params)}
ours_hvp = hvp(imaml_model, params, x_tr, y_tr, vector)
hvp_gap = max((a - b).abs().max().item() for a, b in zip(ours_hvp, reference))
hvp_norm = sum(h.norm() ** 2 for h in reference).sqrt().item()
