"""Speculative decoding (Leviathan et al. 2023; Chen et al. 2023) as the from-scratch PyTorch
write-ups do it: a small draft model proposes ``gamma`` tokens with ``torch.multinomial`` from a
seeded ``torch.Generator``, the target model scores all of them in one forward pass, each draft
token is accepted with probability ``min(1, p/q)`` and the first rejected one is resampled from
the normalized residual ``clamp(p - q, min=0)``. Greedy speculative decoding must reproduce the
target's own greedy decoding token for token; the expected acceptance rate ``sum(min(p, q))`` is
computed from the two models' distributions. Both models are tiny causal transformers
(``F.scaled_dot_product_attention(is_causal=True)``) trained briefly on the same sequences."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
VOCAB, CONTEXT = 12, 24


class Block(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.ln1, self.ln2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.qkv, self.proj = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(c, dim=2)
        q, k, v = (z.view(b, t, self.heads, c // self.heads).transpose(1, 2) for z in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.proj(y.transpose(1, 2).reshape(b, t, c))
        return x + self.mlp(self.ln2(x))


class TinyGPT(nn.Module):
    def __init__(self, dim, layers, heads=2):
        super().__init__()
        self.tok, self.pos = nn.Embedding(VOCAB, dim), nn.Embedding(CONTEXT, dim)
        self.blocks = nn.Sequential(*[Block(dim, heads) for _ in range(layers)])
        self.ln_f, self.head = nn.LayerNorm(dim), nn.Linear(dim, VOCAB, bias=False)

    def forward(self, idx):
        x = self.tok(idx) + self.pos(torch.arange(idx.shape[1]))
        return self.head(self.ln_f(self.blocks(x)))


def train(model, steps, lr):
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    for _ in range(steps):
        start = torch.randint(0, VOCAB, (8, 1))
        seq = (start + torch.arange(CONTEXT // 2) * torch.randint(1, 3, (8, 1))) % VOCAB
        loss = F.cross_entropy(model(seq[:, :-1]).reshape(-1, VOCAB), seq[:, 1:].reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return loss.item()


@torch.no_grad()
def speculative_generate(target, draft, prefix, new_tokens, gamma, temperature, generator):
    x, accepted_total, drafted_total = prefix, 0, 0
    while x.shape[1] < prefix.shape[1] + new_tokens:
        n, xd, qs = x.shape[1], x, []
        for _ in range(gamma):
            logits = draft(xd)[:, -1]
            if temperature == 0:
                q = F.one_hot(logits.argmax(-1), VOCAB).float()
            else:
                q = F.softmax(logits / temperature, dim=-1)
            qs.append(q[0])
            xd = torch.cat([xd, torch.multinomial(q, 1, generator=generator)], dim=1)
        logits = target(xd)[0, n - 1 :]
        if temperature == 0:
            p = F.one_hot(logits.argmax(-1), VOCAB).float()
        else:
            p = F.softmax(logits / temperature, dim=-1)
        accepted = 0
        for i in range(gamma):
            tok = xd[0, n + i]
            r = torch.rand(1, generator=generator)
            if r.item() < torch.clamp(p[i, tok] / qs[i][tok], max=1.0).item():
                accepted += 1
                continue
            residual = torch.clamp(p[i] - qs[i], min=0)
            new = torch.multinomial(residual / residual.sum(), 1, generator=generator)
            break
        else:
            new = torch.multinomial(p[gamma], 1, generator=generator)
        accepted_total, drafted_total = accepted_total + accepted, drafted_total + gamma
        x = torch.cat([xd[:, : n + accepted], new.view(1, 1)], dim=1)
    return x[:, : prefix.shape[1] + new_tokens], accepted_total / drafted_total


@torch.no_grad()
def greedy(model, prefix, new_tokens):
    x = prefix
    for _ in range(new_tokens):
        x = torch.cat([x, model(x)[:, -1:].argmax(-1)], dim=1)
    return x


target, draft = TinyGPT(32, 2), TinyGPT(16, 1)
target_loss, draft_loss = train(target, 10, 3e-2), train(draft, 10, 3e-2)
target.eval(), draft.eval()
prefix = torch.tensor([[1, 3, 5]])
gen = torch.Generator().manual_seed(123)
spec_greedy, _ = speculative_generate(target, draft, prefix, 8, 4, 0.0, gen)
target_greedy = greedy(target, prefix, 8).tolist()
spec_greedy = spec_greedy.tolist()
gen.manual_seed(7)
sampled, acceptance = speculative_generate(target, draft, prefix, 10, 3, 2.0, gen)
sampled = sampled.tolist()
with torch.no_grad():
    seq = torch.tensor(sampled)
    p_all = F.softmax(target(seq), dim=-1)
    q_all = F.softmax(draft(seq), dim=-1)
    expected_acceptance = torch.minimum(p_all, q_all).sum(-1)[0].tolist()
    tv_distance = (0.5 * (p_all - q_all).abs().sum(-1)).mean().item()
print(f"losses {target_loss:.3f}/{draft_loss:.3f}, acceptance {acceptance:.2f}")
print("greedy", spec_greedy == target_greedy, "sampled", sampled)
