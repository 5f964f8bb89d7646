"""Every attention-mask convention a PyTorch user meets: ``F.scaled_dot_product_attention`` with
a boolean mask (True = attend), an additive float mask, ``is_causal=True``, an explicit
``scale``, and grouped-query ``enable_gqa``; ``nn.MultiheadAttention`` with
``key_padding_mask`` (True = ignore), ``attn_mask`` of shape (N*heads, L, S),
``need_weights``/``average_attn_weights=False``; a padded-sequence classifier trained on top
and checked to ignore whatever sits in the padding."""

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy, randn

rng = np.random.default_rng(13)
B, H, L, E = 2, 4, 6, 8
q, k, v = randn(rng, B, H, L, E), randn(rng, B, H, L, E), randn(rng, B, H, L, E)


def manual(q, k, v, mask=None, scale=None):
    scores = q @ k.transpose(-2, -1) * (scale or 1 / math.sqrt(q.size(-1)))
    if mask is not None:
        scores = (
            scores.masked_fill(~mask, float("-inf")) if mask.dtype == torch.bool else scores + mask
        )
    return scores.softmax(-1) @ v


causal = torch.ones(L, L, dtype=torch.bool).tril()
bool_gap = (
    (F.scaled_dot_product_attention(q, k, v, attn_mask=causal) - manual(q, k, v, causal))
    .abs()
    .max()
    .item()
)
causal_gap = (
    (F.scaled_dot_product_attention(q, k, v, is_causal=True) - manual(q, k, v, causal))
    .abs()
    .max()
    .item()
)
bias = randn(rng, B, 1, L, L)
float_out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias, scale=0.2)
float_gap = (float_out - manual(q, k, v, bias, 0.2)).abs().max().item()
kv_heads = 2
k2, v2 = randn(rng, B, kv_heads, L, E), randn(rng, B, kv_heads, L, E)
gqa = F.scaled_dot_product_attention(q, k2, v2, enable_gqa=True)
gqa_gap = (
    (gqa - manual(q, k2.repeat_interleave(2, 1), v2.repeat_interleave(2, 1))).abs().max().item()
)
sdpa_values = float_out[0, 0, :2].flatten().tolist()

mha = init_from_numpy(nn.MultiheadAttention(E, 2, batch_first=True), seed=1)
x = randn(rng, 3, L, E)
lengths = torch.tensor([6, 4, 2])
key_padding_mask = torch.arange(L).unsqueeze(0) >= lengths.unsqueeze(1)
out, weights = mha(x, x, x, key_padding_mask=key_padding_mask, average_attn_weights=False)
per_head_shape = tuple(weights.shape)
masked_weight_sum = (
    weights.masked_select(key_padding_mask[:, None, None, :].expand_as(weights)).sum().item()
)
head_mask = torch.zeros(3 * 2, L, L)
head_mask[:, :, 0] = float("-inf")
head_mask[:, 0, 0] = 0.0
out3, avg_weights = mha(x, x, x, attn_mask=head_mask)
first_key_weight = avg_weights[:, 1:, 0].abs().max().item()
mha_values = out[0, :2].flatten().tolist() + out3[1, :2].flatten().tolist()


class PaddedClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn = nn.MultiheadAttention(E, 2, batch_first=True)
        self.head = nn.Linear(E, 2)

    def forward(self, x, padding):
        h, _ = self.attn(x, x, x, key_padding_mask=padding, need_weights=False)
        h = h.masked_fill(padding.unsqueeze(-1), 0.0).sum(1) / (~padding).sum(1, keepdim=True)
        return self.head(h)


lengths = torch.from_numpy(rng.integers(2, L + 1, 48))
padding = torch.arange(L).unsqueeze(0) >= lengths.unsqueeze(1)
seqs = randn(rng, 48, L, E)
labels = (seqs[:, 0, 0] > 0).long()
model = init_from_numpy(PaddedClassifier(), seed=2)
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
losses = []
for step in range(40):
    optimizer.zero_grad()
    loss = F.cross_entropy(model(seqs, padding), labels)
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
garbage = seqs.masked_fill(padding.unsqueeze(-1), 100.0)
with torch.no_grad():
    padding_invariance = (model(garbage, padding) - model(seqs, padding)).abs().max().item()
