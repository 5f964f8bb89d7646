"""Longformer-style sliding-window attention, written as the HuggingFace implementation does:
the sequence split into overlapping chunks with Tensor.as_strided (``_chunk``), key blocks read
from the padded keys by as_strided, scores by einsum over block pairs, out-of-window positions
masked with -inf, a second form with windows by Tensor.unfold, and a global token that attends
to all (scaled_dot_product_attention). Checked against dense
attention with a band mask (values and gradients), then trained on a task that needs only local
context: predict whether the token three positions back equals the current one."""

import torch
import torch.nn as nn
import torch.nn.functional as F

W = 4  # one-sided window: each token sees W tokens left and right


def chunk(x, w):
    """(B, T, D) -> (B, T // w - 1, 2w, D): blocks of 2w overlapping by w, without a copy."""
    x = x.view(x.size(0), x.size(1) // (2 * w), 2 * w, x.size(2))
    size = list(x.size())
    size[1] = size[1] * 2 - 1
    stride = list(x.stride())
    stride[1] = stride[1] // 2
    return x.as_strided(size=size, stride=stride)


def chunked_attention(q, k, v, w):
    """Query blocks of w attend to key blocks of 3w (the block and its neighbours), read from
    the padded keys with as_strided; a -inf mask keeps |i - j| <= w inside the sequence."""
    B, T, D = q.shape
    n = T // w
    kp, vp = F.pad(k, (0, 0, w, w)), F.pad(v, (0, 0, w, w))
    size, stride = (B, n, 3 * w, D), (kp.stride(0), w * D, D, 1)
    kb, vb = kp.as_strided(size, stride), vp.as_strided(size, stride)
    scores = torch.einsum("bnid,bnjd->bnij", q.view(B, n, w, D), kb) / D**0.5
    i = torch.arange(w).view(w, 1)
    j = torch.arange(3 * w).view(1, 3 * w) - w  # key offsets from the block start
    pos = torch.arange(n).view(n, 1, 1) * w + j  # absolute key positions
    allowed = ((i - j).abs() <= w) & (pos >= 0) & (pos < T)
    probs = F.softmax(scores.masked_fill(~allowed, float("-inf")), dim=-1)
    return torch.einsum("bnij,bnjd->bnid", probs, vb).reshape(B, T, D)


def sliding_attention(q, k, v, w):
    """Each query with its 2w + 1 neighbours, the windows made by unfold over padded keys."""
    D = q.size(-1)
    kw = F.pad(k, (0, 0, w, w)).unfold(1, 2 * w + 1, 1)  # (B, T, D, 2w + 1)
    vw = F.pad(v, (0, 0, w, w)).unfold(1, 2 * w + 1, 1)
    scores = torch.einsum("btd,btdj->btj", q, kw) / D**0.5
    pos = torch.arange(q.size(1)).unsqueeze(1) + torch.arange(-w, w + 1)
    scores = scores.masked_fill((pos < 0) | (pos >= q.size(1)), float("-inf"))
    probs = F.softmax(scores, dim=-1)
    return torch.einsum("btj,btdj->btd", probs, vw), probs


def band_attention(q, k, v, w):
    T = q.size(1)
    i = torch.arange(T)
    band = (i[:, None] - i[None, :]).abs() <= w
    scores = (q @ k.transpose(1, 2)) / q.size(-1) ** 0.5
    return F.softmax(scores.masked_fill(~band, float("-inf")), -1) @ v


class LocalBlock(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.qkv = nn.Linear(d, 3 * d)
        self.global_q = nn.Linear(d, d)
        self.out = nn.Linear(d, d)
        self.norm = nn.LayerNorm(d)

    def forward(self, x):
        q, k, v = self.qkv(self.norm(x)).chunk(3, dim=-1)
        local = chunked_attention(q.contiguous(), k.contiguous(), v.contiguous(), W)
        # token 0 is global: it attends to everything
        g = F.scaled_dot_product_attention(self.global_q(x[:, :1]), k, v)
        return x + self.out(torch.cat([g, local[:, 1:]], dim=1))


torch.manual_seed(0)
q, k, v = (torch.randn(2, 16, 8, requires_grad=True) for _ in range(3))
ours, probs = sliding_attention(q, k, v, W)
blocks = chunked_attention(q, k, v, W)
dense = band_attention(q, k, v, W)
forward_gap = max((ours - dense).abs().max().item(), (blocks - dense).abs().max().item())
upstream = torch.randn_like(ours)
g1 = torch.autograd.grad((ours * upstream).sum(), (q, k, v))
g2 = torch.autograd.grad((dense * upstream).sum(), (q, k, v))
g3 = torch.autograd.grad((blocks * upstream).sum(), (q, k, v))
grad_gap = max((a - b).abs().max().item() for a, b in zip(g1 + g3, g2 + g2))
shared_storage = chunk(q, W).untyped_storage().data_ptr() == q.untyped_storage().data_ptr()
chunk_shape, chunk_stride = tuple(chunk(q, W).shape), chunk(q, W).stride()
row_sums = probs.sum(-1)[0, :3].tolist()
first_row = probs[0, 0].tolist()

tokens = torch.randint(0, 4, (64, 32))
labels = torch.zeros_like(tokens, dtype=torch.float32)
labels[:, 3:] = (tokens[:, 3:] == tokens[:, :-3]).float()


class LocalTransformer(nn.Module):
    def __init__(self, vocab=4, d=32, length=32):
        super().__init__()
        self.tok, self.pos = nn.Embedding(vocab, d), nn.Embedding(length, d)
        self.blocks = nn.Sequential(LocalBlock(d), LocalBlock(d))
        self.head = nn.Linear(d, 1)

    def forward(self, idx):
        x = self.tok(idx) + self.pos(torch.arange(idx.size(1)))
        return self.head(self.blocks(x))


model = LocalTransformer()
optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
losses = []
for step in range(80):
    idx = torch.randint(0, 64, (16,))
    logits = model(tokens[idx]).squeeze(-1)
    loss = F.binary_cross_entropy_with_logits(logits[:, 3:], labels[idx, 3:])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
with torch.no_grad():
    accuracy = ((model(tokens).squeeze(-1)[:, 3:] > 0).float() == labels[:, 3:]).float().mean()
accuracy = accuracy.item()
print(
    f"band gap {forward_gap:.1e}, grad gap {grad_gap:.1e}; loss {losses[0]:.3f} -> {losses[-1]:.3f}"
)
print(f"accuracy {accuracy:.3f}")
