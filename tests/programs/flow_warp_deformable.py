"""Warping with ``F.grid_sample`` as optical-flow and video code writes it (RAFT/PWC-Net's
``flow_warp``, BasicVSR): a pixel grid from ``torch.meshgrid(indexing="ij")`` plus a flow field,
normalized to [-1, 1] for ``align_corners=True`` and ``False``, sampled in every mode
(bilinear, nearest, bicubic) and padding mode (zeros, border, reflection); a dense flow field
fitted by gradient descent on a Charbonnier photometric loss plus a squared smoothness term; a 3-D
(volumetric) warp of a 5-D tensor; and a modulated deformable convolution (DCNv2) built from
``grid_sample`` per kernel tap and ``torch.einsum``, equal to ``F.conv2d`` at zero offsets."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


def base_grid(h, w):
    grid_y, grid_x = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    return torch.stack((grid_x, grid_y), 2).float()  # (h, w, 2), x first as grid_sample wants


def flow_warp(x, flow, mode="bilinear", padding_mode="zeros", align_corners=True):
    _, _, h, w = x.shape
    vgrid = base_grid(h, w) + flow.permute(0, 2, 3, 1)
    if align_corners:
        vx = 2.0 * vgrid[..., 0] / max(w - 1, 1) - 1.0
        vy = 2.0 * vgrid[..., 1] / max(h - 1, 1) - 1.0
    else:
        vx = (2.0 * vgrid[..., 0] + 1.0) / w - 1.0
        vy = (2.0 * vgrid[..., 1] + 1.0) / h - 1.0
    grid = torch.stack((vx, vy), dim=3)
    return F.grid_sample(x, grid, mode=mode, padding_mode=padding_mode, align_corners=align_corners)


image = torch.rand(1, 2, 7, 9)
flow = 1.7 * torch.randn(1, 2, 7, 9)
warps = {}
for mode in ("bilinear", "nearest", "bicubic"):
    for padding in ("zeros", "border", "reflection"):
        for align in (True, False):
            out = flow_warp(image, flow, mode, padding, align)
            warps[f"{mode}-{padding}-{align}"] = [out.sum().item(), out[0, 1, 3].tolist()]
shift = torch.zeros(1, 2, 7, 9)
shift[:, 0] = 2.0  # sample two pixels to the right: an integer shift is exact
shift_gap = (flow_warp(image, shift)[..., :-2] - image[..., 2:]).abs().max().item()

# fit a flow field: frame2 is frame1 moved by a smooth displacement
frame1 = F.avg_pool2d(torch.rand(1, 1, 20, 20), 3, stride=1, padding=1)
true_flow = torch.stack([torch.full((20, 20), 1.2), torch.full((20, 20), -0.6)])[None]
frame2 = flow_warp(frame1, -true_flow, padding_mode="border")
est = torch.zeros(1, 2, 20, 20, requires_grad=True)
optimizer = torch.optim.Adam([est], lr=0.15)
fit_losses = []
for _ in range(10):
    warped = flow_warp(frame2, est, padding_mode="border")
    photometric = torch.sqrt((warped - frame1) ** 2 + 1e-6).mean()  # Charbonnier
    dx, dy = est[..., :, 1:] - est[..., :, :-1], est[..., 1:, :] - est[..., :-1, :]
    loss = photometric + 0.05 * (dx.pow(2).mean() + dy.pow(2).mean())
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    fit_losses.append(loss.item())
mean_flow = est.detach()[0, :, 4:-4, 4:-4].mean((1, 2)).tolist()

# a volumetric warp: grid (N, D, H, W, 3) in (x, y, z) order
volume = torch.rand(1, 1, 4, 5, 6, requires_grad=True)
theta = torch.tensor([[[0.9, 0.1, 0.0, 0.05], [-0.1, 0.9, 0.0, 0.0], [0.0, 0.0, 1.0, 0.1]]])
grid3d = F.affine_grid(theta, (1, 1, 4, 5, 6), align_corners=False)
warped3d = F.grid_sample(volume, grid3d, align_corners=False, padding_mode="border")
(warped3d**2).sum().backward()
volume_info = [warped3d.sum().item(), volume.grad.sum().item(), volume.grad[0, 0, 1, 2].tolist()]


class DeformConv2d(nn.Module):
    """3x3 modulated deformable convolution, stride 1, padding 1."""

    def __init__(self, cin, cout):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin, 3, 3) * 0.2)
        self.offset_conv = nn.Conv2d(cin, 2 * 9 + 9, 3, padding=1)
        nn.init.zeros_(self.offset_conv.weight)
        nn.init.zeros_(self.offset_conv.bias)

    def forward(self, x):
        n, _, h, w = x.shape
        out = self.offset_conv(x)
        offsets, mask = out[:, :18], 2 * torch.sigmoid(out[:, 18:])  # mask = 1 at init
        taps = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
        sampled = []
        for k, (dy, dx) in enumerate(taps):
            tap_flow = offsets[:, 2 * k : 2 * k + 2] + torch.tensor([dx, dy]).view(1, 2, 1, 1)
            sampled.append(flow_warp(x, tap_flow) * mask[:, k : k + 1])
        cols = torch.stack(sampled, dim=2)  # (n, cin, 9, h, w)
        return torch.einsum("nckhw,ock->nohw", cols, self.weight.flatten(2))


deform = DeformConv2d(2, 3)
x = torch.randn(2, 2, 6, 6)
deform_gap = (deform(x) - F.conv2d(x, deform.weight, padding=1)).abs().max().item()
nn.init.normal_(deform.offset_conv.weight, std=0.3)
target = torch.randn(2, 3, 6, 6)
deform_opt = torch.optim.SGD(deform.parameters(), lr=0.1, momentum=0.9)
deform_losses = []
for _ in range(3):
    loss = F.mse_loss(deform(x), target)
    deform_opt.zero_grad()
    loss.backward()
    deform_opt.step()
    deform_losses.append(loss.item())
offset_grad = deform.offset_conv.bias.grad[:6].tolist()
print(f"shift gap {shift_gap:.1e}, flow {mean_flow}, deform gap {deform_gap:.1e}")
