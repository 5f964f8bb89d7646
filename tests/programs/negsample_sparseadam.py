"""A matrix-factorisation recommender trained on implicit feedback with sampled negatives, as
the recommender tutorials write it: user and item tables built with nn.Embedding(sparse=True)
and updated by torch.optim.SparseAdam (only the looked-up rows move), the item bias dense and
updated by Adam, negatives drawn with torch.multinomial from the item popularity raised to
0.75 under a seeded torch.Generator, a BPR loss, and HitRate@5 over held-out positives."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

rng = np.random.default_rng(0)
n_users, n_items, dim = 20, 30, 8
user_group = rng.integers(0, 3, n_users)
item_group = rng.integers(0, 3, n_items)
pairs = [
    (u, i)
    for u in range(n_users)
    for i in range(n_items)
    if user_group[u] == item_group[i] and rng.random() < 0.6
]
pairs = torch.tensor(pairs)
held_out = {}
for u, i in pairs.tolist():
    held_out[u] = i  # the last positive of each user is held out
train_mask = torch.tensor([held_out[u] != i for u, i in pairs.tolist()])
train = pairs[train_mask]
popularity = torch.bincount(train[:, 1], minlength=n_items).float()
noise = popularity.pow(0.75)
noise = noise / noise.sum()


class MF(nn.Module):
    def __init__(self):
        super().__init__()
        self.user = nn.Embedding(n_users, dim, sparse=True)
        self.item = nn.Embedding(n_items, dim, sparse=True)
        self.item_bias = nn.Parameter(torch.zeros(n_items))
        with torch.no_grad():
            self.user.weight.copy_(
                torch.from_numpy(0.1 * rng.standard_normal((n_users, dim)).astype(np.float32))
            )
            self.item.weight.copy_(
                torch.from_numpy(0.1 * rng.standard_normal((n_items, dim)).astype(np.float32))
            )

    def score(self, users, items):
        return (self.user(users) * self.item(items)).sum(-1) + self.item_bias[items]


model = MF()
sparse_params = [model.user.weight, model.item.weight]
sparse_opt = torch.optim.SparseAdam(sparse_params, lr=0.05)
dense_opt = torch.optim.Adam([model.item_bias], lr=0.05)
generator = torch.Generator().manual_seed(0)
losses, first_grad = [], None
for epoch in range(15):
    order = torch.randperm(len(train), generator=generator)
    for batch in train[order].split(32):
        users, pos = batch[:, 0], batch[:, 1]
        neg = torch.multinomial(noise, len(batch), replacement=True, generator=generator)
        loss = -F.logsigmoid(model.score(users, pos) - model.score(users, neg)).mean()
        sparse_opt.zero_grad()
        dense_opt.zero_grad()
        loss.backward()
        if first_grad is None:
            grad = model.item.weight.grad
            first_grad = (grad.is_sparse, grad.coalesce().indices().shape[1], tuple(grad.shape))
        sparse_opt.step()
        dense_opt.step()
        losses.append(loss.item())
print(f"BPR loss {losses[0]:.4f} -> {losses[-1]:.4f}")

neg_sample = torch.multinomial(
    noise, 10, replacement=True, generator=torch.Generator().manual_seed(1)
).tolist()
no_repeat = torch.multinomial(noise, 5, generator=torch.Generator().manual_seed(2)).tolist()
with torch.no_grad():
    scores = model.user.weight @ model.item.weight.T + model.item_bias
    seen = torch.zeros(n_users, n_items, dtype=torch.bool)
    seen[train[:, 0], train[:, 1]] = True
    scores = scores.masked_fill(seen, float("-inf"))
    top5 = scores.topk(5, dim=1).indices
users_held = torch.tensor(sorted(held_out))
targets = torch.tensor([held_out[u] for u in sorted(held_out)])
hit_rate = (top5[users_held] == targets.unsqueeze(1)).any(dim=1).float().mean().item()
untouched = sorted(set(range(n_items)) - set(train[:, 1].tolist()))
errors = []
for bad in (lambda: torch.multinomial(noise, 40), lambda: torch.multinomial(-noise, 2)):
    try:
        bad()
    except RuntimeError as exc:
        errors.append(str(exc))
print(f"HitRate@5 {hit_rate:.3f}")
