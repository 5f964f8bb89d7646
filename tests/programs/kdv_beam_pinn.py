"""Physics-informed networks for equations of third and fourth order, as PINN papers' PyTorch
code writes them: a tanh MLP u(x, t) trained on the Korteweg-de Vries equation
u_t + 6 u u_x + u_xxx = 0 with the one-soliton solution as initial and boundary data, the
third derivative u_xxx by three nested ``torch.autograd.grad(..., create_graph=True)`` calls (so
the loss's backward is a fourth-order one); and an Euler-Bernoulli beam EI u'''' = q clamped at
both ends, its fourth derivative by a helper that differentiates repeatedly, trained with Adam
and then a few L-BFGS steps, compared with the closed-form deflection q x^2 (L - x)^2 / (24 EI)."""

import math

import torch
import torch.nn as nn

torch.manual_seed(0)


class MLP(nn.Module):
    def __init__(self, n_in, width=16, depth=2):
        super().__init__()
        layers, size = [], n_in
        for _ in range(depth):
            layers += [nn.Linear(size, width), nn.Tanh()]
            size = width
        layers.append(nn.Linear(size, 1))
        self.net = nn.Sequential(*layers)
        for m in self.net:
            if isinstance(m, nn.Linear):
                nn.init.xavier_normal_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, *inputs):
        return self.net(torch.cat(inputs, dim=1))


def d(outputs, inputs):
    return torch.autograd.grad(
        outputs, inputs, grad_outputs=torch.ones_like(outputs), create_graph=True
    )[0]


def soliton(x, t, c=1.0):
    return 0.5 * c / torch.cosh(0.5 * math.sqrt(c) * (x - c * t)).pow(2)


# -- KdV: collocation in (x, t) in [-4, 4] x [0, 1]
kdv = MLP(2)
x_r = (torch.rand(64, 1) * 8 - 4).requires_grad_(True)
t_r = torch.rand(64, 1).requires_grad_(True)
x_0 = torch.linspace(-4, 4, 32).unsqueeze(1)
t_0 = torch.zeros_like(x_0)
t_b = torch.rand(16, 1)
x_b = torch.cat([torch.full((8, 1), -4.0), torch.full((8, 1), 4.0)])


def kdv_residual(x, t):
    u = kdv(x, t)
    u_t = d(u, t)
    u_x = d(u, x)
    u_xx = d(u_x, x)
    u_xxx = d(u_xx, x)
    return u_t + 6 * u * u_x + u_xxx


optimizer = torch.optim.Adam(kdv.parameters(), lr=5e-3)
kdv_losses = []
for step in range(25):
    optimizer.zero_grad()
    residual = kdv_residual(x_r, t_r)
    loss_pde = residual.pow(2).mean()
    loss_ic = (kdv(x_0, t_0) - soliton(x_0, t_0)).pow(2).mean()
    loss_bc = (kdv(x_b, t_b) - soliton(x_b, t_b)).pow(2).mean()
    loss = loss_pde + 10 * loss_ic + loss_bc
    loss.backward()
    optimizer.step()
    kdv_losses.append([loss.item(), loss_pde.item(), loss_ic.item()])
kdv_first_grad = kdv.net[0].weight.grad[:3].tolist()

# -- Euler-Bernoulli beam: EI u'''' = q on [0, 1], u = u' = 0 at both ends
EI, q = 1.0, 1.0
beam = MLP(1, width=12)
x_c = torch.linspace(0, 1, 24).unsqueeze(1).requires_grad_(True)
x_ends = torch.tensor([[0.0], [1.0]], requires_grad=True)


def derivative(u, x, order):
    for _ in range(order):
        u = d(u, x)
    return u


def beam_loss():
    u = beam(x_c)
    pde = (EI * derivative(u, x_c, 4) - q).pow(2).mean()
    u_end = beam(x_ends)
    bc = u_end.pow(2).sum() + derivative(u_end, x_ends, 1).pow(2).sum()
    return pde + 100 * bc


beam_optimizer = torch.optim.Adam(beam.parameters(), lr=1e-2)
beam_losses = []
for step in range(25):
    beam_optimizer.zero_grad()
    loss = beam_loss()
    loss.backward()
    beam_optimizer.step()
    beam_losses.append(loss.item())

lbfgs = torch.optim.LBFGS(beam.parameters(), lr=1.0, max_iter=10, line_search_fn="strong_wolfe")


def closure():
    lbfgs.zero_grad()
    loss = beam_loss()
    loss.backward()
    return loss


for _ in range(2):
    beam_losses.append(lbfgs.step(closure).item())

x_test = torch.linspace(0, 1, 11).unsqueeze(1)
with torch.no_grad():
    deflection = beam(x_test).squeeze(1)
exact = q * x_test.squeeze(1) ** 2 * (1 - x_test.squeeze(1)) ** 2 / (24 * EI)
beam_deflection = deflection.tolist()
beam_error = (deflection - exact).abs().max().item()
