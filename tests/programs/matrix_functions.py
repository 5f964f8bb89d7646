"""Matrix functions with gradients, as numerical PyTorch code uses them: a rotation fit by
gradient descent on the Lie algebra (``torch.linalg.matrix_exp`` of a skew-symmetric matrix)
compared with the Kabsch/Procrustes solution from ``torch.linalg.svd`` (with the determinant
sign fix); a continuous-time linear system x(t) = exp(At) x0 identified from samples; matrix
completion by nuclear-norm regularization (``matrix_norm(ord="nuc")``, gradients through the
SVD); a differentiable PCA whose leading eigenvector from ``torch.linalg.eigh`` is steered by
moving the data; and ``pinv``/``lstsq`` least squares with gradients, checked against
each other."""

import torch

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)


def skew(w):
    zero = torch.zeros_like(w[0])
    return torch.stack(
        [
            torch.stack([zero, -w[2], w[1]]),
            torch.stack([w[2], zero, -w[0]]),
            torch.stack([-w[1], w[0], zero]),
        ]
    )


# -- rotation fitting: Lie algebra vs Kabsch
points = torch.randn(30, 3)
true_R = torch.linalg.matrix_exp(skew(torch.tensor([0.3, -0.8, 1.1])))
observed = points @ true_R.T + 0.01 * torch.randn(30, 3)
w = torch.zeros(3, requires_grad=True)
optimizer = torch.optim.Adam([w], lr=0.1)
rotation_losses = []
for step in range(80):
    optimizer.zero_grad()
    R = torch.linalg.matrix_exp(skew(w))
    loss = (points @ R.T - observed).pow(2).sum(1).mean()
    loss.backward()
    optimizer.step()
    rotation_losses.append(loss.item())
R_lie = torch.linalg.matrix_exp(skew(w.detach()))
H = points.T @ observed
U, S, Vh = torch.linalg.svd(H)
d = torch.sign(torch.linalg.det(Vh.T @ U.T))
R_kabsch = Vh.T @ torch.diag(torch.tensor([1.0, 1.0, d.item()])) @ U.T
rotation_gap = (R_lie - R_kabsch).abs().max().item()
orthogonality = (R_lie @ R_lie.T - torch.eye(3)).abs().max().item()

# -- continuous-time system identification: x(t_k) = expm(A t_k) x0
A_true = torch.tensor([[-0.2, 1.0], [-1.0, -0.3]])
x0 = torch.tensor([1.0, 0.0])
times = torch.linspace(0.0, 4.0, 12)
traj = torch.stack([torch.linalg.matrix_exp(A_true * t) @ x0 for t in times])
traj = traj + 0.01 * torch.randn_like(traj)
A = torch.zeros(2, 2, requires_grad=True)
optimizer = torch.optim.Adam([A], lr=0.05)
ode_losses = []
for step in range(60):
    optimizer.zero_grad()
    pred = torch.linalg.matrix_exp(A * times[:, None, None]) @ x0  # batched expm
    loss = (pred - traj).pow(2).mean()
    loss.backward()
    optimizer.step()
    ode_losses.append(loss.item())
A_fit = A.detach().tolist()

# -- matrix completion with a nuclear-norm penalty
low_rank = torch.randn(10, 2) @ torch.randn(2, 8)
mask = torch.rand(10, 8) < 0.6
X = torch.zeros(10, 8, requires_grad=True)
optimizer = torch.optim.Adam([X], lr=0.1)
completion_losses = []
for step in range(60):
    optimizer.zero_grad()
    fit = ((X - low_rank) * mask).pow(2).sum()
    loss = fit + 0.5 * torch.linalg.matrix_norm(X, ord="nuc")
    loss.backward()
    optimizer.step()
    completion_losses.append(loss.item())
singular_values = torch.linalg.svdvals(X.detach()).tolist()
missing_error = ((X.detach() - low_rank)[~mask]).pow(2).mean().sqrt().item()

# -- differentiable PCA: move the data to turn its leading principal axis
data = torch.randn(40, 3) * torch.tensor([1.5, 1.0, 0.5])
shift = torch.zeros(40, 3, requires_grad=True)
target_axis = torch.tensor([0.0, 1.0, 0.0])
optimizer = torch.optim.SGD([shift], lr=3.0)
pca_losses = []
for step in range(30):
    optimizer.zero_grad()
    Y = data + shift
    Yc = Y - Y.mean(0)
    evals, evecs = torch.linalg.eigh(Yc.T @ Yc / (len(Y) - 1))
    top = evecs[:, -1]
    loss = 1 - (top @ target_axis) ** 2 + 0.001 * shift.pow(2).sum()
    loss.backward()
    optimizer.step()
    pca_losses.append(loss.item())
eigenvalues = evals.detach().tolist()

# -- least squares three ways, with gradients in the design matrix
M = torch.randn(15, 4, requires_grad=True)
b = torch.randn(15)
x_pinv = torch.linalg.pinv(M) @ b
x_lstsq = torch.linalg.lstsq(M, b.unsqueeze(1)).solution.squeeze(1)
x_normal = torch.linalg.solve(M.T @ M, M.T @ b)
(g_pinv,) = torch.autograd.grad(x_pinv.pow(2).sum(), M)
(g_lstsq,) = torch.autograd.grad(x_lstsq.pow(2).sum(), M)
lstsq_gaps = [(x_pinv - x_lstsq).abs().max().item(), (x_pinv - x_normal).abs().max().item(),
              (g_pinv - g_lstsq).abs().max().item()]  # fmt: skip
lstsq_solution = x_pinv.tolist()
pinv_grad_sample = g_pinv[:2].tolist()
condition = torch.linalg.cond(M.detach()).item()
torch.set_default_dtype(torch.float32)
