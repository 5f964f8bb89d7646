"""PDE solvers written with convolution stencils, as scientific-ML code writes them in PyTorch:
a Gray-Scott reaction-diffusion system stepped with a 5-point Laplacian as a fixed
``F.conv2d`` kernel over periodic (``F.pad(mode="circular")``) boundaries; its diffusion and
feed/kill parameters recovered from an observed trajectory by backpropagation through the
rollout; and a PDE-Net-style learned 3 x 3 stencil (moment constraints imposed by a fixed
mask) fit to one-step heat-equation data, compared with the exact Laplacian stencil; the
1-D wave equation with ``F.conv1d`` and replicate padding checks energy conservation."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)

LAPLACE = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]]).view(1, 1, 3, 3)


def laplacian(z):
    return F.conv2d(F.pad(z, (1, 1, 1, 1), mode="circular"), LAPLACE)


def gray_scott(u, v, params, steps, dt=1.0):
    du, dv, feed, kill = params
    for _ in range(steps):
        uvv = u * v * v
        u = u + dt * (du * laplacian(u) - uvv + feed * (1 - u))
        v = v + dt * (dv * laplacian(v) + uvv - (feed + kill) * v)
    return u, v


size = 16
u0 = torch.ones(1, 1, size, size)
v0 = torch.zeros(1, 1, size, size)
u0[..., 6:10, 6:10] = 0.5
v0[..., 6:10, 6:10] = 0.25
u0 = u0 + 0.02 * torch.rand_like(u0)
true_params = torch.tensor([0.16, 0.08, 0.035, 0.065])
with torch.no_grad():
    snapshots = []
    u, v = u0, v0
    for k in range(3):
        u, v = gray_scott(u, v, true_params, 8)
        snapshots.append(v.clone())
mass_u = u.mean().item()

raw = torch.tensor([0.1, 0.1, 0.05, 0.05], requires_grad=True)
optimizer = torch.optim.Adam([raw], lr=0.002)
inverse_losses = []
for it in range(15):
    optimizer.zero_grad()
    u, v = u0, v0
    loss = 0.0
    for target in snapshots:
        u, v = gray_scott(u, v, raw, 8)
        loss = loss + F.mse_loss(v, target)
    loss.backward()
    optimizer.step()
    inverse_losses.append(loss.item())
recovered = raw.tolist()
param_grad = raw.grad.tolist()

# -- PDE-Net: a learned 3 x 3 stencil with zero sum (conservation) and symmetry imposed


class LearnedStencil(nn.Module):
    def __init__(self):
        super().__init__()
        self.raw = nn.Parameter(0.1 * torch.randn(3, 3))

    def kernel(self):
        k = 0.5 * (self.raw + self.raw.T)  # symmetric
        k = 0.5 * (k + k.flip(0, 1))
        return (k - k.mean()).view(1, 1, 3, 3)  # zero moment: constants are steady

    def forward(self, z, nu=0.1):
        return z + nu * F.conv2d(F.pad(z, (1, 1, 1, 1), mode="circular"), self.kernel())


fields = F.avg_pool2d(torch.randn(8, 1, 20, 20), 3, stride=1, padding=1)
next_fields = fields + 0.1 * laplacian(fields)
stencil = LearnedStencil()
optimizer = torch.optim.Adam(stencil.parameters(), lr=0.05)
stencil_losses = []
for it in range(60):
    optimizer.zero_grad()
    loss = F.mse_loss(stencil(fields), next_fields)
    loss.backward()
    optimizer.step()
    stencil_losses.append(loss.item())
learned_kernel = stencil.kernel().detach().view(3, 3)
stencil_error = (learned_kernel - LAPLACE.view(3, 3)).abs().max().item()

# -- the 1-D wave equation u_tt = c^2 u_xx, leapfrog in time, Dirichlet ends by replicate pads
x = torch.linspace(0, 1, 101)
c, dx, dt = 1.0, 0.01, 0.005
u_prev = torch.exp(-200 * (x - 0.3 + c * dt) ** 2).view(1, 1, -1)  # moving right
u_now = torch.exp(-200 * (x - 0.3) ** 2).view(1, 1, -1)
stencil_1d = torch.tensor([1.0, -2.0, 1.0]).view(1, 1, 3)
energies = []
for step in range(80):
    lap = F.conv1d(F.pad(u_now, (1, 1), mode="replicate"), stencil_1d) / dx**2
    u_next = 2 * u_now - u_prev + (c * dt) ** 2 * lap
    u_prev, u_now = u_now, u_next
    if step % 20 == 0:
        velocity = (u_now - u_prev) / dt
        grad_u = torch.diff(u_now, dim=-1) / dx
        energy = 0.5 * (velocity.pow(2).sum() + c**2 * grad_u.pow(2).sum()) * dx
        energies.append(energy.item())
wave_peak = u_now.argmax().item()
wave_sample = u_now[0, 0, ::20].tolist()
