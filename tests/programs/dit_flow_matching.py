"""A class-conditional diffusion transformer (DiT, Peebles & Xie 2023) as facebookresearch/DiT's
models.py writes it, trained with rectified flow / flow matching (Lipman et al.; Liu et al.)
as the SD3-style training scripts do: patch embedding by a strided Conv2d, a fixed 2-D sin-cos
positional embedding, the sinusoidal timestep embedder, a label embedder whose null class
implements classifier-free-guidance dropout (``torch.rand(...) < p`` and ``torch.where``),
blocks with adaLN-Zero modulation (``chunk(6, dim=1)``, shift/scale/gate, zero-initialized
modulation and output layers), ``unpatchify`` with ``torch.einsum("nhwpqc->nchpwq")``; the
velocity target ``x1 - x0`` at ``t ~ U(0, 1)``, and an Euler sampler with guidance on a doubled
batch (``torch.cat([z, z])``, ``chunk(2)``)."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
IMG, PATCH, CH, HIDDEN, HEADS, CLASSES = 8, 2, 1, 32, 4, 2


def modulate(x, shift, scale):
    return x * (1 + scale.unsqueeze(1)) + shift.unsqueeze(1)


def sincos_pos_embed(dim, grid_size):
    coords = torch.arange(grid_size, dtype=torch.float64)
    grid_h, grid_w = torch.meshgrid(coords, coords, indexing="ij")
    omega = 1.0 / 10000 ** (torch.arange(dim // 4, dtype=torch.float64) / (dim / 4.0))
    parts = []
    for grid in (grid_w, grid_h):  # DiT puts the width coordinate first
        out = torch.einsum("m,d->md", grid.reshape(-1), omega)
        parts += [torch.sin(out), torch.cos(out)]
    return torch.cat(parts, dim=1).float().unsqueeze(0)


class TimestepEmbedder(nn.Module):
    def __init__(self, hidden, freq_size=32):
        super().__init__()
        self.freq_size = freq_size
        self.mlp = nn.Sequential(nn.Linear(freq_size, hidden), nn.SiLU(), nn.Linear(hidden, hidden))

    def forward(self, t, max_period=10000):
        half = self.freq_size // 2
        freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32) / half)
        args = t[:, None].float() * freqs[None]
        return self.mlp(torch.cat([torch.cos(args), torch.sin(args)], dim=-1))


class LabelEmbedder(nn.Module):
    def __init__(self, num_classes, hidden, dropout_prob):
        super().__init__()
        self.table = nn.Embedding(num_classes + 1, hidden)  # the last row is the null class
        self.num_classes, self.dropout_prob = num_classes, dropout_prob

    def forward(self, labels, train):
        if train and self.dropout_prob > 0:
            drop_ids = torch.rand(labels.shape[0]) < self.dropout_prob
            labels = torch.where(drop_ids, self.num_classes, labels)
        return self.table(labels)


class DiTBlock(nn.Module):
    def __init__(self, hidden, heads):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(hidden, elementwise_affine=False, eps=1e-6)
        self.qkv, self.proj = nn.Linear(hidden, 3 * hidden), nn.Linear(hidden, hidden)
        self.norm2 = nn.LayerNorm(hidden, elementwise_affine=False, eps=1e-6)
        self.mlp = nn.Sequential(
            nn.Linear(hidden, 4 * hidden),
            nn.GELU(approximate="tanh"),
            nn.Linear(4 * hidden, hidden),
        )
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(hidden, 6 * hidden))

    def attn(self, x):
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        y = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2])
        return self.proj(y.transpose(1, 2).reshape(b, n, c))

    def forward(self, x, c):
        shift_msa, scale_msa, gate_msa, shift_mlp, scale_mlp, gate_mlp = self.adaLN_modulation(
            c
        ).chunk(6, dim=1)
        x = x + gate_msa.unsqueeze(1) * self.attn(modulate(self.norm1(x), shift_msa, scale_msa))
        return x + gate_mlp.unsqueeze(1) * self.mlp(modulate(self.norm2(x), shift_mlp, scale_mlp))


class DiT(nn.Module):
    def __init__(self, depth=2):
        super().__init__()
        self.x_embedder = nn.Conv2d(CH, HIDDEN, PATCH, stride=PATCH)
        self.t_embedder = TimestepEmbedder(HIDDEN)
        self.y_embedder = LabelEmbedder(CLASSES, HIDDEN, 0.1)
        self.register_buffer("pos_embed", sincos_pos_embed(HIDDEN, IMG // PATCH))
        self.blocks = nn.ModuleList([DiTBlock(HIDDEN, HEADS) for _ in range(depth)])
        self.norm_final = nn.LayerNorm(HIDDEN, elementwise_affine=False, eps=1e-6)
        self.linear = nn.Linear(HIDDEN, PATCH * PATCH * CH)
        self.final_modulation = nn.Sequential(nn.SiLU(), nn.Linear(HIDDEN, 2 * HIDDEN))
        self.initialize_weights()

    def initialize_weights(self):
        def _basic_init(module):
            if isinstance(module, nn.Linear):
                torch.nn.init.xavier_uniform_(module.weight)
                nn.init.constant_(module.bias, 0)

        self.apply(_basic_init)
        w = self.x_embedder.weight.data
        nn.init.xavier_uniform_(w.view([w.shape[0], -1]))
        nn.init.normal_(self.y_embedder.table.weight, std=0.02)
        nn.init.normal_(self.t_embedder.mlp[0].weight, std=0.02)
        for block in self.blocks:  # adaLN-Zero: every block starts as the identity
            nn.init.constant_(block.adaLN_modulation[-1].weight, 0)
            nn.init.constant_(block.adaLN_modulation[-1].bias, 0)
        nn.init.constant_(self.final_modulation[-1].weight, 0)
        nn.init.constant_(self.final_modulation[-1].bias, 0)
        nn.init.normal_(self.linear.weight, std=0.02)  # (DiT zeroes it; a start for 8 steps)

    def unpatchify(self, x):
        h = w = IMG // PATCH
        x = x.reshape(x.shape[0], h, w, PATCH, PATCH, CH)
        x = torch.einsum("nhwpqc->nchpwq", x)
        return x.reshape(x.shape[0], CH, h * PATCH, w * PATCH)

    def forward(self, x, t, y, train=False):
        x = self.x_embedder(x).flatten(2).transpose(1, 2) + self.pos_embed
        c = self.t_embedder(t) + self.y_embedder(y, train)
        for block in self.blocks:
            x = block(x, c)
        shift, scale = self.final_modulation(c).chunk(2, dim=1)
        return self.unpatchify(self.linear(modulate(self.norm_final(x), shift, scale)))


def make_images(labels):
    images = torch.zeros(labels.shape[0], CH, IMG, IMG)
    images[labels == 0, :, 2:6, :] = 1.0  # class 0: a horizontal band
    images[labels == 1, :, :, 2:6] = 1.0  # class 1: a vertical band
    return images * 2 - 1


model = DiT()
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0)
losses = []
for step in range(8):
    labels = torch.randint(0, CLASSES, (16,))
    x1 = make_images(labels)
    x0 = torch.randn_like(x1)
    t = torch.rand(x1.shape[0])
    xt = (1 - t.view(-1, 1, 1, 1)) * x0 + t.view(-1, 1, 1, 1) * x1
    loss = F.mse_loss(model(xt, t * 1000, labels, train=True), x1 - x0)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
gate_grad_norm = model.blocks[0].adaLN_modulation[-1].weight.grad.norm().item()


@torch.no_grad()
def sample(model, labels, steps=6, cfg_scale=2.0):
    z = torch.randn(labels.shape[0], CH, IMG, IMG)
    y = torch.cat([labels, torch.full_like(labels, CLASSES)])
    dt = 1.0 / steps
    for i in range(steps):
        t = torch.full((2 * labels.shape[0],), i * dt)
        cond, uncond = model(torch.cat([z, z]), t * 1000, y).chunk(2)
        z = z + dt * (uncond + cfg_scale * (cond - uncond))
    return z


model.eval()
samples = sample(model, torch.tensor([0, 1]))
sample_stats = [samples.mean().item(), samples.std().item(), samples[0, 0, 3].tolist()]
pos_embed_sample = model.pos_embed[0, 5, :6].tolist()
print(f"loss {losses[0]:.3f} -> {losses[-1]:.3f}, samples {sample_stats[:2]}")
