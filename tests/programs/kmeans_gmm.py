"""Clustering written directly in PyTorch, as people write it for embeddings: k-means++
seeding and Lloyd iterations with ``torch.cdist``, ``argmin``, ``index_add_`` and
``bincount``; then a Gaussian mixture fitted by EM from that start with
``distributions.MultivariateNormal`` log-densities, responsibilities by ``logsumexp``,
weighted covariances through ``torch.einsum`` and a jitter on the diagonal; cluster quality by
the adjusted-for-chance purity against the true labels."""

import numpy as np
import torch
from numpy_init import randn
from torch.distributions import Categorical, MixtureSameFamily, MultivariateNormal

rng = np.random.default_rng(101)
k, dim, per = 3, 2, 60
means = torch.tensor([[0.0, 0.0], [4.0, 1.0], [1.0, 4.0]])
scales = torch.tensor(
    [[[1.0, 0.0], [0.6, 0.5]], [[0.5, 0.0], [0.0, 1.2]], [[0.8, 0.0], [-0.4, 0.6]]]
)
labels = torch.arange(k).repeat_interleave(per)
points = means[labels] + torch.einsum("nij,nj->ni", scales[labels], randn(rng, k * per, dim))


def kmeans_pp(x, k):
    centres = [x[int(rng.integers(len(x)))]]
    for _ in range(1, k):
        d2 = torch.cdist(x, torch.stack(centres)).min(dim=1).values ** 2
        probs = (d2 / d2.sum()).double().numpy()
        centres.append(x[int(rng.choice(len(x), p=probs / probs.sum()))])
    return torch.stack(centres)


def kmeans(x, centres, iters=20):
    inertias = []
    for _ in range(iters):
        dist = torch.cdist(x, centres)
        assign = dist.argmin(dim=1)
        inertias.append((dist.gather(1, assign.unsqueeze(1)) ** 2).sum().item())
        sums = torch.zeros_like(centres).index_add_(0, assign, x)
        counts = torch.bincount(assign, minlength=len(centres)).clamp(min=1).unsqueeze(1)
        new = sums / counts
        if torch.allclose(new, centres):
            break
        centres = new
    return centres, assign, inertias


centres, assign, inertias = kmeans(points, kmeans_pp(points, k))


def em(x, mu, iters=25, jitter=1e-4):
    n = len(x)
    weights = torch.full((k,), 1.0 / k)
    cov = torch.eye(dim).repeat(k, 1, 1)
    log_liks = []
    for _ in range(iters):
        comp = MultivariateNormal(mu, covariance_matrix=cov)
        log_p = comp.log_prob(x.unsqueeze(1)) + weights.log()  # (n, k)
        log_norm = torch.logsumexp(log_p, dim=1, keepdim=True)
        log_liks.append(log_norm.mean().item())
        resp = (log_p - log_norm).exp()
        nk = resp.sum(0)
        weights = nk / n
        mu = resp.T @ x / nk.unsqueeze(1)
        diff = x.unsqueeze(1) - mu  # (n, k, d)
        cov = torch.einsum("nk,nki,nkj->kij", resp, diff, diff) / nk.view(-1, 1, 1)
        cov = cov + jitter * torch.eye(dim)
    return weights, mu, cov, resp, log_liks


weights, mu, cov, resp, log_liks = em(points, centres)
gmm = MixtureSameFamily(Categorical(probs=weights), MultivariateNormal(mu, covariance_matrix=cov))
mixture_ll = gmm.log_prob(points).mean().item()


def purity(assign):
    table = torch.zeros(k, k)
    table.index_put_((assign, labels), torch.ones(len(labels)), accumulate=True)
    return (table.max(dim=1).values.sum() / len(labels)).item()


kmeans_purity = purity(assign)
gmm_purity = purity(resp.argmax(1))
order = mu[:, 0].argsort()
sorted_means = mu[order].flatten().tolist()
sorted_weights = weights[order].tolist()
print(
    f"k-means inertia {inertias[0]:.1f} -> {inertias[-1]:.1f} purity {kmeans_purity:.3f}; GMM ll {log_liks[-1]:.3f} purity {gmm_purity:.3f}"
)
