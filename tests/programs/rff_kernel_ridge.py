"""Kernel methods as course labs write them in PyTorch: exact RBF kernel ridge regression on
``torch.cdist`` distances with the median-heuristic bandwidth (``torch.median`` of the upper
triangle), solved by ``torch.linalg.cholesky`` / ``torch.cholesky_solve``; random Fourier
features (Rahimi & Recht: ``randn`` frequencies, ``rand`` phases, ``sqrt(2/D) cos``) fitted by
``torch.linalg.solve`` in the primal, their kernel approximation error shrinking with D; a
Nyström approximation from ``randperm`` landmarks through ``torch.linalg.eigh`` with clamped
eigenvalues; kernel PCA on the doubly centered Gram matrix; and an RFF logistic classifier
trained with ``torch.optim.SGD`` and ``nn.BCEWithLogitsLoss``. All in float64."""

import math

import torch
import torch.nn as nn

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)


def target(x):
    return torch.sin(3 * x[:, 0]) + 0.5 * torch.cos(2 * x[:, 1]) * x[:, 0]


X_train = torch.rand(120, 2) * 4 - 2
y_train = target(X_train) + 0.1 * torch.randn(120)
X_test = torch.rand(60, 2) * 4 - 2
y_test = target(X_test)


def rbf_kernel(a, b, sigma):
    d2 = torch.cdist(a, b, p=2.0).pow(2)
    return torch.exp(-d2 / (2 * sigma**2))


dists = torch.cdist(X_train, X_train)
iu = torch.triu_indices(len(X_train), len(X_train), offset=1)
sigma = 0.3 * dists[iu[0], iu[1]].median().item()
lam = 1e-3

K = rbf_kernel(X_train, X_train, sigma)
L = torch.linalg.cholesky(K + lam * torch.eye(len(K)))
alpha = torch.cholesky_solve(y_train.unsqueeze(1), L)
pred_exact = rbf_kernel(X_test, X_train, sigma) @ alpha
exact_mse = torch.mean((pred_exact.squeeze(1) - y_test) ** 2).item()
print(f"sigma={sigma:.4f} exact KRR test mse {exact_mse:.5f}")


class RandomFourierFeatures(nn.Module):
    def __init__(self, in_dim, n_features, sigma):
        super().__init__()
        self.register_buffer("W", torch.randn(n_features, in_dim) / sigma)
        self.register_buffer("b", torch.rand(n_features) * 2 * math.pi)
        self.scale = math.sqrt(2.0 / n_features)

    def forward(self, x):
        return self.scale * torch.cos(x @ self.W.T + self.b)


rff_errors, rff_mse = {}, {}
for D in (16, 64, 256):
    rff = RandomFourierFeatures(2, D, sigma)
    Z = rff(X_train)
    rff_errors[D] = (Z @ Z.T - K).abs().max().item()
    w = torch.linalg.solve(Z.T @ Z + lam * torch.eye(D), Z.T @ y_train)
    rff_mse[D] = torch.mean((rff(X_test) @ w - y_test) ** 2).item()
    print(f"D={D:4d} max |K - ZZ^T| {rff_errors[D]:.4f} test mse {rff_mse[D]:.5f}")

m = 30
landmarks = X_train[torch.randperm(len(X_train))[:m]]
K_mm = rbf_kernel(landmarks, landmarks, sigma)
evals, evecs = torch.linalg.eigh(K_mm)
inv_sqrt = evecs @ torch.diag(evals.clamp(min=1e-10).rsqrt()) @ evecs.T
Phi = rbf_kernel(X_train, landmarks, sigma) @ inv_sqrt
nystrom_error = torch.linalg.matrix_norm(Phi @ Phi.T - K, ord="fro").item()
nystrom_rel = nystrom_error / torch.linalg.norm(K).item()

n = len(K)
H = torch.eye(n) - torch.full((n, n), 1.0 / n)
Kc = H @ K @ H
kevals, kevecs = torch.linalg.eigh(Kc)
kevals, kevecs = kevals.flip(0), kevecs.flip(1)
explained = (kevals[:3] / kevals.clamp(min=0).sum()).tolist()
proj = kevecs[:, :2] * kevals[:2].sqrt()
kpca_abs_first = proj.abs().sum(0).tolist()  # eigenvector signs are arbitrary

labels = (target(X_train) > 0).double()
clf_rff = RandomFourierFeatures(2, 64, sigma)
head = nn.Linear(64, 1)
opt = torch.optim.SGD(head.parameters(), lr=2.0, momentum=0.9)
criterion = nn.BCEWithLogitsLoss()
clf_losses = []
for epoch in range(40):
    opt.zero_grad()
    loss = criterion(head(clf_rff(X_train)).squeeze(1), labels)
    loss.backward()
    opt.step()
    clf_losses.append(loss.item())
with torch.no_grad():
    clf_acc = ((head(clf_rff(X_train)).squeeze(1) > 0).double() == labels).double().mean().item()
print(f"rff logistic loss {clf_losses[0]:.4f} -> {clf_losses[-1]:.4f} acc {clf_acc:.3f}")
torch.set_default_dtype(torch.float32)
