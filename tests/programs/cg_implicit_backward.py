"""Conjugate gradient inside autograd, as implicit-layer and Gaussian-process code writes it
(GPyTorch's ``linear_cg`` idea, DEQ/iMAML's implicit backward): a ``torch.autograd.Function``
whose forward solves ``A(theta) x = b`` by batched CG under ``torch.no_grad`` (only matrix-vector
products with a symmetric positive-definite operator built from a learnable graph Laplacian
plus a learnable ridge), and whose backward solves the adjoint system ``A lambda = grad_x`` by
CG again and gets the parameter gradients by re-running the matvec under
``torch.enable_grad()`` with ``torch.autograd.grad(Ax, params, -lambda)``. The gradients are
checked against ``torch.linalg.solve`` and ``gradcheck`` (and saving CG's iteration count
with ``save_for_backward`` is refused: it keeps tensors only); then the Laplacian's edge
weights and the ridge are learned so that the smoothed signal denoises a graph signal."""

import torch
import torch.nn as nn
import torch.nn.functional as F


def cg(matvec, b, max_iter=100, tol=1e-10):
    """Batched conjugate gradient on columns: b (n, k)."""
    x = torch.zeros_like(b)
    r = b - matvec(x)
    p = r.clone()
    rs_old = (r * r).sum(0, keepdim=True)
    iters = 0
    if rs_old.sqrt().max() < tol:  # b = 0 (gradcheck's zero grad_output): x = 0, no 0/0
        return x, iters
    for iters in range(1, max_iter + 1):
        Ap = matvec(p)
        alpha = rs_old / (p * Ap).sum(0, keepdim=True)
        x.add_(alpha * p)
        r.sub_(alpha * Ap)
        rs_new = (r * r).sum(0, keepdim=True)
        if rs_new.sqrt().max() < tol:
            break
        p = r + (rs_new / rs_old) * p
        rs_old = rs_new
    return x, iters


def laplacian_matvec(edge_index, edge_weight, ridge, v):
    """(ridge I + L(w)) v with L = D - W on an undirected graph given by its edge list."""
    src, dst = edge_index
    out = ridge * v
    diff = v[src] - v[dst]
    msg = edge_weight.unsqueeze(1) * diff
    out = out.index_add(0, src, msg)
    return out.index_add(0, dst, -msg)


class CGSolve(torch.autograd.Function):
    @staticmethod
    def forward(ctx, b, edge_weight, ridge, edge_index):
        matvec = lambda v: laplacian_matvec(edge_index, edge_weight, ridge, v)  # noqa: E731
        with torch.no_grad():
            x, iters = cg(matvec, b)
        ctx.save_for_backward(x, edge_weight, ridge)
        ctx.edge_index = edge_index
        ctx.iters = iters
        return x

    @staticmethod
    def backward(ctx, grad_x):
        x, edge_weight, ridge = ctx.saved_tensors
        matvec = lambda v: laplacian_matvec(ctx.edge_index, edge_weight, ridge, v)  # noqa: E731
        with torch.no_grad():
            lam, _ = cg(matvec, grad_x)
        with torch.enable_grad():
            w = edge_weight.detach().requires_grad_()
            r = ridge.detach().requires_grad_()
            Ax = laplacian_matvec(ctx.edge_index, w, r, x.detach())
            grad_w, grad_r = torch.autograd.grad(Ax, (w, r), -lam)
        return lam, grad_w, grad_r, None


def dense_operator(edge_index, edge_weight, ridge, n):
    W = torch.zeros(n, n, dtype=edge_weight.dtype)
    W = W.index_put((edge_index[0], edge_index[1]), edge_weight, accumulate=True)
    W = W + W.t()
    return torch.diag(W.sum(1)) - W + ridge * torch.eye(n, dtype=edge_weight.dtype)


torch.manual_seed(0)
n = 12
ring = torch.stack([torch.arange(n), (torch.arange(n) + 1) % n])
chords = torch.tensor([[0, 3, 5, 8], [6, 9, 11, 2]])
edge_index = torch.cat([ring, chords], 1)
E = edge_index.shape[1]

w = (torch.rand(E, dtype=torch.float64) + 0.5).requires_grad_()
ridge = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)
b = torch.randn(n, 2, dtype=torch.float64, requires_grad=True)
x = CGSolve.apply(b, w, ridge, edge_index)
x_ref = torch.linalg.solve(dense_operator(edge_index, w, ridge, n), b)
solve_gap = (x - x_ref).abs().max().item()
upstream = torch.randn(n, 2, dtype=torch.float64)
g_cg = torch.autograd.grad((x * upstream).sum(), (b, w, ridge))
g_ref = torch.autograd.grad((x_ref * upstream).sum(), (b, w, ridge))
grad_gaps = [(a - c).abs().max().item() for a, c in zip(g_cg, g_ref)]
gradcheck_ok = torch.autograd.gradcheck(
    lambda b_, w_, r_: CGSolve.apply(b_, w_, r_, edge_index),
    (
        b.detach()[:, :1].requires_grad_(),
        w.detach().requires_grad_(),
        ridge.detach().requires_grad_(),
    ),
    fast_mode=True,
)


class SavesAnInt(torch.autograd.Function):  # the usual first attempt: save_for_backward(x, iters)
    @staticmethod
    def forward(ctx, b):
        x, iters = cg(lambda v: 2.0 * v, b)
        ctx.save_for_backward(x, iters)
        return x

    @staticmethod
    def backward(ctx, grad_x):
        return grad_x / 2.0


try:
    SavesAnInt.apply(b[:, :1])  # (checked when recorded: an input needs grad)
except TypeError as e:
    save_int_error = str(e)
with torch.no_grad():
    _, cg_iters = cg(lambda v: laplacian_matvec(edge_index, w, ridge, v), b)


# learn the graph smoother: denoise a smooth signal on the ring
class GraphSmoother(nn.Module):
    def __init__(self, E):
        super().__init__()
        self.log_w = nn.Parameter(torch.zeros(E, dtype=torch.float64))
        self.log_ridge = nn.Parameter(torch.tensor(0.0, dtype=torch.float64))

    def forward(self, y):
        ridge = self.log_ridge.exp()
        return CGSolve.apply(ridge * y, self.log_w.exp(), ridge, edge_index)


angles = torch.arange(n, dtype=torch.float64) * (2 * torch.pi / n)
clean = torch.stack([torch.sin(angles + k) for k in range(8)], 1)
noisy = clean + 0.4 * torch.randn(n, 8, dtype=torch.float64)
model = GraphSmoother(E)
opt = torch.optim.Adam(model.parameters(), lr=0.1)
losses = []
for step in range(15):
    opt.zero_grad()
    loss = F.mse_loss(model(noisy), clean)
    loss.backward()
    opt.step()
    losses.append(loss.item())
noisy_mse = F.mse_loss(noisy, clean).item()
learned_ridge = model.log_ridge.exp().item()
chord_weight_mean = model.log_w[-4:].exp().mean().item()
ring_weight_mean = model.log_w[:n].exp().mean().item()
