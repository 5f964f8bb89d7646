"""LISTA (Gregor and LeCun 2010) against ISTA and FISTA for sparse coding, as the
learned-optimization tutorials write them in PyTorch: the step size from the spectral norm
``torch.linalg.matrix_norm(D, ord=2)`` (checked against ``svdvals``), soft thresholding both as
``F.softshrink`` (a fixed threshold) and as ``torch.sign(x) * F.relu(x.abs() - theta)`` (a
learned per-layer threshold, an ``nn.ParameterList``), FISTA's momentum, and an unrolled
LISTA network initialised from ISTA's matrices and trained end to end on the codes; the
dictionary and the sparse codes are drawn with NumPy."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import randn

M, N, K, LAMBDA = 12, 24, 3, 0.1


def sparse_codes(rng, batch):
    z = np.zeros((batch, N), dtype=np.float32)
    for row in z:
        row[rng.choice(N, K, replace=False)] = rng.standard_normal(K)
    return torch.from_numpy(z)


def ista(D, y, L, steps):
    z = torch.zeros(y.shape[0], D.shape[1])
    for _ in range(steps):
        z = F.softshrink(z + (y - z @ D.T) @ D / L, LAMBDA / L)
    return z


def fista(D, y, L, steps):
    z = z_prev = torch.zeros(y.shape[0], D.shape[1])
    t = 1.0
    for _ in range(steps):
        t_next = (1 + (1 + 4 * t * t) ** 0.5) / 2
        x = z + ((t - 1) / t_next) * (z - z_prev)
        z_prev, z = z, F.softshrink(x + (y - x @ D.T) @ D / L, LAMBDA / L)
        t = t_next
    return z


class LISTA(nn.Module):
    def __init__(self, D, L, layers):
        super().__init__()
        self.We = nn.Linear(D.shape[0], D.shape[1], bias=False)
        self.S = nn.Linear(D.shape[1], D.shape[1], bias=False)
        with torch.no_grad():
            self.We.weight.copy_(D.T / L)
            self.S.weight.copy_(torch.eye(D.shape[1]) - D.T @ D / L)
        self.thetas = nn.ParameterList(
            [nn.Parameter(torch.full((D.shape[1],), LAMBDA / L)) for _ in range(layers)]
        )

    @staticmethod
    def shrink(x, theta):
        return torch.sign(x) * F.relu(x.abs() - theta)

    def forward(self, y):
        b = self.We(y)
        z = self.shrink(b, self.thetas[0])
        for theta in self.thetas[1:]:
            z = self.shrink(b + self.S(z), theta)
        return z


def objective(D, y, z):
    return (0.5 * ((y - z @ D.T) ** 2).sum(1) + LAMBDA * z.abs().sum(1)).mean().item()


rng = np.random.default_rng(0)
D = randn(rng, M, N)
D = D / torch.linalg.vector_norm(D, dim=0, keepdim=True)
L = torch.linalg.matrix_norm(D, ord=2).item() ** 2
svd_gap = abs(torch.linalg.svdvals(D)[0].item() ** 2 - L)
z_train, z_test = sparse_codes(rng, 256), sparse_codes(rng, 64)
y_train, y_test = z_train @ D.T, z_test @ D.T

ista_objectives = [objective(D, y_test, ista(D, y_test, L, s)) for s in (4, 16)]
fista_objectives = [objective(D, y_test, fista(D, y_test, L, s)) for s in (4, 16)]
ista_code_error = F.mse_loss(ista(D, y_test, L, 4), z_test).item()

model = LISTA(D, L, layers=4)
untrained_gap = (model(y_test) - ista(D, y_test, L, 4)).abs().max().item()  # LISTA = ISTA at init
optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
losses = []
for epoch in range(15):
    for start in range(0, 256, 64):
        z_hat = model(y_train[start : start + 64])
        loss = F.mse_loss(z_hat, z_train[start : start + 64])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
with torch.no_grad():
    lista_code_error = F.mse_loss(model(y_test), z_test).item()
    sparsity = (model(y_test) == 0).float().mean().item()
thresholds = [theta.mean().item() for theta in model.thetas]
points = torch.tensor([-1.0, -0.1, -0.05, 0.0, 0.05, 0.1, 1.0], requires_grad=True)
softshrink_grad = torch.autograd.grad(F.softshrink(points, 0.1).sum(), points)[0].tolist()
shrink_grad = torch.autograd.grad(LISTA.shrink(points, 0.1).sum(), points)[0].tolist()
