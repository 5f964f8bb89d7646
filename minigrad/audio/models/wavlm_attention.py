"""torchaudio's ``WavLMSelfAttention`` (Chen et al., 2022): multi-head self-attention with a
bucketed relative position bias (learned in the first layer, passed on to the others) gated
per head by the query (the "gated relative position bias")."""

from __future__ import annotations

import math

import minigrad as torch
from minigrad import nn


class WavLMSelfAttention(nn.Module):
    """Self-attention over ``(batch, frames, embed_dim)`` returning ``(output,
    position_bias)``; weights in an ``nn.MultiheadAttention`` (``attention``), as torchaudio's."""

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True,
                 has_relative_attention_bias=False, num_buckets=32, max_distance=128,
                 gru_rel_pos=True):  # fmt: skip
        super().__init__()
        self.embed_dim, self.num_heads = embed_dim, num_heads
        self.has_relative_attention_bias = has_relative_attention_bias
        self.num_buckets, self.max_distance = num_buckets, max_distance
        self.rel_attn_embed = (
            nn.Embedding(num_buckets, num_heads) if has_relative_attention_bias else None
        )
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise ValueError("embed_dim must be divisible by num_heads")
        self.dropout = dropout
        self.attention = nn.MultiheadAttention(embed_dim, num_heads, dropout=dropout, bias=bias,
                                               batch_first=True)  # fmt: skip
        self.gru_rel_pos = gru_rel_pos
        if gru_rel_pos:
            self.gru_rel_pos_linear = nn.Linear(self.head_dim, 8)
            self.gru_rel_pos_const = nn.Parameter(torch.ones(1, num_heads, 1, 1))
        self.has_position_bias = True

    def compute_bias(self, query_length, key_length):
        """The ``(num_heads, query_length, key_length)`` bias of the bucketed offsets."""
        relative = torch.arange(key_length)[None, :] - torch.arange(query_length)[:, None]
        buckets = self._relative_positions_bucket(relative, bidirectional=True)
        return self.rel_attn_embed(buckets.to(self.rel_attn_embed.weight.device)).permute([2, 0, 1])

    def _relative_positions_bucket(self, relative_positions, bidirectional=True):
        """T5's buckets: exact for small offsets, logarithmic up to ``max_distance``."""
        num_buckets = self.num_buckets
        buckets = torch.zeros_like(relative_positions, dtype=torch.long)
        if bidirectional:
            num_buckets = num_buckets // 2
            buckets = buckets + (relative_positions > 0).to(torch.long) * num_buckets
            relative_positions = torch.abs(relative_positions)
        else:
            relative_positions = -torch.min(
                relative_positions, torch.zeros_like(relative_positions)
            )
        max_exact = num_buckets // 2
        is_small = relative_positions < max_exact
        large = max_exact + (
            torch.log(relative_positions.clamp(min=1).float() / max_exact)  # (0 is a small one)
            / math.log(self.max_distance / max_exact)
            * (num_buckets - max_exact)
        ).to(torch.long)
        large = torch.min(large, torch.full_like(large, num_buckets - 1))
        return buckets + torch.where(is_small, relative_positions, large)

    def forward(self, query, key_padding_mask=None, attention_mask=None, position_bias=None):
        bsz, seq_len, embed_dim = query.size()
        if embed_dim != self.embed_dim:
            raise AssertionError(f"expected embed_dim {self.embed_dim}, got {embed_dim}")
        if attention_mask is not None:  # (torchaudio asserts the same: WavLM takes no lengths mask)
            raise AssertionError("WavLMSelfAttention takes no attention_mask")
        if self.rel_attn_embed is not None and position_bias is None:
            position_bias = self.compute_bias(seq_len, seq_len).unsqueeze(0).repeat(bsz, 1, 1, 1)
        bias = None
        if position_bias is not None:
            bias = position_bias
            if self.gru_rel_pos:  # the query gates each head's bias
                q = query.view(bsz, seq_len, self.num_heads, -1).permute(0, 2, 1, 3)
                gates = self.gru_rel_pos_linear(q).view(bsz, self.num_heads, seq_len, 2, 4).sum(-1)
                gate_a, gate_b = torch.sigmoid(gates).chunk(2, dim=-1)
                gate = gate_a * (gate_b * self.gru_rel_pos_const - 1.0) + 2.0
                bias = gate.view(bsz, self.num_heads, -1, 1) * position_bias
            bias = bias.view((bsz, self.num_heads, seq_len, seq_len))
        if bias is not None and key_padding_mask is not None:
            pad = key_padding_mask.view(bsz, 1, 1, seq_len).expand(-1, self.num_heads, -1, -1)
            if pad.dtype == torch.bool:
                pad = torch.zeros(pad.shape, dtype=query.dtype).masked_fill(pad, float("-inf"))
            bias = bias + pad
        projected = nn.functional.linear(query, self.attention.in_proj_weight,
                                         self.attention.in_proj_bias)  # fmt: skip
        shape = (bsz, seq_len, self.num_heads, self.head_dim)
        q, k, v = (t.view(shape).transpose(2, 1) for t in projected.chunk(3, -1))
        out = nn.functional.scaled_dot_product_attention(
            q,
            k,
            v,
            attn_mask=bias,
            dropout_p=self.dropout if self.training else 0.0,
            is_causal=False,
        )
        out = out.transpose(1, 2).reshape(bsz, -1, self.num_heads * self.head_dim)
        return self.attention.out_proj(out), position_bias
