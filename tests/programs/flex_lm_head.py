"""flex_attention as a PyTorch 2.13 program writes it: a causal sliding-window BlockMask built
with and_masks, document masking with a shared prefix (or_masks), ALiBi and tanh soft-capping
score_mods, grouped-query heads and the lse; flex without a score_mod checked against SDPA
with the dense mask of create_mask; then an LM head on the attention features trained with
nn.LinearCrossEntropyLoss in batch chunks (PyTorch's flex_attention has no CPU backward, so the
attention itself is not trained)."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy, randn
from torch.nn.attention.flex_attention import (
    AuxRequest,
    and_masks,
    create_block_mask,
    create_mask,
    flex_attention,
    or_masks,
)

rng = np.random.default_rng(21)
B, HQ, HKV, L, E, V = 2, 4, 2, 24, 8, 40
q, k, v = randn(rng, B, HQ, L, E), randn(rng, B, HKV, L, E), randn(rng, B, HKV, L, E)
docs = torch.tensor([0] * 10 + [1] * 8 + [2] * 6)
slopes = torch.tensor([2.0 ** -(i + 1) for i in range(HQ)])


def causal(b, h, q_idx, kv_idx):
    return q_idx >= kv_idx


def window(b, h, q_idx, kv_idx):
    return q_idx - kv_idx <= 6


def same_doc(b, h, q_idx, kv_idx):
    return docs[q_idx] == docs[kv_idx]


def prefix(b, h, q_idx, kv_idx):
    return kv_idx < 4


def alibi(score, b, h, q_idx, kv_idx):
    return score - slopes[h] * (q_idx - kv_idx)


def softcap(score, b, h, q_idx, kv_idx):
    return 20.0 * torch.tanh(score / 20.0)


sliding_mod = and_masks(causal, window)
sliding = create_block_mask(sliding_mod, None, None, L, L, device="cpu", BLOCK_SIZE=8)
documents = create_block_mask(
    and_masks(same_doc, or_masks(causal, prefix)), B, None, L, L, device="cpu", BLOCK_SIZE=8
)
out_sliding = flex_attention(q, k, v, score_mod=alibi, block_mask=sliding, enable_gqa=True)
out_docs, aux = flex_attention(
    q, k, v, score_mod=softcap, block_mask=documents, enable_gqa=True,
    return_aux=AuxRequest(lse=True),
)  # fmt: skip
plain = flex_attention(q, k, v, block_mask=sliding, enable_gqa=True)
dense = create_mask(sliding_mod, None, None, L, L, device="cpu")
sdpa = F.scaled_dot_product_attention(q, k, v, attn_mask=dense, enable_gqa=True)
plain_gap = (plain - sdpa).abs().max().item()
block_counts = (sliding.kv_num_blocks.tolist(), sliding.full_kv_num_blocks.tolist())
sparsity = sliding.sparsity()
picture = str(documents[1])
flex_values = [
    out_sliding[0, 0, :4].flatten().tolist(),
    out_docs[1, 3, -4:].flatten().tolist(),
    aux.lse[0, 1, :6].tolist(),
]

features = torch.cat([out_sliding, out_docs], -1).transpose(1, 2).reshape(B * L, 2 * HQ * E)
targets = torch.from_numpy(rng.integers(0, V, B * L))
targets[::7] = -100
options = nn.LinearCrossEntropyOptions(batch_chunk_size=16)
head = init_from_numpy(nn.LinearCrossEntropyLoss(2 * HQ * E, V, bias=True, options=options))
optimizer = torch.optim.SGD(head.parameters(), lr=0.5)
losses = []
for _ in range(8):
    optimizer.zero_grad()
    loss = head(features, targets)
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
