"""Classical estimation with torch.linalg: a constant-velocity Kalman filter (predict/update with
``linalg.solve`` for the gain and the Joseph-form covariance update) tracking a noisy 2-D
trajectory, followed by a Rauch-Tung-Striebel smoother; ``linalg.lstsq`` fits the straight-line
motion, ``lu_factor``/``lu_solve`` reuse one factorization for several right-hand sides, and
``cholesky``/``cholesky_solve``/``solve_triangular`` check one another; the noise scale is
learned by gradient descent through the whole filter's log-likelihood (``slogdet``)."""

import numpy as np
import torch
from numpy_init import randn

torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(5)
dt, steps = 0.1, 30
F_ = torch.tensor([[1, 0, dt, 0], [0, 1, 0, dt], [0, 0, 1, 0], [0, 0, 0, 1]])
H = torch.eye(2, 4)
true_velocity = torch.tensor([1.0, -0.5])
times = torch.arange(steps) * dt
truth = torch.stack([times * true_velocity[0], 2.0 + times * true_velocity[1]], 1)
observations = truth + 0.2 * randn(rng, steps, 2).double()


def kalman(log_r, q=1e-3):
    R = torch.exp(log_r) * torch.eye(2)
    Q = q * torch.eye(4)
    x, P = torch.zeros(4), torch.eye(4)
    means, covs, preds, log_lik = [], [], [], 0.0
    for z in observations:
        x, P = F_ @ x, F_ @ P @ F_.T + Q
        preds.append((x, P))
        S = H @ P @ H.T + R
        innovation = z - H @ x
        K = torch.linalg.solve(S, H @ P).T
        x = x + K @ innovation
        I_KH = torch.eye(4) - K @ H
        P = I_KH @ P @ I_KH.T + K @ R @ K.T
        sign, logdet = torch.linalg.slogdet(S)
        log_lik = log_lik - 0.5 * (logdet + innovation @ torch.linalg.solve(S, innovation))
        means.append(x)
        covs.append(P)
    return means, covs, preds, log_lik


def rts_smoother(means, covs, preds):
    xs, Ps = [means[-1]], [covs[-1]]
    for k in range(len(means) - 2, -1, -1):
        x_pred, P_pred = preds[k + 1]
        G = covs[k] @ F_.T @ torch.linalg.inv(P_pred)
        xs.insert(0, means[k] + G @ (xs[0] - x_pred))
        Ps.insert(0, covs[k] + G @ (Ps[0] - P_pred) @ G.T)
    return torch.stack(xs)


log_r = torch.tensor(0.0, requires_grad=True)
optimizer = torch.optim.Adam([log_r], lr=0.2)
nlls = []
for it in range(15):
    optimizer.zero_grad()
    _, _, _, log_lik = kalman(log_r)
    (-log_lik).backward()
    optimizer.step()
    nlls.append(-log_lik.item())
learned_noise_std = torch.exp(0.5 * log_r).item()
with torch.no_grad():
    means, covs, preds, _ = kalman(log_r)
filtered = torch.stack(means)
smoothed = rts_smoother(means, covs, preds)
filter_rmse = (filtered[:, :2] - truth).pow(2).mean().sqrt().item()
smooth_rmse = (smoothed[:, :2] - truth).pow(2).mean().sqrt().item()
smoothed_velocity = smoothed[:, 2:].mean(0).tolist()

A = torch.stack([torch.ones(steps), times], 1)
solution = torch.linalg.lstsq(A, observations).solution
lstsq_velocity = solution[1].tolist()
normal_eq = torch.linalg.solve(A.T @ A, A.T @ observations)
lstsq_gap = (solution - normal_eq).abs().max().item()

M = torch.from_numpy(rng.standard_normal((5, 5))) + 5 * torch.eye(5)
rhs = torch.from_numpy(rng.standard_normal((5, 3)))
LU, pivots = torch.linalg.lu_factor(M)
lu_x = torch.linalg.lu_solve(LU, pivots, rhs)
lu_gap = (M @ lu_x - rhs).abs().max().item()
P_, L_, U_ = torch.linalg.lu(M)
plu_gap = (P_ @ L_ @ U_ - M).abs().max().item()
spd = M @ M.T
L = torch.linalg.cholesky(spd)
chol_x = torch.cholesky_solve(rhs, L)
tri_x = torch.linalg.solve_triangular(
    L.T, torch.linalg.solve_triangular(L, rhs, upper=False), upper=True
)
chol_gap = (chol_x - tri_x).abs().max().item()
chol_x_list = chol_x.flatten().tolist()
torch.set_default_dtype(torch.float32)
