"""Priors and likelihoods from torch.distributions in one MAP fit: a Gaussian mixture with
``MixtureSameFamily`` (Categorical weights, ``Independent`` diagonal Normals) fitted by gradient
ascent with constraints applied through ``biject_to``; an LKJCholesky prior on a correlation
factor of a ``MultivariateNormal(scale_tril=)`` likelihood; a Wishart prior evaluated on the
precision matrix; a planar normalizing flow as ``TransformedDistribution`` with
``AffineTransform``/``TanhTransform``/``ComposeTransform``; ``Binomial.entropy`` and
``kl_divergence`` values checked."""

import numpy as np
import torch
import torch.distributions as D
from numpy_init import randn

rng = np.random.default_rng(15)
centers = torch.tensor([[-2.0, 0.0], [2.0, 1.0], [0.0, -2.5]])
assign = torch.from_numpy(rng.integers(0, 3, 150))
data = centers[assign] + 0.5 * randn(rng, 150, 2)

logits = torch.zeros(3, requires_grad=True)
locs = torch.tensor([[-1.0, 0.5], [1.0, 0.5], [0.0, -1.0]], requires_grad=True)
raw_scales = torch.zeros(3, 2, requires_grad=True)
to_positive = D.biject_to(D.constraints.positive)
optimizer = torch.optim.Adam([logits, locs, raw_scales], lr=0.05)
gmm_losses = []
for step in range(80):
    optimizer.zero_grad()
    mixture = D.MixtureSameFamily(
        D.Categorical(logits=logits), D.Independent(D.Normal(locs, to_positive(raw_scales)), 1)
    )
    loss = -mixture.log_prob(data).mean()
    loss.backward()
    optimizer.step()
    gmm_losses.append(loss.item())
gmm_stats = [
    mixture.mean.tolist(),
    mixture.variance.tolist(),
    mixture.mixture_distribution.probs.tolist(),
]

corr_data = randn(rng, 100, 3) @ torch.tensor([[1.0, 0.6, 0.2], [0.0, 0.8, 0.3], [0.0, 0.0, 0.9]])
to_corr = D.biject_to(D.constraints.corr_cholesky)
unconstrained = torch.zeros(3, requires_grad=True)
log_sigma = torch.zeros(3, requires_grad=True)
optimizer = torch.optim.Adam([unconstrained, log_sigma], lr=0.05)
lkj = D.LKJCholesky(3, concentration=2.0)
wishart = D.Wishart(df=torch.tensor(5.0), covariance_matrix=torch.eye(3))
map_losses = []
for step in range(80):
    optimizer.zero_grad()
    L_corr = to_corr(unconstrained)
    scale_tril = log_sigma.exp().unsqueeze(-1) * L_corr
    likelihood = (
        D.MultivariateNormal(torch.zeros(3), scale_tril=scale_tril).log_prob(corr_data).sum()
    )
    cov = scale_tril @ scale_tril.T
    prior = lkj.log_prob(L_corr) + wishart.log_prob(torch.linalg.inv(cov))
    loss = -(likelihood + prior) / 100
    loss.backward()
    optimizer.step()
    map_losses.append(loss.item())
correlation = (L_corr @ L_corr.T).flatten().tolist()
fitted = D.MultivariateNormal(torch.zeros(3), scale_tril=scale_tril.detach())
fitted_matrices = [
    fitted.covariance_matrix.flatten().tolist(),
    fitted.precision_matrix.flatten().tolist(),
]
unit_diagonal = bool(torch.allclose(torch.diagonal(L_corr @ L_corr.T), torch.ones(3), atol=1e-5))
wishart_stats = [
    wishart.mean.flatten().tolist(),
    wishart.entropy().item(),
    wishart.log_prob(torch.eye(3) * 2).item(),
]

base = D.Normal(torch.zeros(2), torch.ones(2))
shift = torch.zeros(2, requires_grad=True)
log_scale = torch.zeros(2, requires_grad=True)
optimizer = torch.optim.Adam([shift, log_scale], lr=0.05)
target = torch.tanh(0.5 + 0.3 * randn(rng, 200, 2))
flow_losses = []
for step in range(60):
    optimizer.zero_grad()
    transform = D.transforms.ComposeTransform(
        [D.transforms.AffineTransform(shift, log_scale.exp()), D.transforms.TanhTransform()]
    )
    flow = D.TransformedDistribution(base, transform)
    loss = -flow.log_prob(target.clamp(-0.999, 0.999)).sum(-1).mean()
    loss.backward()
    optimizer.step()
    flow_losses.append(loss.item())
flow_params = shift.tolist() + log_scale.exp().tolist()
roundtrip_gap = (transform.inv(transform(target)) - target).abs().max().item()

binomial_entropy = D.Binomial(12, probs=torch.tensor([0.1, 0.5, 0.8])).entropy().tolist()
kls = [
    D.kl_divergence(D.Dirichlet(torch.tensor([1.0, 2.0, 3.0])), D.Dirichlet(torch.ones(3))).item(),
    D.kl_divergence(D.Gamma(2.0, 3.0), D.Gamma(1.0, 1.0)).item(),
    D.kl_divergence(
        D.Beta(torch.tensor(2.0), torch.tensor(5.0)), D.Beta(torch.tensor(1.0), torch.tensor(1.0))
    ).item(),
]
