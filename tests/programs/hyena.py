"""The Hyena operator (Poli et al. 2023) as HazyResearch's safari standalone_hyena.py writes it:
long convolutions computed by ``fftconv`` (``torch.fft.rfft``/``irfft`` with ``n=2L`` and
``norm="forward"``), an implicit filter (an MLP with a learned-frequency ``Sin`` activation over
complex-exponential positional features built with ``torch.exp(-1j * f * w)`` and ``.real``/
``.imag``), an exponential decay modulation, a short depthwise causal Conv1d, and the
data-controlled gating ``v * x1`` then ``y * x0``; the FFT convolution is checked against a
direct causal ``F.conv1d``, and a small language model with Hyena mixers is trained with AdamW."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


def fftconv(u, k, D):
    seqlen = u.shape[-1]
    fft_size = 2 * seqlen
    k_f = torch.fft.rfft(k, n=fft_size) / fft_size
    u_f = torch.fft.rfft(u.to(dtype=k.dtype), n=fft_size)
    y = torch.fft.irfft(u_f * k_f, n=fft_size, norm="forward")[..., :seqlen]
    return (y + u * D.unsqueeze(-1)).to(dtype=u.dtype)


class Sin(nn.Module):
    def __init__(self, dim, w=10):
        super().__init__()
        self.freq = nn.Parameter(w * torch.ones(1, dim))

    def forward(self, x):
        return torch.sin(self.freq * x)


class PositionalEmbedding(nn.Module):
    def __init__(self, emb_dim, seq_len):
        super().__init__()
        t = torch.linspace(0, 1, seq_len)[None, :, None]  # 1, L, 1
        bands = (emb_dim - 1) // 2
        t_rescaled = torch.linspace(0, seq_len - 1, seq_len)[None, :, None]
        w = 2 * math.pi * t_rescaled / seq_len
        f = torch.linspace(1e-4, bands - 1, bands)[None, None]
        z = torch.exp(-1j * f * w)
        self.register_buffer("z", torch.cat([t, z.real, z.imag], dim=-1))
        self.register_buffer("t", t)

    def forward(self, L):
        return self.z[:, :L], self.t[:, :L]


class ExponentialModulation(nn.Module):
    def __init__(self, d_model, fast_decay_pct=0.3, slow_decay_pct=1.5, target=1e-2, shift=0.0):
        super().__init__()
        max_decay, min_decay = math.log(target) / fast_decay_pct, math.log(target) / slow_decay_pct
        self.register_buffer("deltas", torch.linspace(min_decay, max_decay, d_model)[None, None])
        self.shift = shift

    def forward(self, t, x):
        decay = torch.exp(-t * self.deltas.abs())
        return x * (decay + self.shift)


class HyenaFilter(nn.Module):
    def __init__(self, d_model, emb_dim=5, order=16, seq_len=32):
        super().__init__()
        self.bias = nn.Parameter(torch.randn(d_model))
        self.pos_emb = PositionalEmbedding(emb_dim, seq_len)
        self.implicit_filter = nn.Sequential(
            nn.Linear(emb_dim, order),
            Sin(order),
            nn.Linear(order, order),
            Sin(order),
            nn.Linear(order, d_model, bias=False),
        )
        self.modulation = ExponentialModulation(d_model)

    def filter(self, L):
        z, t = self.pos_emb(L)
        return self.modulation(t, self.implicit_filter(z))


class HyenaOperator(nn.Module):
    def __init__(self, d_model, l_max, order=2):
        super().__init__()
        self.d_model, self.l_max, self.order = d_model, l_max, order
        inner = d_model * (order + 1)
        self.in_proj, self.out_proj = nn.Linear(d_model, inner), nn.Linear(d_model, d_model)
        self.short_filter = nn.Conv1d(inner, inner, 3, padding=2, groups=inner)
        self.filter_fn = HyenaFilter(d_model * (order - 1), seq_len=l_max)

    def forward(self, u):
        L = min(u.size(-2), self.l_max)
        u = self.in_proj(u).transpose(1, 2)  # b l d -> b d l
        uc = self.short_filter(u)[..., :L]  # causal: keep the first L outputs
        x0, x1, v = uc.split(self.d_model, dim=1)
        k = self.filter_fn.filter(L)[0].transpose(0, 1)  # (d, L)
        v = fftconv(v * x1, k, self.filter_fn.bias)
        return self.out_proj((v * x0).transpose(1, 2))


class HyenaLM(nn.Module):
    def __init__(self, vocab, d_model=16, l_max=32, layers=2):
        super().__init__()
        self.emb = nn.Embedding(vocab, d_model)
        self.mixers = nn.ModuleList(HyenaOperator(d_model, l_max) for _ in range(layers))
        self.norms = nn.ModuleList(nn.LayerNorm(d_model) for _ in range(layers))
        self.head = nn.Linear(d_model, vocab)

    def forward(self, idx):
        x = self.emb(idx)
        for norm, mixer in zip(self.norms, self.mixers):
            x = x + mixer(norm(x))
        return self.head(x)


u, k, D = torch.randn(2, 3, 16), torch.randn(3, 16), torch.randn(3)
direct = F.conv1d(F.pad(u, (15, 0)), k.flip(-1).unsqueeze(1), groups=3) + u * D.unsqueeze(-1)
fft_gap = (fftconv(u, k, D) - direct).abs().max().item()
filt = HyenaFilter(4, seq_len=32)
filter_sample = filt.filter(32)[0, :5, 0].tolist()
pos_z = filt.pos_emb.z[0, 3].tolist()

data = torch.tensor([i % 7 for i in range(200)]) * (torch.arange(200) % 3 > 0)
model = HyenaLM(7)
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
losses = []
for step in range(8):
    starts = torch.randint(0, 200 - 33, (4,))
    xb = torch.stack([data[s : s + 32] for s in starts])
    yb = torch.stack([data[s + 1 : s + 33] for s in starts])
    loss = F.cross_entropy(model(xb).reshape(-1, 7), yb.reshape(-1))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
freq_grad = model.mixers[0].filter_fn.implicit_filter[1].freq.grad[0, :4].tolist()
# causality: changing the last token does not change earlier outputs
probe = data[:32].clone().unsqueeze(0)
changed = probe.clone()
changed[0, -1] = (changed[0, -1] + 1) % 7
with torch.no_grad():
    causal_gap = (model(probe)[0, :-1] - model(changed)[0, :-1]).abs().max().item()
print(f"fft gap {fft_gap:.1e}, loss {losses[0]:.3f} -> {losses[-1]:.3f}, causal {causal_gap:.1e}")
