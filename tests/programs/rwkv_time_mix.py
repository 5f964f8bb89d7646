"""RWKV-4 (Peng et al. 2023) as BlinkDL's RWKV-LM model.py and the minimal ports write it: time
mixing with a token shift (``nn.ZeroPad2d((0, 0, 1, -1))``), per-channel interpolation of the
current and previous token, the WKV recurrence in its numerically stable form (a running
maximum exponent ``pp`` with ``torch.maximum`` and ``exp``), channel mixing with a squared
ReLU, layer-dependent initialization of the decay and mix parameters; the recurrence is checked
against the quadratic "parallel" form built with ``torch.tril`` in float64, and a small
character model is trained with Adam."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


def wkv_recurrent(w, u, k, v):
    """The RNN form: w = -exp(time_decay) < 0 per channel, u the bonus of the current token."""
    batch, steps, channels = k.shape
    aa = torch.zeros(batch, channels, dtype=k.dtype)
    bb = torch.zeros(batch, channels, dtype=k.dtype)
    pp = torch.full((batch, channels), -1e38, dtype=k.dtype)
    outs = []
    for t in range(steps):
        kk, vv = k[:, t], v[:, t]
        ww = u + kk
        p = torch.maximum(pp, ww)
        e1, e2 = torch.exp(pp - p), torch.exp(ww - p)
        outs.append((e1 * aa + e2 * vv) / (e1 * bb + e2))
        ww = w + pp
        p = torch.maximum(ww, kk)
        e1, e2 = torch.exp(ww - p), torch.exp(kk - p)
        aa, bb, pp = e1 * aa + e2 * vv, e1 * bb + e2, p
    return torch.stack(outs, dim=1)


def wkv_parallel(w, u, k, v):
    """sum_{i<t} e^{(t-1-i) w + k_i} v_i + e^{u + k_t} v_t over the same without v."""
    steps = k.shape[1]
    t = torch.arange(steps, dtype=k.dtype)
    dist = (t[:, None] - 1 - t[None, :]).clamp(min=0)  # (t, i)
    logits = dist[..., None] * w + k[:, None, :, :]  # (batch, t, i, channels)
    past = torch.tril(torch.ones(steps, steps, dtype=torch.bool), diagonal=-1)
    logits = logits.masked_fill(~past[..., None], float("-inf"))
    diag = torch.eye(steps, dtype=torch.bool)[..., None]
    logits = torch.where(diag, (u + k)[:, :, None, :].expand_as(logits), logits)
    weights = torch.softmax(logits, dim=2)
    return torch.einsum("btic,bic->btc", weights, v)


class TimeMix(nn.Module):
    def __init__(self, dim, layer_id, n_layer):
        super().__init__()
        ratio_0_to_1 = layer_id / (n_layer - 1)
        ratio_1_to_almost0 = 1.0 - layer_id / n_layer
        ddd = torch.arange(dim, dtype=torch.float32) / dim
        speed = [-5 + 8 * (h / (dim - 1)) ** (0.7 + 1.3 * ratio_0_to_1) for h in range(dim)]
        self.time_decay = nn.Parameter(torch.tensor(speed))
        zigzag = torch.tensor([(i + 1) % 3 - 1 for i in range(dim)]) * 0.5
        self.time_first = nn.Parameter(torch.ones(dim) * math.log(0.3) + zigzag)
        self.time_mix_k = nn.Parameter(torch.pow(ddd, ratio_1_to_almost0))
        self.time_mix_v = nn.Parameter(torch.pow(ddd, ratio_1_to_almost0) + 0.3 * ratio_0_to_1)
        self.time_mix_r = nn.Parameter(torch.pow(ddd, 0.5 * ratio_1_to_almost0))
        self.time_shift = nn.ZeroPad2d((0, 0, 1, -1))
        self.key, self.value = nn.Linear(dim, dim, bias=False), nn.Linear(dim, dim, bias=False)
        self.receptance = nn.Linear(dim, dim, bias=False)
        self.output = nn.Linear(dim, dim, bias=False)

    def forward(self, x):
        xx = self.time_shift(x)
        xk = x * self.time_mix_k + xx * (1 - self.time_mix_k)
        xv = x * self.time_mix_v + xx * (1 - self.time_mix_v)
        xr = x * self.time_mix_r + xx * (1 - self.time_mix_r)
        k, v, sr = self.key(xk), self.value(xv), torch.sigmoid(self.receptance(xr))
        return self.output(sr * wkv_recurrent(-torch.exp(self.time_decay), self.time_first, k, v))


class ChannelMix(nn.Module):
    def __init__(self, dim, layer_id, n_layer):
        super().__init__()
        ddd = torch.arange(dim, dtype=torch.float32) / dim
        ratio = 1.0 - layer_id / n_layer
        self.time_mix_k = nn.Parameter(torch.pow(ddd, ratio))
        self.time_mix_r = nn.Parameter(torch.pow(ddd, ratio))
        self.time_shift = nn.ZeroPad2d((0, 0, 1, -1))
        self.key, self.value = nn.Linear(dim, 4 * dim, bias=False), nn.Linear(4 * dim, dim, False)
        self.receptance = nn.Linear(dim, dim, bias=False)

    def forward(self, x):
        xx = self.time_shift(x)
        xk = x * self.time_mix_k + xx * (1 - self.time_mix_k)
        xr = x * self.time_mix_r + xx * (1 - self.time_mix_r)
        k = torch.square(torch.relu(self.key(xk)))
        return torch.sigmoid(self.receptance(xr)) * self.value(k)


class Block(nn.Module):
    def __init__(self, dim, layer_id, n_layer):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.att, self.ffn = TimeMix(dim, layer_id, n_layer), ChannelMix(dim, layer_id, n_layer)

    def forward(self, x):
        x = x + self.att(self.ln1(x))
        return x + self.ffn(self.ln2(x))


class RWKV(nn.Module):
    def __init__(self, vocab, dim=16, n_layer=2):
        super().__init__()
        self.emb, self.ln0 = nn.Embedding(vocab, dim), nn.LayerNorm(dim)
        self.blocks = nn.ModuleList(Block(dim, i, n_layer) for i in range(n_layer))
        self.ln_out, self.head = nn.LayerNorm(dim), nn.Linear(dim, vocab, bias=False)
        nn.init.uniform_(self.emb.weight, a=-1e-4, b=1e-4)

    def forward(self, idx):
        x = self.ln0(self.emb(idx))
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_out(x))


# the two WKV forms agree (float64, random decays, keys and values)
w64 = -torch.exp(torch.randn(6, dtype=torch.float64))
u64, k64, v64 = (torch.randn(*s, dtype=torch.float64) for s in ((6,), (2, 7, 6), (2, 7, 6)))
wkv_gap = (wkv_recurrent(w64, u64, k64, v64) - wkv_parallel(w64, u64, k64, v64)).abs().max().item()
wkv_sample = wkv_recurrent(w64, u64, k64, v64)[0, :, 0].tolist()

text = "the quick brown fox jumps over the lazy dog. " * 4
chars = sorted(set(text))
data = torch.tensor([chars.index(c) for c in text])
model = RWKV(len(chars))
optimizer = torch.optim.Adam(model.parameters(), lr=5e-3, betas=(0.9, 0.99), eps=1e-8)
losses = []
for step in range(6):
    starts = torch.randint(0, len(data) - 13, (4,))
    xb = torch.stack([data[s : s + 12] for s in starts])
    yb = torch.stack([data[s + 1 : s + 13] for s in starts])
    loss = F.cross_entropy(model(xb).view(-1, len(chars)), yb.view(-1))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
decay_grad = model.blocks[0].att.time_decay.grad[:4].tolist()
first_grad = model.blocks[1].att.time_first.grad[:4].tolist()
print(f"wkv gap {wkv_gap:.2e}, loss {losses[0]:.3f} -> {losses[-1]:.3f}")
