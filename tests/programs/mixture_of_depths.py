"""Mixture-of-Depths (Raposo et al. 2024) as the open-source PyTorch reimplementations write it:
a linear router scores every token, ``torch.topk`` keeps a capacity fraction of them per
sequence (indices re-sorted with ``torch.sort`` so that causal order holds), the chosen tokens
are taken with ``torch.gather`` on expanded indices, run through a causal transformer block,
scaled by their router weight (so the router gets a gradient) and put back in place with
``scatter_add`` onto the residual stream, while the other tokens skip the block; an auxiliary
predictor learns from ``F.binary_cross_entropy_with_logits`` which tokens the top-k would
choose (detached inputs), for causal sampling; a small language model alternating routed and
dense blocks is trained with AdamW, and the predictor's agreement with top-k is measured."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
VOCAB, SEQ = 16, 16


class Block(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.heads = heads
        self.qkv, self.proj = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))

    def forward(self, x, positions=None):
        """Returns the block's update (not the new stream); positions order the causal mask."""
        b, t, c = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(c, dim=-1)
        q, k, v = (z.view(b, t, self.heads, -1).transpose(1, 2) for z in (q, k, v))
        if positions is None:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            mask = positions[:, None, :, None] >= positions[:, None, None, :]
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        h = x + self.proj(y.transpose(1, 2).reshape(b, t, c))
        return h + self.mlp(self.ln2(h)) - x


class MoDBlock(nn.Module):
    def __init__(self, dim, heads, capacity=0.25):
        super().__init__()
        self.block, self.capacity = Block(dim, heads), capacity
        self.router = nn.Linear(dim, 1, bias=False)
        self.predictor = nn.Sequential(nn.Linear(dim, dim // 2), nn.SiLU(), nn.Linear(dim // 2, 1))

    def forward(self, x):
        b, t, c = x.shape
        k = max(1, int(self.capacity * t))
        router_logits = self.router(x).squeeze(-1)  # (b, t)
        weights, selected = torch.topk(router_logits, k, dim=1, sorted=False)
        selected, order = torch.sort(selected, dim=1)
        weights = torch.gather(weights, 1, order)
        index = selected.unsqueeze(-1).expand(-1, -1, c)
        chosen = torch.gather(x, 1, index)
        update = self.block(chosen, positions=selected) * weights.unsqueeze(-1)
        out = x.scatter_add(1, index, update)
        targets = torch.zeros_like(router_logits).scatter(1, selected, 1.0)
        pred_logits = self.predictor(x.detach()).squeeze(-1)
        aux = F.binary_cross_entropy_with_logits(pred_logits, targets)
        agreement = ((pred_logits > 0).float() == targets).float().mean()
        return out, aux, agreement, selected


class MoDLM(nn.Module):
    def __init__(self, dim=32, heads=4):
        super().__init__()
        self.tok, self.pos = nn.Embedding(VOCAB, dim), nn.Embedding(SEQ, dim)
        self.dense1, self.routed1 = Block(dim, heads), MoDBlock(dim, heads)
        self.dense2, self.routed2 = Block(dim, heads), MoDBlock(dim, heads)
        self.ln, self.head = nn.LayerNorm(dim), nn.Linear(dim, VOCAB, bias=False)

    def forward(self, idx):
        x = self.tok(idx) + self.pos(torch.arange(idx.shape[1]))
        x = x + self.dense1(x)
        x, aux1, agree1, sel = self.routed1(x)
        x = x + self.dense2(x)
        x, aux2, agree2, _ = self.routed2(x)
        return self.head(self.ln(x)), aux1 + aux2, (agree1 + agree2) / 2, sel


# the routed block equals the dense block run on the chosen tokens alone
mod = MoDBlock(8, 2, capacity=0.5)
x = torch.randn(2, 6, 8)
out, _, _, selected = mod(x)
w = mod.router(x).squeeze(-1).gather(1, selected)
chosen = x.gather(1, selected.unsqueeze(-1).expand(-1, -1, 8))
alone = chosen + mod.block(chosen) * w.unsqueeze(-1)
routed_gap = (out.gather(1, selected.unsqueeze(-1).expand(-1, -1, 8)) - alone).abs().max().item()
skipped = torch.ones(2, 6, dtype=torch.bool).scatter(1, selected, False)
skip_gap = (out[skipped] - x[skipped]).abs().max().item()

model = MoDLM()
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
losses, auxes, agreements, selections = [], [], [], []
for step in range(12):
    start = torch.randint(0, VOCAB, (8, 1))
    seq = (start + torch.arange(SEQ + 1) * torch.randint(1, 3, (8, 1))) % VOCAB
    logits, aux, agreement, sel = model(seq[:, :-1])
    loss = F.cross_entropy(logits.reshape(-1, VOCAB), seq[:, 1:].reshape(-1))
    optimizer.zero_grad()
    (loss + 0.1 * aux).backward()
    optimizer.step()
    losses.append(loss.item())
    auxes.append(aux.item())
    agreements.append(agreement.item())
    selections.append(sel[0].tolist())
router_grad = model.routed1.router.weight.grad[0, :6].tolist()
print(
    f"gaps {routed_gap:.1e} {skip_gap}, loss {losses[0]:.3f} -> {losses[-1]:.3f}, agree {agreements[-1]}"
)
