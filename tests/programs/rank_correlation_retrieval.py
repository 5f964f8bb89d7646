"""Rank correlations and retrieval metrics written by hand, as in STS and recommender
evaluation scripts: Pearson by ``torch.corrcoef``, Spearman with average ranks for ties
(``argsort`` twice for ordinal ranks, then ``unique(return_inverse=True)`` and ``scatter_add``
to average tied ranks), Kendall's tau-b from pairwise sign products over ``triu_indices``;
then a two-tower retrieval model trained with in-batch softmax, scored with recall@k, hit
rate, MRR, NDCG@k with graded relevance (``topk`` and ``gather``, ``log2`` discounts, ideal
DCG from a descending ``sort``), mean average precision@k, and a ``cosine_similarity`` matrix
by broadcasting."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


def ordinal_ranks(x):
    return x.argsort().argsort().float() + 1


def average_ranks(x):
    order = x.argsort(stable=True)
    ranks = torch.empty_like(x)
    ranks[order] = torch.arange(1, x.numel() + 1, dtype=x.dtype)
    _, inverse, counts = torch.unique(x, return_inverse=True, return_counts=True)
    sums = torch.zeros(counts.numel(), dtype=x.dtype).scatter_add_(0, inverse, ranks)
    return (sums / counts)[inverse]


def pearson(a, b):
    return torch.corrcoef(torch.stack([a, b]))[0, 1]


def spearman(a, b):
    return pearson(average_ranks(a), average_ranks(b))


def kendall_tau_b(a, b):
    i, j = torch.triu_indices(a.numel(), a.numel(), offset=1)
    sa, sb = torch.sign(a[i] - a[j]), torch.sign(b[i] - b[j])
    concordant_minus_discordant = (sa * sb).sum()
    n0 = i.numel()
    ties_a, ties_b = (sa == 0).sum(), (sb == 0).sum()
    return concordant_minus_discordant / torch.sqrt((n0 - ties_a) * (n0 - ties_b).double())


# human scores on a 0-5 scale (many ties) and a model's similarity scores.
human = torch.randint(0, 6, (30,)).float()
model_scores = human + torch.randn(30) * 1.2
model_scores[:4] = model_scores[4]  # ties in the model's scores too
correlations = [
    pearson(human, model_scores).item(),
    spearman(human, model_scores).item(),
    kendall_tau_b(human, model_scores).item(),
    spearman(human, ordinal_ranks(human)).item(),
]
rank_samples = [average_ranks(human)[:8].tolist(), ordinal_ranks(model_scores)[:6].tolist()]
perfect = [spearman(human, 2 * human + 1).item(), kendall_tau_b(human, -human).item()]

# retrieval: queries and items with a latent match, a two-tower model, in-batch negatives.
Q, N_ITEMS, D = 24, 40, 6
latent_items = torch.randn(N_ITEMS, D)
targets = torch.randint(0, N_ITEMS, (Q,))
queries = latent_items[targets] + 0.5 * torch.randn(Q, D)
relevance = torch.zeros(Q, N_ITEMS)
relevance[torch.arange(Q), targets] = 3.0
neighbours = (latent_items[targets] @ latent_items.T).topk(3, dim=1).indices
relevance.scatter_(1, neighbours[:, 1:], 1.0)  # graded: near neighbours count a little
relevance[torch.arange(Q), targets] = 3.0

q_tower, i_tower = nn.Linear(D, 8), nn.Linear(D, 8)
opt = torch.optim.Adam([*q_tower.parameters(), *i_tower.parameters()], lr=0.05)
losses = []
for _ in range(25):
    qe = F.normalize(q_tower(queries), dim=-1)
    ie = F.normalize(i_tower(latent_items[targets]), dim=-1)
    logits = qe @ ie.T / 0.1
    loss = F.cross_entropy(logits, torch.arange(Q))
    opt.zero_grad()
    loss.backward()
    opt.step()
    losses.append(loss.item())

with torch.no_grad():
    qe = q_tower(queries)
    ie = i_tower(latent_items)
    scores = F.cosine_similarity(qe[:, None, :], ie[None, :, :], dim=-1)  # (Q, I)

K = 5
top = scores.topk(K, dim=1)
hits = top.indices == targets[:, None]
recall_at = {
    k: (scores.topk(k, dim=1).indices == targets[:, None]).any(1).float().mean().item()
    for k in (1, 5, 10)
}
rank_of_target = (scores > scores.gather(1, targets[:, None])).sum(1) + 1
mrr = (1.0 / rank_of_target.float()).mean().item()
discounts = 1.0 / torch.log2(torch.arange(2, K + 2, dtype=torch.float32))
gains = relevance.gather(1, top.indices)
dcg = ((2**gains - 1) * discounts).sum(1)
ideal = relevance.sort(dim=1, descending=True).values[:, :K]
idcg = ((2**ideal - 1) * discounts).sum(1)
ndcg = (dcg / idcg).mean().item()
rel_bin = (gains > 0).float()
precision_at = rel_bin.cumsum(1) / torch.arange(1, K + 1)
n_rel = (relevance > 0).sum(1).clamp(max=K)
map_at_k = ((precision_at * rel_bin).sum(1) / n_rel).mean().item()
retrieval = [recall_at, mrr, ndcg, map_at_k, rank_of_target.tolist()[:10]]
top_indices = top.indices[:4].tolist()
score_shape, score_dtype = tuple(scores.shape), str(scores.dtype)
