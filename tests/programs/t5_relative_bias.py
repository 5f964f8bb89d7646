"""T5 (Raffel et al. 2020) as HuggingFace's modeling_t5.py writes it, scaled down: relative
position buckets (``_relative_position_bucket``: exact buckets for small offsets, logarithmic
ones up to ``max_distance``, bidirectional for the encoder and causal for the decoder, built
with ``torch.abs``, ``torch.log``, ``torch.min`` and ``torch.where``), a learned bias per bucket
and head shared by all layers (computed in the first), attention without the 1/sqrt(d) scale,
``T5LayerNorm`` (RMS without mean subtraction, variance in float32), a ReLU feed-forward with
dropout, a shared embedding whose tied output is rescaled by ``d_model ** -0.5``, decoder
inputs shifted right with the pad token, labels of -100 ignored; trained with Adafactor-free
AdamW on sequence reversal and decoded greedily."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
VOCAB, PAD, EOS = 14, 0, 1


def relative_position_bucket(
    relative_position, bidirectional=True, num_buckets=32, max_distance=128
):
    relative_buckets = 0
    if bidirectional:
        num_buckets //= 2
        relative_buckets += (relative_position > 0).to(torch.long) * num_buckets
        relative_position = torch.abs(relative_position)
    else:
        relative_position = -torch.min(relative_position, torch.zeros_like(relative_position))
    max_exact = num_buckets // 2
    is_small = relative_position < max_exact
    relative_position_if_large = max_exact + (
        torch.log(relative_position.float() / max_exact)
        / math.log(max_distance / max_exact)
        * (num_buckets - max_exact)
    ).to(torch.long)
    relative_position_if_large = torch.min(
        relative_position_if_large, torch.full_like(relative_position_if_large, num_buckets - 1)
    )
    relative_buckets += torch.where(is_small, relative_position, relative_position_if_large)
    return relative_buckets


class T5LayerNorm(nn.Module):
    def __init__(self, hidden_size, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(hidden_size))
        self.variance_epsilon = eps

    def forward(self, hidden_states):
        variance = hidden_states.to(torch.float32).pow(2).mean(-1, keepdim=True)
        hidden_states = hidden_states * torch.rsqrt(variance + self.variance_epsilon)
        return self.weight * hidden_states


class T5Attention(nn.Module):
    def __init__(self, d_model, heads, has_relative_bias, is_decoder, buckets=8, max_distance=20):
        super().__init__()
        self.heads, self.d_kv, self.is_decoder = heads, d_model // heads, is_decoder
        self.buckets, self.max_distance = buckets, max_distance
        self.q, self.k = nn.Linear(d_model, d_model, bias=False), nn.Linear(d_model, d_model, False)
        self.v, self.o = nn.Linear(d_model, d_model, bias=False), nn.Linear(d_model, d_model, False)
        if has_relative_bias:
            self.relative_attention_bias = nn.Embedding(buckets, heads)

    def compute_bias(self, query_length, key_length):
        context_position = torch.arange(query_length, dtype=torch.long)[:, None]
        memory_position = torch.arange(key_length, dtype=torch.long)[None, :]
        bucket = relative_position_bucket(
            memory_position - context_position,
            not self.is_decoder,
            self.buckets,
            self.max_distance,
        )
        values = self.relative_attention_bias(bucket)  # (q, k, heads)
        return values.permute([2, 0, 1]).unsqueeze(0)

    def forward(self, x, kv=None, position_bias=None, mask=None):
        b, t = x.shape[:2]
        kv = x if kv is None else kv
        shape = lambda s: s.view(b, -1, self.heads, self.d_kv).transpose(1, 2)  # noqa: E731
        q, k, v = shape(self.q(x)), shape(self.k(kv)), shape(self.v(kv))
        scores = torch.matmul(q, k.transpose(3, 2))
        if position_bias is None:
            if hasattr(self, "relative_attention_bias"):
                position_bias = self.compute_bias(t, k.shape[2])
            else:
                position_bias = torch.zeros((1, self.heads, t, k.shape[2]))
            if mask is not None:
                position_bias = position_bias + mask
        scores = scores + position_bias
        attn = F.dropout(F.softmax(scores.float(), dim=-1).type_as(scores), 0.1, self.training)
        out = torch.matmul(attn, v).transpose(1, 2).contiguous().view(b, -1, self.heads * self.d_kv)
        return self.o(out), position_bias


class T5Block(nn.Module):
    def __init__(self, d_model, heads, first, is_decoder):
        super().__init__()
        self.ln_self, self.ln_ff = T5LayerNorm(d_model), T5LayerNorm(d_model)
        self.self_attn = T5Attention(d_model, heads, first, is_decoder)
        if is_decoder:
            self.ln_cross = T5LayerNorm(d_model)
            self.cross_attn = T5Attention(d_model, heads, False, True)
        self.wi, self.wo = (
            nn.Linear(d_model, 4 * d_model, False),
            nn.Linear(4 * d_model, d_model, False),
        )
        self.dropout = nn.Dropout(0.1)

    def forward(self, x, bias, mask, enc=None, cross_bias=None, enc_mask=None):
        y, bias = self.self_attn(self.ln_self(x), position_bias=bias, mask=mask)
        x = x + self.dropout(y)
        if enc is not None:
            y, cross_bias = self.cross_attn(self.ln_cross(x), enc, cross_bias, enc_mask)
            x = x + self.dropout(y)
        ff = self.wo(self.dropout(F.relu(self.wi(self.ln_ff(x)))))
        return x + self.dropout(ff), bias, cross_bias


class T5(nn.Module):
    def __init__(self, d_model=32, heads=4, layers=2):
        super().__init__()
        self.d_model = d_model
        self.shared = nn.Embedding(VOCAB, d_model)
        nn.init.normal_(self.shared.weight, std=1.0)
        self.encoder = nn.ModuleList(T5Block(d_model, heads, i == 0, False) for i in range(layers))
        self.decoder = nn.ModuleList(T5Block(d_model, heads, i == 0, True) for i in range(layers))
        self.enc_norm, self.dec_norm = T5LayerNorm(d_model), T5LayerNorm(d_model)
        self.dropout = nn.Dropout(0.1)

    def extended_mask(self, mask):
        return (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min

    def encode(self, ids):
        mask = self.extended_mask(ids != PAD)
        x, bias = self.dropout(self.shared(ids)), None
        for block in self.encoder:
            x, bias, _ = block(x, bias, mask)
        return self.dropout(self.enc_norm(x)), mask

    def decode(self, dec_ids, enc, enc_mask):
        t = dec_ids.shape[1]
        causal = torch.tril(torch.ones(t, t))[None, None]
        mask = (1.0 - causal) * torch.finfo(torch.float32).min
        x, bias, cross_bias = self.dropout(self.shared(dec_ids)), None, None
        for block in self.decoder:
            x, bias, cross_bias = block(x, bias, mask, enc, cross_bias, enc_mask)
        x = self.dropout(self.dec_norm(x)) * (self.d_model**-0.5)
        return x @ self.shared.weight.t()

    def forward(self, input_ids, labels):
        dec_ids = labels.new_zeros(labels.shape)
        dec_ids[..., 1:] = labels[..., :-1].clone()
        dec_ids[..., 0] = PAD
        dec_ids.masked_fill_(dec_ids == -100, PAD)
        enc, enc_mask = self.encode(input_ids)
        logits = self.decode(dec_ids, enc, enc_mask)
        loss = F.cross_entropy(logits.view(-1, VOCAB), labels.view(-1), ignore_index=-100)
        return loss, logits


def batch(n):
    lengths = torch.randint(3, 7, (n,))
    ids = torch.full((n, 7), PAD, dtype=torch.long)
    labels = torch.full((n, 7), -100, dtype=torch.long)
    for i, length in enumerate(lengths.tolist()):
        body = torch.randint(2, VOCAB, (length,))
        ids[i, :length], ids[i, length] = body, EOS
        labels[i, :length], labels[i, length] = body.flip(0), EOS
    return ids, labels


rel = torch.arange(-30, 31)
buckets_bi = relative_position_bucket(rel, True, 32, 128).tolist()
buckets_causal = relative_position_bucket(rel, False, 8, 20).tolist()

model = T5()
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
losses = []
for step in range(25):
    ids, labels = batch(16)
    loss, _ = model(ids, labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
bias_grad = model.encoder[0].self_attn.relative_attention_bias.weight.grad[:3].tolist()
dec_bias_grad = model.decoder[0].self_attn.relative_attention_bias.weight.grad[:3].tolist()

model.eval()
with torch.no_grad():
    ids, labels = batch(4)
    enc, enc_mask = model.encode(ids)
    out = torch.full((4, 1), PAD, dtype=torch.long)
    for _ in range(7):
        nxt = model.decode(out, enc, enc_mask)[:, -1].argmax(-1, keepdim=True)
        out = torch.cat([out, nxt], dim=1)
    decoded = out[:, 1:].tolist()
    token_acc = ((out[:, 1:] == labels) | (labels == -100)).float().mean().item()
print(f"loss {losses[0]:.3f} -> {losses[-1]:.3f}, decoded {decoded[:2]}")
