"""pix2pix (Isola et al. 2017) as its PyTorch port writes it: a U-Net generator of
Conv2d(4, 2, 1) / ConvTranspose2d(4, 2, 1) blocks with skip connections by ``torch.cat``,
BatchNorm2d and Dropout(0.5) in the decoder, a 70x70-style PatchGAN discriminator on the
concatenated (input, output) pair, ``weights_init`` with ``nn.init.normal_(w, 0.0, 0.02)``
applied by ``module.apply``, and the GANLoss of the reference code (BCEWithLogitsLoss against
``torch.tensor(1.0).expand_as(prediction)`` targets) plus lambda * L1; on 16x16 images that map
outlines of squares to filled squares."""

import torch
import torch.nn as nn

torch.manual_seed(0)
size = 16


class UnetSkipConnectionBlock(nn.Module):
    def __init__(self, outer_nc, inner_nc, submodule=None, outermost=False, innermost=False,
                 use_dropout=False):  # fmt: skip
        super().__init__()
        self.outermost = outermost
        downconv = nn.Conv2d(outer_nc, inner_nc, kernel_size=4, stride=2, padding=1, bias=False)
        downrelu, downnorm = nn.LeakyReLU(0.2, True), nn.BatchNorm2d(inner_nc)
        uprelu, upnorm = nn.ReLU(True), nn.BatchNorm2d(outer_nc)
        if outermost:
            upconv = nn.ConvTranspose2d(inner_nc * 2, outer_nc, kernel_size=4, stride=2, padding=1)
            model = [downconv, submodule, uprelu, upconv, nn.Tanh()]
        elif innermost:
            upconv = nn.ConvTranspose2d(inner_nc, outer_nc, 4, 2, 1, bias=False)
            model = [downrelu, downconv, uprelu, upconv, upnorm]
        else:
            upconv = nn.ConvTranspose2d(inner_nc * 2, outer_nc, 4, 2, 1, bias=False)
            model = [downrelu, downconv, downnorm, submodule, uprelu, upconv, upnorm]
            if use_dropout:
                model += [nn.Dropout(0.5)]
        self.model = nn.Sequential(*model)

    def forward(self, x):
        if self.outermost:
            return self.model(x)
        return torch.cat([x, self.model(x)], 1)  # the skip connection


def unet(ngf=8):
    block = UnetSkipConnectionBlock(ngf * 4, ngf * 4, innermost=True)
    block = UnetSkipConnectionBlock(ngf * 2, ngf * 4, submodule=block, use_dropout=True)
    block = UnetSkipConnectionBlock(ngf, ngf * 2, submodule=block)
    return UnetSkipConnectionBlock(1, ngf, submodule=block, outermost=True)


class NLayerDiscriminator(nn.Module):
    def __init__(self, input_nc, ndf=8, n_layers=2):
        super().__init__()
        seq = [nn.Conv2d(input_nc, ndf, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        mult = 1
        for n in range(1, n_layers):
            prev, mult = mult, min(2**n, 8)
            seq += [nn.Conv2d(ndf * prev, ndf * mult, 4, 2, 1, bias=False),
                    nn.BatchNorm2d(ndf * mult), nn.LeakyReLU(0.2, True)]  # fmt: skip
        seq += [nn.Conv2d(ndf * mult, 1, kernel_size=4, stride=1, padding=1)]
        self.model = nn.Sequential(*seq)

    def forward(self, x):
        return self.model(x)


class GANLoss(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("real_label", torch.tensor(1.0))
        self.register_buffer("fake_label", torch.tensor(0.0))
        self.loss = nn.BCEWithLogitsLoss()

    def __call__(self, prediction, target_is_real):
        target = self.real_label if target_is_real else self.fake_label
        return self.loss(prediction, target.expand_as(prediction))


def weights_init(m):
    classname = m.__class__.__name__
    if hasattr(m, "weight") and (classname.find("Conv") != -1):
        nn.init.normal_(m.weight.data, 0.0, 0.02)
        if hasattr(m, "bias") and m.bias is not None:
            nn.init.constant_(m.bias.data, 0.0)
    elif classname.find("BatchNorm2d") != -1:
        nn.init.normal_(m.weight.data, 1.0, 0.02)
        nn.init.constant_(m.bias.data, 0.0)


def make_pairs(n):
    """Outlines of random squares (input) and the same squares filled (target), in [-1, 1]."""
    filled = torch.zeros(n, 1, size, size)
    outline = torch.zeros(n, 1, size, size)
    corners = torch.randint(1, 7, (n, 2))
    sides = torch.randint(5, 9, (n,))
    for i in range(n):
        (r, c), s = corners[i].tolist(), int(sides[i])
        filled[i, :, r : r + s, c : c + s] = 1
        outline[i, :, r : r + s, c : c + s] = 1
        outline[i, :, r + 1 : r + s - 1, c + 1 : c + s - 1] = 0
    return outline * 2 - 1, filled * 2 - 1


netG, netD = unet(), NLayerDiscriminator(2)
netG.apply(weights_init)
netD.apply(weights_init)
criterionGAN, criterionL1, lambda_L1 = GANLoss(), nn.L1Loss(), 100.0
optimizer_G = torch.optim.Adam(netG.parameters(), lr=2e-3, betas=(0.5, 0.999))
optimizer_D = torch.optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
real_A, real_B = make_pairs(64)
patch_shape = tuple(netD(torch.cat((real_A[:2], real_B[:2]), 1)).shape)

d_losses, g_gan, g_l1 = [], [], []
for step in range(30):
    idx = torch.randperm(64)[:16]
    A, B = real_A[idx], real_B[idx]
    fake_B = netG(A)
    # update D: fake pairs detached, real pairs, averaged
    optimizer_D.zero_grad()
    loss_D_fake = criterionGAN(netD(torch.cat((A, fake_B), 1).detach()), False)
    loss_D_real = criterionGAN(netD(torch.cat((A, B), 1)), True)
    loss_D = (loss_D_fake + loss_D_real) * 0.5
    loss_D.backward()
    optimizer_D.step()
    # update G: D's parameters frozen with requires_grad_(False), as set_requires_grad does
    for p in netD.parameters():
        p.requires_grad_(False)
    optimizer_G.zero_grad()
    loss_G_GAN = criterionGAN(netD(torch.cat((A, fake_B), 1)), True)
    loss_G_L1 = criterionL1(fake_B, B) * lambda_L1
    (loss_G_GAN + loss_G_L1).backward()
    optimizer_G.step()
    for p in netD.parameters():
        p.requires_grad_(True)
    d_losses.append(loss_D.item())
    g_gan.append(loss_G_GAN.item())
    g_l1.append(loss_G_L1.item())

netG.eval()
with torch.no_grad():
    test_A, test_B = make_pairs(16)
    out = netG(test_A)
    pixel_accuracy = ((out > 0) == (test_B > 0)).float().mean().item()
    eval_l1 = (out - test_B).abs().mean().item()
d_grad_none = all(p.grad is not None for p in netD.parameters())
n_params = sum(p.numel() for p in netG.parameters())
