"""SIREN (Sitzmann et al.) as its explore_siren notebook writes it: sine layers with the
``omega_0`` scaling and their special uniform initialization, fitting an image given on a
coordinate grid (``torch.meshgrid`` + ``linspace``), then the image's spatial gradient and
Laplacian taken from the network with ``torch.autograd.grad(..., create_graph=True)`` and
``grad_outputs=torch.ones_like(y)``; a second fit supervises the gradient only (Poisson-style)."""

import math

import numpy as np
import torch
import torch.nn as nn


class SineLayer(nn.Module):
    def __init__(
        self, in_features, out_features, bias=True, is_first=False, omega_0=30.0, rng=None
    ):
        super().__init__()
        self.omega_0, self.is_first = omega_0, is_first
        self.linear = nn.Linear(in_features, out_features, bias=bias)
        bound = 1 / in_features if is_first else math.sqrt(6 / in_features) / omega_0
        with torch.no_grad():
            self.linear.weight.copy_(
                torch.from_numpy(
                    rng.uniform(-bound, bound, (out_features, in_features)).astype(np.float32)
                )
            )
            self.linear.bias.copy_(
                torch.from_numpy(rng.uniform(-0.05, 0.05, out_features).astype(np.float32))
            )

    def forward(self, input):
        return torch.sin(self.omega_0 * self.linear(input))


class Siren(nn.Module):
    def __init__(self, hidden=32, layers=2, omega=30.0, seed=0):
        super().__init__()
        rng = np.random.default_rng(seed)
        net = [SineLayer(2, hidden, is_first=True, omega_0=omega, rng=rng)]
        for _ in range(layers):
            net.append(SineLayer(hidden, hidden, omega_0=omega, rng=rng))
        final = nn.Linear(hidden, 1)
        bound = math.sqrt(6 / hidden) / omega
        with torch.no_grad():
            final.weight.copy_(
                torch.from_numpy(rng.uniform(-bound, bound, (1, hidden)).astype(np.float32))
            )
            final.bias.zero_()
        net.append(final)
        self.net = nn.Sequential(*net)

    def forward(self, coords):
        coords = coords.clone().detach().requires_grad_(True)
        return self.net(coords), coords


def gradient(y, x, grad_outputs=None):
    if grad_outputs is None:
        grad_outputs = torch.ones_like(y)
    return torch.autograd.grad(y, [x], grad_outputs=grad_outputs, create_graph=True)[0]


def laplace(y, x):
    grad = gradient(y, x)
    div = 0.0
    for i in range(grad.shape[-1]):
        div = (
            div
            + torch.autograd.grad(
                grad[..., i], x, torch.ones_like(grad[..., i]), create_graph=True
            )[0][..., i : i + 1]
        )
    return div


side = 16
tensors = [torch.linspace(-1, 1, steps=side)] * 2
grid = torch.stack(torch.meshgrid(*tensors, indexing="ij"), dim=-1).reshape(-1, 2)
image = torch.sin(3 * grid[:, :1]) * torch.cos(2 * grid[:, 1:]) + 0.5 * grid[:, :1] ** 2
true_grad = torch.cat(
    [
        3 * torch.cos(3 * grid[:, :1]) * torch.cos(2 * grid[:, 1:]) + grid[:, :1],
        -2 * torch.sin(3 * grid[:, :1]) * torch.sin(2 * grid[:, 1:]),
    ],
    1,
)

siren = Siren(omega=10.0, seed=71)
optim = torch.optim.Adam(lr=1e-3, params=siren.parameters())
fit_losses = []
for step in range(40):
    output, coords = siren(grid)
    loss = ((output - image) ** 2).mean()
    optim.zero_grad()
    loss.backward()
    optim.step()
    fit_losses.append(loss.item())

output, coords = siren(grid)
img_grad = gradient(output, coords)
img_laplacian = laplace(output, coords)
grad_error = (img_grad - true_grad).norm(dim=-1).mean().item()
laplacian_sample = img_laplacian[:6, 0].tolist()

poisson = Siren(omega=10.0, seed=72)
optim = torch.optim.Adam(lr=1e-3, params=poisson.parameters())
poisson_losses = []
for step in range(30):
    output, coords = poisson(grid)
    loss = ((gradient(output, coords) - true_grad) ** 2).sum(-1).mean()
    optim.zero_grad()
    loss.backward()
    optim.step()
    poisson_losses.append(loss.item())
print(
    f"fit {fit_losses[0]:.4f} -> {fit_losses[-1]:.4f}; gradient error {grad_error:.3f}; poisson {poisson_losses[-1]:.3f}"
)
