"""Llama-3-style inference as torchtune and gpt-fast write it today: ``F.rms_norm`` with a
learned weight, RoPE frequencies from ``torch.polar`` applied by complex multiplication
(``torch.view_as_complex``/``view_as_real``), a SwiGLU MLP, grouped-query attention through
``F.scaled_dot_product_attention(..., enable_gqa=True)``, a preallocated KV cache written with
``index_copy_`` at the decode positions, and a generation loop under ``torch.inference_mode()``
with temperature and top-p sampling from a seeded ``torch.Generator``; the cached decode is
checked against recomputing the whole prefix, and ``is_inference()`` on the outputs."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
DIM, N_HEADS, N_KV, VOCAB, MAX_LEN = 32, 4, 2, 48, 24
HEAD = DIM // N_HEADS


def precompute_freqs_cis(dim, end, theta=500000.0):
    freqs = 1.0 / (theta ** (torch.arange(0, dim, 2)[: dim // 2].float() / dim))
    t = torch.arange(end, dtype=torch.float32)
    return torch.polar(torch.ones(end, dim // 2), torch.outer(t, freqs))


def apply_rotary_emb(x, freqs_cis):
    x_ = torch.view_as_complex(x.float().reshape(*x.shape[:-1], -1, 2))
    out = torch.view_as_real(x_ * freqs_cis[None, :, None, :]).flatten(3)
    return out.type_as(x)


class KVCache(nn.Module):
    def __init__(self, batch, max_len, n_kv, head_dim):
        super().__init__()
        shape = (batch, n_kv, max_len, head_dim)
        self.register_buffer("k_cache", torch.zeros(shape), persistent=False)
        self.register_buffer("v_cache", torch.zeros(shape), persistent=False)

    def update(self, input_pos, k, v):
        self.k_cache.index_copy_(2, input_pos, k)
        self.v_cache.index_copy_(2, input_pos, v)
        return self.k_cache, self.v_cache


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.wq = nn.Linear(DIM, N_HEADS * HEAD, bias=False)
        self.wkv = nn.Linear(DIM, 2 * N_KV * HEAD, bias=False)
        self.wo = nn.Linear(DIM, DIM, bias=False)
        self.kv_cache = None

    def forward(self, x, freqs_cis, mask, input_pos=None):
        b, t, _ = x.shape
        q = self.wq(x).view(b, t, N_HEADS, HEAD)
        k, v = self.wkv(x).view(b, t, 2 * N_KV, HEAD).split(N_KV, dim=2)
        q, k = apply_rotary_emb(q, freqs_cis), apply_rotary_emb(k, freqs_cis)
        q, k, v = (z.transpose(1, 2) for z in (q, k, v))
        if self.kv_cache is not None:
            k, v = self.kv_cache.update(input_pos, k, v)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, enable_gqa=True)
        return self.wo(y.transpose(1, 2).reshape(b, t, DIM))


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn = Attention()
        self.w1, self.w3 = nn.Linear(DIM, 64, bias=False), nn.Linear(DIM, 64, bias=False)
        self.w2 = nn.Linear(64, DIM, bias=False)
        self.attn_norm = nn.Parameter(torch.ones(DIM))
        self.ffn_norm = nn.Parameter(torch.ones(DIM))

    def forward(self, x, freqs_cis, mask, input_pos=None):
        h = x + self.attn(
            F.rms_norm(x, (DIM,), self.attn_norm, eps=1e-5), freqs_cis, mask, input_pos
        )
        z = F.rms_norm(h, (DIM,), self.ffn_norm, eps=1e-5)
        return h + self.w2(F.silu(self.w1(z)) * self.w3(z))


class Llama(nn.Module):
    def __init__(self):
        super().__init__()
        self.tok = nn.Embedding(VOCAB, DIM)
        self.layers = nn.ModuleList(Block() for _ in range(2))
        self.out = nn.Linear(DIM, VOCAB, bias=False)
        self.register_buffer("freqs_cis", precompute_freqs_cis(HEAD, MAX_LEN), persistent=False)
        self.register_buffer("causal", torch.tril(torch.ones(MAX_LEN, MAX_LEN, dtype=torch.bool)))

    def setup_caches(self, batch):
        for layer in self.layers:
            layer.attn.kv_cache = KVCache(batch, MAX_LEN, N_KV, HEAD)

    def forward(self, idx, input_pos):
        mask = self.causal[input_pos] if self.layers[0].attn.kv_cache is not None else None
        mask = mask[None, None] if mask is not None else self.causal[: idx.shape[1], : idx.shape[1]]
        x = self.tok(idx)
        for layer in self.layers:
            x = layer(x, self.freqs_cis[input_pos], mask, input_pos)
        return self.out(x)


def sample_top_p(logits, temperature, top_p, generator):
    probs = torch.softmax(logits / temperature, dim=-1)
    sorted_probs, order = torch.sort(probs, dim=-1, descending=True)
    mask = sorted_probs.cumsum(dim=-1) - sorted_probs > top_p
    sorted_probs = sorted_probs.masked_fill(mask, 0.0)
    sorted_probs.div_(sorted_probs.sum(dim=-1, keepdim=True))
    choice = torch.multinomial(sorted_probs, 1, generator=generator)
    return torch.gather(order, -1, choice)


model = Llama().eval()
prompt = torch.randint(0, VOCAB, (2, 6))
with torch.inference_mode():
    full_logits = model(prompt, torch.arange(6))
    model.setup_caches(batch=2)
    prefill = model(prompt, torch.arange(6))
    prefill_gap = (prefill - full_logits).abs().max().item()
    gen = torch.Generator().manual_seed(1234)
    tokens = prompt
    next_tok = sample_top_p(prefill[:, -1], 0.8, 0.9, gen)
    for pos in range(6, 14):
        tokens = torch.cat([tokens, next_tok], dim=1)
        logits = model(next_tok, torch.tensor([pos]))
        next_tok = sample_top_p(logits[:, -1], 0.8, 0.9, gen)
    cached_last = logits[:, -1]
    for layer in model.layers:
        layer.attn.kv_cache = None
    recomputed_last = model(tokens, torch.arange(tokens.shape[1]))[:, -1]

generated = tokens[:, 6:].tolist()
cache_gap = (cached_last - recomputed_last).abs().max().item()
flags = (cached_last.is_inference(), prompt.is_inference(), torch.is_inference_mode_enabled())
freqs_info = (tuple(model.freqs_cis.shape), str(model.freqs_cis.dtype))
logit_sample = cached_last[0, :6].tolist()
print(f"generated {generated}, cache vs recompute {cache_gap:.2e}")
