"""CycleGAN (Zhu et al.) made tiny, as junyanz/pytorch-CycleGAN-and-pix2pix writes it: ResNet
generators with ``ReflectionPad2d``, ``InstanceNorm2d`` and ``ConvTranspose2d(...,
output_padding=1)``, PatchGAN discriminators with ``LeakyReLU(0.2)``, the LSGAN loss
(``MSELoss`` against ``torch.tensor(1.0).expand_as(prediction)``), cycle and identity L1 losses,
one Adam for both generators through ``itertools.chain``, ``set_requires_grad`` to freeze the
discriminators during the generator step, an image pool of past fakes (NumPy-drawn choices),
and ``LambdaLR`` linear decay."""

import itertools

import numpy as np
import torch
import torch.nn as nn
from numpy_init import init_from_numpy, rand

rng = np.random.default_rng(171)


class ResnetBlock(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.conv_block = nn.Sequential(
            nn.ReflectionPad2d(1),
            nn.Conv2d(dim, dim, 3),
            nn.InstanceNorm2d(dim),
            nn.ReLU(True),
            nn.ReflectionPad2d(1),
            nn.Conv2d(dim, dim, 3),
            nn.InstanceNorm2d(dim),
        )

    def forward(self, x):
        return x + self.conv_block(x)


def generator(ngf=4):
    return nn.Sequential(
        nn.ReflectionPad2d(2),
        nn.Conv2d(1, ngf, 5),
        nn.InstanceNorm2d(ngf),
        nn.ReLU(True),
        nn.Conv2d(ngf, ngf * 2, 3, stride=2, padding=1),
        nn.InstanceNorm2d(ngf * 2),
        nn.ReLU(True),
        ResnetBlock(ngf * 2),
        nn.ConvTranspose2d(ngf * 2, ngf, 3, stride=2, padding=1, output_padding=1),
        nn.InstanceNorm2d(ngf),
        nn.ReLU(True),
        nn.ReflectionPad2d(2),
        nn.Conv2d(ngf, 1, 5),
        nn.Tanh(),
    )


def discriminator(ndf=4):
    return nn.Sequential(
        nn.Conv2d(1, ndf, 4, stride=2, padding=1),
        nn.LeakyReLU(0.2, True),
        nn.Conv2d(ndf, ndf * 2, 4, stride=2, padding=1),
        nn.InstanceNorm2d(ndf * 2),
        nn.LeakyReLU(0.2, True),
        nn.Conv2d(ndf * 2, 1, 3, padding=1),
    )


class GANLoss(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("real_label", torch.tensor(1.0))
        self.register_buffer("fake_label", torch.tensor(0.0))
        self.loss = nn.MSELoss()

    def __call__(self, prediction, target_is_real):
        target = (self.real_label if target_is_real else self.fake_label).expand_as(prediction)
        return self.loss(prediction, target)


class ImagePool:
    def __init__(self, size):
        self.size, self.images = size, []

    def query(self, images):
        out = []
        for image in images:
            image = image.unsqueeze(0)
            if len(self.images) < self.size:
                self.images.append(image)
                out.append(image)
            elif rng.random() > 0.5:
                i = int(rng.integers(self.size))
                out.append(self.images[i].clone())
                self.images[i] = image
            else:
                out.append(image)
        return torch.cat(out, 0)


def set_requires_grad(nets, requires_grad=False):
    for net in nets:
        for param in net.parameters():
            param.requires_grad = requires_grad


def domain_a(n):  # horizontal stripes
    return (
        torch.sin(torch.arange(12.0) * 1.5).view(1, 1, 12, 1).expand(n, 1, 12, 12) * 0.8
        + (rand(rng, n, 1, 12, 12) - 0.5) * 0.2
    )


def domain_b(n):  # vertical stripes
    return domain_a(n).transpose(2, 3)


netG_A, netG_B = init_from_numpy(generator(), 171), init_from_numpy(generator(), 172)
netD_A, netD_B = init_from_numpy(discriminator(), 173), init_from_numpy(discriminator(), 174)
criterionGAN, criterionCycle, criterionIdt = GANLoss(), nn.L1Loss(), nn.L1Loss()
optimizer_G = torch.optim.Adam(
    itertools.chain(netG_A.parameters(), netG_B.parameters()), lr=2e-3, betas=(0.5, 0.999)
)
optimizer_D = torch.optim.Adam(
    itertools.chain(netD_A.parameters(), netD_B.parameters()), lr=2e-3, betas=(0.5, 0.999)
)
n_epochs, n_decay = 3, 3
schedulers = [
    torch.optim.lr_scheduler.LambdaLR(
        opt, lambda epoch: 1.0 - max(0, epoch - n_epochs) / float(n_decay + 1)
    )
    for opt in (optimizer_G, optimizer_D)
]
fake_A_pool, fake_B_pool = ImagePool(4), ImagePool(4)
lambda_A = lambda_B = 10.0
lambda_idt = 0.5
g_losses, d_losses, lrs = [], [], []
for epoch in range(n_epochs + n_decay):
    real_A, real_B = domain_a(4), domain_b(4)
    fake_B = netG_A(real_A)
    rec_A = netG_B(fake_B)
    fake_A = netG_B(real_B)
    rec_B = netG_A(fake_A)
    set_requires_grad([netD_A, netD_B], False)
    optimizer_G.zero_grad()
    loss_idt_A = criterionIdt(netG_A(real_B), real_B) * lambda_B * lambda_idt
    loss_idt_B = criterionIdt(netG_B(real_A), real_A) * lambda_A * lambda_idt
    loss_G = (criterionGAN(netD_A(fake_B), True) + criterionGAN(netD_B(fake_A), True)
              + criterionCycle(rec_A, real_A) * lambda_A + criterionCycle(rec_B, real_B) * lambda_B
              + loss_idt_A + loss_idt_B)  # fmt: skip
    loss_G.backward()
    optimizer_G.step()
    set_requires_grad([netD_A, netD_B], True)
    optimizer_D.zero_grad()
    loss_D = 0.0
    for netD, real, fake in (
        (netD_A, real_B, fake_B_pool.query(fake_B)),
        (netD_B, real_A, fake_A_pool.query(fake_A)),
    ):
        loss = (criterionGAN(netD(real), True) + criterionGAN(netD(fake.detach()), False)) * 0.5
        loss.backward()
        loss_D = loss_D + loss.item()
    optimizer_D.step()
    for scheduler in schedulers:
        scheduler.step()
    g_losses.append(loss_G.item())
    d_losses.append(loss_D)
    lrs.append(optimizer_G.param_groups[0]["lr"])

frozen_grads = [p.grad is None for p in netD_A.parameters()]
output_shape = list(netG_A(domain_a(2)).shape)
cycle_error = criterionCycle(netG_B(netG_A(domain_a(4))), domain_a(4)).item()
print(f"G {g_losses[0]:.3f} -> {g_losses[-1]:.3f}; D {d_losses[0]:.3f} -> {d_losses[-1]:.3f}")
