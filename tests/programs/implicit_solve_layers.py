"""Implicit layers whose outputs are solutions of linear systems, as meta-learning and
differentiable-optimization code writes them in PyTorch: R2D2 (Bertinetto et al. 2019), a
few-shot learner whose head is closed-form ridge regression solved with ``torch.linalg.solve``
in the Woodbury form, the embedding network trained through the solve over sampled episodes;
an equality-constrained quadratic program layer (OptNet's KKT system, ``torch.linalg.solve``
on the block matrix built with ``torch.cat``) trained to imitate a projection; and a
batched ``torch.linalg.lstsq`` layer whose gradient is checked against the normal equations."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)

# -- R2D2: episodes of 3-way 4-shot classification of 2-D Gaussian blobs lifted to 10-D
n_way, k_shot, n_query, dim = 3, 4, 6, 10
lift = torch.randn(2, dim)


def episode():
    centres = torch.randn(n_way, 2) * 2.0
    support = centres.repeat_interleave(k_shot, 0) + 0.6 * torch.randn(n_way * k_shot, 2)
    query = centres.repeat_interleave(n_query, 0) + 0.6 * torch.randn(n_way * n_query, 2)
    to_features = lambda p: torch.tanh(p @ lift) + 0.1 * torch.randn(len(p), dim)  # noqa: E731
    labels_s = torch.arange(n_way).repeat_interleave(k_shot)
    labels_q = torch.arange(n_way).repeat_interleave(n_query)
    return to_features(support), labels_s, to_features(query), labels_q


class R2D2(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Sequential(nn.Linear(dim, 32), nn.ReLU(), nn.Linear(32, 16))
        self.log_lambda = nn.Parameter(torch.tensor(0.0))
        self.scale = nn.Parameter(torch.tensor(1.0))

    def forward(self, xs, ys, xq):
        X, Xq = self.embed(xs), self.embed(xq)
        Y = F.one_hot(ys, n_way).float()
        n = X.shape[0]
        # W = X^T (X X^T + lambda I)^-1 Y: an n x n system (Woodbury), n = shots < features
        A = X @ X.T + self.log_lambda.exp() * torch.eye(n)
        W = X.T @ torch.linalg.solve(A, Y)
        return self.scale * (Xq @ W)


model = R2D2()
optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
episode_losses, episode_accs = [], []
for it in range(40):
    xs, ys, xq, yq = episode()
    optimizer.zero_grad()
    logits = model(xs, ys, xq)
    loss = F.cross_entropy(logits, yq)
    loss.backward()
    optimizer.step()
    episode_losses.append(loss.item())
    episode_accs.append((logits.argmax(1) == yq).float().mean().item())
with torch.no_grad():
    xs, ys, xq, yq = episode()
    X = model.embed(xs)
    lam = model.log_lambda.exp()
    primal = torch.linalg.solve(X.T @ X + lam * torch.eye(16), X.T @ F.one_hot(ys, n_way).float())
    dual = X.T @ torch.linalg.solve(X @ X.T + lam * torch.eye(len(X)), F.one_hot(ys, n_way).float())
    woodbury_gap = (primal - dual).abs().max().item()
r2d2_params = [model.log_lambda.item(), model.scale.item()]

# -- an equality-constrained QP layer: argmin 1/2 z^T Q z + p^T z  s.t.  A z = b


def qp_layer(Q, p, A, b):
    m = A.shape[-2]
    top = torch.cat([Q, A.transpose(-1, -2)], -1)
    bottom = torch.cat([A, torch.zeros(*A.shape[:-2], m, m)], -1)
    K = torch.cat([top, bottom], -2)
    rhs = torch.cat([-p, b], -1).unsqueeze(-1)
    return torch.linalg.solve(K, rhs).squeeze(-1)[..., : Q.shape[-1]]


class QPNet(nn.Module):
    """Predicts p from x; the output is the QP solution, so A z = b holds exactly."""

    def __init__(self, n=4):
        super().__init__()
        self.net = nn.Linear(n, n)
        self.L = nn.Parameter(torch.eye(n) + 0.1 * torch.randn(n, n))
        self.A = torch.ones(1, n)
        self.b = torch.ones(1)

    def forward(self, x):
        Q = self.L @ self.L.T + 0.1 * torch.eye(x.shape[-1])
        return qp_layer(Q.expand(len(x), -1, -1), self.net(x), self.A.expand(len(x), -1, -1),
                        self.b.expand(len(x), -1))  # fmt: skip


x_qp = torch.randn(64, 4)
target = x_qp - (x_qp.sum(1, keepdim=True) - 1) / 4  # projection onto sum(z) = 1
qp = QPNet()
optimizer = torch.optim.Adam(qp.parameters(), lr=0.02)
qp_losses = []
for it in range(60):
    optimizer.zero_grad()
    z = qp(x_qp)
    loss = F.mse_loss(z, target)
    loss.backward()
    optimizer.step()
    qp_losses.append(loss.item())
constraint_gap = (qp(x_qp).sum(1) - 1).abs().max().item()

# -- a batched least-squares layer and its gradient through the normal equations
A_ls = torch.randn(5, 12, 3, dtype=torch.float64, requires_grad=True)
B_ls = torch.randn(5, 12, 2, dtype=torch.float64)
sol = torch.linalg.lstsq(A_ls, B_ls).solution
(g_lstsq,) = torch.autograd.grad(sol.pow(2).sum(), A_ls)
At = A_ls.transpose(-1, -2)
normal = torch.linalg.solve(At @ A_ls, At @ B_ls)
(g_normal,) = torch.autograd.grad(normal.pow(2).sum(), A_ls)
lstsq_gap = [(sol - normal).abs().max().item(), (g_lstsq - g_normal).abs().max().item()]
lstsq_grad_sample = g_lstsq[0, :2].tolist()
