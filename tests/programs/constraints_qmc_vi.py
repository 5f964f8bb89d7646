"""The constraint registries of torch.distributions and quasi-Monte Carlo variational inference,
as probabilistic-programming code (Pyro-style) uses them: ``biject_to``/``transform_to`` for
positive, greater_than, interval, simplex, lower_cholesky, positive_definite and corr_cholesky
constraints (round trips, ``check``, ``log_abs_det_jacobian`` against the log-determinant of the
Jacobian from autograd); a MAP fit of a multivariate normal whose covariance lives on the
positive-definite cone with an LKJ prior on its correlation Cholesky factor; and a
mean-field ELBO for Bayesian linear regression estimated with scrambled Sobol points
(``torch.quasirandom.SobolEngine`` mapped through ``Normal.icdf``) against plain Monte Carlo,
with the spread of the gradient estimates over seeds compared."""

import torch
import torch.distributions as D
from torch.distributions import biject_to, constraints, transform_to
from torch.quasirandom import SobolEngine

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)

# -- the registries
cases = {
    "positive": (constraints.positive, torch.randn(4)),
    "greater_than": (constraints.greater_than(2.0), torch.randn(4)),
    "less_than": (constraints.less_than(-1.0), torch.randn(4)),
    "interval": (constraints.interval(-1.0, 3.0), torch.randn(4)),
    "unit_interval": (constraints.unit_interval, torch.randn(4)),
    "simplex": (constraints.simplex, torch.randn(3)),
    "lower_cholesky": (constraints.lower_cholesky, torch.randn(6)),
    "positive_definite": (constraints.positive_definite, torch.randn(6)),
    "corr_cholesky": (constraints.corr_cholesky, torch.randn(3)),
}
registry = {}
for name, (constraint, raw) in cases.items():
    if name in ("lower_cholesky", "positive_definite"):
        raw = torch.tril(torch.randn(3, 3))
    row = []
    for registry_fn in (biject_to, transform_to):
        try:
            t = registry_fn(constraint)
        except NotImplementedError:  # no bijection onto the matrix cones is registered
            row.append("no bijection")
            continue
        y = t(raw)
        ok = bool(constraint.check(y).all())
        row.append([type(t).__name__, ok, y.flatten().tolist()])
        if registry_fn is biject_to:
            row.append((t(t.inv(y)) - y).abs().max().item())
    registry[name] = row

# log|det J| against autograd for the elementwise and the stick-breaking bijections
jacobian_gaps = {}
for name in ("positive", "interval", "greater_than", "simplex"):
    constraint, raw = cases[name]
    t = biject_to(constraint)
    if name == "simplex":
        J = torch.autograd.functional.jacobian(lambda u: t(u)[:-1], raw)
        by_hand = torch.linalg.slogdet(J)[1]
        ladj = t.log_abs_det_jacobian(raw, t(raw))
    else:
        J = torch.autograd.functional.jacobian(t, raw)
        by_hand = torch.linalg.slogdet(J)[1]
        ladj = t.log_abs_det_jacobian(raw, t(raw)).sum()
    jacobian_gaps[name] = abs(by_hand.item() - ladj.item())

# -- MAP of a 3-D normal: covariance on the positive-definite cone, LKJ prior on correlations
true_cov = torch.tensor([[1.0, 0.6, -0.3], [0.6, 2.0, 0.4], [-0.3, 0.4, 0.8]])
data = D.MultivariateNormal(torch.zeros(3), true_cov).sample((60,))
corr_t = transform_to(constraints.corr_cholesky)
pos_t = transform_to(constraints.positive)
raw_corr = torch.zeros(3, requires_grad=True)
raw_scale = torch.zeros(3, requires_grad=True)
loc = torch.zeros(3, requires_grad=True)
optimizer = torch.optim.Adam([raw_corr, raw_scale, loc], lr=0.05)
lkj = D.LKJCholesky(3, concentration=2.0)
map_losses = []
for it in range(60):
    optimizer.zero_grad()
    L_corr = corr_t(raw_corr)
    scale_tril = pos_t(raw_scale).unsqueeze(-1) * L_corr
    log_post = D.MultivariateNormal(loc, scale_tril=scale_tril).log_prob(data).sum()
    log_post = log_post + lkj.log_prob(L_corr)
    (-log_post).backward()
    optimizer.step()
    map_losses.append(-log_post.item())
with torch.no_grad():
    L = pos_t(raw_scale).unsqueeze(-1) * corr_t(raw_corr)
    map_cov = (L @ L.T).tolist()
    sample_cov = torch.cov(data.T).tolist()

# -- QMC vs MC for the ELBO of Bayesian linear regression with a mean-field normal posterior
X = torch.randn(40, 3)
y = X @ torch.tensor([1.0, -2.0, 0.5]) + 0.3 * torch.randn(40)
q_loc = torch.zeros(3, requires_grad=True)
q_log_scale = torch.full((3,), -1.0, requires_grad=True)
prior = D.Normal(0.0, 1.0)
std_normal = D.Normal(0.0, 1.0)


def elbo(eps):
    w = q_loc + q_log_scale.exp() * eps  # (S, 3)
    log_lik = D.Normal(w @ X.T, 0.3).log_prob(y).sum(-1).mean()
    q = D.Normal(q_loc, q_log_scale.exp())
    return log_lik - D.kl_divergence(q, prior).sum()


def qmc_eps(seed, n=32):
    u = SobolEngine(3, scramble=True, seed=seed).draw(n, dtype=torch.float64)
    return std_normal.icdf(u.clamp(1e-9, 1 - 1e-9))


def mc_eps(seed, n=32):
    return torch.randn(n, 3, generator=torch.Generator().manual_seed(seed))


spreads = {}
for name, draw in (("qmc", qmc_eps), ("mc", mc_eps)):
    grads = []
    for seed in range(6):
        (g,) = torch.autograd.grad(elbo(draw(seed)), q_loc)
        grads.append(g)
    spreads[name] = torch.stack(grads).std(0).mean().item()
first_qmc_points = SobolEngine(3, scramble=True, seed=7).draw(4).tolist()

optimizer = torch.optim.Adam([q_loc, q_log_scale], lr=0.06)
qmc_elbos = []
for it in range(50):
    optimizer.zero_grad()
    loss = -elbo(qmc_eps(it))
    loss.backward()
    optimizer.step()
    qmc_elbos.append(-loss.item())
posterior_mean = q_loc.tolist()
exact_mean = torch.linalg.solve(X.T @ X / 0.09 + torch.eye(3), X.T @ y / 0.09).tolist()
torch.set_default_dtype(torch.float32)
