"""Self-supervised depth from stereo as Monodepth (Godard et al. 2017) and Monodepth2 write
it: a small encoder-decoder predicting a sigmoid disparity map, the right image warped into
the left view by ``F.grid_sample`` at x - disparity (``padding_mode="border"``), the
photometric loss ``0.85 * (1 - SSIM) / 2 + 0.15 * L1`` with Monodepth2's SSIM module
(``nn.ReflectionPad2d(1)`` + ``nn.AvgPool2d(3, 1)`` statistics, C1 = 0.01^2, C2 = 0.03^2,
clamped), the edge-aware smoothness ``|d_x disp| * exp(-mean |d_x img|)`` on the
mean-normalized disparity, and a multi-scale sum over decoder outputs resized by
``F.interpolate``; on 16x24 random textures whose right view is shifted by a per-image
disparity."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
H, W, max_disp = 16, 24, 0.3  # disparity as a fraction of the width


class SSIM(nn.Module):
    def __init__(self):
        super().__init__()
        self.mu_x_pool, self.mu_y_pool = nn.AvgPool2d(3, 1), nn.AvgPool2d(3, 1)
        self.sig_x_pool, self.sig_y_pool, self.sig_xy_pool = (
            nn.AvgPool2d(3, 1),
            nn.AvgPool2d(3, 1),
            nn.AvgPool2d(3, 1),
        )
        self.refl = nn.ReflectionPad2d(1)
        self.C1, self.C2 = 0.01**2, 0.03**2

    def forward(self, x, y):
        x, y = self.refl(x), self.refl(y)
        mu_x, mu_y = self.mu_x_pool(x), self.mu_y_pool(y)
        sigma_x = self.sig_x_pool(x**2) - mu_x**2
        sigma_y = self.sig_y_pool(y**2) - mu_y**2
        sigma_xy = self.sig_xy_pool(x * y) - mu_x * mu_y
        SSIM_n = (2 * mu_x * mu_y + self.C1) * (2 * sigma_xy + self.C2)
        SSIM_d = (mu_x**2 + mu_y**2 + self.C1) * (sigma_x + sigma_y + self.C2)
        return torch.clamp((1 - SSIM_n / SSIM_d) / 2, 0, 1)


def get_smooth_loss(disp, img):
    grad_disp_x = torch.abs(disp[:, :, :, :-1] - disp[:, :, :, 1:])
    grad_disp_y = torch.abs(disp[:, :, :-1, :] - disp[:, :, 1:, :])
    grad_img_x = torch.mean(torch.abs(img[:, :, :, :-1] - img[:, :, :, 1:]), 1, keepdim=True)
    grad_img_y = torch.mean(torch.abs(img[:, :, :-1, :] - img[:, :, 1:, :]), 1, keepdim=True)
    grad_disp_x *= torch.exp(-grad_img_x)
    grad_disp_y *= torch.exp(-grad_img_y)
    return grad_disp_x.mean() + grad_disp_y.mean()


class DispNet(nn.Module):
    def __init__(self, ch=16):
        super().__init__()
        self.enc1 = nn.Sequential(nn.Conv2d(6, ch, 3, 2, 1), nn.ELU())
        self.enc2 = nn.Sequential(nn.Conv2d(ch, ch * 2, 3, 2, 1), nn.ELU())
        self.dec2 = nn.Sequential(nn.Conv2d(ch * 2, ch, 3, 1, 1), nn.ELU())
        self.dec1 = nn.Sequential(nn.Conv2d(ch * 2, ch, 3, 1, 1), nn.ELU())
        self.disp2, self.disp1 = nn.Conv2d(ch, 1, 3, 1, 1), nn.Conv2d(ch, 1, 3, 1, 1)

    def forward(self, left, right):
        e1 = self.enc1(torch.cat([left, right], 1))
        e2 = self.enc2(e1)
        d2 = self.dec2(e2)
        d1 = self.dec1(torch.cat([F.interpolate(d2, scale_factor=2, mode="nearest"), e1], 1))
        return [torch.sigmoid(self.disp1(d1)), torch.sigmoid(self.disp2(d2))]  # scales 1/2, 1/4


def warp(right, disp):
    """Sample the right image at x - disp * W (disp in [0, 1] of max_disp)."""
    n, _, h, w = right.shape
    ys, xs = torch.meshgrid(torch.linspace(-1, 1, h), torch.linspace(-1, 1, w), indexing="ij")
    grid = torch.stack([xs.expand(n, h, w) - 2 * max_disp * disp[:, 0], ys.expand(n, h, w)], dim=3)
    return F.grid_sample(right, grid, mode="bilinear", padding_mode="border", align_corners=True)


def stereo_pairs(n):
    base = F.interpolate(
        torch.rand(n, 3, 6, 9), size=(H, W + 8), mode="bicubic", align_corners=False
    )
    shifts = torch.randint(1, 5, (n,))
    left = base[..., 4 : 4 + W]
    right = torch.stack([base[i, :, :, 4 + int(s) : 4 + int(s) + W] for i, s in enumerate(shifts)])
    return left, right, shifts.float() / ((W - 1) * max_disp)  # in warp's units


ssim = SSIM()
model = DispNet()
optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
losses, photo_losses = [], []
for step in range(40):
    left, right, _ = stereo_pairs(8)
    total = 0
    for scale, disp in enumerate(model(left, right)):
        disp = F.interpolate(disp, size=(H, W), mode="bilinear", align_corners=False)
        pred = warp(right, disp)
        abs_diff = torch.abs(left - pred)
        reprojection = 0.85 * ssim(pred, left).mean(1, keepdim=True) + 0.15 * abs_diff.mean(
            1, keepdim=True
        )
        norm_disp = disp / (disp.mean(2, True).mean(3, True) + 1e-7)
        smooth = get_smooth_loss(norm_disp, left)
        total = total + reprojection.mean() + 1e-3 * smooth / (2**scale)
        if scale == 0:
            photo_losses.append(reprojection.mean().item())
    loss = total / 2
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())

with torch.no_grad():
    left, right, true_disp = stereo_pairs(8)
    disp = F.interpolate(model(left, right)[0], size=(H, W), mode="bilinear", align_corners=False)
    identity_photo = (0.85 * ssim(right, left) + 0.15 * (left - right).abs()).mean().item()
    warped_photo = (
        (0.85 * ssim(warp(right, disp), left) + 0.15 * (left - warp(right, disp)).abs())
        .mean()
        .item()
    )
    disp_means = disp.mean((1, 2, 3)).tolist()
    disp_error = (disp.mean((1, 2, 3)) - true_disp).abs().mean().item()
    zero_error = true_disp.mean().item()
    ssim_self = ssim(left, left).max().item()
