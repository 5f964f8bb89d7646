"""Differentiable sorting and ranking as learning-to-rank code writes it: NeuralSort (Grover et
al. 2019, the authors' ``neuralsort.py``: ``A_s = |s - s^T|``, ``B = A_s @ one @ one^T``,
``scaling = n + 1 - 2 * (arange + 1)``, ``C = s @ scaling``, a row-wise softmax of
``(C - B) / tau`` as the relaxed permutation, and the hard permutation recovered with
``scatter_`` of the ``argmax``), Sinkhorn sorting (log-domain row/column normalization with
``torch.logsumexp`` of ``-(x_i - t_j)^2 / eps`` against sorted anchors), soft ranks from the
relaxed permutations, and a scorer MLP trained with the NeuralSort top-k loss and a
differentiable Spearman loss; the learned scores' hard ranks match the targets' more often."""

import torch
import torch.nn as nn
import torch.nn.functional as F


def neural_sort(s, tau, hard=False):
    """s: (B, n, 1) scores; returns the (B, n, n) relaxed sorting (descending) permutation."""
    n = s.size()[1]
    one = torch.ones((n, 1), dtype=s.dtype)
    A_s = torch.abs(s - s.permute(0, 2, 1))
    B = torch.matmul(A_s, torch.matmul(one, torch.transpose(one, 0, 1)))
    scaling = (n + 1 - 2 * (torch.arange(n) + 1)).type(s.dtype)
    C = torch.matmul(s, scaling.unsqueeze(0))
    P_max = (C - B).permute(0, 2, 1)
    sm = torch.nn.Softmax(-1)
    P_hat = sm(P_max / tau)
    if hard:
        P = torch.zeros_like(P_hat)
        b_idx = (
            torch.arange(s.shape[0])
            .repeat([1, n])
            .view(n, s.shape[0])
            .transpose(dim0=1, dim1=0)
            .flatten()
        )
        r_idx = torch.arange(n).repeat([s.shape[0], 1]).flatten()
        c_idx = torch.argmax(P_hat, dim=-1).flatten()
        brc_idx = torch.stack((b_idx, r_idx, c_idx))
        P[brc_idx[0], brc_idx[1], brc_idx[2]] = 1
        P_hat = (P - P_hat).detach() + P_hat
    return P_hat


def sinkhorn_sort(x, eps=0.1, iters=30):
    """x: (B, n). Soft-sorted values (ascending) via entropic OT onto n anchors in [0, 1]."""
    B, n = x.shape
    anchors = torch.linspace(0, 1, n, dtype=x.dtype)
    xs = torch.sigmoid(x)
    log_K = -((xs.unsqueeze(2) - anchors.view(1, 1, n)) ** 2) / eps
    log_a = torch.full((B, n), -torch.log(torch.tensor(float(n))).item(), dtype=x.dtype)
    f = torch.zeros_like(log_a)
    g = torch.zeros_like(log_a)
    for _ in range(iters):
        f = log_a - torch.logsumexp(log_K + g.unsqueeze(1), dim=2)
        g = log_a - torch.logsumexp(log_K + f.unsqueeze(2), dim=1)
    P = torch.exp(log_K + f.unsqueeze(2) + g.unsqueeze(1)) * n  # doubly stochastic
    return (P * x.unsqueeze(2)).sum(1), P


def soft_rank(P_hat):
    """Rank (0 = largest) of each item under the relaxed permutation."""
    n = P_hat.shape[-1]
    positions = torch.arange(n, dtype=P_hat.dtype)
    return torch.einsum("bij,i->bj", P_hat, positions)


def spearman_loss(pred_rank, true_rank):
    pr = pred_rank - pred_rank.mean(-1, keepdim=True)
    tr = true_rank - true_rank.mean(-1, keepdim=True)
    corr = (pr * tr).sum(-1) / (pr.norm(dim=-1) * tr.norm(dim=-1) + 1e-8)
    return 1 - corr.mean()


torch.manual_seed(0)
s = torch.randn(2, 5, 1, requires_grad=True)
P_soft = neural_sort(s, tau=0.5)
P_hard = neural_sort(s, tau=0.5, hard=True)
row_sums = P_soft.sum(-1).tolist()
hard_is_perm = (P_hard.sum(-1) == 1).all().item() and (P_hard.sum(-2) == 1).all().item()
sorted_by_hard = (P_hard @ s).squeeze(-1).tolist()
true_sorted = s.squeeze(-1).sort(dim=1, descending=True).values.tolist()
(P_hard @ s).sum().backward()
st_grad = s.grad.squeeze(-1).tolist()
x = torch.randn(3, 6, requires_grad=True)
soft_sorted, P_sink = sinkhorn_sort(x)
sink_marginals = (P_sink.sum(1).sub(1).abs().max().item(), P_sink.sum(2).sub(1).abs().max().item())
soft_sorted.sum().backward()
sink_grad_sum = x.grad.sum().item()
soft_sorted_values = soft_sorted.tolist()
hard_sorted_values = x.detach().sort(1).values.tolist()

# learning to rank: items with 4 features, relevance a hidden linear function
n_items, feats = 6, 4
w_true = torch.randn(feats)
X = torch.randn(40, n_items, feats)
relevance = X @ w_true
true_rank = soft_rank(neural_sort(relevance.unsqueeze(-1), tau=1e-3))
scorer = nn.Sequential(nn.Linear(feats, 16), nn.ReLU(), nn.Linear(16, 1))
opt = torch.optim.Adam(scorer.parameters(), lr=0.02)
true_perm = F.one_hot(relevance.argsort(dim=1, descending=True), n_items).float()
losses, spearman = [], []
for epoch in range(25):
    scores = scorer(X)
    P_hat = neural_sort(scores, tau=1.0)
    # NeuralSort's loss: cross-entropy between the true permutation and the relaxed one
    sort_loss = -(true_perm * torch.log(P_hat + 1e-20)).sum(-1).mean()
    rank_loss = spearman_loss(soft_rank(P_hat), true_rank)
    loss = sort_loss + rank_loss
    opt.zero_grad()
    loss.backward()
    opt.step()
    losses.append(loss.item())
    spearman.append(1 - rank_loss.item())
with torch.no_grad():
    learned = scorer(X).squeeze(-1).argsort(dim=1, descending=True)
    top1 = (learned[:, 0] == relevance.argmax(1)).float().mean().item()
    exact_rank_rate = (learned == relevance.argsort(dim=1, descending=True)).float().mean().item()
