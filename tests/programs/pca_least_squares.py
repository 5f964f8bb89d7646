"""Dimensionality reduction and regression with torch.linalg: PCA three ways (``torch.pca_lowrank``
with q equal to the rank, ``linalg.svd`` of the centred data, ``linalg.eigh`` of the covariance
from ``torch.cov``) agreeing on variances and subspaces; whitening; ridge regression via the
normal equations (``linalg.solve``) against ``linalg.lstsq`` on the augmented system with the
``gelsd`` driver (``singular_values``, ``residuals``, ``rank``); rank detection with
``matrix_rank`` on a rank-deficient design and its minimum-norm ``pinv`` solution."""

import numpy as np
import torch
from numpy_init import randn

torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(18)
latent = randn(rng, 120, 3).double() * torch.tensor([3.0, 1.5, 0.5])
mixing = torch.linalg.qr(randn(rng, 6, 6).double())[0][:3]
X = latent @ mixing + 0.05 * randn(rng, 120, 6).double() + torch.arange(6.0)

U, S, V = torch.pca_lowrank(X, q=6, center=True)
pca_variances = (S**2 / (X.shape[0] - 1)).tolist()
Xc = X - X.mean(0)
U2, S2, Vh2 = torch.linalg.svd(Xc, full_matrices=False)
svd_gap = (S - S2).abs().max().item()
evals, evecs = torch.linalg.eigh(torch.cov(X.T))
eig_gap = (evals.flip(0) - S2**2 / (X.shape[0] - 1)).abs().max().item()
subspace_gap = (V[:, :3] @ V[:, :3].T - Vh2[:3].T @ Vh2[:3]).abs().max().item()
explained = (S2[:3] ** 2).sum() / (S2**2).sum()
explained_ratio = explained.item()
whitened = Xc @ Vh2[:3].T / (S2[:3] / (X.shape[0] - 1) ** 0.5)
whitened_cov_gap = (torch.cov(whitened.T) - torch.eye(3)).abs().max().item()

w_true = torch.tensor([1.0, -2.0, 0.5, 0.0, 3.0, -1.0])
y = Xc @ w_true + 0.1 * randn(rng, 120).double()
lam = 0.5
w_normal = torch.linalg.solve(Xc.T @ Xc + lam * torch.eye(6), Xc.T @ y)
A_aug = torch.cat([Xc, lam**0.5 * torch.eye(6)])
y_aug = torch.cat([y, torch.zeros(6)]).unsqueeze(1)
result = torch.linalg.lstsq(A_aug, y_aug, driver="gelsd")
ridge_gap = (result.solution.squeeze(1) - w_normal).abs().max().item()
ridge_weights = w_normal.tolist()
lstsq_fields = [result.residuals.tolist(), int(result.rank), result.singular_values.tolist()]
default_fields = [
    torch.linalg.lstsq(A_aug, y_aug).residuals.numel(),
    torch.linalg.lstsq(A_aug, y_aug).singular_values.numel(),
]

deficient = torch.cat([Xc[:, :3], Xc[:, :1] + Xc[:, 1:2]], 1)
rank = torch.linalg.matrix_rank(deficient).item()
w_min = torch.linalg.lstsq(deficient, y.unsqueeze(1), driver="gelsd").solution.squeeze(1)
w_pinv = torch.linalg.pinv(deficient) @ y
min_norm_gap = (w_min - w_pinv).abs().max().item()
min_norm = w_min.norm().item()
torch.set_default_dtype(torch.float32)
