"""Distribution metrics for generative models, by hand in torch as in pytorch-fid, clean-fid
and torch-fidelity: a small random "feature extractor", features' mean and ``torch.cov``; FID
with the matrix square root three ways (``linalg.eigvals`` of the product, a symmetric
``linalg.eigh`` sandwich, Newton-Schulz iterations), in float64 as those libraries do; KID as
the unbiased polynomial-kernel MMD averaged over subsets drawn with ``randperm`` from a seeded
generator; a Gaussian-kernel MMD with the median heuristic on ``cdist``/``pdist`` and a
permutation test; and k-NN precision/recall ("improved precision and recall") from
``kthvalue`` radii."""

import torch
import torch.nn as nn

torch.manual_seed(0)
D = 16

extractor = nn.Sequential(nn.Linear(8, 32), nn.Tanh(), nn.Linear(32, D))
real_inputs = torch.randn(120, 8)
fake_close = real_inputs[torch.randperm(120)[:100]] + 0.3 * torch.randn(100, 8)
fake_far = 1.5 * torch.randn(100, 8) + 0.5
with torch.no_grad():
    real = extractor(real_inputs).double()
    close = extractor(fake_close).double()
    far = extractor(fake_far).double()


def stats(feats):
    return feats.mean(0), torch.cov(feats.T)


def fid_eigvals(mu1, s1, mu2, s2):
    eig = torch.linalg.eigvals(s1 @ s2)
    tr_covmean = eig.sqrt().real.sum()
    return (mu1 - mu2).square().sum() + torch.trace(s1) + torch.trace(s2) - 2 * tr_covmean


def sqrtm_psd(a):
    vals, vecs = torch.linalg.eigh(a)
    return vecs @ torch.diag(vals.clamp(min=0).sqrt()) @ vecs.T


def fid_eigh(mu1, s1, mu2, s2):
    r1 = sqrtm_psd(s1)
    tr_covmean = torch.linalg.eigvalsh(r1 @ s2 @ r1).clamp(min=0).sqrt().sum()
    return (mu1 - mu2).square().sum() + torch.trace(s1 + s2) - 2 * tr_covmean


def sqrtm_newton_schulz(a, iters=30):
    norm = torch.linalg.matrix_norm(a)  # Frobenius
    y = a / norm
    eye = torch.eye(a.shape[0], dtype=a.dtype)
    z = eye.clone()
    for _ in range(iters):
        t = 0.5 * (3.0 * eye - z @ y)
        y, z = y @ t, t @ z
    return y * norm.sqrt()


mu_r, s_r = stats(real)
fids = {}
for name, feats in (("close", close), ("far", far)):
    mu_f, s_f = stats(feats)
    fids[name] = [fid_eigvals(mu_r, s_r, mu_f, s_f).item(), fid_eigh(mu_r, s_r, mu_f, s_f).item()]
root = sqrtm_newton_schulz(s_r)
ns_error = (root @ root - s_r).abs().max().item()
sqrt_gap = (root - sqrtm_psd(s_r)).abs().max().item()
cov_check = [
    s_r.dtype,
    s_r.shape,
    torch.cov(real.T, correction=0)[0, 0].item(),
    real[:, 0].var(unbiased=False).item(),
]
cov_check[:2] = [str(cov_check[0]), tuple(cov_check[1])]
weighted_cov = torch.cov(
    real[:10].T, fweights=torch.arange(1, 11), aweights=torch.linspace(0.5, 1, 10)
)[:2, :2].tolist()


def poly_kernel(x, y):
    return (x @ y.T / x.shape[1] + 1) ** 3


def kid(x, y, n_subsets=3, subset_size=40, generator=None):
    scores = []
    for _ in range(n_subsets):
        xs = x[torch.randperm(x.shape[0], generator=generator)[:subset_size]]
        ys = y[torch.randperm(y.shape[0], generator=generator)[:subset_size]]
        kxx, kyy, kxy = poly_kernel(xs, xs), poly_kernel(ys, ys), poly_kernel(xs, ys)
        m = subset_size
        mmd = (kxx.sum() - kxx.diagonal().sum()) / (m * (m - 1))
        mmd = mmd + (kyy.sum() - kyy.diagonal().sum()) / (m * (m - 1)) - 2 * kxy.mean()
        scores.append(mmd)
    scores = torch.stack(scores)
    return scores.mean().item(), scores.std().item()


gen = torch.Generator().manual_seed(3)
kids = {"close": kid(real, close, generator=gen), "far": kid(real, far, generator=gen)}


def gaussian_mmd(x, y, bandwidth):
    z = torch.cat([x, y])
    k = torch.exp(-torch.cdist(z, z).square() / (2 * bandwidth**2))
    n = x.shape[0]
    return k[:n, :n].mean() + k[n:, n:].mean() - 2 * k[:n, n:].mean()


bandwidth = torch.pdist(torch.cat([real, far])).median()
observed = gaussian_mmd(real, far, bandwidth)
pooled = torch.cat([real, far])
perm_gen = torch.Generator().manual_seed(11)
null = []
for _ in range(12):
    p = pooled[torch.randperm(pooled.shape[0], generator=perm_gen)]
    null.append(gaussian_mmd(p[:120], p[120:], bandwidth))
null = torch.stack(null)
p_value = ((null >= observed).sum() + 1).item() / (len(null) + 1)
mmd_results = [
    bandwidth.item(),
    observed.item(),
    gaussian_mmd(real, close, bandwidth).item(),
    null.max().item(),
]


def knn_radii(feats, k=3):
    d = torch.cdist(feats, feats)
    return d.kthvalue(k + 1, dim=1).values  # +1: the point itself is at distance 0


def precision_recall(real, fake, k=3):
    d = torch.cdist(fake, real)  # (F, R)
    precision = (d <= knn_radii(real, k)[None, :]).any(dim=1).double().mean()
    recall = (d.T <= knn_radii(fake, k)[None, :]).any(dim=1).double().mean()
    return precision.item(), recall.item()


prd = {"close": precision_recall(real, close), "far": precision_recall(real, far)}
