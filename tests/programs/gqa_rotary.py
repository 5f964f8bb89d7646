"""Grouped-query attention as current LLaMA-family reference code (Mistral, Qwen, the
gpt-fast and litgpt ports) writes it in plain PyTorch: ``F.scaled_dot_product_attention`` with
``enable_gqa=True`` on fewer key/value heads than query heads (checked against explicit
``repeat_interleave`` of the key/value heads and against a hand-written masked softmax), rotary
position embeddings on real tensors in the interleaved-pairs form (``unflatten`` into pairs,
``cos``/``sin`` caches built with ``torch.outer``, ``torch.stack(...).flatten(-2)``), a
sliding-window boolean mask passed as ``attn_mask``, ``nn.RMSNorm`` and a SwiGLU MLP; a small
model is trained with AdamW and a cosine schedule, and rotary attention scores are checked to
depend only on relative positions; Llama 3.1's rope frequency scaling, and a forward pass under
``torch.autocast("cpu", dtype=torch.bfloat16)``."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
VOCAB, CTX = 20, 24


def rope_cache(seq_len, head_dim, base=10000.0):
    inv_freq = 1.0 / (base ** (torch.arange(0, head_dim, 2).float() / head_dim))
    angles = torch.outer(torch.arange(seq_len).float(), inv_freq)
    return torch.cos(angles), torch.sin(angles)


def apply_rope(x, cos, sin):
    """x: (batch, heads, seq, head_dim); rotates the pairs (x[2i], x[2i+1])."""
    pairs = x.float().unflatten(-1, (-1, 2))
    x1, x2 = pairs[..., 0], pairs[..., 1]
    out = torch.stack([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)
    return out.flatten(-2).type_as(x)


class Attention(nn.Module):
    def __init__(self, dim, n_heads, n_kv_heads, window=None):
        super().__init__()
        self.n_heads, self.n_kv_heads, self.head_dim = n_heads, n_kv_heads, dim // n_heads
        self.window = window
        self.wq = nn.Linear(dim, n_heads * self.head_dim, bias=False)
        self.wk = nn.Linear(dim, n_kv_heads * self.head_dim, bias=False)
        self.wv = nn.Linear(dim, n_kv_heads * self.head_dim, bias=False)
        self.wo = nn.Linear(n_heads * self.head_dim, dim, bias=False)

    def forward(self, x, cos, sin):
        b, t, _ = x.shape
        q = self.wq(x).view(b, t, self.n_heads, self.head_dim).transpose(1, 2)
        k = self.wk(x).view(b, t, self.n_kv_heads, self.head_dim).transpose(1, 2)
        v = self.wv(x).view(b, t, self.n_kv_heads, self.head_dim).transpose(1, 2)
        q, k = apply_rope(q, cos[:t], sin[:t]), apply_rope(k, cos[:t], sin[:t])
        if self.window is None:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
        else:
            i = torch.arange(t)
            mask = (i[None, :] <= i[:, None]) & (i[:, None] - i[None, :] < self.window)
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, enable_gqa=True)
        return self.wo(y.transpose(1, 2).contiguous().view(b, t, -1))


class FeedForward(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.w1, self.w3 = nn.Linear(dim, hidden, bias=False), nn.Linear(dim, hidden, bias=False)
        self.w2 = nn.Linear(hidden, dim, bias=False)

    def forward(self, x):
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


class Block(nn.Module):
    def __init__(self, dim, n_heads, n_kv_heads, window):
        super().__init__()
        self.attention_norm, self.ffn_norm = nn.RMSNorm(dim, eps=1e-6), nn.RMSNorm(dim, eps=1e-6)
        self.attention = Attention(dim, n_heads, n_kv_heads, window)
        self.feed_forward = FeedForward(dim, 64)

    def forward(self, x, cos, sin):
        h = x + self.attention(self.attention_norm(x), cos, sin)
        return h + self.feed_forward(self.ffn_norm(h))


class Transformer(nn.Module):
    def __init__(self, dim=32, n_heads=4, n_kv_heads=2, windows=(None, 6)):
        super().__init__()
        self.tok_embeddings = nn.Embedding(VOCAB, dim)
        self.layers = nn.ModuleList(Block(dim, n_heads, n_kv_heads, w) for w in windows)
        self.norm, self.output = nn.RMSNorm(dim, eps=1e-6), nn.Linear(dim, VOCAB, bias=False)
        cos, sin = rope_cache(CTX, dim // n_heads)
        self.register_buffer("cos", cos, persistent=False)
        self.register_buffer("sin", sin, persistent=False)
        self.apply(self._init_weights)

    def _init_weights(self, module):
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def forward(self, tokens):
        h = self.tok_embeddings(tokens)
        for layer in self.layers:
            h = layer(h, self.cos, self.sin)
        return self.output(self.norm(h))


# enable_gqa against repeat_interleave and an explicit softmax
q = torch.randn(2, 6, 5, 8, dtype=torch.float64, requires_grad=True)
k = torch.randn(2, 2, 5, 8, dtype=torch.float64, requires_grad=True)
v = torch.randn(2, 2, 5, 8, dtype=torch.float64, requires_grad=True)
gqa = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
k_rep, v_rep = k.repeat_interleave(3, dim=1), v.repeat_interleave(3, dim=1)
rep = F.scaled_dot_product_attention(q, k_rep, v_rep, is_causal=True)
scores = q @ k_rep.transpose(-2, -1) / math.sqrt(8)
scores = scores.masked_fill(torch.ones(5, 5, dtype=torch.bool).triu(1), float("-inf"))
manual = scores.softmax(-1) @ v_rep
gqa_gaps = [(gqa - rep).abs().max().item(), (gqa - manual).abs().max().item()]
upstream = torch.randn(2, 6, 5, 8, dtype=torch.float64)
gk, gv = torch.autograd.grad(gqa, (k, v), upstream)
gk_rep, gv_rep = torch.autograd.grad(rep, (k, v), upstream)
gqa_grad_gap = max((gk - gk_rep).abs().max().item(), (gv - gv_rep).abs().max().item())
kv_grad_sample = gk[0, 1, :, 0].tolist()

# rotary scores depend only on the offset between positions
cos, sin = rope_cache(12, 8)
qv, kv = torch.randn(8), torch.randn(8)
rot = [
    (
        apply_rope(qv.expand(1, 1, 12, 8), cos, sin)[0, 0, m]
        * apply_rope(kv.expand(1, 1, 12, 8), cos, sin)[0, 0, n]
    )
    .sum()
    .item()
    for m, n in ((3, 1), (7, 5), (11, 9))
]
relative_gap = max(rot) - min(rot)
norm_gap = (
    (
        apply_rope(q.detach().float(), cos[:5], sin[:5]).norm(dim=-1)
        - q.detach().float().norm(dim=-1)
    )
    .abs()
    .max()
    .item()
)

model = Transformer()
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.1)
scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=20, eta_min=3e-4)
losses, lrs = [], []
for step in range(20):
    start = torch.randint(0, VOCAB, (8, 1))
    seq = (start + torch.arange(CTX // 2 + 1) * torch.randint(1, 3, (8, 1))) % VOCAB
    logits = model(seq[:, :-1])
    loss = F.cross_entropy(logits.view(-1, VOCAB), seq[:, 1:].reshape(-1))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    scheduler.step()
    losses.append(loss.item())
    lrs.append(scheduler.get_last_lr()[0])
wk_grad = model.layers[1].attention.wk.weight.grad[0, :6].tolist()
norm_weight = model.layers[0].attention_norm.weight[:6].tolist()
print(f"gqa gaps {gqa_gaps}, loss {losses[0]:.3f} -> {losses[-1]:.3f}")


def llama3_scaled_inv_freq(
    inv_freq, factor=8.0, low_freq_factor=1.0, high_freq_factor=4.0, old_context_len=8192
):
    """Llama 3.1's rope scaling: long wavelengths divided by ``factor``, short ones kept, a
    smooth ramp between (``torch.where`` over the wavelengths)."""
    low_freq_wavelen = old_context_len / low_freq_factor
    high_freq_wavelen = old_context_len / high_freq_factor
    wavelen = 2 * math.pi / inv_freq
    inv_freq_llama = torch.where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq)
    smooth = (old_context_len / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor)
    smoothed = (1 - smooth) * inv_freq_llama / factor + smooth * inv_freq_llama
    is_medium = ~(wavelen < high_freq_wavelen) * ~(wavelen > low_freq_wavelen)
    return torch.where(is_medium, smoothed, inv_freq_llama)


base_inv_freq = 1.0 / (500000.0 ** (torch.arange(0, 64, 2).float() / 64))
scaled_inv_freq = llama3_scaled_inv_freq(base_inv_freq).tolist()
torch.manual_seed(5)
fresh = Transformer().eval()
for name, p in fresh.named_parameters():  # uniform draws: the same bits in either framework
    nn.init.uniform_(p, -0.5, 0.5) if name == "output.weight" else nn.init.uniform_(p, -0.1, 0.1)
with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
    bf16_logits = fresh(seq[:2, :-1])
bf16_dtype = str(bf16_logits.dtype).split(".")[-1]
bf16_sample = bf16_logits[0, :3, :4].float().tolist()
with torch.no_grad():
    fp32_logits = fresh(seq[:2, :-1])
bf16_gap = (bf16_logits.float() - fp32_logits).abs().max().item()
