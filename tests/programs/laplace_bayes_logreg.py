"""Bayesian regression the way probabilistic-ML course labs write it in PyTorch: conjugate
Bayesian linear regression on polynomial features (posterior precision, ``torch.linalg.inv``
and ``torch.linalg.slogdet`` for the log evidence, hyperparameters chosen by evidence on a
grid, the predictive variance), its posterior as a
``torch.distributions.MultivariateNormal(precision_matrix=...)``; then Bayesian logistic
regression by the Laplace approximation: the MAP weights by ``torch.optim.LBFGS``, the Hessian
of the negative log posterior from ``torch.autograd.functional.hessian`` checked against the
closed form X^T diag(p(1-p)) X + alpha I, the probit-approximated predictive
sigmoid(kappa mu) with kappa = 1 / sqrt(1 + pi s^2 / 8), the Monte Carlo predictive from
``rsample`` draws, Wald p-values from ``Normal(0, 1).cdf``, and the Laplace log evidence.
Float64."""

import math

import torch
import torch.nn.functional as F
from torch.autograd.functional import hessian
from torch.distributions import Bernoulli, MultivariateNormal, Normal

torch.manual_seed(5)
torch.set_default_dtype(torch.float64)

x = torch.rand(40) * 2 - 1
y = torch.sin(2.5 * x) + 0.15 * torch.randn(40)
x_star = torch.linspace(-1.5, 1.5, 7)


def features(x, degree):
    return torch.stack([x**k for k in range(degree + 1)], dim=1)


def log_evidence(Phi, y, alpha, beta):
    N, M = Phi.shape
    A = alpha * torch.eye(M) + beta * Phi.T @ Phi
    m = beta * torch.linalg.solve(A, Phi.T @ y)
    E = beta / 2 * (y - Phi @ m).pow(2).sum() + alpha / 2 * m @ m
    sign, logdet = torch.linalg.slogdet(A)
    return (M / 2 * math.log(alpha) + N / 2 * math.log(beta) - E - logdet / 2
            - N / 2 * math.log(2 * math.pi)).item()  # fmt: skip


evidence = {}
for degree in (1, 3, 5, 7):
    for alpha in (0.01, 0.1, 1.0):
        evidence[f"d{degree}_a{alpha}"] = log_evidence(features(x, degree), y, alpha, 1 / 0.15**2)
best = max(evidence, key=evidence.get)
degree, alpha = int(best.split("_")[0][1:]), float(best.split("_a")[1])
beta = 1 / 0.15**2
Phi = features(x, degree)
S_inv = alpha * torch.eye(degree + 1) + beta * Phi.T @ Phi
S = torch.linalg.inv(S_inv)
m_N = beta * S @ Phi.T @ y
posterior = MultivariateNormal(m_N, precision_matrix=S_inv)
Phi_star = features(x_star, degree)
pred_mean = (Phi_star @ m_N).tolist()
pred_std = torch.sqrt(1 / beta + (Phi_star @ S * Phi_star).sum(1)).tolist()
posterior_entropy = posterior.entropy().item()
weights_logprob = posterior.log_prob(torch.zeros(degree + 1)).item()
print(f"best evidence {best}: {evidence[best]:.3f}; pred std at edges {pred_std[0]:.3f}")

n = 80
X = torch.cat([torch.randn(n, 2), torch.ones(n, 1)], 1)
w_true = torch.tensor([2.0, -1.0, 0.5])
t = Bernoulli(logits=X @ w_true).sample()
prior_prec = 1.0


def neg_log_posterior(w):
    nll = F.binary_cross_entropy_with_logits(X @ w, t, reduction="sum")
    return nll + prior_prec / 2 * w.pow(2).sum()


w = torch.zeros(3, requires_grad=True)
opt = torch.optim.LBFGS([w], lr=1, max_iter=50, tolerance_grad=1e-10, line_search_fn="strong_wolfe")


def closure():
    opt.zero_grad()
    loss = neg_log_posterior(w)
    loss.backward()
    return loss


opt.step(closure)
w_map = w.detach()
H = hessian(neg_log_posterior, w_map)
p = torch.sigmoid(X @ w_map)
H_closed = X.T @ torch.diag(p * (1 - p)) @ X + prior_prec * torch.eye(3)
hessian_gap = (H - H_closed).abs().max().item()
laplace = MultivariateNormal(w_map, precision_matrix=H)
map_nlp = neg_log_posterior(w_map).item()
log_evidence_laplace = (-map_nlp + 1.5 * math.log(prior_prec) - 0.5 * torch.logdet(H)).item()

X_test = torch.tensor([[0.0, 0.0, 1.0], [3.0, 3.0, 1.0], [-2.0, 1.0, 1.0]])
mu_a = X_test @ w_map
var_a = (X_test @ torch.linalg.inv(H) * X_test).sum(1)
kappa = 1 / torch.sqrt(1 + math.pi * var_a / 8)
probit_pred = torch.sigmoid(kappa * mu_a).tolist()
map_pred = torch.sigmoid(mu_a).tolist()
draws = laplace.rsample((2000,))
mc_pred = torch.sigmoid(draws @ X_test.T).mean(0).tolist()
z_scores = (w_map / torch.sqrt(torch.diagonal(torch.linalg.inv(H)))).tolist()
tail = (2 * Normal(0.0, 1.0).cdf(-torch.tensor(z_scores).abs())).tolist()
print(f"w_map {[round(v, 3) for v in w_map.tolist()]}; |H - closed| {hessian_gap:.2e}")
print(f"probit {[round(v, 3) for v in probit_pred]} mc {[round(v, 3) for v in mc_pred]}")
print(f"Laplace log evidence {log_evidence_laplace:.4f}; p-values {[f'{v:.2e}' for v in tail]}")
w_map = w_map.tolist()
torch.set_default_dtype(torch.float32)
