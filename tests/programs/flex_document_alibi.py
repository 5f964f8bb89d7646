"""FlexAttention as the "FlexAttention: the flexibility of PyTorch with the performance of
FlashAttention" blog post writes it: a ``score_mod`` adding ALiBi biases per head, a
``mask_mod`` combining causal and document masking for packed sequences, ``create_block_mask``
and ``and_masks``; outputs and gradients compared with the dense softmax-attention equivalent
(PyTorch's eager CPU path runs flex_attention too)."""

import math

import numpy as np
import torch
from numpy_init import randn
from torch.nn.attention.flex_attention import and_masks, create_block_mask, flex_attention

rng = np.random.default_rng(15)
B, H, S, D = 1, 4, 24, 8
doc_lengths = [7, 10, 7]
document_id = torch.repeat_interleave(torch.arange(len(doc_lengths)), torch.tensor(doc_lengths))
slopes = torch.tensor([2 ** (-8 * (h + 1) / H) for h in range(H)])


def alibi(score, b, h, q_idx, kv_idx):
    return score + slopes[h] * (kv_idx - q_idx)


def causal(b, h, q_idx, kv_idx):
    return q_idx >= kv_idx


def same_document(b, h, q_idx, kv_idx):
    return document_id[q_idx] == document_id[kv_idx]


mask_mod = and_masks(causal, same_document)
block_mask = create_block_mask(mask_mod, B, None, S, S, device="cpu", BLOCK_SIZE=8)
q, k, v = (randn(rng, B, H, S, D).requires_grad_() for _ in range(3))
out_grad = randn(rng, B, H, S, D)
out = flex_attention(q.detach(), k.detach(), v.detach(), score_mod=alibi, block_mask=block_mask)
try:  # PyTorch's CPU path has no backward ("use another device"); minigrad's has
    flexed = flex_attention(q, k, v, score_mod=alibi, block_mask=block_mask)
    flexed.backward(out_grad)
    flex_grads = [t.grad.clone() for t in (q, k, v)]
    for t in (q, k, v):
        t.grad = None
except NotImplementedError:
    flex_grads = None

i, j = torch.arange(S)[:, None], torch.arange(S)[None, :]
dense_mask = (i >= j) & (document_id[i] == document_id[j])
scores = q @ k.transpose(-2, -1) / math.sqrt(D) + slopes[None, :, None, None] * (j - i)
scores = scores.masked_fill(~dense_mask, float("-inf"))
dense = torch.softmax(scores, dim=-1) @ v
dense.backward(out_grad)
output_gap = (out - dense).abs().max().item()
grad_gaps = flex_grads and [(a - t.grad).abs().max().item() for a, t in zip(flex_grads, (q, k, v))]
out_sample = out[0, :, -1].flatten().tolist()
kv_blocks = block_mask.kv_num_blocks.flatten().tolist()
sparsity = block_mask.sparsity()
q, k, v = q.detach(), k.detach(), v.detach()
plain = flex_attention(q, k, v)
plain_gap = (plain - torch.nn.functional.scaled_dot_product_attention(q, k, v)).abs().max().item()
