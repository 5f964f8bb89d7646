"""Slot Attention (Locatello et al. 2020) as lucidrains/slot-attention and the official
object-discovery autoencoder write it, scaled down: slots sampled from learned
``slots_mu + slots_logsigma.exp() * randn``, attention normalised over the slots
(``softmax(dim=1)``) plus eps and re-normalised over the inputs, a weighted mean of values by
``einsum``, a GRUCell update on ``reshape(-1, d)`` and a residual MLP; a CNN encoder with the
soft position embedding of ``build_grid`` (meshgrid of linspace, concatenated with ``1 -
grid``), a spatial broadcast decoder whose per-slot alpha masks are ``softmax``-ed over the
slots, and an MSE reconstruction; Adam with a linear warm-up by LambdaLR and gradient clipping,
on images of two coloured squares."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
R = 8  # resolution


def make_images(n):
    images = torch.zeros(n, 3, R, R)
    colours = torch.tensor([[1.0, 0.2, 0.2], [0.2, 0.3, 1.0]])
    for i in range(n):
        for c in range(2):
            y, x = torch.randint(0, R - 3, (2,)).tolist()
            images[i, :, y : y + 3, x : x + 3] = colours[c].view(3, 1, 1)
    return images


def build_grid(resolution):
    ranges = [torch.linspace(0.0, 1.0, steps=res) for res in resolution]
    grid = torch.meshgrid(*ranges, indexing="ij")
    grid = torch.stack(grid, dim=-1).reshape(resolution[0], resolution[1], -1).unsqueeze(0)
    return torch.cat([grid, 1.0 - grid], dim=-1)


class SoftPositionEmbed(nn.Module):
    def __init__(self, hidden_size, resolution):
        super().__init__()
        self.embedding = nn.Linear(4, hidden_size, bias=True)
        self.register_buffer("grid", build_grid(resolution))

    def forward(self, inputs):  # (B, H, W, C)
        return inputs + self.embedding(self.grid)


class SlotAttention(nn.Module):
    def __init__(self, num_slots, dim, iters=3, eps=1e-8, hidden_dim=32):
        super().__init__()
        self.num_slots, self.iters, self.eps, self.scale = num_slots, iters, eps, dim**-0.5
        self.slots_mu = nn.Parameter(torch.randn(1, 1, dim))
        self.slots_logsigma = nn.Parameter(torch.zeros(1, 1, dim))
        nn.init.xavier_uniform_(self.slots_logsigma)
        self.to_q, self.to_k = nn.Linear(dim, dim), nn.Linear(dim, dim)
        self.to_v = nn.Linear(dim, dim)
        self.gru = nn.GRUCell(dim, dim)
        self.mlp = nn.Sequential(
            nn.Linear(dim, hidden_dim), nn.ReLU(inplace=True), nn.Linear(hidden_dim, dim)
        )
        self.norm_input, self.norm_slots = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.norm_pre_ff = nn.LayerNorm(dim)

    def forward(self, inputs, num_slots=None):
        b, n, d = inputs.shape
        n_s = num_slots if num_slots is not None else self.num_slots
        mu = self.slots_mu.expand(b, n_s, -1)
        sigma = self.slots_logsigma.exp().expand(b, n_s, -1)
        slots = mu + sigma * torch.randn(mu.shape, device=inputs.device, dtype=inputs.dtype)
        inputs = self.norm_input(inputs)
        k, v = self.to_k(inputs), self.to_v(inputs)
        for _ in range(self.iters):
            slots_prev = slots
            slots = self.norm_slots(slots)
            q = self.to_q(slots)
            dots = torch.einsum("bid,bjd->bij", q, k) * self.scale
            attn = dots.softmax(dim=1) + self.eps
            attn = attn / attn.sum(dim=-1, keepdim=True)
            updates = torch.einsum("bjd,bij->bid", v, attn)
            slots = self.gru(updates.reshape(-1, d), slots_prev.reshape(-1, d))
            slots = slots.reshape(b, -1, d)
            slots = slots + self.mlp(self.norm_pre_ff(slots))
        return slots, attn


class SlotAutoEncoder(nn.Module):
    def __init__(self, num_slots=3, dim=16):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(3, dim, 3, padding=1), nn.ReLU(), nn.Conv2d(dim, dim, 3, padding=1), nn.ReLU()
        )
        self.encoder_pos = SoftPositionEmbed(dim, (R, R))
        self.mlp = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, dim))
        self.slot_attention = SlotAttention(num_slots, dim)
        self.decoder_pos = SoftPositionEmbed(dim, (R, R))
        self.decoder = nn.Sequential(
            nn.Conv2d(dim, dim, 3, padding=1), nn.ReLU(), nn.Conv2d(dim, 4, 3, padding=1)
        )

    def forward(self, image):
        b = image.shape[0]
        x = self.encoder(image).permute(0, 2, 3, 1)  # (B, H, W, C)
        x = self.encoder_pos(x)
        x = self.mlp(
            nn.LayerNorm(x.shape[-1])(torch.flatten(x, 1, 2))
        )  # fresh LayerNorm, no params
        slots, attn = self.slot_attention(x)
        # spatial broadcast: every slot tiled over the grid
        x = slots.reshape((-1, slots.shape[-1])).unsqueeze(1).unsqueeze(2).repeat((1, R, R, 1))
        x = self.decoder(self.decoder_pos(x).permute(0, 3, 1, 2))
        x = x.reshape(b, -1, 4, R, R)
        recons, masks = x.split([3, 1], dim=2)
        masks = F.softmax(masks, dim=1)
        recon_combined = torch.sum(recons * masks, dim=1)
        return recon_combined, recons, masks, attn


images = make_images(16)
model = SlotAutoEncoder()
optimizer = torch.optim.Adam(model.parameters(), lr=4e-3)
warmup = 5
scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / warmup))
losses, grad_norms = [], []
for step in range(16):
    batch = images[(step * 8) % 16 : (step * 8) % 16 + 8]
    recon, recons, masks, attn = model(batch)
    loss = F.mse_loss(recon, batch)
    optimizer.zero_grad()
    loss.backward()
    grad_norms.append(nn.utils.clip_grad_norm_(model.parameters(), 1.0).item())
    optimizer.step()
    scheduler.step()
    losses.append(loss.item())
attn_row_sums = attn.sum(-1)[0].tolist()  # each slot's weights over the inputs sum to 1
mask_total = masks.sum(1).mean().item()
masks_shape = tuple(masks.shape)
slot_sigma = model.slot_attention.slots_logsigma.exp().mean().item()
