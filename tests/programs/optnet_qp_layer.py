"""OptNet (Amos & Kolter 2017) without qpth: a batched inequality-constrained QP layer
``z*(x) = argmin_z 1/2 z^T Q z + p(x)^T z  s.t.  G z <= h`` whose forward is a primal-dual
interior-point method written with ``torch.linalg.solve`` on the reduced Newton system
(``torch.diag_embed``, ``bmm``, fraction-to-the-boundary step lengths from ``torch.where`` and
``amin``, each problem stopping once its duality gap is below a tolerance) and whose backward is a ``torch.autograd.Function`` that differentiates the KKT
conditions at the solution: one solve with the transposed KKT matrix (assembled with
``torch.cat``) gives ``d_z``, ``d_lambda`` and from them the gradients of ``Q``, ``p``, ``G``
and ``h``. Checked in float64 against autograd unrolled through the solver's iterations and
by ``torch.autograd.gradcheck``, then a layer with learned ``Q = L L^T + eps I``, ``G``, ``h``
and a linear map to ``p`` is trained to imitate a teacher QP layer."""

import torch
import torch.nn as nn


def solve_qp(Q, p, G, h, iters=30, sigma=0.1, tol=1e-13):
    """Batched primal-dual interior point: Q (B, n, n), p (B, n), G (B, m, n), h (B, m)."""
    B, m = h.shape
    z = torch.zeros_like(p)
    s = torch.ones_like(h)
    lam = torch.ones_like(h)
    Gt = G.transpose(1, 2)
    for _ in range(iters):
        r_dual = (Q @ z.unsqueeze(2)).squeeze(2) + p + (Gt @ lam.unsqueeze(2)).squeeze(2)
        r_pri = (G @ z.unsqueeze(2)).squeeze(2) + s - h
        mu = (s * lam).sum(1, keepdim=True) / m
        done = mu < tol  # converged rows stay put: more steps would make H singular
        if done.all():
            break
        r_cent = s * lam - sigma * mu
        w = lam / s
        H = Q + Gt @ torch.diag_embed(w) @ G
        rhs = -r_dual - (Gt @ ((lam * r_pri - r_cent) / s).unsqueeze(2)).squeeze(2)
        dz = torch.linalg.solve(H, rhs)
        ds = -r_pri - (G @ dz.unsqueeze(2)).squeeze(2)
        dlam = (-r_cent - lam * ds) / s
        ratio_s = torch.where(ds < 0, -s / ds, torch.full_like(s, float("inf")))
        ratio_l = torch.where(dlam < 0, -lam / dlam, torch.full_like(lam, float("inf")))
        alpha = torch.cat([ratio_s, ratio_l], 1).amin(1, keepdim=True).mul(0.99).clamp(max=1.0)
        alpha = alpha.masked_fill(done, 0.0)
        z = z + alpha * dz
        s = s + alpha * ds
        lam = lam + alpha * dlam
    return z, lam, s


class QPFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, Q, p, G, h):
        z, lam, s = solve_qp(Q, p, G, h)
        ctx.save_for_backward(Q, G, h, z, lam)
        return z

    @staticmethod
    def backward(ctx, grad_z):
        Q, G, h, z, lam = ctx.saved_tensors
        slack = (G @ z.unsqueeze(2)).squeeze(2) - h
        top = torch.cat([Q.transpose(1, 2), G.transpose(1, 2) @ torch.diag_embed(lam)], 2)
        bottom = torch.cat([G, torch.diag_embed(slack)], 2)
        KT = torch.cat([top, bottom], 1)
        rhs = torch.cat([grad_z, torch.zeros_like(h)], 1)
        d = torch.linalg.solve(KT, rhs)
        n = z.shape[1]
        d_z, d_lam = d[:, :n], d[:, n:]
        grad_p = -d_z
        grad_Q = -0.5 * (d_z.unsqueeze(2) * z.unsqueeze(1) + z.unsqueeze(2) * d_z.unsqueeze(1))
        grad_G = -(
            lam.unsqueeze(2) * d_z.unsqueeze(1) + (lam * d_lam).unsqueeze(2) * z.unsqueeze(1)
        )
        grad_h = lam * d_lam
        return grad_Q, grad_p, grad_G, grad_h


class OptNetLayer(nn.Module):
    def __init__(self, nx, nz, m, eps=0.1):
        super().__init__()
        self.fc = nn.Linear(nx, nz)
        self.L = nn.Parameter(torch.eye(nz) + 0.1 * torch.randn(nz, nz))
        self.G = nn.Parameter(torch.randn(m, nz))
        self.h = nn.Parameter(torch.rand(m) + 0.5)
        self.eps = eps

    def forward(self, x):
        B, nz = x.shape[0], self.L.shape[0]
        L = torch.tril(self.L)
        Q = L @ L.t() + self.eps * torch.eye(nz, dtype=x.dtype)
        return QPFunction.apply(
            Q.expand(B, nz, nz), self.fc(x), self.G.expand(B, -1, -1), self.h.expand(B, -1)
        )


torch.manual_seed(0)
torch.set_default_dtype(torch.float64)
B, n, m = 3, 4, 6
A = torch.randn(B, n, n)
Q = (A @ A.transpose(1, 2) + 0.5 * torch.eye(n)).requires_grad_()
p = torch.randn(B, n, requires_grad=True)
G = torch.randn(B, m, n, requires_grad=True)
h = (torch.rand(B, m) * 0.5).requires_grad_()
z = QPFunction.apply(Q, p, G, h)
with torch.no_grad():
    _, lam, s = solve_qp(Q, p, G, h)
    kkt_residual = (
        ((Q @ z.unsqueeze(2)).squeeze(2) + p + (G.transpose(1, 2) @ lam.unsqueeze(2)).squeeze(2))
        .abs()
        .max()
        .item()
    )
    feasible = ((G @ z.unsqueeze(2)).squeeze(2) - h).max().item() <= 1e-8
    active = (lam > 1e-6).sum(1).tolist()
weights = torch.randn(B, n)
implicit = torch.autograd.grad((z * weights).sum(), (Q, p, G, h))
unrolled = torch.autograd.grad((solve_qp(Q, p, G, h)[0] * weights).sum(), (Q, p, G, h))
unrolled = (0.5 * (unrolled[0] + unrolled[0].transpose(1, 2)),) + unrolled[1:]  # Q symmetric
implicit_vs_unrolled = [(a - b).abs().max().item() for a, b in zip(implicit, unrolled)]
gradcheck_ok = torch.autograd.gradcheck(
    lambda p_, h_: QPFunction.apply(Q[:1].detach(), p_, G[:1].detach(), h_),
    (p[:1].detach().requires_grad_(), h[:1].detach().requires_grad_()),
    eps=1e-6,
    atol=1e-5,
    fast_mode=True,
)
grad_fn_name = type(z.grad_fn).__name__

# a learned QP layer imitates a teacher's
torch.manual_seed(1)
teacher = OptNetLayer(5, 3, 4)
student = OptNetLayer(5, 3, 4)
X = torch.randn(16, 5)
with torch.no_grad():
    Y = teacher(X)
opt = torch.optim.Adam(student.parameters(), lr=0.05)
losses = []
for step in range(8):
    opt.zero_grad()
    loss = (student(X) - Y).pow(2).mean()
    loss.backward()
    opt.step()
    losses.append(loss.item())
grads_finite = all(torch.isfinite(q.grad).all().item() for q in student.parameters())
torch.set_default_dtype(torch.float32)
