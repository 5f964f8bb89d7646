"""Out-of-distribution detection on a trained classifier's features, as the OOD baselines'
reference code writes it: maximum softmax probability, the energy score (-T logsumexp(f/T)),
and the Mahalanobis score (Lee et al. 2018): class means of the penultimate features, a tied
covariance from torch.cov (with frequency weights for the per-class centring), its inverse by
torch.linalg.pinv (hermitian=True) checked against cholesky/cholesky_solve, the minimum
squared distance per sample; AUROC of each score for in- vs out-of-distribution inputs, and
the score of input perturbation (ODIN-style, a signed input gradient step)."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy, randn

rng = np.random.default_rng(0)
n_classes, per_class, d = 3, 40, 4
centers = 3.0 * randn(rng, n_classes, d)
y = torch.arange(n_classes).repeat_interleave(per_class)
x = centers[y] + randn(rng, n_classes * per_class, d)
x_ood = 2.0 * randn(rng, 60, d) + torch.tensor([0.0, 0.0, 6.0, -6.0])


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(d, 16), nn.ReLU(), nn.Linear(16, 8), nn.ReLU())
        self.head = nn.Linear(8, n_classes)

    def forward(self, x):
        return self.head(self.features(x))


model = init_from_numpy(Net())
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
losses = []
for epoch in range(40):
    optimizer.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
    losses.append(loss.item())


def auroc(in_scores, out_scores):  # higher score = more in-distribution
    scores = torch.cat([in_scores, out_scores])
    ranks = scores.argsort().argsort().double() + 1
    n_in, n_out = len(in_scores), len(out_scores)
    return ((ranks[:n_in].sum() - n_in * (n_in + 1) / 2) / (n_in * n_out)).item()


model.eval()
with torch.no_grad():
    feats, feats_ood = model.features(x), model.features(x_ood)
    logits, logits_ood = model.head(feats), model.head(feats_ood)
msp = [logits.softmax(1).amax(1), logits_ood.softmax(1).amax(1)]
energy = [torch.logsumexp(logits, 1), torch.logsumexp(logits_ood, 1)]  # -E(x), T = 1

means = torch.stack([feats[y == c].mean(0) for c in range(n_classes)])
centred = feats - means[y]
cov = torch.cov(centred.T.double(), correction=0)  # float64 for the inverse
counts = torch.bincount(y)
cov_weighted = torch.cov(means.T, fweights=counts, correction=0)  # between-class, for the record
ridged = cov + 1e-4 * torch.eye(8, dtype=torch.float64)
precision64 = torch.linalg.pinv(ridged, hermitian=True)
chol = torch.linalg.cholesky(ridged)
solve_gap = (
    (torch.cholesky_solve(torch.eye(8, dtype=torch.float64), chol) - precision64).abs().max().item()
)
precision = precision64.float()


def mahalanobis(f):
    diff = f.unsqueeze(1) - means.unsqueeze(0)  # (n, classes, d)
    return torch.einsum("ncd,de,nce->nc", diff, precision, diff).amin(1)


maha = [-mahalanobis(feats), -mahalanobis(feats_ood)]
aurocs = {name: auroc(*s) for name, s in (("msp", msp), ("energy", energy), ("mahalanobis", maha))}
logdet = torch.logdet(ridged).item()

# ODIN-style input pre-processing: a small step that raises the max softmax score
x_in = x[:10].clone().requires_grad_()
loss = F.cross_entropy(model(x_in) / 10.0, model(x_in).argmax(1))
loss.backward()
x_perturbed = x_in - 0.01 * x_in.grad.sign()
with torch.no_grad():
    odin_gain = (
        (model(x_perturbed) / 10).softmax(1).amax(1) - (model(x[:10]) / 10).softmax(1).amax(1)
    ).tolist()
grad_sign_sample = x_in.grad.sign()[0].tolist()
cov_diag = cov.diagonal().tolist()
between_trace = cov_weighted.trace().item()
print(f"AUROC {aurocs}, loss {losses[0]:.4f} -> {losses[-1]:.4f}")
