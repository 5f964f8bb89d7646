"""ESRGAN (Wang et al. 2018) as BasicSR writes it: ResidualDenseBlock_5C (five 3x3 convs with
dense ``torch.cat`` connections, LeakyReLU(0.2), the output scaled by 0.2 before the
residual add), RRDB (three of them, scaled by 0.2 again), ``default_init_weights`` with
``init.kaiming_normal_`` times 0.1 under ``torch.no_grad()``, 2x upsampling by
``F.interpolate(mode="nearest")`` + conv; a perceptual loss on the features of a frozen
convolutional extractor (``requires_grad_(False)``, ``eval()``); the relativistic average GAN
loss (``BCEWithLogitsLoss`` on ``real - fake.mean()``); a first phase of L1 pretraining and
a second with perceptual + adversarial terms; on 8x8 -> 16x16 images of smooth blobs."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn import init

torch.manual_seed(0)


@torch.no_grad()
def default_init_weights(module_list, scale=1.0, bias_fill=0.0):
    if not isinstance(module_list, list):
        module_list = [module_list]
    for module in module_list:
        for m in module.modules():
            if isinstance(m, nn.Conv2d):
                init.kaiming_normal_(m.weight)
                m.weight.data *= scale
                if m.bias is not None:
                    m.bias.data.fill_(bias_fill)


class ResidualDenseBlock(nn.Module):
    def __init__(self, num_feat=16, num_grow_ch=8):
        super().__init__()
        self.conv1 = nn.Conv2d(num_feat, num_grow_ch, 3, 1, 1)
        self.conv2 = nn.Conv2d(num_feat + num_grow_ch, num_grow_ch, 3, 1, 1)
        self.conv3 = nn.Conv2d(num_feat + 2 * num_grow_ch, num_grow_ch, 3, 1, 1)
        self.conv4 = nn.Conv2d(num_feat + 3 * num_grow_ch, num_grow_ch, 3, 1, 1)
        self.conv5 = nn.Conv2d(num_feat + 4 * num_grow_ch, num_feat, 3, 1, 1)
        self.lrelu = nn.LeakyReLU(negative_slope=0.2, inplace=True)
        default_init_weights([self.conv1, self.conv2, self.conv3, self.conv4, self.conv5], 0.1)

    def forward(self, x):
        x1 = self.lrelu(self.conv1(x))
        x2 = self.lrelu(self.conv2(torch.cat((x, x1), 1)))
        x3 = self.lrelu(self.conv3(torch.cat((x, x1, x2), 1)))
        x4 = self.lrelu(self.conv4(torch.cat((x, x1, x2, x3), 1)))
        x5 = self.conv5(torch.cat((x, x1, x2, x3, x4), 1))
        return x5 * 0.2 + x  # empirically, scaling the residual by 0.2 stabilizes training


class RRDB(nn.Module):
    def __init__(self, num_feat, num_grow_ch=8):
        super().__init__()
        self.rdb1 = ResidualDenseBlock(num_feat, num_grow_ch)
        self.rdb2 = ResidualDenseBlock(num_feat, num_grow_ch)
        self.rdb3 = ResidualDenseBlock(num_feat, num_grow_ch)

    def forward(self, x):
        return self.rdb3(self.rdb2(self.rdb1(x))) * 0.2 + x


class RRDBNet(nn.Module):
    def __init__(self, num_feat=16, num_block=1):
        super().__init__()
        self.conv_first = nn.Conv2d(1, num_feat, 3, 1, 1)
        self.body = nn.Sequential(*[RRDB(num_feat) for _ in range(num_block)])
        self.conv_body = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv_up1 = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv_last = nn.Conv2d(num_feat, 1, 3, 1, 1)
        self.lrelu = nn.LeakyReLU(negative_slope=0.2, inplace=True)

    def forward(self, x):
        feat = self.conv_first(x)
        feat = feat + self.conv_body(self.body(feat))
        feat = self.lrelu(self.conv_up1(F.interpolate(feat, scale_factor=2, mode="nearest")))
        return self.conv_last(feat)


class PerceptualLoss(nn.Module):
    """L1 between the features of a frozen extractor (VGG's relu layers in ESRGAN)."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(),
                                      nn.Conv2d(8, 8, 3, padding=1), nn.ReLU())  # fmt: skip
        self.features.eval()
        for param in self.features.parameters():
            param.requires_grad = False

    def forward(self, x, gt):
        return F.l1_loss(self.features(x), self.features(gt.detach()))


def hr_images(n):
    grid = torch.linspace(-1, 1, 16)
    yy, xx = torch.meshgrid(grid, grid, indexing="ij")
    c = torch.rand(n, 3, 1, 1) * 1.4 - 0.7
    return torch.tanh(
        3
        * torch.exp(-((xx - c[:, :1]) ** 2 + (yy - c[:, 1:2]) ** 2) / (0.1 + 0.2 * c[:, 2:].abs()))
    )


net_g = RRDBNet()
# no bias on the last layer: the relativistic loss cancels it, so its gradient would be
# rounding noise that Adam turns into steps of +-lr
net_d = nn.Sequential(
    nn.Conv2d(1, 16, 3, 2, 1), nn.LeakyReLU(0.2, True), nn.Conv2d(16, 32, 3, 2, 1),
    nn.LeakyReLU(0.2, True), nn.Flatten(), nn.Linear(32 * 16, 1, bias=False),
)  # fmt: skip
cri_pix, cri_perceptual, cri_gan = nn.L1Loss(), PerceptualLoss(), nn.BCEWithLogitsLoss()
opt_g = torch.optim.Adam(net_g.parameters(), lr=2e-3, betas=(0.9, 0.99))
opt_d = torch.optim.Adam(net_d.parameters(), lr=1e-3, betas=(0.9, 0.99))
frozen_grads = []

pretrain_losses = []
for step in range(20):  # phase 1: PSNR-oriented
    gt = hr_images(8)
    lq = F.avg_pool2d(gt, 2)
    l_pix = cri_pix(net_g(lq), gt)
    opt_g.zero_grad()
    l_pix.backward()
    opt_g.step()
    pretrain_losses.append(l_pix.item())

g_losses, d_losses = [], []
for step in range(10):  # phase 2: perceptual + relativistic adversarial
    gt = hr_images(8)
    lq = F.avg_pool2d(gt, 2)
    for p in net_d.parameters():
        p.requires_grad = False
    output = net_g(lq)
    real_d_pred = net_d(gt).detach()
    fake_g_pred = net_d(output)
    l_g_real = cri_gan(real_d_pred - torch.mean(fake_g_pred), torch.zeros_like(real_d_pred))
    l_g_fake = cri_gan(fake_g_pred - torch.mean(real_d_pred), torch.ones_like(fake_g_pred))
    l_g_total = (
        0.01 * cri_pix(output, gt) + cri_perceptual(output, gt) + 0.005 * (l_g_real + l_g_fake) / 2
    )
    opt_g.zero_grad()
    l_g_total.backward()
    opt_g.step()
    frozen_grads.append(any(p.grad is not None for p in cri_perceptual.parameters()))
    for p in net_d.parameters():
        p.requires_grad = True
    opt_d.zero_grad()
    fake_d_pred = net_d(output).detach()
    real_d_pred = net_d(gt)
    l_d_real = cri_gan(real_d_pred - torch.mean(fake_d_pred), torch.ones_like(real_d_pred)) * 0.5
    l_d_real.backward()
    fake_d_pred = net_d(output.detach())
    l_d_fake = (
        cri_gan(fake_d_pred - torch.mean(real_d_pred.detach()), torch.zeros_like(fake_d_pred)) * 0.5
    )
    l_d_fake.backward()
    opt_d.step()
    g_losses.append(l_g_total.item())
    d_losses.append((l_d_real + l_d_fake).item())

net_g.eval()
with torch.no_grad():
    gt = hr_images(16)
    lq = F.avg_pool2d(gt, 2)
    sr = net_g(lq)
    psnr = lambda a, b: (10 * torch.log10(4.0 / F.mse_loss(a, b))).item()  # noqa: E731
    psnr_model = psnr(sr, gt)
    psnr_nearest = psnr(F.interpolate(lq, scale_factor=2, mode="nearest"), gt)
init_std = ResidualDenseBlock().conv1.weight.std().item()
