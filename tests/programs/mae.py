"""A masked autoencoder (He et al. 2022) in miniature, with the patchify / unpatchify of the
official code written two ways: F.unfold / F.fold (nn.Unfold, nn.Fold) and the
reshape + einsum form; random masking by argsort of noise (ids_shuffle, ids_restore),
torch.gather with an expanded index to keep and to unshuffle tokens, a learned mask token,
nn.TransformerEncoderLayer blocks, and the loss on masked patches only with per-patch
normalized targets."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy, rand

p, img, dim = 4, 16, 32  # patch size, image size, width
num_patches = (img // p) ** 2


def patchify(imgs):
    h = w = imgs.shape[2] // p
    x = imgs.reshape(shape=(imgs.shape[0], 1, h, p, w, p))
    x = torch.einsum("nchpwq->nhwpqc", x)
    return x.reshape(shape=(imgs.shape[0], h * w, p**2 * 1))


def unpatchify(x):
    h = w = int(x.shape[1] ** 0.5)
    x = x.reshape(shape=(x.shape[0], h, w, p, p, 1))
    x = torch.einsum("nhwpqc->nchpwq", x)
    return x.reshape(shape=(x.shape[0], 1, h * p, h * p))


class MAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.patch_embed = nn.Linear(p * p, dim)
        self.pos_embed = nn.Parameter(torch.zeros(1, num_patches, dim))
        self.encoder = nn.TransformerEncoderLayer(
            dim, 4, 64, dropout=0.0, batch_first=True, norm_first=True
        )
        self.mask_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.decoder = nn.TransformerEncoderLayer(
            dim, 4, 64, dropout=0.0, batch_first=True, norm_first=True
        )
        self.decoder_pred = nn.Linear(dim, p * p)

    def random_masking(self, x, mask_ratio, noise):
        N, L, D = x.shape
        len_keep = int(L * (1 - mask_ratio))
        ids_shuffle = torch.argsort(noise, dim=1)
        ids_restore = torch.argsort(ids_shuffle, dim=1)
        ids_keep = ids_shuffle[:, :len_keep]
        x_masked = torch.gather(x, dim=1, index=ids_keep.unsqueeze(-1).repeat(1, 1, D))
        mask = torch.ones([N, L])
        mask[:, :len_keep] = 0
        mask = torch.gather(mask, dim=1, index=ids_restore)
        return x_masked, mask, ids_restore

    def forward(self, imgs, noise, mask_ratio=0.75):
        patches = F.unfold(imgs, kernel_size=p, stride=p).transpose(1, 2)  # (N, L, p*p)
        x = self.patch_embed(patches) + self.pos_embed
        x, mask, ids_restore = self.random_masking(x, mask_ratio, noise)
        x = self.encoder(x)
        mask_tokens = self.mask_token.repeat(x.shape[0], ids_restore.shape[1] - x.shape[1], 1)
        x_ = torch.cat([x, mask_tokens], dim=1)
        x = torch.gather(x_, dim=1, index=ids_restore.unsqueeze(-1).repeat(1, 1, x.shape[2]))
        pred = self.decoder_pred(self.decoder(x + self.pos_embed))
        target = patchify(imgs)
        mean, var = target.mean(dim=-1, keepdim=True), target.var(dim=-1, keepdim=True)
        target = (target - mean) / (var + 1.0e-6) ** 0.5
        loss = ((pred - target) ** 2).mean(dim=-1)
        return (loss * mask).sum() / mask.sum(), pred, mask


def make_images(rng, n):
    yy, xx = np.meshgrid(np.arange(img), np.arange(img), indexing="ij")
    phases = rng.uniform(0, 2 * np.pi, (n, 1, 1))
    freqs = rng.uniform(0.3, 0.8, (n, 1, 1))
    return torch.from_numpy(np.sin(freqs * (xx + yy)[None] + phases)[:, None].astype(np.float32))


rng = np.random.default_rng(0)
images = make_images(rng, 32)
model = init_from_numpy(MAE())
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, betas=(0.9, 0.95), weight_decay=0.05)
losses = []
for step in range(25):
    noise = rand(rng, 32, num_patches)
    loss, pred, mask = model(images, noise)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
print(
    f"masked-patch loss {losses[0]:.4f} -> {losses[-1]:.4f}; {int(mask[0].sum())}/{num_patches} patches masked"
)

unfolded = nn.Unfold(kernel_size=p, stride=p)(images)
refolded = nn.Fold(output_size=(img, img), kernel_size=p, stride=p)(unfolded)
fold_gap = (refolded - images).abs().max().item()
einsum_gap = (patchify(images) - unfolded.transpose(1, 2)).abs().max().item()
unpatchify_gap = (unpatchify(patchify(images)) - images).abs().max().item()
# overlapping windows: fold sums the overlaps, so fold(unfold(1)) counts them
counts = F.fold(F.unfold(torch.ones(1, 1, 6, 6), 3, stride=1), (6, 6), 3, stride=1)
print(
    f"fold gap {fold_gap}, einsum gap {einsum_gap}, overlap counts corner/center {counts[0, 0, 0, 0].item()}/{counts[0, 0, 3, 3].item()}"
)
