"""DeepSeek-V2/V3 multi-head latent attention (MLA) as the reference ``model.py`` writes it: the
query goes through a low-rank bottleneck (``wq_a``, ``nn.RMSNorm``, ``wq_b``), keys and values are
compressed into one latent vector per token plus a single decoupled RoPE key shared by all heads
(``wkv_a`` split with ``torch.split``), rotary embeddings are applied in complex form
(``torch.polar``, ``view_as_complex``, ``view_as_real``); training uses the "naive" path that
expands the latent with ``wkv_b``, and decoding uses the "absorb" path that folds ``wkv_b`` into
the query and the output with ``torch.einsum`` so that only the latent and the RoPE key are
cached. A tiny language model is trained with AdamW, then decoded token by token from the
latent cache and compared with a full forward pass."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
VOCAB, SEQ, DIM, HEADS = 20, 12, 32, 4
Q_RANK, KV_RANK, NOPE, ROPE, VDIM = 16, 8, 8, 4, 8


def precompute_freqs_cis(dim, seqlen, theta=10000.0):
    freqs = 1.0 / (theta ** (torch.arange(0, dim, 2, dtype=torch.float32) / dim))
    freqs = torch.outer(torch.arange(seqlen, dtype=torch.float32), freqs)
    return torch.polar(torch.ones_like(freqs), freqs)


def apply_rotary_emb(x, freqs_cis):
    dtype = x.dtype
    x = torch.view_as_complex(x.float().view(*x.shape[:-1], -1, 2))
    freqs_cis = freqs_cis.view(1, x.size(1), 1, x.size(-1))
    return torch.view_as_real(x * freqs_cis).flatten(3).to(dtype)


class MLA(nn.Module):
    def __init__(self):
        super().__init__()
        self.wq_a = nn.Linear(DIM, Q_RANK, bias=False)
        self.q_norm = nn.RMSNorm(Q_RANK, eps=1e-6)
        self.wq_b = nn.Linear(Q_RANK, HEADS * (NOPE + ROPE), bias=False)
        self.wkv_a = nn.Linear(DIM, KV_RANK + ROPE, bias=False)
        self.kv_norm = nn.RMSNorm(KV_RANK, eps=1e-6)
        self.wkv_b = nn.Linear(KV_RANK, HEADS * (NOPE + VDIM), bias=False)
        self.wo = nn.Linear(HEADS * VDIM, DIM, bias=False)
        self.softmax_scale = (NOPE + ROPE) ** -0.5
        self.register_buffer("kv_cache", torch.zeros(1, SEQ, KV_RANK), persistent=False)
        self.register_buffer("pe_cache", torch.zeros(1, SEQ, ROPE), persistent=False)

    def _qkv(self, x, freqs_cis):
        bsz, seqlen, _ = x.size()
        q = self.wq_b(self.q_norm(self.wq_a(x))).view(bsz, seqlen, HEADS, NOPE + ROPE)
        q_nope, q_pe = torch.split(q, [NOPE, ROPE], dim=-1)
        q_pe = apply_rotary_emb(q_pe, freqs_cis)
        kv, k_pe = torch.split(self.wkv_a(x), [KV_RANK, ROPE], dim=-1)
        k_pe = apply_rotary_emb(k_pe.unsqueeze(2), freqs_cis)
        return q_nope, q_pe, self.kv_norm(kv), k_pe

    def forward(self, x, freqs_cis, mask):
        """The naive path: expand the latent into per-head keys and values."""
        bsz, seqlen, _ = x.size()
        q_nope, q_pe, kv, k_pe = self._qkv(x, freqs_cis)
        q = torch.cat([q_nope, q_pe], dim=-1)
        kv = self.wkv_b(kv).view(bsz, seqlen, HEADS, NOPE + VDIM)
        k_nope, v = torch.split(kv, [NOPE, VDIM], dim=-1)
        k = torch.cat([k_nope, k_pe.expand(-1, -1, HEADS, -1)], dim=-1)
        scores = torch.einsum("bshd,bthd->bsht", q, k) * self.softmax_scale
        scores = scores + mask.unsqueeze(1)
        scores = scores.softmax(dim=-1, dtype=torch.float32).type_as(x)
        out = torch.einsum("bsht,bthd->bshd", scores, v)
        return self.wo(out.flatten(2))

    @torch.no_grad()
    def decode(self, x, start_pos, freqs_cis):
        """The absorb path: cache the latent and the RoPE key only."""
        bsz, seqlen, _ = x.size()
        end_pos = start_pos + seqlen
        q_nope, q_pe, kv, k_pe = self._qkv(x, freqs_cis)
        wkv_b = self.wkv_b.weight.view(HEADS, -1, KV_RANK)
        q_nope = torch.einsum("bshd,hdc->bshc", q_nope, wkv_b[:, :NOPE])
        self.kv_cache[:bsz, start_pos:end_pos] = kv
        self.pe_cache[:bsz, start_pos:end_pos] = k_pe.squeeze(2)
        scores = (
            torch.einsum("bshc,btc->bsht", q_nope, self.kv_cache[:bsz, :end_pos])
            + torch.einsum("bshr,btr->bsht", q_pe, self.pe_cache[:bsz, :end_pos])
        ) * self.softmax_scale
        if seqlen > 1:  # the prefill: causal within the new tokens
            mask = torch.full((seqlen, end_pos), float("-inf")).triu_(start_pos + 1)
            scores = scores + mask.unsqueeze(1)
        scores = scores.softmax(dim=-1, dtype=torch.float32)
        out = torch.einsum("bsht,btc->bshc", scores, self.kv_cache[:bsz, :end_pos])
        out = torch.einsum("bshc,hdc->bshd", out, wkv_b[:, -VDIM:])
        return self.wo(out.flatten(2))


class TinyDeepSeek(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, DIM)
        self.attn_norm, self.ffn_norm = nn.RMSNorm(DIM), nn.RMSNorm(DIM)
        self.attn = MLA()
        self.w13 = nn.Linear(DIM, 2 * 48, bias=False)
        self.w2 = nn.Linear(48, DIM, bias=False)
        self.norm, self.head = nn.RMSNorm(DIM), nn.Linear(DIM, VOCAB, bias=False)
        self.register_buffer("freqs_cis", precompute_freqs_cis(ROPE, SEQ), persistent=False)

    def _ffn(self, h):
        gate, up = self.w13(self.ffn_norm(h)).chunk(2, dim=-1)
        return h + self.w2(F.silu(gate) * up)

    def forward(self, tokens):
        seqlen = tokens.size(1)
        mask = torch.full((seqlen, seqlen), float("-inf")).triu_(1)
        h = self.embed(tokens)
        h = h + self.attn(self.attn_norm(h), self.freqs_cis[:seqlen], mask)
        return self.head(self.norm(self._ffn(h)))

    @torch.no_grad()
    def step(self, tokens, start_pos):
        h = self.embed(tokens)
        freqs = self.freqs_cis[start_pos : start_pos + tokens.size(1)]
        h = h + self.attn.decode(self.attn_norm(h), start_pos, freqs)
        return self.head(self.norm(self._ffn(h)))


model = TinyDeepSeek()
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.01)
data = torch.randint(0, VOCAB, (8, SEQ // 2))
data = torch.cat([data, data], dim=1)  # the second half repeats the first: attention must copy
losses = []
for step in range(20):
    logits = model(data[:, :-1])
    loss = F.cross_entropy(logits.reshape(-1, VOCAB), data[:, 1:].reshape(-1))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
rope_grad_sample = model.attn.wkv_a.weight.grad[-ROPE:, :4].flatten().tolist()

prompt = data[:1]
full = model(prompt)
steps = [model.step(prompt[:, :5], 0)]  # prefill 5 tokens, then one token at a time
steps += [model.step(prompt[:, i : i + 1], i) for i in range(5, SEQ)]
cached = torch.cat(steps, dim=1)
absorb_gap = (cached - full).abs().max().item()
copy_accuracy = (
    (full[0, SEQ // 2 : -1].argmax(-1) == prompt[0, SEQ // 2 + 1 :]).float().mean().item()
)
cache_floats_per_token = KV_RANK + ROPE
mha_floats_per_token = 2 * HEADS * (NOPE + ROPE)
freqs_dtype = str(model.freqs_cis.dtype)
rope_norm_kept = math.isclose(
    apply_rotary_emb(torch.ones(1, SEQ, 1, ROPE), model.freqs_cis).norm().item(),
    math.sqrt(SEQ * ROPE),
    rel_tol=1e-5,
)
try:  # an odd rotary width cannot be viewed as complex pairs
    torch.view_as_complex(torch.ones(1, 3))
    odd_rope_error = None
except RuntimeError as error:
    odd_rope_error = str(error)
