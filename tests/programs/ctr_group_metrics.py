"""Click-through-rate evaluation as ads and recommender teams write it: a logistic model on
hashed features trained with BCE; log loss, normalized entropy (log loss over the entropy of
the base rate), the calibration ratio, per-user group AUC (GAUC) weighted by impressions with
users' rows found by ``unique_consecutive`` after a stable sort, per-group pairwise AUC from
broadcast comparisons, ``segment_reduce`` for per-user sums and maxima, ``scatter_reduce``
("amax", "mean" with ``include_self=False``) for per-user statistics, the last impression per
user with ``take_along_dim`` and index -1, and a session-position CTR curve by ``bincount``."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
N, USERS, BUCKETS = 360, 12, 64

user = torch.randint(0, USERS, (N,))
position = torch.randint(0, 5, (N,))
feature = torch.randint(0, 1000, (N, 3))
hashed = (feature * torch.tensor([31, 17, 7]) + user[:, None]) % BUCKETS
true_logit = (
    0.8 * torch.randn(USERS)[user]
    - 0.4 * position.float()
    + 0.3 * (feature[:, 0] % 3).float()
    - 1.0
)
click = (torch.rand(N) < torch.sigmoid(true_logit)).float()

emb = nn.EmbeddingBag(BUCKETS, 1, mode="sum")
pos_bias = nn.Embedding(5, 1)
opt = torch.optim.Adagrad([*emb.parameters(), *pos_bias.parameters()], lr=0.2)
losses = []
for _ in range(20):
    logit = (emb(hashed) + pos_bias(position)).squeeze(1)
    loss = F.binary_cross_entropy_with_logits(logit, click)
    opt.zero_grad()
    loss.backward()
    opt.step()
    losses.append(loss.item())

with torch.no_grad():
    p = torch.sigmoid((emb(hashed) + pos_bias(position)).squeeze(1))
base = click.mean()
logloss = F.binary_cross_entropy(p, click)
entropy = -(base * base.log() + (1 - base) * (1 - base).log())
overall = [logloss.item(), (logloss / entropy).item(), (p.sum() / click.sum()).item(), base.item()]


def pairwise_auc(scores, labels):
    pos, neg = scores[labels == 1], scores[labels == 0]
    if pos.numel() == 0 or neg.numel() == 0:
        return None
    greater = (pos[:, None] > neg[None, :]).float() + 0.5 * (pos[:, None] == neg[None, :]).float()
    return greater.mean()


order = torch.sort(user, stable=True).indices
users_sorted, p_sorted, c_sorted = user[order], p[order], click[order]
groups, counts = torch.unique_consecutive(users_sorted, return_counts=True)
aucs, weights = [], []
for g_scores, g_labels in zip(p_sorted.split(counts.tolist()), c_sorted.split(counts.tolist())):
    auc = pairwise_auc(g_scores, g_labels)
    if auc is not None:
        aucs.append(auc)
        weights.append(float(g_scores.numel()))
aucs_t, w = torch.stack(aucs), torch.tensor(weights)
gauc = [(aucs_t * w).sum().item() / w.sum().item(), len(aucs), pairwise_auc(p, click).item()]

clicks_per_user = torch.segment_reduce(c_sorted, "sum", lengths=counts)
max_score = torch.segment_reduce(p_sorted, "max", lengths=counts)
mean_score = torch.zeros(USERS).scatter_reduce(0, user, p, "mean", include_self=False)
amax_score = torch.full((USERS,), -1.0).scatter_reduce(0, user, p, "amax")
segments = [groups.tolist(), counts.tolist(), clicks_per_user.tolist(), max_score.tolist()]
scatter_stats = [mean_score.tolist(), amax_score.tolist()]
same_max = torch.equal(max_score, amax_score[groups])

# the last impression of each user: pad users' rows to a matrix, then index -1 along dim 1.
rows = torch.nn.utils.rnn.pad_sequence(list(p_sorted.split(counts.tolist())), batch_first=True)
lengths = counts.unsqueeze(1)
last_by_length = rows.gather(1, lengths - 1).squeeze(1)
last_wrapped = torch.take_along_dim(rows[:, : int(counts.min())], torch.tensor([[-1]]), dim=1)
last = [last_by_length.tolist(), last_wrapped.squeeze(1).tolist()]

ctr_by_position = (torch.bincount(position, weights=click) / torch.bincount(position)).tolist()
pred_by_position = (torch.bincount(position, weights=p) / torch.bincount(position)).tolist()
bias_weights = pos_bias.weight.squeeze(1).tolist()
