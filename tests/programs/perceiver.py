"""A Perceiver (Jaegle et al. 2021) as lucidrains' perceiver-pytorch writes it, scaled down:
a learned latent array cross-attending to a large input array (einsum attention with
rearranged heads, an optional boolean mask filled with -finfo.max), Fourier-feature position
encodings (torch.linspace grids, meshgrid, sin/cos of scaled positions), PreNorm with a
context norm, GEGLU feed-forward, weight-shared self-attention blocks, and mean-pooled
latents classified; trained on a toy point-cloud task, with the masked and unmasked
attention checked against F.scaled_dot_product_attention."""

import math
from functools import wraps

import torch
import torch.nn.functional as F
from torch import einsum, nn

torch.manual_seed(0)


def exists(val):
    return val is not None


def default(val, d):
    return val if exists(val) else d


def cache_fn(f):
    cache = dict()

    @wraps(f)
    def cached_fn(*args, _cache=True, key=None, **kwargs):
        if not _cache:
            return f(*args, **kwargs)
        nonlocal cache
        if key in cache:
            return cache[key]
        result = f(*args, **kwargs)
        cache[key] = result
        return result

    return cached_fn


def fourier_encode(x, max_freq, num_bands=4):
    x = x.unsqueeze(-1)
    device, dtype, orig_x = x.device, x.dtype, x
    scales = torch.linspace(1.0, max_freq / 2, num_bands, device=device, dtype=dtype)
    scales = scales[(*((None,) * (len(x.shape) - 1)), Ellipsis)]
    x = x * scales * math.pi
    x = torch.cat([x.sin(), x.cos()], dim=-1)
    x = torch.cat((x, orig_x), dim=-1)
    return x


class PreNorm(nn.Module):
    def __init__(self, dim, fn, context_dim=None):
        super().__init__()
        self.fn = fn
        self.norm = nn.LayerNorm(dim)
        self.norm_context = nn.LayerNorm(context_dim) if exists(context_dim) else None

    def forward(self, x, **kwargs):
        x = self.norm(x)
        if exists(self.norm_context):
            context = kwargs["context"]
            normed_context = self.norm_context(context)
            kwargs.update(context=normed_context)
        return self.fn(x, **kwargs)


class GEGLU(nn.Module):
    def forward(self, x):
        x, gates = x.chunk(2, dim=-1)
        return x * F.gelu(gates)


class FeedForward(nn.Module):
    def __init__(self, dim, mult=4, dropout=0.0):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(dim, dim * mult * 2), GEGLU(), nn.Linear(dim * mult, dim), nn.Dropout(dropout)
        )

    def forward(self, x):
        return self.net(x)


class Attention(nn.Module):
    def __init__(self, query_dim, context_dim=None, heads=4, dim_head=16, dropout=0.0):
        super().__init__()
        inner_dim = dim_head * heads
        context_dim = default(context_dim, query_dim)
        self.scale = dim_head**-0.5
        self.heads = heads
        self.to_q = nn.Linear(query_dim, inner_dim, bias=False)
        self.to_kv = nn.Linear(context_dim, inner_dim * 2, bias=False)
        self.dropout = nn.Dropout(dropout)
        self.to_out = nn.Linear(inner_dim, query_dim)

    def forward(self, x, context=None, mask=None):
        h = self.heads
        q = self.to_q(x)
        context = default(context, x)
        k, v = self.to_kv(context).chunk(2, dim=-1)
        # rearrange 'b n (h d) -> (b h) n d'
        q, k, v = (t.unflatten(-1, (h, -1)).transpose(1, 2).flatten(0, 1) for t in (q, k, v))
        sim = einsum("b i d, b j d -> b i j", q, k) * self.scale
        if exists(mask):
            mask = mask.flatten(1)
            max_neg_value = -torch.finfo(sim.dtype).max
            mask = mask[:, None, :].repeat_interleave(h, dim=0)  # 'b j -> (b h) () j'
            sim.masked_fill_(~mask, max_neg_value)
        # attention, what we cannot get enough of
        attn = sim.softmax(dim=-1)
        attn = self.dropout(attn)
        out = einsum("b i j, b j d -> b i d", attn, v)
        out = out.unflatten(0, (-1, h)).transpose(1, 2).flatten(2)  # '(b h) n d -> b n (h d)'
        return self.to_out(out)


class Perceiver(nn.Module):
    def __init__(self, *, num_freq_bands, depth, max_freq, input_channels=1, input_axis=2,
                 num_latents=16, latent_dim=32, num_classes=3, self_per_cross_attn=1,
                 weight_tie_layers=True):  # fmt: skip
        super().__init__()
        self.input_axis, self.max_freq, self.num_freq_bands = input_axis, max_freq, num_freq_bands
        fourier_channels = input_axis * ((num_freq_bands * 2) + 1)
        input_dim = fourier_channels + input_channels
        self.latents = nn.Parameter(torch.randn(num_latents, latent_dim))

        def get_cross_attn():
            return PreNorm(latent_dim, Attention(latent_dim, input_dim, heads=1, dim_head=32),
                           context_dim=input_dim)  # fmt: skip

        def get_cross_ff():
            return PreNorm(latent_dim, FeedForward(latent_dim))

        def get_latent_attn():
            return PreNorm(latent_dim, Attention(latent_dim, heads=4, dim_head=8))

        def get_latent_ff():
            return PreNorm(latent_dim, FeedForward(latent_dim))

        get_cross_attn, get_cross_ff, get_latent_attn, get_latent_ff = map(
            cache_fn, (get_cross_attn, get_cross_ff, get_latent_attn, get_latent_ff)
        )
        self.layers = nn.ModuleList([])
        for i in range(depth):
            should_cache = i > 0 and weight_tie_layers
            cache_args = {"_cache": should_cache}
            self_attns = nn.ModuleList([])
            for block_ind in range(self_per_cross_attn):
                self_attns.append(nn.ModuleList([
                    get_latent_attn(**cache_args, key=block_ind),
                    get_latent_ff(**cache_args, key=block_ind),
                ]))  # fmt: skip
            self.layers.append(nn.ModuleList([
                get_cross_attn(**cache_args), get_cross_ff(**cache_args), self_attns
            ]))  # fmt: skip
        self.to_logits = nn.Sequential(nn.LayerNorm(latent_dim), nn.Linear(latent_dim, num_classes))

    def forward(self, data, mask=None):
        b, *axis, _ = data.shape
        device, dtype = data.device, data.dtype
        # calculate fourier encoded positions in the range of [-1, 1], for all axis
        axis_pos = [
            torch.linspace(-1.0, 1.0, steps=size, device=device, dtype=dtype) for size in axis
        ]
        pos = torch.stack(torch.meshgrid(*axis_pos, indexing="ij"), dim=-1)
        enc_pos = fourier_encode(pos, self.max_freq, self.num_freq_bands)
        enc_pos = enc_pos.flatten(-2)  # '... n d -> ... (n d)'
        enc_pos = enc_pos.unsqueeze(0).expand(b, *enc_pos.shape)
        data = torch.cat((data, enc_pos), dim=-1)
        data = data.flatten(1, -2)  # 'b ... d -> b (...) d'
        x = self.latents.unsqueeze(0).expand(b, -1, -1)  # 'n d -> b n d'
        for cross_attn, cross_ff, self_attns in self.layers:
            x = cross_attn(x, context=data, mask=mask) + x
            x = cross_ff(x) + x
            for self_attn, self_ff in self_attns:
                x = self_attn(x) + x
                x = self_ff(x) + x
        return self.to_logits(x.mean(dim=-2))


# The attention matches scaled_dot_product_attention (masked and not)
attn = Attention(8, heads=2, dim_head=4)
x, ctx = torch.randn(2, 5, 8), torch.randn(2, 7, 8)
key_mask = torch.rand(2, 7) > 0.3
key_mask[:, 0] = True
with torch.no_grad():
    ours = attn(x, ctx, mask=key_mask)
    q = attn.to_q(x).unflatten(-1, (2, 4)).transpose(1, 2)
    k, v = (t.unflatten(-1, (2, 4)).transpose(1, 2) for t in attn.to_kv(ctx).chunk(2, dim=-1))
    ref = F.scaled_dot_product_attention(q, k, v, attn_mask=key_mask[:, None, None, :])
    ref = attn.to_out(ref.transpose(1, 2).flatten(2))
attention_gap = (ours - ref).abs().max().item()


# Toy task: 12x12 single-channel "images" with a blob in one of three rows of the image
def make_data(n):
    y = torch.randint(0, 3, (n,))
    img = 0.3 * torch.randn(n, 12, 12, 1)
    rows = torch.arange(12)
    band = ((rows[None, :] // 4) == y[:, None]).float()  # (n, 12)
    return img + band[:, :, None, None], y


model = Perceiver(num_freq_bands=4, depth=3, max_freq=6.0, num_latents=8, latent_dim=32)
n_params = sum(p.numel() for p in model.parameters())
shared = model.layers[1][0] is model.layers[2][0] and model.layers[0][0] is not model.layers[1][0]
x_train, y_train = make_data(192)
optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
losses = []
for step in range(40):
    idx = torch.randint(0, 192, (32,))
    loss = F.cross_entropy(model(x_train[idx]), y_train[idx])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
    if step % 10 == 0:
        print(f"step {step}: loss {loss.item():.3f}")
x_test, y_test = make_data(96)
with torch.no_grad():
    accuracy = (model(x_test).argmax(-1) == y_test).float().mean().item()
    mask = torch.ones(4, 144, dtype=torch.bool)
    mask[:, 100:] = False
    masked_logits = model(x_test[:4], mask=mask.view(4, 12, 12))
print(f"parameters {n_params}, latent layers shared {shared}, test accuracy {accuracy:.3f}")
