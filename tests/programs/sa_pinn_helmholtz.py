"""A self-adaptive physics-informed network (McClenny & Braga-Neto, SA-PINN) for the 2-D
Helmholtz equation u_xx + u_yy + k^2 u = q on [0, 1]^2 with u = sin(pi x) sin(pi y), as the
PINN papers' PyTorch code writes it: the Laplacian from two ``torch.autograd.grad`` calls per
coordinate with ``create_graph=True``, one trainable weight per residual and boundary point
(squared, so positive) updated by gradient *ascent* with ``torch.optim.Adam(maximize=True)``
while the network descends, Xavier-normal init in float64, boundary points from ``torch.linspace`` and
interior ones from ``torch.rand``, then ``torch.optim.LBFGS`` fine-tuning with the weights
frozen, and the relative L2 error against the exact solution via ``torch.linalg.norm``."""

import math

import torch
import torch.nn as nn

torch.manual_seed(1234)
torch.set_default_dtype(torch.float64)
K_WAVE, A1, A2 = 1.0, 1, 1


def exact(x, y):
    return torch.sin(A1 * math.pi * x) * torch.sin(A2 * math.pi * y)


def forcing(x, y):
    lap_coef = -((A1 * math.pi) ** 2) - (A2 * math.pi) ** 2 + K_WAVE**2
    return lap_coef * exact(x, y)


class PINN(nn.Module):
    def __init__(self, layers):
        super().__init__()
        self.linears = nn.ModuleList(nn.Linear(a, b) for a, b in zip(layers[:-1], layers[1:]))
        for lin in self.linears:
            nn.init.xavier_normal_(lin.weight, gain=1.0)
            nn.init.zeros_(lin.bias)

    def forward(self, x, y):
        h = torch.cat([x, y], dim=1)
        for lin in self.linears[:-1]:
            h = torch.tanh(lin(h))
        return self.linears[-1](h)


def laplacian(u, x, y):
    ones = torch.ones_like(u)
    u_x, u_y = torch.autograd.grad(u, (x, y), grad_outputs=ones, create_graph=True)
    u_xx = torch.autograd.grad(u_x, x, grad_outputs=torch.ones_like(u_x), create_graph=True)[0]
    u_yy = torch.autograd.grad(u_y, y, grad_outputs=torch.ones_like(u_y), create_graph=True)[0]
    return u_xx + u_yy


N_F, N_B = 100, 12
xy_f = torch.rand(N_F, 2)
x_f = xy_f[:, :1].clone().requires_grad_(True)
y_f = xy_f[:, 1:].clone().requires_grad_(True)
edge = torch.linspace(0, 1, N_B).unsqueeze(1)
ones_b = torch.ones_like(edge)
x_b = torch.cat([edge, edge, 0 * ones_b, ones_b])
y_b = torch.cat([0 * ones_b, ones_b, edge, edge])
u_b = exact(x_b, y_b)
q_f = forcing(x_f, y_f).detach()

model = PINN([2, 16, 16, 1])
lambda_r = nn.Parameter(torch.rand(N_F, 1))
lambda_b = nn.Parameter(torch.full((len(x_b), 1), 10.0))
opt_net = torch.optim.Adam(model.parameters(), lr=2e-2)
opt_sa = torch.optim.Adam([lambda_r, lambda_b], lr=5e-3, maximize=True)


def losses(weighted=True):
    u = model(x_f, y_f)
    res = laplacian(u, x_f, y_f) + K_WAVE**2 * u - q_f
    err_b = model(x_b, y_b) - u_b
    if weighted:
        return (lambda_r.pow(2) * res.pow(2)).mean(), (lambda_b.pow(2) * err_b.pow(2)).mean()
    return res.pow(2).mean(), err_b.pow(2).mean()


adam_log = []
for it in range(60):
    opt_net.zero_grad()
    opt_sa.zero_grad()
    loss_r, loss_b = losses()
    loss = loss_r + loss_b
    loss.backward()
    opt_net.step()
    opt_sa.step()
    if it % 10 == 0:
        adam_log.append([loss.item(), loss_r.item(), loss_b.item()])
        print(f"it {it:3d} loss {loss.item():.4e} (res {loss_r.item():.3e} bc {loss_b.item():.3e})")

lambda_stats = [lambda_r.min().item(), lambda_r.max().item(), lambda_b.mean().item()]
lbfgs = torch.optim.LBFGS(
    model.parameters(), lr=1.0, max_iter=50, history_size=20, line_search_fn="strong_wolfe"
)
lbfgs_losses = []


def closure():
    lbfgs.zero_grad()
    loss_r, loss_b = losses()
    loss = loss_r + loss_b
    loss.backward()
    lbfgs_losses.append(loss.item())
    return loss


lbfgs.step(closure)
plain_res, plain_bc = (v.item() for v in losses(weighted=False))
grid = torch.linspace(0, 1, 21)
gx, gy = torch.meshgrid(grid, grid, indexing="ij")
with torch.no_grad():
    u_pred = model(gx.reshape(-1, 1), gy.reshape(-1, 1))
u_true = exact(gx.reshape(-1, 1), gy.reshape(-1, 1))
rel_l2 = (torch.linalg.norm(u_pred - u_true) / torch.linalg.norm(u_true)).item()
n_lbfgs_evals = len(lbfgs_losses)
print(f"LBFGS {n_lbfgs_evals} evals: {lbfgs_losses[0]:.4e} -> {lbfgs_losses[-1]:.4e}")
print(f"relative L2 error {rel_l2:.4f}; lambda_r in [{lambda_stats[0]:.3f}, {lambda_stats[1]:.3f}]")
torch.set_default_dtype(torch.float32)
