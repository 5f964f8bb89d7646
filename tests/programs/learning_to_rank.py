"""Learning to rank as the PyTorch ranking tutorials write it: RankNet's pairwise loss over all
document pairs of a query by broadcasting (s_i - s_j, sign of label differences,
F.binary_cross_entropy_with_logits with a pair mask), ListNet's listwise top-one cross-entropy
(softmax of labels vs log_softmax of scores), nn.MarginRankingLoss on sampled pairs, and
NDCG@k from torch.sort, torch.gather, torch.log2 and torch.arange."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy, randn

rng = np.random.default_rng(0)
num_queries, docs, features = 24, 10, 6
true_w = torch.tensor([1.0, -0.5, 0.8, 0.0, 0.3, 0.0])
X = randn(rng, num_queries, docs, features)
relevance = torch.bucketize(
    X @ true_w + 0.3 * randn(rng, num_queries, docs), torch.tensor([-0.5, 0.5, 1.5])
).float()


def ndcg_at_k(scores, labels, k=5):
    _, order = torch.sort(scores, dim=-1, descending=True)
    gains = (2 ** torch.gather(labels, -1, order[..., :k]) - 1) / torch.log2(
        torch.arange(2, k + 2).float()
    )
    ideal, _ = torch.sort(labels, dim=-1, descending=True)
    ideal_gains = (2 ** ideal[..., :k] - 1) / torch.log2(torch.arange(2, k + 2).float())
    return (gains.sum(-1) / ideal_gains.sum(-1).clamp(min=1e-8)).mean().item()


def ranknet_loss(scores, labels):
    diff = scores.unsqueeze(-1) - scores.unsqueeze(-2)
    label_diff = labels.unsqueeze(-1) - labels.unsqueeze(-2)
    pairs = label_diff != 0
    target = (label_diff > 0).float()
    return F.binary_cross_entropy_with_logits(diff[pairs], target[pairs])


def listnet_loss(scores, labels):
    return -(F.softmax(labels, dim=-1) * F.log_softmax(scores, dim=-1)).sum(-1).mean()


results = {}
for name in ("ranknet", "listnet", "margin"):
    model = init_from_numpy(nn.Sequential(nn.Linear(features, 16), nn.ReLU(), nn.Linear(16, 1)))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
    margin = nn.MarginRankingLoss(margin=0.5)
    before = ndcg_at_k(model(X).squeeze(-1).detach(), relevance)
    losses = []
    for step in range(40):
        scores = model(X).squeeze(-1)
        if name == "ranknet":
            loss = ranknet_loss(scores, relevance)
        elif name == "listnet":
            loss = listnet_loss(scores, relevance)
        else:
            i, j = torch.from_numpy(rng.integers(0, docs, (2, 64)))
            q = torch.from_numpy(rng.integers(0, num_queries, 64))
            sign = torch.sign(relevance[q, i] - relevance[q, j])
            keep = sign != 0
            loss = margin(scores[q, i][keep], scores[q, j][keep], sign[keep])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    after = ndcg_at_k(model(X).squeeze(-1).detach(), relevance)
    results[name] = (losses, before, after)
    print(
        f"{name:8s}: loss {losses[0]:.4f} -> {losses[-1]:.4f}, NDCG@5 {before:.3f} -> {after:.3f}"
    )
oracle_ndcg = ndcg_at_k(relevance, relevance)
