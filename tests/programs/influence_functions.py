"""Influence functions (Koh and Liang), as ``pytorch-influence-functions`` and the paper's
reference code compute them, in float64: the training loss of a small MLP, Hessian-vector
products by double backward (``torch.autograd.grad(..., create_graph=True)`` then the grad of
``sum(g * v)``), the inverse-HVP ``s_test`` by conjugate gradient and by LiSSA (the recursion
``h = v + (1 - damping) * h - hvp(h) / scale`` on mini-batches), the influence of each
training point ``-grad_test . s_test``, checked against the exact Hessian from
``torch.autograd.functional.hessian`` (of
``torch.func.functional_call`` on the flattened parameters) and against actually leaving the point out and
retraining with L-BFGS."""

import torch
import torch.nn.functional as F
from torch import nn

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)
DAMP = 0.1

n = 40
X = torch.randn(n, 3)
w_true = torch.tensor([1.5, -2.0, 0.5])
y = (X @ w_true + 0.3 * torch.randn(n) > 0).long()
x_test, y_test = torch.tensor([[0.4, -0.3, 1.0]]), torch.tensor([1])

model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
params = [p for p in model.parameters() if p.requires_grad]


def loss_fn(xb, yb):
    l2 = sum((p**2).sum() for p in model.parameters())
    return F.cross_entropy(model(xb), yb) + DAMP * 0.5 * l2


def fit(xb, yb):
    opt = torch.optim.LBFGS(
        model.parameters(),
        lr=1,
        max_iter=200,
        tolerance_grad=1e-10,
        tolerance_change=1e-12,
        history_size=20,
        line_search_fn="strong_wolfe",
    )

    def closure():
        opt.zero_grad()
        loss = loss_fn(xb, yb)
        loss.backward()
        return loss

    opt.step(closure)
    return loss_fn(xb, yb).item()


def hvp(loss, params, v):
    first_grads = torch.autograd.grad(loss, params, retain_graph=True, create_graph=True)
    elemwise = sum((g * vi).sum() for g, vi in zip(first_grads, v))
    return torch.autograd.grad(elemwise, params, retain_graph=True)


def flat(tensors):
    return torch.cat([t.reshape(-1) for t in tensors])


def unflat(vec):
    out, i = [], 0
    for p in params:
        out.append(vec[i : i + p.numel()].view_as(p))
        i += p.numel()
    return out


def s_test_cg(v, iters=30):
    loss = loss_fn(X, y)
    x = torch.zeros_like(v)
    r = v.clone()
    p = r.clone()
    rs = r @ r
    residuals = []
    for _ in range(iters):
        Ap = flat(hvp(loss, params, unflat(p)))
        alpha = rs / (p @ Ap)
        x += alpha * p
        r -= alpha * Ap
        rs_new = r @ r
        residuals.append(rs_new.sqrt().item())
        if rs_new.sqrt() < 1e-10:
            break
        p = r + (rs_new / rs) * p
        rs = rs_new
    return x, residuals


def s_test_lissa(v, damping=0.0, scale=2.0, recursion_depth=100, batch=20):
    gen = torch.Generator().manual_seed(1)
    h_estimate = [t.clone() for t in v]
    for _ in range(recursion_depth):
        idx = torch.randperm(n, generator=gen)[:batch]
        loss = loss_fn(X[idx], y[idx])
        hv = hvp(loss, params, h_estimate)
        h_estimate = [
            _v + (1 - damping) * _h - _hv / scale for _v, _h, _hv in zip(v, h_estimate, hv)
        ]
    return flat([h / scale for h in h_estimate])


train_loss = fit(X, y)
theta_hat = [p.detach().clone() for p in params]
grad_norm = flat(torch.autograd.grad(loss_fn(X, y), params)).norm().item()
test_loss = F.cross_entropy(model(x_test), y_test)
v = torch.autograd.grad(test_loss, params)
s_cg, cg_residuals = s_test_cg(flat(v))
s_lissa = s_test_lissa(v)

theta = flat(params).detach()


names = [name for name, _ in model.named_parameters()]


def loss_of(vec):
    weights = dict(zip(names, unflat(vec)))
    logits = torch.func.functional_call(model, weights, (X,))
    return F.cross_entropy(logits, y) + DAMP * 0.5 * (vec**2).sum()


H = torch.autograd.functional.hessian(loss_of, theta)
s_exact = torch.linalg.solve(H, flat(v))
cg_error = (s_cg - s_exact).norm().item() / s_exact.norm().item()
lissa_error = (s_lissa - s_exact).norm().item() / s_exact.norm().item()
hessian_symmetric = torch.allclose(H, H.T)
min_eig = torch.linalg.eigvalsh(H)[0].item()

influences = []
for i in range(n):
    grad_z = flat(torch.autograd.grad(F.cross_entropy(model(X[i : i + 1]), y[i : i + 1]), params))
    influences.append((grad_z @ s_cg).item() / n)  # predicted change of the test loss
order = sorted(range(n), key=lambda i: abs(influences[i]), reverse=True)[:3]

predicted, actual = [], []
base_test = test_loss.item()
for i in order:
    keep = torch.arange(n) != i
    with torch.no_grad():
        for p, t in zip(params, theta_hat):
            p.copy_(t)
    fit(X[keep], y[keep])
    with torch.no_grad():
        actual.append(F.cross_entropy(model(x_test), y_test).item() - base_test)
    predicted.append(influences[i])
torch.set_default_dtype(torch.float32)
