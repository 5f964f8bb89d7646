"""SINDy (Brunton et al. 2016) on the Lorenz system as PyTorch ports of PySINDy write it: a
batch of trajectories integrated by RK4 in float64, derivatives by ``torch.gradient`` (second-order
central differences), a polynomial library built from ``torch.combinations(...,
with_replacement=True)`` and ``prod``, sequentially thresholded least squares with
``torch.linalg.lstsq`` and boolean-mask writes, then STRidge's version with masked ridge
normal equations solved by ``torch.linalg.solve`` (and ``pinv`` checked against ``lstsq``), and the identified model re-integrated
and compared with the truth."""

import torch

SIGMA, RHO, BETA, DT = 10.0, 28.0, 8.0 / 3.0, 0.005
torch.set_default_dtype(torch.float64)


def lorenz(state):
    x, y, z = state.unbind(-1)
    return torch.stack([SIGMA * (y - x), x * (RHO - z) - y, x * y - BETA * z], -1)


def rk4(f, state, dt, steps):
    out = [state]
    for _ in range(steps):
        k1 = f(state)
        k2 = f(state + 0.5 * dt * k1)
        k3 = f(state + 0.5 * dt * k2)
        k4 = f(state + dt * k3)
        state = state + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        out.append(state)
    return torch.stack(out)


def library(X, degree=2):
    """[1, x, y, z, x^2, xy, xz, y^2, yz, z^2] as columns."""
    columns, names = [torch.ones(X.shape[0])], ["1"]
    for d in range(1, degree + 1):
        combos = torch.combinations(torch.arange(X.shape[1]), r=d, with_replacement=True)
        for combo in combos:
            columns.append(X[:, combo].prod(dim=1))
            names.append("".join("xyz"[i] for i in combo.tolist()))
    return torch.stack(columns, 1), names


def stlsq(theta, dX, threshold=0.5, iterations=10):
    coef = torch.linalg.lstsq(theta, dX).solution
    for _ in range(iterations):
        small = coef.abs() < threshold
        coef[small] = 0
        for k in range(dX.shape[1]):
            big = ~small[:, k]
            coef[big, k] = torch.linalg.lstsq(theta[:, big], dX[:, k : k + 1]).solution[:, 0]
    return coef


starts = torch.tensor([[-8.0, 7.0, 27.0], [5.0, -3.0, 20.0], [1.0, 1.0, 1.0], [-2.0, 9.0, 35.0]])
starts = torch.cat([starts, starts.flip(1) * 0.5])
trajectories = rk4(lorenz, starts, DT, 100)  # (time, trajectory, xyz)
derivatives = torch.gradient(trajectories, spacing=DT, dim=0)[0]
X, dX = trajectories.transpose(0, 1).reshape(-1, 3), derivatives.transpose(0, 1).reshape(-1, 3)
theta, names = library(X)
coef = stlsq(theta, dX)
support = [[names[i] for i in torch.nonzero(coef[:, k]).flatten().tolist()] for k in range(3)]
true_coef = torch.zeros(10, 3)
for (term, k), value in {
    ("x", 0): -SIGMA, ("y", 0): SIGMA, ("x", 1): RHO, ("y", 1): -1.0, ("xz", 1): -1.0,
    ("z", 2): -BETA, ("xy", 2): 1.0,
}.items():  # fmt: skip
    true_coef[names.index(term), k] = value
coef_error = (coef - true_coef).abs().max().item()
residual = torch.linalg.norm(theta @ coef - dX).item()

# STRidge: the same thresholding with ridge normal equations on a normalised library
scale = torch.linalg.vector_norm(theta, dim=0)
theta_n = theta / scale
gram = theta_n.T @ theta_n
ridge = torch.linalg.solve(gram + 1e-5 * torch.eye(10), theta_n.T @ dX) / scale[:, None]
for _ in range(5):
    keep = (ridge.abs() >= 0.5).to(gram.dtype)
    for k in range(3):
        mask = torch.diag(keep[:, k])
        sub = mask @ gram @ mask + torch.diag(1 - keep[:, k]) + 1e-5 * torch.eye(10)
        ridge[:, k] = torch.linalg.solve(sub, mask @ theta_n.T @ dX[:, k]) / scale
ridge_gap = (ridge - coef).abs().max().item()
pinv_gap = (
    (torch.linalg.pinv(theta) @ dX - torch.linalg.lstsq(theta, dX).solution).abs().max().item()
)


def identified(state):
    lib, _ = library(state.unsqueeze(0))
    return (lib @ coef).squeeze(0)


X_model = rk4(identified, starts[0], DT, 25)
trajectory_gap = (X_model - trajectories[:26, 0]).abs().max().item()
n_terms = theta.shape[1]
combination_count = torch.combinations(torch.arange(3), r=2, with_replacement=True).shape
torch.set_default_dtype(torch.float32)
