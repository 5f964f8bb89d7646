"""Image-quality metrics as written in restoration code (pytorch-msssim, basicsr, kornia style):
PSNR from an MSE per image with ``log10`` on 8-bit and [0, 1] ranges, SSIM with a separable
Gaussian window applied by depthwise ``conv2d(groups=C)`` ("valid" and reflect-padded), the
contrast-structure term kept for MS-SSIM, MS-SSIM over scales by ``avg_pool2d`` with the
standard weights, a gradient-magnitude (Sobel) similarity, and a small denoiser trained with an
(1 - MS-SSIM) + L1 loss, whose gradient flows through every one of these."""

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy, rand, randn

rng = np.random.default_rng(0)


def gaussian_window(size=11, sigma=1.5):
    coords = torch.arange(size, dtype=torch.float32) - size // 2
    g = torch.exp(-(coords**2) / (2 * sigma**2))
    return g / g.sum()


def gaussian_filter(x, win):
    c = x.shape[1]
    kh = win.view(1, 1, -1, 1).repeat(c, 1, 1, 1)
    kw = win.view(1, 1, 1, -1).repeat(c, 1, 1, 1)
    return F.conv2d(F.conv2d(x, kh, groups=c), kw, groups=c)


def ssim_terms(x, y, win, data_range=1.0, k1=0.01, k2=0.03):
    c1, c2 = (k1 * data_range) ** 2, (k2 * data_range) ** 2
    mu_x, mu_y = gaussian_filter(x, win), gaussian_filter(y, win)
    sxx = gaussian_filter(x * x, win) - mu_x**2
    syy = gaussian_filter(y * y, win) - mu_y**2
    sxy = gaussian_filter(x * y, win) - mu_x * mu_y
    cs_map = (2 * sxy + c2) / (sxx + syy + c2)
    ssim_map = (2 * mu_x * mu_y + c1) / (mu_x**2 + mu_y**2 + c1) * cs_map
    return ssim_map.flatten(2).mean(-1), cs_map.flatten(2).mean(-1)  # (N, C)


def ssim(x, y, win, data_range=1.0):
    return ssim_terms(x, y, win, data_range)[0].mean(1)


def ms_ssim(x, y, win, weights):
    levels = weights.numel()
    mcs = []
    for i in range(levels):
        s, cs = ssim_terms(x, y, win)
        if i < levels - 1:
            mcs.append(torch.relu(cs))
            pad = [s % 2 for s in x.shape[2:]]
            x = F.avg_pool2d(x, kernel_size=2, padding=pad)
            y = F.avg_pool2d(y, kernel_size=2, padding=pad)
    stack = torch.stack(mcs + [torch.relu(s)], dim=0)  # (levels, N, C)
    return torch.prod(stack ** weights.view(-1, 1, 1), dim=0).mean(1)


def psnr(x, y, data_range=1.0):
    mse = ((x - y) ** 2).flatten(1).mean(1)
    return 10 * torch.log10(data_range**2 / mse)


def gradient_similarity(x, y, c=0.0026):
    sobel = torch.tensor([[1.0, 0, -1], [2, 0, -2], [1, 0, -1]])
    k = torch.stack([sobel, sobel.t()]).unsqueeze(1)
    gx = F.conv2d(F.pad(x.mean(1, keepdim=True), (1, 1, 1, 1), mode="replicate"), k)
    gy = F.conv2d(F.pad(y.mean(1, keepdim=True), (1, 1, 1, 1), mode="replicate"), k)
    mx, my = gx.norm(dim=1), gy.norm(dim=1)
    return ((2 * mx * my + c) / (mx**2 + my**2 + c)).flatten(1).mean(1)


# smooth "clean" images and noisy copies.
N, C, S = 2, 3, 32
base = F.interpolate(rand(rng, N, C, 6, 6), size=(S, S), mode="bicubic", align_corners=False)
clean = base.clamp(0, 1)
noisy = (clean + 0.1 * randn(rng, N, C, S, S)).clamp(0, 1)
win = gaussian_window()

psnr_values = psnr(noisy, clean).tolist()
psnr_uint8 = psnr((noisy * 255).round().to(torch.uint8).float(), (clean * 255).round(), 255.0)
ssim_values = ssim(noisy, clean, win).tolist()
ssim_self = ssim(clean, clean, win).tolist()
ssim_padded = ssim_terms(
    F.pad(noisy, (5, 5, 5, 5), mode="reflect"), F.pad(clean, (5,) * 4, mode="reflect"), win
)[0]
weights = torch.tensor([0.0448, 0.2856, 0.3001, 0.2363, 0.1333])
ms_values = ms_ssim(noisy, clean, win[3:-3] / win[3:-3].sum(), weights[:3] / weights[:3].sum())
gms = gradient_similarity(noisy, clean).tolist()
metrics = [psnr_values, psnr_uint8.tolist(), ssim_values, ssim_padded.tolist(), ms_values.tolist()]
window_values = [win.sum().item(), win[5].item(), win.shape[0]]


class Denoiser(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(C, 12, 3, padding=1), nn.ReLU(), nn.Conv2d(12, C, 3, padding=1)
        )

    def forward(self, x):
        return (x - self.body(x)).clamp(0, 1)


model = init_from_numpy(Denoiser(), seed=1)
opt = torch.optim.Adam(model.parameters(), lr=5e-3)
small_win = gaussian_window(7, 1.5)
ms_w = weights[:2] / weights[:2].sum()
losses = []
for step in range(8):
    out = model(noisy)
    loss = 0.84 * (1 - ms_ssim(out, clean, small_win, ms_w)).mean() + 0.16 * F.l1_loss(out, clean)
    opt.zero_grad()
    loss.backward()
    if step == 0:
        first_grad = model.body[0].weight.grad[0, 0].flatten().tolist()
    opt.step()
    losses.append(loss.item())
with torch.no_grad():
    denoised = model(noisy)
after = [psnr(denoised, clean).tolist(), ssim(denoised, clean, win).tolist()]
gain = psnr(denoised, clean).mean().item() - psnr(noisy, clean).mean().item()
log_check = math.isclose(
    psnr_values[0], -10 * math.log10(((noisy - clean) ** 2)[0].mean().item()), rel_tol=1e-5
)
