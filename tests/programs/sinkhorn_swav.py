"""SwAV's swapped prediction (Caron et al. 2020) as its official code writes it: prototypes as
an nn.Linear without bias whose weight is L2-normalized in place under torch.no_grad before
each step, codes computed by the Sinkhorn-Knopp algorithm (Q = exp(scores / eps), alternate row
and column normalizations, torch.sum with keepdim), the swapped cross-entropy between one view's
codes and the other view's softmax(scores / temperature), and a check that each sample's code
is a distribution; plus the log-domain Sinkhorn with torch.logsumexp, compared with it."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy, randn


@torch.no_grad()
def distributed_sinkhorn(out, epsilon=0.05, sinkhorn_iterations=3):
    Q = torch.exp(out / epsilon).t()  # Q is K-by-B
    B = Q.shape[1]
    K = Q.shape[0]
    sum_Q = torch.sum(Q)
    Q /= sum_Q
    for it in range(sinkhorn_iterations):
        sum_of_rows = torch.sum(Q, dim=1, keepdim=True)
        Q /= sum_of_rows
        Q /= K
        Q /= torch.sum(Q, dim=0, keepdim=True)
        Q /= B
    Q *= B  # the columns must sum to 1 so that Q is an assignment
    return Q.t()


@torch.no_grad()
def log_sinkhorn(out, epsilon=0.05, iterations=3):
    log_q = (out / epsilon).t()
    K, B = log_q.shape
    log_q = log_q - torch.logsumexp(log_q.reshape(-1), dim=0)
    for _ in range(iterations):
        log_q = log_q - torch.logsumexp(log_q, dim=1, keepdim=True) - np.log(K)
        log_q = log_q - torch.logsumexp(log_q, dim=0, keepdim=True) - np.log(B)
    return (log_q + np.log(B)).exp().t()


class SwAV(nn.Module):
    def __init__(self, in_dim=8, feat_dim=16, n_prototypes=6):
        super().__init__()
        self.projection_head = nn.Sequential(
            nn.Linear(in_dim, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, feat_dim)
        )
        self.prototypes = nn.Linear(feat_dim, n_prototypes, bias=False)

    def forward(self, x):
        z = F.normalize(self.projection_head(x), dim=1, p=2)
        return z, self.prototypes(z)


rng = np.random.default_rng(0)
centers = 2 * randn(rng, 4, 8)
labels = torch.from_numpy(rng.integers(0, 4, 128).astype(np.int64))
data = centers[labels] + 0.5 * randn(rng, 128, 8)
model = init_from_numpy(SwAV())
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
temperature = 0.1
losses, marginal_gaps, log_domain_gaps = [], [], []
for step in range(30):
    with torch.no_grad():
        w = model.prototypes.weight.data.clone()
        w = nn.functional.normalize(w, dim=1, p=2)
        model.prototypes.weight.copy_(w)
    view1 = data + 0.3 * randn(rng, 128, 8)
    view2 = data + 0.3 * randn(rng, 128, 8)
    _, scores1 = model(view1)
    _, scores2 = model(view2)
    q1, q2 = distributed_sinkhorn(scores1.detach()), distributed_sinkhorn(scores2.detach())
    log_domain_gaps.append((q1 - log_sinkhorn(scores1.detach())).abs().max().item())
    marginal_gaps.append((q1.sum(1) - 1).abs().max().item())  # each sample's code sums to 1
    p1 = F.softmax(scores1 / temperature, dim=1)
    p2 = F.softmax(scores2 / temperature, dim=1)
    loss = -0.5 * (
        torch.mean(torch.sum(q1 * torch.log(p2), dim=1))
        + torch.mean(torch.sum(q2 * torch.log(p1), dim=1))
    )
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
print(f"swapped prediction loss {losses[0]:.4f} -> {losses[-1]:.4f}")
model.eval()
with torch.no_grad():
    _, scores = model(data)
    assignment = scores.argmax(1)
# how pure are the prototype clusters with respect to the hidden classes
purity = (
    sum(
        torch.bincount(labels[assignment == k], minlength=4).max().item()
        for k in assignment.unique().tolist()
    )
    / 128
)
prototype_norms = model.prototypes.weight.norm(dim=1)
print(
    f"cluster purity {purity:.3f}; code-sum gap {max(marginal_gaps):.1e}, log-domain gap {max(log_domain_gaps):.1e}"
)
