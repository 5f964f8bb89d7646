"""Rotary position embeddings as Meta's original LLaMA model.py writes them for PyTorch, with
complex numbers: precompute_freqs_cis (torch.polar of ones and torch.outer angles),
reshape_for_broadcast, and apply_rotary_emb (torch.view_as_complex of the query/key pairs,
a complex product, torch.view_as_real(...).flatten(3), type_as); inside a small causal
attention language model trained with AdamW on a repeating-sequence task."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


def precompute_freqs_cis(dim: int, end: int, theta: float = 10000.0):
    freqs = 1.0 / (theta ** (torch.arange(0, dim, 2)[: (dim // 2)].float() / dim))
    t = torch.arange(end, device=freqs.device)
    freqs = torch.outer(t, freqs).float()
    freqs_cis = torch.polar(torch.ones_like(freqs), freqs)  # complex64
    return freqs_cis


def reshape_for_broadcast(freqs_cis: torch.Tensor, x: torch.Tensor):
    ndim = x.ndim
    assert 0 <= 1 < ndim
    assert freqs_cis.shape == (x.shape[1], x.shape[-1])
    shape = [d if i == 1 or i == ndim - 1 else 1 for i, d in enumerate(x.shape)]
    return freqs_cis.view(*shape)


def apply_rotary_emb(xq, xk, freqs_cis):
    xq_ = torch.view_as_complex(xq.float().reshape(*xq.shape[:-1], -1, 2))
    xk_ = torch.view_as_complex(xk.float().reshape(*xk.shape[:-1], -1, 2))
    freqs_cis = reshape_for_broadcast(freqs_cis, xq_)
    xq_out = torch.view_as_real(xq_ * freqs_cis).flatten(3)
    xk_out = torch.view_as_real(xk_ * freqs_cis).flatten(3)
    return xq_out.type_as(xq), xk_out.type_as(xk)


class Attention(nn.Module):
    def __init__(self, dim, n_heads):
        super().__init__()
        self.n_heads, self.head_dim = n_heads, dim // n_heads
        self.wq = nn.Linear(dim, dim, bias=False)
        self.wk = nn.Linear(dim, dim, bias=False)
        self.wv = nn.Linear(dim, dim, bias=False)
        self.wo = nn.Linear(dim, dim, bias=False)

    def forward(self, x, freqs_cis, mask):
        bsz, seqlen, _ = x.shape
        xq, xk, xv = self.wq(x), self.wk(x), self.wv(x)
        xq = xq.view(bsz, seqlen, self.n_heads, self.head_dim)
        xk = xk.view(bsz, seqlen, self.n_heads, self.head_dim)
        xv = xv.view(bsz, seqlen, self.n_heads, self.head_dim)
        xq, xk = apply_rotary_emb(xq, xk, freqs_cis=freqs_cis)
        xq, xk, xv = xq.transpose(1, 2), xk.transpose(1, 2), xv.transpose(1, 2)
        scores = torch.matmul(xq, xk.transpose(2, 3)) / self.head_dim**0.5 + mask
        scores = F.softmax(scores.float(), dim=-1).type_as(xq)
        output = torch.matmul(scores, xv).transpose(1, 2).contiguous().view(bsz, seqlen, -1)
        return self.wo(output)


class TinyLM(nn.Module):
    def __init__(self, vocab=16, dim=32, n_heads=4, max_seq_len=32):
        super().__init__()
        self.tok_embeddings = nn.Embedding(vocab, dim)
        self.attention = Attention(dim, n_heads)
        self.norm = nn.LayerNorm(dim)
        self.output = nn.Linear(dim, vocab, bias=False)
        self.freqs_cis = precompute_freqs_cis(dim // n_heads, max_seq_len * 2)

    def forward(self, tokens):
        _, seqlen = tokens.shape
        h = self.tok_embeddings(tokens)
        freqs_cis = self.freqs_cis[:seqlen]
        mask = torch.full((seqlen, seqlen), float("-inf"), device=tokens.device)
        mask = torch.triu(mask, diagonal=1)
        h = h + self.attention(self.norm(h), freqs_cis, mask)
        return self.output(h).float()


# RoPE rotates pairs: norms are kept and scores depend only on relative positions
q = torch.randn(1, 6, 2, 8)
rotated, _ = apply_rotary_emb(q, q, precompute_freqs_cis(8, 6))
norm_kept = torch.allclose(rotated.norm(dim=-1), q.norm(dim=-1), atol=1e-5)

model = TinyLM()
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
history = []
for step in range(60):
    period = torch.randint(2, 5, (1,)).item()
    base = torch.randint(0, 16, (8, period))
    tokens = base.repeat(1, 24 // period + 1)[:, :17]
    logits = model(tokens[:, :-1])
    loss = F.cross_entropy(logits.reshape(-1, 16), tokens[:, 1:].reshape(-1))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    history.append(loss.item())
    if step % 20 == 0:
        print(f"step {step}: loss {loss.item():.3f}")
print(f"final loss {history[-1]:.3f}; rotation keeps norms: {norm_kept}")
