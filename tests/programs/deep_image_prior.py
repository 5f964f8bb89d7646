"""Deep Image Prior denoising (Ulyanov et al. 2018) as its reference notebook writes it: a
skip encoder-decoder of ReflectionPad2d + Conv2d, BatchNorm2d and LeakyReLU(0.2) blocks with
bilinear ``nn.Upsample`` and channel-concatenated skips, CBAM-style attention (channel gate from
average- and max-pooled descriptors, spatial gate from the channel mean and max), fitted to ONE
noisy image from a fixed uniform noise input ``net_input`` perturbed each step by
``reg_noise_std * noise.normal_()`` (``net_input_saved.clone()``, ``noise = ...clone()``), with
the exponential average of the outputs (``out_avg = out_avg * 0.99 + out.detach() * 0.01``)
and PSNR against the clean image tracked every few steps; on one 16x16 image."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


def conv(in_f, out_f, kernel_size, stride=1):
    pad = (kernel_size - 1) // 2
    return nn.Sequential(
        nn.ReflectionPad2d(pad), nn.Conv2d(in_f, out_f, kernel_size, stride, padding=0)
    )


def block(in_f, out_f, kernel_size, stride=1):
    return nn.Sequential(
        conv(in_f, out_f, kernel_size, stride),
        nn.BatchNorm2d(out_f),
        nn.LeakyReLU(0.2, inplace=True),
    )


class CBAM(nn.Module):
    def __init__(self, channels, reduction=2):
        super().__init__()
        self.mlp = nn.Sequential(nn.Flatten(), nn.Linear(channels, channels // reduction), nn.ReLU(),
                                 nn.Linear(channels // reduction, channels))  # fmt: skip
        self.spatial = nn.Conv2d(2, 1, 7, padding=3, bias=False)

    def forward(self, x):
        avg = self.mlp(F.adaptive_avg_pool2d(x, 1))
        mx = self.mlp(F.adaptive_max_pool2d(x, 1))
        x = x * torch.sigmoid(avg + mx)[:, :, None, None]
        desc = torch.cat([x.mean(dim=1, keepdim=True), x.amax(dim=1, keepdim=True)], dim=1)
        return x * torch.sigmoid(self.spatial(desc))


class SkipNet(nn.Module):
    def __init__(self, input_depth=8, ch=16, skip_ch=4):
        super().__init__()
        self.down1 = nn.Sequential(block(input_depth, ch, 3, 2), block(ch, ch, 3))
        self.down2 = nn.Sequential(block(ch, ch, 3, 2), block(ch, ch, 3), CBAM(ch))
        self.skip1 = block(input_depth, skip_ch, 1)
        self.skip2 = block(ch, skip_ch, 1)
        self.up = nn.Upsample(scale_factor=2, mode="bilinear")
        self.dec2 = nn.Sequential(
            nn.BatchNorm2d(ch + skip_ch), block(ch + skip_ch, ch, 3), block(ch, ch, 1)
        )
        self.dec1 = nn.Sequential(
            nn.BatchNorm2d(ch + skip_ch), block(ch + skip_ch, ch, 3), block(ch, ch, 1)
        )
        self.out = nn.Sequential(conv(ch, 1, 1), nn.Sigmoid())

    def forward(self, x):
        d1 = self.down1(x)
        d2 = self.down2(d1)
        h = self.dec2(torch.cat([self.skip2(d1), self.up(d2)], 1))
        h = self.dec1(torch.cat([self.skip1(x), self.up(h)], 1))
        return self.out(h)


def get_noise(input_depth, spatial_size, var=1.0 / 10):
    net_input = torch.zeros([1, input_depth, spatial_size[0], spatial_size[1]])
    net_input.uniform_()
    net_input *= var
    return net_input


def psnr(a, b):
    return (10 * torch.log10(1.0 / F.mse_loss(a, b))).item()


grid = torch.linspace(0, 1, 16)
img_torch = (0.5 + 0.3 * torch.sin(6 * grid)[None, :] * torch.cos(4 * grid)[:, None])[None, None]
img_noisy_torch = (img_torch + torch.randn_like(img_torch) * 0.1).clamp(0, 1)
net = SkipNet()
net_input = get_noise(8, (16, 16)).detach()
net_input_saved = net_input.detach().clone()
noise = net_input.detach().clone()
reg_noise_std, out_avg = 1.0 / 30.0, None
optimizer = torch.optim.Adam(net.parameters(), lr=0.01)
losses, psnr_noisy, psnr_gt, psnr_avg = [], [], [], []
for i in range(60):
    optimizer.zero_grad()
    net_input = net_input_saved + (noise.normal_() * reg_noise_std)
    out = net(net_input)
    out_avg = out.detach() if out_avg is None else out_avg * 0.99 + out.detach() * 0.01
    total_loss = F.mse_loss(out, img_noisy_torch)
    total_loss.backward()
    optimizer.step()
    losses.append(total_loss.item())
    if i % 10 == 9:
        psnr_noisy.append(psnr(out.detach(), img_noisy_torch))
        psnr_gt.append(psnr(out.detach(), img_torch))
        psnr_avg.append(psnr(out_avg, img_torch))
noisy_psnr = psnr(img_noisy_torch, img_torch)
net.eval()
with torch.no_grad():
    eval_out = net(net_input_saved)
eval_stats = [eval_out.mean().item(), eval_out.std().item()]
pad_sample = nn.ReflectionPad2d(2)(torch.arange(9.0).view(1, 1, 3, 3))[0, 0, 0].tolist()
