"""A two-tower retrieval model as recommender code writes it: a user tower over the bag of
previously seen items (``nn.EmbeddingBag(mode="mean", padding_idx=0)`` with offsets, and
``per_sample_weights`` in a second, recency-weighted ``mode="sum"`` bag), an item tower, both
L2-normalized; trained with in-batch negatives (cross-entropy over the batch's similarity
matrix with a temperature) and the logQ correction of popular items from
``torch.unique(return_counts=True)``; evaluated by recall@k with ``topk`` after masking
already seen items through ``scatter_``."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy

rng = np.random.default_rng(211)
n_users, n_items, dim = 60, 40, 16
taste = rng.integers(0, 4, n_users)
item_genre = rng.integers(0, 4, n_items)
histories, targets = [], []
for u in range(n_users):
    liked = np.flatnonzero(item_genre == taste[u]) + 1  # item ids start at 1: 0 is padding
    seen = rng.choice(liked, size=int(rng.integers(2, 6)), replace=True)
    histories.append(seen)
    targets.append(int(rng.choice(liked)))
flat = torch.from_numpy(np.concatenate(histories))
offsets = torch.from_numpy(np.cumsum([0] + [len(h) for h in histories[:-1]]))
recency = torch.cat([torch.linspace(0.5, 1.0, len(h)) for h in histories])
target_items = torch.tensor(targets)


class UserTower(nn.Module):
    def __init__(self):
        super().__init__()
        self.mean_bag = nn.EmbeddingBag(n_items + 1, dim, mode="mean", padding_idx=0)
        self.weighted_bag = nn.EmbeddingBag(n_items + 1, dim, mode="sum")
        self.mlp = nn.Sequential(nn.Linear(2 * dim, 32), nn.ReLU(), nn.Linear(32, dim))

    def forward(self, items, offsets, weights):
        h = torch.cat(
            [
                self.mean_bag(items, offsets),
                self.weighted_bag(items, offsets, per_sample_weights=weights),
            ],
            1,
        )
        return F.normalize(self.mlp(h), dim=-1)


class ItemTower(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(n_items + 1, dim, padding_idx=0)
        self.mlp = nn.Sequential(nn.Linear(dim, 32), nn.ReLU(), nn.Linear(32, dim))

    def forward(self, items):
        return F.normalize(self.mlp(self.embedding(items)), dim=-1)


users, items = init_from_numpy(UserTower(), seed=211), init_from_numpy(ItemTower(), seed=212)
optimizer = torch.optim.Adagrad(list(users.parameters()) + list(items.parameters()), lr=0.1)
values, counts = torch.unique(target_items, return_counts=True)
log_q = torch.zeros(n_items + 1)
log_q[values] = torch.log(counts.float() / counts.sum())
temperature = 0.1
losses = []
for epoch in range(10):
    u = users(flat, offsets, recency)
    v = items(target_items)
    logits = u @ v.T / temperature - log_q[target_items].unsqueeze(0)
    same = target_items.unsqueeze(0) == target_items.unsqueeze(1)
    logits = logits.masked_fill(same & ~torch.eye(n_users, dtype=torch.bool), float("-inf"))
    loss = F.cross_entropy(logits, torch.arange(n_users))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())

with torch.no_grad():
    scores = users(flat, offsets, recency) @ items(torch.arange(n_items + 1)).T
    seen_mask = torch.zeros(n_users, n_items + 1, dtype=torch.bool)
    for row, h in enumerate(histories):
        seen_mask[row].scatter_(0, torch.from_numpy(h), True)
    seen_mask[:, 0] = True
    scores = scores.masked_fill(seen_mask, float("-inf"))
    top = scores.topk(5, dim=1).indices
    recall_at_5 = (top == target_items.unsqueeze(1)).any(1).float().mean().item()
    genre_hits = (
        (torch.from_numpy(item_genre)[top - 1] == torch.from_numpy(taste).unsqueeze(1))
        .float()
        .mean()
        .item()
    )
pad_grad = items.embedding.weight.grad[0].abs().sum().item()
bag_shapes = list(users.mean_bag(flat, offsets).shape)
print(
    f"loss {losses[0]:.3f} -> {losses[-1]:.3f}; recall@5 {recall_at_5:.3f}; genre hits {genre_hits:.3f}"
)
