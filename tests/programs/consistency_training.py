"""Consistency training (Song et al. 2023, "Consistency Models") as its PyTorch ports write
it: Karras et al.'s noise levels ``(s_max^(1/rho) + i/(N-1) (s_min^(1/rho) - s_max^(1/rho)))^rho``,
the boundary-respecting parametrization ``c_skip(s) x + c_out(s) F(x, s)`` with
``c_skip = s_data^2 / ((s - s_min)^2 + s_data^2)``, log-sigma conditioning, a target network
that is a ``copy.deepcopy`` of the online one updated by an EMA with ``torch._foreach_mul_`` /
``_foreach_add_`` under ``torch.no_grad()``, the pseudo-Huber loss
``sqrt(d^2 + c^2) - c``, pairs (x + s_{n+1} z, x + s_n z) with one shared noise, a
discretization curriculum N(k); then one- and two-step sampling; on 2-D points on two rings."""

import copy
import math

import torch
import torch.nn as nn

torch.manual_seed(0)
sigma_min, sigma_max, sigma_data, rho = 0.002, 2.0, 0.5, 7.0


def karras_sigmas(n):
    ramp = torch.linspace(0, 1, n)
    min_inv_rho, max_inv_rho = sigma_min ** (1 / rho), sigma_max ** (1 / rho)
    return (max_inv_rho + ramp * (min_inv_rho - max_inv_rho)) ** rho  # descending


class ConsistencyModel(nn.Module):
    def __init__(self, hidden=64):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(3, hidden), nn.SiLU(), nn.Linear(hidden, hidden),
                                 nn.SiLU(), nn.Linear(hidden, 2))  # fmt: skip

    def forward(self, x, sigma):
        c_skip = sigma_data**2 / ((sigma - sigma_min) ** 2 + sigma_data**2)
        c_out = (sigma - sigma_min) * sigma_data / (sigma**2 + sigma_data**2).sqrt()
        c_in = 1 / (sigma**2 + sigma_data**2).sqrt()
        h = torch.cat([c_in[:, None] * x, sigma.log()[:, None] / 4], dim=1)
        return c_skip[:, None] * x + c_out[:, None] * self.net(h)


def discretization(k, total, s0=4, s1=40):
    return math.ceil(math.sqrt(k / total * ((s1 + 1) ** 2 - s0**2) + s0**2) - 1) + 1


def rings(n):
    radius = torch.where(torch.rand(n) < 0.5, 0.5, 1.0)
    angle = torch.rand(n) * 2 * math.pi
    return torch.stack([angle.cos(), angle.sin()], 1) * radius[:, None] + 0.02 * torch.randn(n, 2)


model = ConsistencyModel()
ema_model = copy.deepcopy(model)
ema_model.requires_grad_(False)
optimizer = torch.optim.RAdam(model.parameters(), lr=2e-3)
steps, huber_c = 150, 0.00054 * math.sqrt(2)
losses, curriculum = [], []
for k in range(steps):
    N = discretization(k, steps)
    sigmas = karras_sigmas(N).flip(0)  # ascending
    x = rings(128)
    n = torch.randint(0, N - 1, (128,))
    z = torch.randn_like(x)
    s_n, s_next = sigmas[n], sigmas[n + 1]
    online = model(x + s_next[:, None] * z, s_next)
    with torch.no_grad():
        target = ema_model(x + s_n[:, None] * z, s_n)
    weight = 1 / (s_next - s_n)
    loss = (weight * (((online - target) ** 2).sum(1) + huber_c**2).sqrt().sub(huber_c)).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    mu = math.exp(2 * math.log(0.9) / N)  # the target's decay follows the curriculum
    with torch.no_grad():
        ema_params, params = list(ema_model.parameters()), list(model.parameters())
        torch._foreach_mul_(ema_params, mu)
        torch._foreach_add_(ema_params, params, alpha=1 - mu)
    losses.append(loss.item())
    curriculum.append(N)


@torch.no_grad()
def sample(n, sigma_steps):
    x = torch.randn(n, 2) * sigma_steps[0]
    x = ema_model(x, torch.full((n,), sigma_steps[0]))
    for s in sigma_steps[1:]:  # multistep: re-noise to s, denoise again
        x = x + math.sqrt(s**2 - sigma_min**2) * torch.randn_like(x)
        x = ema_model(x, torch.full((n,), s))
    return x


torch.manual_seed(1)
ring_errors = []
for schedule in ([sigma_max], [sigma_max, 0.5]):
    radii = sample(256, schedule).norm(dim=1)
    ring_errors.append(torch.minimum((radii - 0.5).abs(), (radii - 1.0).abs()).mean().item())
noise_error = (
    torch.minimum(
        (torch.randn(256, 2).norm(dim=1) - 0.5).abs(), (torch.randn(256, 2).norm(dim=1) - 1).abs()
    )
    .mean()
    .item()
)
boundary_gap = (ema_model(torch.ones(3, 2), torch.full((3,), sigma_min)) - 1).abs().max().item()
sigma_ends = [karras_sigmas(10)[0].item(), karras_sigmas(10)[-1].item()]
ema_gap = sum(
    (a - b).abs().sum().item() for a, b in zip(model.parameters(), ema_model.parameters())
)
