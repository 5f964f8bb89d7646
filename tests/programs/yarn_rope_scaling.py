"""Context extension of rotary embeddings as Hugging Face's ``modeling_rope_utils`` computes it:
linear position interpolation, NTK-aware base scaling (``base * factor ** (dim / (dim - 2))``),
dynamic NTK (the base grows with the sequence length) and YaRN (per-frequency blend of
interpolation and extrapolation by a clamped linear ramp between correction dimensions found
with ``math.log``, plus the attention temperature ``0.1 * ln(factor) + 1``), applied with the
``rotate_half`` / ``torch.cat`` convention; attention uses QK-norm (``nn.RMSNorm`` on each head's
queries and keys, as OLMo 2 and Qwen 3 do). A small model trained on length-8 sequences is
evaluated at length 24 with each scaling."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
VOCAB, DIM, HEADS, TRAIN_LEN, TEST_LEN, BASE = 16, 32, 4, 8, 24, 10000.0
HD = DIM // HEADS
FACTOR = TEST_LEN / TRAIN_LEN


def default_inv_freq(base=BASE):
    return 1.0 / (base ** (torch.arange(0, HD, 2, dtype=torch.int64).float() / HD))


def yarn_inv_freq(factor, original_max=TRAIN_LEN, beta_fast=32, beta_slow=1):
    def find_correction_dim(num_rotations):
        return (HD * math.log(original_max / (num_rotations * 2 * math.pi))) / (2 * math.log(BASE))

    low = max(math.floor(find_correction_dim(beta_fast)), 0)
    high = min(math.ceil(find_correction_dim(beta_slow)), HD - 1)
    if low == high:
        high += 0.001
    ramp = torch.clamp((torch.arange(HD // 2, dtype=torch.float32) - low) / (high - low), 0, 1)
    pos_freqs = BASE ** (torch.arange(0, HD, 2).float() / HD)
    extrapolation_factor = 1 - ramp
    inv_freq = (1.0 / (factor * pos_freqs)) * (1 - extrapolation_factor) + (
        1.0 / pos_freqs
    ) * extrapolation_factor
    return inv_freq, 0.1 * math.log(factor) + 1.0, (low, high)


def rope_tables(kind, seq_len):
    scale = 1.0
    if kind == "default":
        inv_freq = default_inv_freq()
    elif kind == "linear":
        inv_freq = default_inv_freq() / FACTOR
    elif kind == "ntk":
        inv_freq = default_inv_freq(BASE * FACTOR ** (HD / (HD - 2)))
    elif kind == "dynamic":
        grown = max(seq_len, TRAIN_LEN)
        base = BASE * ((FACTOR * grown / TRAIN_LEN) - (FACTOR - 1)) ** (HD / (HD - 2))
        inv_freq = default_inv_freq(base) if seq_len > TRAIN_LEN else default_inv_freq()
    else:
        inv_freq, scale, _ = yarn_inv_freq(FACTOR)
    freqs = torch.outer(torch.arange(seq_len).float(), inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos() * scale, emb.sin() * scale


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2 :]
    return torch.cat((-x2, x1), dim=-1)


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.qkv, self.o = nn.Linear(DIM, 3 * DIM, bias=False), nn.Linear(DIM, DIM, bias=False)
        self.q_norm, self.k_norm = nn.RMSNorm(HD, eps=1e-6), nn.RMSNorm(HD, eps=1e-6)

    def forward(self, x, cos, sin):
        b, t, _ = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, HEADS, HD).unbind(2)
        q, k = self.q_norm(q).transpose(1, 2), self.k_norm(k).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        y = F.scaled_dot_product_attention(q, k, v.transpose(1, 2), is_causal=True)
        return self.o(y.transpose(1, 2).reshape(b, t, DIM))


class LM(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, DIM)
        self.attn1, self.attn2 = Attention(), Attention()
        self.norms = nn.ModuleList(nn.RMSNorm(DIM) for _ in range(3))
        self.head = nn.Linear(DIM, VOCAB, bias=False)

    def forward(self, tokens, kind="default"):
        cos, sin = rope_tables(kind, tokens.size(1))
        h = self.embed(tokens)
        h = h + self.attn1(self.norms[0](h), cos, sin)
        h = h + self.attn2(self.norms[1](h), cos, sin)
        return self.head(self.norms[2](h))


def batch(n, length):
    """Induction: a random token at each step, with a period-3 repeat from the start."""
    pattern = torch.randint(0, VOCAB, (n, 3))
    return pattern.repeat(1, length // 3 + 1)[:, :length]


model = LM()
optimizer = torch.optim.AdamW(model.parameters(), lr=2e-2)
losses = []
tokens = batch(32, TRAIN_LEN)
for step in range(18):
    loss = F.cross_entropy(model(tokens[:, :-1]).flatten(0, 1), tokens[:, 1:].flatten())
    optimizer.zero_grad()
    loss.backward()
    if step == 0:
        q_norm_grad = model.attn1.q_norm.weight.grad[:4].tolist()
    optimizer.step()
    losses.append(loss.item())

test = batch(16, TEST_LEN)
long_losses = {}
with torch.no_grad():
    for kind in ("default", "linear", "ntk", "dynamic", "yarn"):
        logits = model(test[:, :-1], kind)
        long_losses[kind] = F.cross_entropy(logits.flatten(0, 1), test[:, 1:].flatten()).item()
yarn_freq, yarn_mscale, yarn_range = yarn_inv_freq(FACTOR)
yarn_freq = yarn_freq.tolist()
ntk_base = BASE * FACTOR ** (HD / (HD - 2))
short_cos, _ = rope_tables("dynamic", TRAIN_LEN)
dynamic_short_is_default = torch.equal(short_cos, rope_tables("default", TRAIN_LEN)[0])
