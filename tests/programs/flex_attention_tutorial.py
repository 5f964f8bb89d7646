"""The FlexAttention blog post's gallery: ``score_mod`` functions (causal via ``torch.where``,
relative position bias, tanh soft-capping, a per-head bias table, composed), ``mask_mod``
functions turned into ``BlockMask``s with ``create_block_mask`` (causal, sliding window via
``and_masks``, prefix LM via ``or_masks``), their block counts and sparsity, ``create_mask`` for
a dense boolean mask, and outputs compared with ``F.scaled_dot_product_attention`` on the same
mask and bias. (Three flex_attention calls: each costs PyTorch's eager CPU path a second.)"""

import torch
import torch.nn.functional as F
from torch.nn.attention.flex_attention import (
    and_masks,
    create_block_mask,
    create_mask,
    flex_attention,
    or_masks,
)

torch.manual_seed(0)
B, H, S, D = 2, 2, 64, 8
BLOCK = 16
q, k, v = (torch.randn(B, H, S, D) for _ in range(3))
positions = torch.arange(S)
head_bias = torch.randn(H) * 0.1


def causal_score(score, b, h, q_idx, kv_idx):
    return torch.where(q_idx >= kv_idx, score, -float("inf"))


def relative_positional(score, b, h, q_idx, kv_idx):
    return score + (q_idx - kv_idx) * 0.05


def soft_cap(score, b, h, q_idx, kv_idx):
    return 2.0 * torch.tanh(score / 2.0)


def per_head(score, b, h, q_idx, kv_idx):
    return score + head_bias[h]


def causal(b, h, q_idx, kv_idx):
    return q_idx >= kv_idx


def sliding_window(b, h, q_idx, kv_idx):
    return q_idx - kv_idx <= 20


def prefix(b, h, q_idx, kv_idx):
    return kv_idx < 12


def sdpa_with(bias=None, mask=None):
    scores = q @ k.transpose(-2, -1) / D**0.5
    if bias is not None:
        scores = bias(scores)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    return torch.softmax(scores, -1) @ v


qi, ki = positions[:, None], positions[None, :]
gaps = {}
out = flex_attention(q, k, v, score_mod=causal_score)
gaps["causal_score"] = (out - F.scaled_dot_product_attention(q, k, v, is_causal=True)).abs().max()
causal_sample = out[0, 1, -1].tolist()


def combined(score, b, h, q_idx, kv_idx):  # score_mods compose as functions
    score = relative_positional(score, b, h, q_idx, kv_idx)
    return soft_cap(per_head(score, b, h, q_idx, kv_idx), b, h, q_idx, kv_idx)


def combined_dense(s):
    return 2.0 * torch.tanh((s + (qi - ki) * 0.05 + head_bias[None, :, None, None]) / 2.0)


masks = {
    "causal": causal,
    "sliding": and_masks(causal, sliding_window),
    "prefix_lm": or_masks(prefix, causal),
}
block_info, block_masks, dense_masks = {}, {}, {}
for name, mask_mod in masks.items():
    block_mask = create_block_mask(mask_mod, None, None, S, S, device="cpu", BLOCK_SIZE=BLOCK)
    dense = create_mask(mask_mod, 1, 1, S, S, device="cpu")
    block_masks[name], dense_masks[name] = block_mask, dense
    block_info[name] = {
        "kv_num_blocks": block_mask.kv_num_blocks.flatten().tolist(),
        "full_kv_num_blocks": block_mask.full_kv_num_blocks.flatten().tolist(),
        "sparsity": round(block_mask.sparsity(), 4),
        "dense_true": int(dense.sum()),
        "shape": list(block_mask.shape),
    }
out = flex_attention(q, k, v, score_mod=combined, block_mask=block_masks["sliding"])
gaps["combined_sliding"] = (out - sdpa_with(combined_dense, dense_masks["sliding"])).abs().max()
sliding_sample = out[1, 0, 5].tolist()
out = flex_attention(q, k, v, block_mask=block_masks["prefix_lm"])
reference = F.scaled_dot_product_attention(q, k, v, attn_mask=dense_masks["prefix_lm"])
gaps["prefix_lm"] = (out - reference).abs().max()
prefix_sample = out[0, 1, 3].tolist()
gaps = {name: gap.item() for name, gap in gaps.items()}
