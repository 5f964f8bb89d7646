"""Relative-position self-attention for symbolic music (Huang et al. 2018, "Music Transformer",
as its PyTorch ports write it): MIDI-like event tokens (note-on pitches, time shifts) for short
melodies made of a repeated motif; each head learns an embedding ``E_r`` per relative distance,
``Q @ E_r^T`` is turned into relative logits by the memory-efficient "skewing" trick
(``F.pad`` one column on the left, ``reshape``, drop the first row), added to ``Q K^T`` under a
causal ``masked_fill``; the result is checked against the naive gather by distance
(``E_r[L - 1 - (i - j)]``). A two-layer decoder is trained with teacher forcing and then
continues a prompt by sampling from ``softmax(logits / temperature)`` with ``torch.multinomial``
and by greedy decoding."""

import math

import torch
import torch.nn.functional as F
from torch import nn

torch.manual_seed(0)
N_PITCH, N_SHIFT = 12, 4
VOCAB = N_PITCH + N_SHIFT + 1  # note-on pitches, time shifts, <start>
START, L, DIM, HEADS = N_PITCH + N_SHIFT, 24, 32, 4


def make_melody():
    """A 4-note motif transposed and repeated, each note followed by a time shift."""
    motif = torch.randint(0, 5, (4,))
    shift = torch.randint(0, 4, (1,))
    events = []
    for rep in range(3):
        for k, p in enumerate(motif):
            events += [int((p + shift + 2 * rep) % N_PITCH), N_PITCH + (k % N_SHIFT)]
    return torch.tensor([START] + events)[: L + 1]


data = torch.stack([make_melody() for _ in range(8)])
inputs, targets = data[:, :-1], data[:, 1:]


def skew(rel_logits):
    """(B, H, L, L) logits against relative embeddings -> logits indexed by (query, key)."""
    b, h, n, _ = rel_logits.shape
    padded = F.pad(rel_logits, (1, 0))
    return padded.reshape(b, h, n + 1, n)[:, :, 1:, :]


class RelativeSelfAttention(nn.Module):
    def __init__(self, dim, heads, max_len):
        super().__init__()
        self.heads, self.d = heads, dim // heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)
        self.Er = nn.Parameter(torch.randn(max_len, self.d) * 0.1)

    def forward(self, x, return_rel=False):
        b, n, _ = x.shape
        q, k, v = self.qkv(x).view(b, n, 3, self.heads, self.d).permute(2, 0, 3, 1, 4)
        er = self.Er[-n:]  # distances n-1 ... 0
        srel = skew(q @ er.T)
        scores = (q @ k.transpose(-2, -1) + srel) / math.sqrt(self.d)
        causal = torch.triu(torch.ones(n, n, dtype=torch.bool), diagonal=1)
        attn = scores.masked_fill(causal, float("-inf")).softmax(-1)
        y = self.out((attn @ v).transpose(1, 2).reshape(b, n, -1))
        return (y, srel, q) if return_rel else y


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(DIM), nn.LayerNorm(DIM)
        self.attn = RelativeSelfAttention(DIM, HEADS, L)
        self.mlp = nn.Sequential(nn.Linear(DIM, 64), nn.ReLU(), nn.Linear(64, DIM))

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class MusicTransformer(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, DIM)
        self.blocks = nn.Sequential(Block(), Block())
        self.head = nn.Linear(DIM, VOCAB)

    def forward(self, x):
        return self.head(self.blocks(self.embed(x) * math.sqrt(DIM)))


torch.manual_seed(1)
model = MusicTransformer()

# the skewed relative logits equal the naive gather E_r[n - 1 - (i - j)] below the diagonal
attn = model.blocks[0].attn
with torch.no_grad():
    _, srel, q = attn(torch.randn(2, 10, DIM), return_rel=True)
    er = attn.Er[-10:]
    dist = torch.arange(10)[:, None] - torch.arange(10)[None, :]
    naive = torch.einsum("bhid,ijd->bhij", q, er[(9 - dist).clamp(0, 9)])
    lower = dist >= 0
    skew_gap = (srel - naive)[..., lower].abs().max().item()

opt = torch.optim.Adam(model.parameters(), lr=5e-3)
sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 5))
losses = []
for step in range(16):
    logits = model(inputs)
    loss = F.cross_entropy(logits.reshape(-1, VOCAB), targets.reshape(-1), label_smoothing=0.1)
    opt.zero_grad()
    loss.backward()
    opt.step()
    sched.step()
    losses.append(loss.item())

model.eval()
prompt = data[:2, :9]
with torch.no_grad():
    greedy = prompt.clone()
    sampled = prompt.clone()
    torch.manual_seed(2)
    for _ in range(8):
        greedy = torch.cat([greedy, model(greedy)[:, -1].argmax(-1, keepdim=True)], 1)
        probs = torch.softmax(model(sampled)[:, -1] / 0.8, -1)
        sampled = torch.cat([sampled, torch.multinomial(probs, 1)], 1)
    accuracy = (model(inputs).argmax(-1) == targets).float().mean().item()
greedy_tokens, sampled_tokens = greedy[:, 9:].tolist(), sampled[:, 9:].tolist()
greedy_match = (greedy[:, 9:] == data[:2, 9:17]).float().mean().item()
