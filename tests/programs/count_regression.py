"""Overdispersed count regression with torch.distributions: a NegativeBinomial GLM (log link for
the mean, a learned dispersion through ``softplus``; ``total_count``/``logits`` parametrization)
against a Poisson GLM on the same counts; a Dirichlet-multinomial likelihood for grouped
category counts written with ``torch.lgamma`` and compared with Dirichlet/Multinomial draws'
moments; ``torch.special`` gammaln/digamma/polygamma check the moments of a Gamma."""

import numpy as np
import torch
import torch.distributions as D
import torch.nn.functional as F
from numpy_init import randn

rng = np.random.default_rng(7)
n = 200
x = randn(rng, n, 2)
true_mean = torch.exp(0.5 + 0.8 * x[:, 0] - 0.4 * x[:, 1])
counts = torch.from_numpy(
    rng.negative_binomial(3.0, (3.0 / (3.0 + true_mean)).numpy()).astype(np.float32)
)

beta = torch.zeros(3, requires_grad=True)
raw_r = torch.zeros((), requires_grad=True)
opt = torch.optim.Adam([beta, raw_r], lr=0.05)
nb_losses = []
for step in range(150):
    opt.zero_grad()
    log_mu = beta[0] + x @ beta[1:]
    r = F.softplus(raw_r) + 1e-3
    dist = D.NegativeBinomial(total_count=r, logits=log_mu - torch.log(r))
    loss = -dist.log_prob(counts).mean()
    loss.backward()
    opt.step()
    nb_losses.append(loss.item())
nb_beta = beta.tolist()
dispersion = (F.softplus(raw_r) + 1e-3).item()
nb_mean_gap = (dist.mean - torch.exp(log_mu)).abs().max().item()

pbeta = torch.zeros(3, requires_grad=True)
opt = torch.optim.LBFGS([pbeta], lr=0.5, max_iter=30)


def closure():
    opt.zero_grad()
    loss = -D.Poisson(rate=torch.exp(pbeta[0] + x @ pbeta[1:])).log_prob(counts).mean()
    loss.backward()
    return loss


opt.step(closure)
poisson_beta = pbeta.tolist()


def dirichlet_multinomial_log_prob(alpha, counts):
    total = counts.sum(-1)
    a0 = alpha.sum(-1)
    return (
        torch.lgamma(total + 1)
        + torch.lgamma(a0)
        - torch.lgamma(total + a0)
        + (torch.lgamma(counts + alpha) - torch.lgamma(alpha) - torch.lgamma(counts + 1)).sum(-1)
    )


true_alpha = np.array([2.0, 5.0, 1.0])
group_counts = torch.from_numpy(
    np.stack([rng.multinomial(20, rng.dirichlet(true_alpha)) for _ in range(150)]).astype(
        np.float32
    )
)
log_alpha = torch.zeros(3, requires_grad=True)
opt = torch.optim.Adam([log_alpha], lr=0.1)
dm_losses = []
for step in range(100):
    opt.zero_grad()
    loss = -dirichlet_multinomial_log_prob(log_alpha.exp(), group_counts).mean()
    loss.backward()
    opt.step()
    dm_losses.append(loss.item())
alpha_hat = log_alpha.exp().tolist()
one_group_gap = abs(
    dirichlet_multinomial_log_prob(torch.ones(2), torch.tensor([3.0, 0.0])).item() - np.log(0.25)
)
alpha = torch.tensor(alpha_hat)
dirichlet = D.Dirichlet(alpha)
dirichlet_stats = [dirichlet.mean.tolist(), dirichlet.variance.tolist(), dirichlet.entropy().item()]
multinomial_lp = D.Multinomial(20, probs=dirichlet.mean).log_prob(group_counts[:5]).tolist()

conc = torch.tensor([0.5, 2.0, 7.5])
special_values = [
    torch.special.gammaln(conc).tolist(),
    torch.special.digamma(conc).tolist(),
    torch.special.polygamma(1, conc).tolist(),
    torch.special.multigammaln(conc + 2, 2).tolist(),
    D.Gamma(conc, 1.5).entropy().tolist(),
]
