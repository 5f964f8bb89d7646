"""I-JEPA (Assran et al.), after the reference ``src/masks/multiblock.py``, ``src/masks/utils.py``
(``apply_masks`` with ``torch.gather`` on repeated indices) and ``src/models/vision_transformer.py``:
a patch embedding by ``Conv2d`` with stride = patch size, fixed 2-D sin-cos positions, target
blocks and a context block sampled on the patch grid (the context minus the targets,
``torch.nonzero(mask.flatten()).squeeze()``, trimmed to a common length), a context encoder, a
narrow predictor that appends mask tokens with the target positions (``repeat_interleave_batch``),
targets from an EMA encoder followed by ``F.layer_norm`` in ``no_grad``, ``F.smooth_l1_loss``,
AdamW with a warmup-cosine schedule and a momentum schedule for the target encoder."""

import copy
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

torch.manual_seed(0)
GRID, PATCH, DIM, PRED_DIM = 4, 2, 16, 8


def get_2d_sincos_pos_embed(embed_dim, grid_size):
    grid_h = np.arange(grid_size, dtype=float)
    grid = np.meshgrid(grid_h, grid_h)
    grid = np.stack(grid, axis=0).reshape([2, 1, grid_size, grid_size])

    def one_d(d, pos):
        omega = 1.0 / 10000 ** (np.arange(d // 2, dtype=float) / (d / 2.0))
        out = np.einsum("m,d->md", pos.reshape(-1), omega)
        return np.concatenate([np.sin(out), np.cos(out)], axis=1)

    return np.concatenate([one_d(embed_dim // 2, grid[0]), one_d(embed_dim // 2, grid[1])], axis=1)


def apply_masks(x, masks):
    all_x = []
    for m in masks:
        mask_keep = m.unsqueeze(-1).repeat(1, 1, x.size(-1))
        all_x += [torch.gather(x, dim=1, index=mask_keep)]
    return torch.cat(all_x, dim=0)


def repeat_interleave_batch(x, B, repeat):
    N = len(x) // B
    return torch.cat(
        [torch.cat([x[i * B : (i + 1) * B] for _ in range(repeat)], dim=0) for i in range(N)], dim=0
    )


class Block(nn.Module):
    def __init__(self, dim, heads=2):
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(dim, eps=1e-6), nn.LayerNorm(dim, eps=1e-6)
        self.qkv, self.proj, self.heads = nn.Linear(dim, dim * 3), nn.Linear(dim, dim), heads
        self.mlp = nn.Sequential(nn.Linear(dim, dim * 2), nn.GELU(), nn.Linear(dim * 2, dim))

    def forward(self, x):
        B, N, C = x.shape
        qkv = self.qkv(self.norm1(x)).reshape(B, N, 3, self.heads, C // self.heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)
        attn = (q @ k.transpose(-2, -1)) * (C // self.heads) ** -0.5
        y = (attn.softmax(dim=-1) @ v).transpose(1, 2).reshape(B, N, C)
        x = x + self.proj(y)
        return x + self.mlp(self.norm2(x))


class VisionTransformer(nn.Module):
    def __init__(self, depth=2):
        super().__init__()
        self.patch_embed = nn.Conv2d(1, DIM, kernel_size=PATCH, stride=PATCH)
        pos = torch.from_numpy(get_2d_sincos_pos_embed(DIM, GRID)).float().unsqueeze(0)
        self.pos_embed = nn.Parameter(pos, requires_grad=False)
        self.blocks = nn.ModuleList(Block(DIM) for _ in range(depth))
        self.norm = nn.LayerNorm(DIM, eps=1e-6)

    def forward(self, x, masks=None):
        x = self.patch_embed(x).flatten(2).transpose(1, 2) + self.pos_embed
        if masks is not None:
            x = apply_masks(x, masks)
        for blk in self.blocks:
            x = blk(x)
        return self.norm(x)


class Predictor(nn.Module):
    def __init__(self):
        super().__init__()
        self.predictor_embed = nn.Linear(DIM, PRED_DIM)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, PRED_DIM))
        pos = torch.from_numpy(get_2d_sincos_pos_embed(PRED_DIM, GRID)).float().unsqueeze(0)
        self.predictor_pos_embed = nn.Parameter(pos, requires_grad=False)
        self.blocks = nn.ModuleList([Block(PRED_DIM)])
        self.predictor_norm = nn.LayerNorm(PRED_DIM, eps=1e-6)
        self.predictor_proj = nn.Linear(PRED_DIM, DIM)
        nn.init.trunc_normal_(self.mask_token, std=0.02)

    def forward(self, x, masks_x, masks):
        B = len(x) // len(masks_x)
        x = self.predictor_embed(x)
        x_pos_embed = self.predictor_pos_embed.repeat(B, 1, 1)
        x += apply_masks(x_pos_embed, masks_x)
        _, N_ctxt, D = x.shape
        pos_embs = self.predictor_pos_embed.repeat(B, 1, 1)
        pos_embs = apply_masks(pos_embs, masks)
        pos_embs = repeat_interleave_batch(pos_embs, B, repeat=len(masks_x))
        pred_tokens = self.mask_token.repeat(pos_embs.size(0), pos_embs.size(1), 1)
        pred_tokens += pos_embs
        x = x.repeat(len(masks), 1, 1)
        x = torch.cat([x, pred_tokens], dim=1)
        for blk in self.blocks:
            x = blk(x)
        x = self.predictor_norm(x)
        x = x[:, N_ctxt:]
        return self.predictor_proj(x)


def sample_block(rng, h, w):
    top, left = rng.integers(0, GRID - h + 1), rng.integers(0, GRID - w + 1)
    mask = torch.zeros((GRID, GRID), dtype=torch.int32)
    mask[top : top + h, left : left + w] = 1
    return mask


def multiblock_masks(rng, batch, npred=2):
    masks_enc, masks_pred = [], []
    min_keep = GRID * GRID
    for _ in range(batch):
        preds, complement = [], torch.ones((GRID, GRID), dtype=torch.int32)
        for _ in range(npred):
            m = sample_block(rng, 2, 1 + rng.integers(1, 3) // 2)
            preds.append(torch.nonzero(m.flatten()).squeeze())
            complement *= 1 - m
        ctx = sample_block(rng, 3, 3) * complement
        keep = torch.nonzero(ctx.flatten()).squeeze(-1)
        min_keep = min(min_keep, len(keep))
        masks_pred.append(preds)
        masks_enc.append(keep)
    min_pred = min(len(p) for ps in masks_pred for p in ps)
    masks_pred = [torch.stack([ps[i][:min_pred] for ps in masks_pred]) for i in range(npred)]
    masks_enc = [torch.stack([m[:min_keep] for m in masks_enc])]
    return masks_enc, masks_pred


rng = np.random.default_rng(0)
images = torch.zeros(16, 1, GRID * PATCH, GRID * PATCH)
for i in range(16):  # smooth blobs: predictable from their surroundings
    cy, cx = rng.uniform(1, 7, 2)
    yy, xx = torch.meshgrid(torch.arange(8.0), torch.arange(8.0), indexing="ij")
    images[i, 0] = torch.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 6.0)

encoder, predictor = VisionTransformer(), Predictor()
target_encoder = copy.deepcopy(encoder)
for p in target_encoder.parameters():
    p.requires_grad = False
param_groups = [
    {"params": (p for n, p in encoder.named_parameters() if "bias" not in n and p.ndim != 1)},
    {"params": (p for n, p in predictor.named_parameters() if "bias" not in n and p.ndim != 1)},
    {
        "params": (p for n, p in encoder.named_parameters() if "bias" in n or p.ndim == 1),
        "WD_exclude": True,
        "weight_decay": 0,
    },
]
optimizer = torch.optim.AdamW(param_groups, lr=1e-3, weight_decay=0.04)
iters, warmup = 24, 4
momentum_scheduler = (0.996 + i * (1.0 - 0.996) / iters for i in range(iters + 1))
losses, lrs, shapes = [], [], None
for itr in range(iters):
    lr = (
        1e-3 * (itr + 1) / warmup
        if itr < warmup
        else 1e-3 * 0.5 * (1 + math.cos(math.pi * (itr - warmup) / (iters - warmup)))
    )
    for group in optimizer.param_groups:
        group["lr"] = lr
    imgs = images[torch.randperm(16)[:8]]
    masks_enc, masks_pred = multiblock_masks(rng, 8)
    with torch.no_grad():
        h = target_encoder(imgs)
        h = F.layer_norm(h, (h.size(-1),))
        B = len(h)
        h = apply_masks(h, masks_pred)
        h = repeat_interleave_batch(h, B, repeat=len(masks_enc))
    z = encoder(imgs, masks_enc)
    z = predictor(z, masks_enc, masks_pred)
    loss = F.smooth_l1_loss(z, h)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    with torch.no_grad():
        m = next(momentum_scheduler)
        for param_q, param_k in zip(encoder.parameters(), target_encoder.parameters()):
            param_k.data.mul_(m).add_((1.0 - m) * param_q.detach().data)
    losses.append(loss.item())
    lrs.append(lr)
    shapes = (tuple(z.shape), tuple(h.shape), [tuple(m.shape) for m in masks_enc + masks_pred])

group_sizes = [len(g["params"]) for g in optimizer.param_groups]
pos_trainable = encoder.pos_embed.requires_grad
