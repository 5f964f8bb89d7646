"""Two recommendation-style models: neural collaborative filtering (He et al. 2017) with
item embeddings loaded by nn.Embedding.from_pretrained(freeze=True), user embeddings learned,
an nn.Bilinear interaction and nn.CosineSimilarity / nn.PairwiseDistance diagnostics; and a
query-to-items cross-attention with nn.MultiheadAttention(kdim=, vdim=, batch_first=True),
key_padding_mask for ragged item lists and per-head weights (average_attn_weights=False)."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy, randn

rng = np.random.default_rng(0)
num_users, num_items, dim = 30, 40, 8
true_users, true_items = randn(rng, num_users, dim), randn(rng, num_items, dim)
pretrained_items = true_items + 0.1 * randn(rng, num_items, dim)  # e.g. from a content model
ratings = (true_users @ true_items.t() > 0).float()


class NCF(nn.Module):
    def __init__(self):
        super().__init__()
        self.user = nn.Embedding(num_users, dim)
        self.item = nn.Embedding.from_pretrained(pretrained_items, freeze=True)
        self.bilinear = nn.Bilinear(dim, dim, 1)

    def forward(self, u, i):
        return self.bilinear(self.user(u), self.item(i)).squeeze(-1)


model = init_from_numpy(NCF())
optimizer = torch.optim.Adam(model.parameters(), lr=0.1)
u_all = torch.arange(num_users).repeat_interleave(num_items)
i_all = torch.arange(num_items).repeat(num_users)
y_all = ratings.flatten()
ncf_losses = []
for step in range(80):
    idx = torch.from_numpy(rng.integers(0, len(y_all), 256))
    loss = F.binary_cross_entropy_with_logits(model(u_all[idx], i_all[idx]), y_all[idx])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    ncf_losses.append(loss.item())
with torch.no_grad():
    ncf_accuracy = ((model(u_all, i_all) > 0).float() == y_all).float().mean().item()
item_frozen = model.item.weight.grad is None and not model.item.weight.requires_grad
cos = nn.CosineSimilarity(dim=1)(pretrained_items, true_items)
dist = nn.PairwiseDistance(p=2)(pretrained_items, true_items)
print(
    f"NCF loss {ncf_losses[0]:.4f} -> {ncf_losses[-1]:.4f}, accuracy {ncf_accuracy:.3f}; frozen items {item_frozen}"
)


class CrossAttentionScorer(nn.Module):
    """A user query attends over that user's (ragged) history of item embeddings."""

    def __init__(self):
        super().__init__()
        self.attn = nn.MultiheadAttention(
            embed_dim=16, num_heads=2, kdim=dim, vdim=dim, batch_first=True
        )
        self.query = nn.Linear(dim, 16)
        self.head = nn.Linear(16, 1)

    def forward(self, target_item, history, padding_mask):
        q = self.query(target_item).unsqueeze(1)
        out, weights = self.attn(
            q, history, history, key_padding_mask=padding_mask, average_attn_weights=False
        )
        return self.head(out.squeeze(1)).squeeze(-1), weights


scorer = init_from_numpy(CrossAttentionScorer(), seed=1)
optimizer = torch.optim.Adam(scorer.parameters(), lr=0.02)
max_len = 6
lengths = torch.from_numpy(rng.integers(2, max_len + 1, num_users))
history_ids = torch.from_numpy(rng.integers(0, num_items, (num_users, max_len)))
padding_mask = torch.arange(max_len).unsqueeze(0) >= lengths.unsqueeze(1)
history = pretrained_items[history_ids]
# a user likes an item that resembles the average of their (unpadded) history
keep = (~padding_mask).float().unsqueeze(-1)
taste = (history * keep).sum(1) / keep.sum(1)
likes = (taste @ pretrained_items.t() > 0).float()
attn_losses = []
for step in range(60):
    users = torch.from_numpy(rng.integers(0, num_users, 64))
    items = torch.from_numpy(rng.integers(0, num_items, 64))
    logits, weights = scorer(pretrained_items[items], history[users], padding_mask[users])
    loss = F.binary_cross_entropy_with_logits(logits, likes[users, items])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    attn_losses.append(loss.item())
weights_shape = tuple(weights.shape)
masked_weight = (
    weights.detach()
    .masked_select(padding_mask[users].unsqueeze(1).unsqueeze(1).expand_as(weights))
    .abs()
    .max()
    .item()
    if padding_mask[users].any()
    else 0.0
)
row_sums = weights.detach().sum(-1)
print(
    f"cross-attention loss {attn_losses[0]:.4f} -> {attn_losses[-1]:.4f}; weights {weights_shape}, padded weight {masked_weight}"
)
