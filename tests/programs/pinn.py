"""A physics-informed neural network (Raissi et al. 2019) as people write it for PyTorch: a tanh
MLP u(x, t) trained so that the residual of the heat equation u_t = k u_xx vanishes at random
collocation points, with initial and boundary conditions; derivatives by
torch.autograd.grad(..., grad_outputs=torch.ones_like(u), create_graph=True) (a second
derivative, then a third-order backward into the weights), Adam then LBFGS with strong Wolfe
line search, compared with the exact solution exp(-k pi^2 t) sin(pi x)."""

import math

import numpy as np
import torch
import torch.nn as nn

torch.manual_seed(0)
np.random.seed(0)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
k = 0.1  # diffusivity


def exact(x, t):
    return torch.exp(-k * math.pi**2 * t) * torch.sin(math.pi * x)


class PINN(nn.Module):
    def __init__(self, layers=(2, 20, 20, 20, 1)):
        super().__init__()
        self.activation = nn.Tanh()
        self.linears = nn.ModuleList(
            [nn.Linear(layers[i], layers[i + 1]) for i in range(len(layers) - 1)]
        )
        for linear in self.linears:
            nn.init.xavier_normal_(linear.weight.data, gain=1.0)
            nn.init.zeros_(linear.bias.data)

    def forward(self, x, t):
        a = torch.cat([x, t], dim=1)
        for linear in self.linears[:-1]:
            a = self.activation(linear(a))
        return self.linears[-1](a)


def residual(model, x, t):
    x.requires_grad_(True)
    t.requires_grad_(True)
    u = model(x, t)
    u_t = torch.autograd.grad(u, t, grad_outputs=torch.ones_like(u), create_graph=True)[0]
    u_x = torch.autograd.grad(u, x, grad_outputs=torch.ones_like(u), create_graph=True)[0]
    u_xx = torch.autograd.grad(u_x, x, grad_outputs=torch.ones_like(u_x), create_graph=True)[0]
    return u_t - k * u_xx


# collocation points in (0, 1) x (0, 1], the initial line t = 0 and the boundaries x = 0, 1
x_f = torch.rand(400, 1, device=device)
t_f = torch.rand(400, 1, device=device)
x_0 = torch.rand(100, 1, device=device)
t_0 = torch.zeros(100, 1, device=device)
u_0 = torch.sin(math.pi * x_0)
t_b = torch.rand(100, 1, device=device)
x_b = torch.cat([torch.zeros(50, 1), torch.ones(50, 1)]).to(device)

model = PINN().to(device)
mse = nn.MSELoss()


def loss_fn():
    loss_pde = mse(residual(model, x_f, t_f), torch.zeros_like(x_f))
    loss_ic = mse(model(x_0, t_0), u_0)
    loss_bc = mse(model(x_b, t_b), torch.zeros_like(x_b))
    return loss_pde + loss_ic + loss_bc


history = []
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
for epoch in range(120):
    optimizer.zero_grad()
    loss = loss_fn()
    loss.backward()
    optimizer.step()
    history.append(loss.item())
    if epoch % 30 == 0:
        print(f"Adam epoch {epoch}: loss {loss.item():.3e}")

lbfgs = torch.optim.LBFGS(
    model.parameters(), lr=1.0, max_iter=50, history_size=20, line_search_fn="strong_wolfe"
)


def closure():
    lbfgs.zero_grad()
    loss = loss_fn()
    loss.backward()
    return loss


for _ in range(2):
    loss = lbfgs.step(closure)
    history.append(loss.item())
print(f"after LBFGS: loss {history[-1]:.3e}")

# compare with the exact solution on a grid
xs = torch.linspace(0, 1, 21)
ts = torch.linspace(0, 1, 11)
X, T = torch.meshgrid(xs, ts, indexing="ij")
x_test, t_test = X.reshape(-1, 1).to(device), T.reshape(-1, 1).to(device)
with torch.no_grad():
    u_pred = model(x_test, t_test)
u_true = exact(x_test, t_test)
rel_l2 = (torch.linalg.norm(u_pred - u_true) / torch.linalg.norm(u_true)).item()
print(f"relative L2 error {rel_l2:.3e}")

# the residual's own gradient check in float64 on a tiny network
tiny = PINN((2, 3, 1)).double()
xg = torch.rand(4, 1, dtype=torch.float64)
tg = torch.rand(4, 1, dtype=torch.float64)
second_order_ok = torch.autograd.gradcheck(
    lambda a, b: residual(tiny, a, b), (xg.requires_grad_(), tg.requires_grad_())
)
