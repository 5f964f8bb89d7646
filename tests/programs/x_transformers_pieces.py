"""Pieces of lucidrains' x-transformers, with the ``einops`` calls written out: ALiBi
(``_get_slopes`` for a power-of-two head count and the interleaved rest, a distance matrix from
``arange``, heads without ALiBi padded by ``F.pad(bias, (0, 0, 0, 0, 0, n))``), rotary
embeddings with xPos scaling (``einsum('i , j -> i j')``, ``rotate_half`` by ``unbind``,
partial rotation of the first ``rot_dim`` features), token shifting by ``F.pad(t, (0, 0,
amount, -amount))`` (negative padding crops), a GLU feed-forward with ``mult_bias``,
``ScaleNorm``, l2-normalised queries and keys with a learned scale, residual attention passing
the previous layer's pre-softmax scores on, ``masked_fill`` with ``-torch.finfo(dtype).max``;
an ``AutoregressiveWrapper`` whose loss is ``F.cross_entropy`` on ``(b, c, n)`` logits and
whose ``generate`` filters by top-k (``full_like`` + ``scatter_``) or top-p and masks tokens
after EOS with ``F.pad`` on a bool tensor and a ``cumsum``."""

import math

import torch
import torch.nn.functional as F
from torch import nn

VOCAB, EOS = 10, 1


def _get_slopes(heads):
    def get_slopes_power_of_2(n):
        start = 2 ** (-(2 ** -(math.log2(n) - 3)))
        return [start * start**i for i in range(n)]

    if math.log2(heads).is_integer():
        return get_slopes_power_of_2(heads)
    closest_power_of_2 = 2 ** math.floor(math.log2(heads))
    return (
        get_slopes_power_of_2(closest_power_of_2)
        + get_slopes_power_of_2(2 * closest_power_of_2)[0::2][: heads - closest_power_of_2]
    )


class AlibiPositionalBias(nn.Module):
    def __init__(self, heads, total_heads):
        super().__init__()
        self.heads, self.total_heads = heads, total_heads
        self.register_buffer(
            "slopes", torch.Tensor(_get_slopes(heads))[:, None, None], persistent=False
        )

    def forward(self, i, j):
        seq_arange, context_arange = torch.arange(j - i, j), torch.arange(j)
        bias = -torch.abs(context_arange[None, None, :] - seq_arange[None, :, None])
        bias = bias * self.slopes
        return F.pad(bias, (0, 0, 0, 0, 0, self.total_heads - self.heads))


class RotaryEmbedding(nn.Module):
    def __init__(self, dim, scale_base=64, base=10000):
        super().__init__()
        self.register_buffer("inv_freq", 1.0 / (base ** (torch.arange(0, dim, 2).float() / dim)))
        self.scale_base = scale_base
        self.register_buffer("scale", (torch.arange(0, dim, 2) + 0.4 * dim) / (1.4 * dim))

    def forward(self, seq_len):
        t = torch.arange(seq_len).type_as(self.inv_freq)
        freqs = torch.einsum("i , j -> i j", t, self.inv_freq)
        freqs = torch.cat((freqs, freqs), dim=-1)
        power = (t - (seq_len // 2)) / self.scale_base
        scale = self.scale ** power[:, None]
        return freqs, torch.cat((scale, scale), dim=-1)


def rotate_half(x):
    x1, x2 = x.reshape(*x.shape[:-1], 2, -1).unbind(dim=-2)
    return torch.cat((-x2, x1), dim=-1)


def apply_rotary_pos_emb(t, freqs, scale=1):
    rot_dim = freqs.shape[-1]
    t, t_unrotated = t[..., :rot_dim], t[..., rot_dim:]
    t = (t * freqs.cos() * scale) + (rotate_half(t) * freqs.sin() * scale)
    return torch.cat((t, t_unrotated), dim=-1)


def shift(t, amount):
    return t if amount == 0 else F.pad(t, (0, 0, amount, -amount), value=0.0)


class ScaleNorm(nn.Module):
    def __init__(self, dim, eps=1e-5):
        super().__init__()
        self.scale, self.eps, self.g = dim**-0.5, eps, nn.Parameter(torch.ones(1))

    def forward(self, x):
        return x / (torch.norm(x, dim=-1, keepdim=True) * self.scale).clamp(min=self.eps) * self.g


class GLU(nn.Module):
    def __init__(self, dim_in, dim_out, activation):
        super().__init__()
        self.act, self.proj, self.mult_bias = (
            activation,
            nn.Linear(dim_in, dim_out * 2),
            nn.Parameter(torch.ones(dim_out)),
        )

    def forward(self, x):
        x, gate = self.proj(x).chunk(2, dim=-1)
        return x * self.act(gate) * self.mult_bias


class Attention(nn.Module):
    def __init__(self, dim, heads=4, dim_head=8):
        super().__init__()
        self.heads = heads
        self.to_qkv, self.to_out = (
            nn.Linear(dim, 3 * heads * dim_head, bias=False),
            nn.Linear(heads * dim_head, dim),
        )
        self.qk_norm_scale = nn.Parameter(torch.tensor(10.0))

    def forward(self, x, rel_pos, rotary, prev_attn=None):
        b, n, _ = x.shape
        q, k, v = (
            t.reshape(b, n, self.heads, -1).transpose(1, 2) for t in self.to_qkv(x).chunk(3, dim=-1)
        )
        freqs, xpos_scale = rotary
        q, k = (
            apply_rotary_pos_emb(q, freqs, xpos_scale),
            apply_rotary_pos_emb(k, freqs, xpos_scale**-1),
        )
        q, k = F.normalize(q, dim=-1), F.normalize(k, dim=-1)
        dots = torch.einsum("b h i d, b h j d -> b h i j", q, k) * self.qk_norm_scale + rel_pos(
            n, n
        )
        if prev_attn is not None:
            dots = dots + prev_attn
        pre_softmax_attn = dots.clone()
        causal_mask = torch.ones((n, n), dtype=torch.bool).triu(1)
        dots = dots.masked_fill(causal_mask, -torch.finfo(dots.dtype).max)
        out = torch.einsum("b h i j, b h j d -> b h i d", dots.softmax(dim=-1), v)
        return self.to_out(out.transpose(1, 2).reshape(b, n, -1)), pre_softmax_attn


class Decoder(nn.Module):
    def __init__(self, dim=16, depth=2, heads=4):
        super().__init__()
        self.token_emb, self.rotary = (
            nn.Embedding(VOCAB, dim),
            RotaryEmbedding(4),
        )  # rotate 4 of 8 dims
        self.rel_pos = AlibiPositionalBias(heads=3, total_heads=heads)
        self.layers = nn.ModuleList(
            nn.ModuleList(
                [ScaleNorm(dim), Attention(dim, heads), ScaleNorm(dim), GLU(dim, dim, nn.SiLU())]
            )
            for _ in range(depth)
        )
        self.norm, self.to_logits = ScaleNorm(dim), nn.Linear(dim, VOCAB)

    def forward(self, x):
        x = self.token_emb(x)
        rotary, prev_attn = self.rotary(x.shape[1]), None
        for norm1, attn, norm2, ff in self.layers:
            h = norm1(x)
            h = torch.cat((h[..., :8], shift(h[..., 8:], 1)), dim=-1)  # shift half the features
            out, prev_attn = attn(h, self.rel_pos, rotary, prev_attn)
            x = x + out
            x = x + ff(norm2(x))
        return self.to_logits(self.norm(x))


def top_k(logits, thres=0.5):
    k = math.ceil((1 - thres) * logits.shape[-1])
    val, ind = torch.topk(logits, k)
    probs = torch.full_like(logits, float("-inf"))
    probs.scatter_(1, ind, val)
    return probs


def top_p(logits, thres=0.9):
    sorted_logits, sorted_indices = torch.sort(logits, descending=True)
    cum_probs = torch.cumsum(F.softmax(sorted_logits, dim=-1), dim=-1)
    sorted_indices_to_remove = cum_probs > thres
    sorted_indices_to_remove = F.pad(sorted_indices_to_remove, (1, -1), value=False)
    sorted_logits[sorted_indices_to_remove] = float("-inf")
    return sorted_logits.scatter(1, sorted_indices, sorted_logits)


class AutoregressiveWrapper(nn.Module):
    def __init__(self, net, pad_value=0):
        super().__init__()
        self.net, self.pad_value = net, pad_value

    def forward(self, x):
        inp, target = x[:, :-1], x[:, 1:]
        logits = self.net(inp)
        return F.cross_entropy(logits.transpose(1, 2), target, ignore_index=-100)

    @torch.no_grad()
    def generate(self, start_tokens, seq_len, filter_logits_fn=top_k, temperature=1.0):
        out = start_tokens
        for _ in range(seq_len):
            logits = self.net(out)[:, -1]
            probs = F.softmax(filter_logits_fn(logits) / temperature, dim=-1)
            out = torch.cat((out, torch.multinomial(probs, 1)), dim=-1)
            is_eos_tokens = out == EOS
            if is_eos_tokens.any(dim=-1).all():
                break
        shifted_is_eos_tokens = F.pad(is_eos_tokens, (1, -1))
        mask = shifted_is_eos_tokens.float().cumsum(dim=-1) >= 1
        return out.masked_fill(mask, self.pad_value)[:, start_tokens.shape[1] :]


torch.manual_seed(0)
slopes = [_get_slopes(n) for n in (4, 6)]
model = AutoregressiveWrapper(Decoder())
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
data = torch.tensor([[2 + (s + i) % 4 for i in range(7)] + [EOS] for s in range(8)])
losses = []
for step in range(10):
    loss = model(data)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
print(f"loss {losses[0]:.4f} -> {losses[-1]:.4f}")
bias = model.net.rel_pos(3, 5)
alibi_rows = bias[:, -1].tolist()
freqs, xpos = model.net.rotary(6)
rotary_stats = [freqs.sum().item(), xpos.prod().item()]
shifted = shift(torch.arange(8.0).view(1, 4, 2), 1).tolist()
torch.manual_seed(1)
sampled_k = model.generate(data[:2, :3], 8, top_k, temperature=0.8).tolist()
sampled_p = model.generate(data[2:4, :3], 8, top_p).tolist()
print(sampled_k, sampled_p)
