"""StyleGAN2's pieces as rosinality's stylegan2-pytorch writes them: EqualLinear / EqualConv
with weights scaled by 1/sqrt(fan_in) at run time (equalized learning rate, lr_mul for the
mapping network), PixelNorm, a mapping network, ModulatedConv2d that folds the batch into the
groups of one F.conv2d call (weight demodulated by rsqrt of its squared sum), upsampling with
the grouped F.conv_transpose2d, NoiseInjection with a learned strength, ToRGB with skip
upsampling by F.interpolate, the non-saturating logistic loss with F.softplus, lazy R1
regularization by autograd.grad(create_graph=True) on the real images, style mixing, and the
truncation trick around the mean latent; on 8x8 two-blob images."""

import math

import torch
import torch.nn.functional as F
from torch import autograd, nn

torch.manual_seed(0)
style_dim, size = 16, 8


class PixelNorm(nn.Module):
    def forward(self, input):
        return input * torch.rsqrt(torch.mean(input**2, dim=1, keepdim=True) + 1e-8)


class EqualLinear(nn.Module):
    def __init__(self, in_dim, out_dim, bias_init=0.0, lr_mul=1.0, activation=False):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_dim, in_dim).div_(lr_mul))
        self.bias = nn.Parameter(torch.zeros(out_dim).fill_(bias_init))
        self.activation, self.lr_mul = activation, lr_mul
        self.scale = (1 / math.sqrt(in_dim)) * lr_mul

    def forward(self, input):
        out = F.linear(input, self.weight * self.scale, bias=self.bias * self.lr_mul)
        return F.leaky_relu(out, 0.2) * math.sqrt(2) if self.activation else out


class ModulatedConv2d(nn.Module):
    def __init__(self, in_channel, out_channel, kernel_size, demodulate=True, upsample=False):
        super().__init__()
        self.eps, self.kernel_size = 1e-8, kernel_size
        self.in_channel, self.out_channel = in_channel, out_channel
        self.upsample, self.demodulate = upsample, demodulate
        self.scale = 1 / math.sqrt(in_channel * kernel_size**2)
        self.padding = kernel_size // 2
        self.weight = nn.Parameter(
            torch.randn(1, out_channel, in_channel, kernel_size, kernel_size)
        )
        self.modulation = EqualLinear(style_dim, in_channel, bias_init=1)

    def forward(self, input, style):
        batch, in_channel, height, width = input.shape
        style = self.modulation(style).view(batch, 1, in_channel, 1, 1)
        weight = self.scale * self.weight * style
        if self.demodulate:
            demod = torch.rsqrt(weight.pow(2).sum([2, 3, 4]) + 1e-8)
            weight = weight * demod.view(batch, self.out_channel, 1, 1, 1)
        weight = weight.view(
            batch * self.out_channel, in_channel, self.kernel_size, self.kernel_size
        )
        if self.upsample:
            input = input.view(1, batch * in_channel, height, width)
            weight = weight.view(
                batch, self.out_channel, in_channel, self.kernel_size, self.kernel_size
            )
            weight = weight.transpose(1, 2).reshape(
                batch * in_channel, self.out_channel, self.kernel_size, self.kernel_size
            )
            out = F.conv_transpose2d(
                input, weight, padding=1, stride=2, output_padding=1, groups=batch
            )
        else:
            input = input.view(1, batch * in_channel, height, width)
            out = F.conv2d(input, weight, padding=self.padding, groups=batch)
        return out.view(batch, self.out_channel, *out.shape[2:])


class NoiseInjection(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))

    def forward(self, image, noise=None):
        if noise is None:
            batch, _, height, width = image.shape
            noise = image.new_empty(batch, 1, height, width).normal_()
        return image + self.weight * noise


class StyledConv(nn.Module):
    def __init__(self, in_channel, out_channel, upsample=False):
        super().__init__()
        self.conv = ModulatedConv2d(in_channel, out_channel, 3, upsample=upsample)
        self.noise = NoiseInjection()
        self.bias = nn.Parameter(torch.zeros(1, out_channel, 1, 1))

    def forward(self, input, style):
        out = self.noise(self.conv(input, style))
        return F.leaky_relu(out + self.bias, 0.2) * math.sqrt(2)  # fused_leaky_relu


class ToRGB(nn.Module):
    def __init__(self, in_channel):
        super().__init__()
        self.conv = ModulatedConv2d(in_channel, 1, 1, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(1, 1, 1, 1))

    def forward(self, input, style, skip=None):
        out = self.conv(input, style) + self.bias
        if skip is not None:
            out = out + F.interpolate(skip, scale_factor=2, mode="bilinear", align_corners=False)
        return out


class Generator(nn.Module):
    def __init__(self, ch=16, n_mlp=3):
        super().__init__()
        layers = [PixelNorm()] + [EqualLinear(style_dim, style_dim, lr_mul=0.01, activation=True)
                                  for _ in range(n_mlp)]  # fmt: skip
        self.style = nn.Sequential(*layers)
        self.input = nn.Parameter(torch.randn(1, ch, 4, 4))
        self.conv1, self.to_rgb1 = StyledConv(ch, ch), ToRGB(ch)
        self.up, self.conv2, self.to_rgb2 = StyledConv(ch, ch, True), StyledConv(ch, ch), ToRGB(ch)
        self.n_latent = 4

    def forward(self, styles, truncation=1.0, truncation_latent=None, inject_index=None):
        styles = [self.style(s) for s in styles]
        if truncation < 1:
            styles = [truncation_latent + truncation * (s - truncation_latent) for s in styles]
        if len(styles) < 2:
            latent = styles[0].unsqueeze(1).repeat(1, self.n_latent, 1)
        else:  # style mixing: the first styles until inject_index, the second after it
            latent = styles[0].unsqueeze(1).repeat(1, inject_index, 1)
            latent2 = styles[1].unsqueeze(1).repeat(1, self.n_latent - inject_index, 1)
            latent = torch.cat([latent, latent2], 1)
        out = self.input.repeat(latent.shape[0], 1, 1, 1)
        out = self.conv1(out, latent[:, 0])
        skip = self.to_rgb1(out, latent[:, 1])
        out = self.conv2(self.up(out, latent[:, 1]), latent[:, 2])
        return self.to_rgb2(out, latent[:, 3], skip)

    def mean_latent(self, n_latent):
        return self.style(torch.randn(n_latent, style_dim)).mean(0, keepdim=True)


discriminator = nn.Sequential(
    nn.Conv2d(1, 16, 3, padding=1), nn.LeakyReLU(0.2), nn.AvgPool2d(2),
    nn.Conv2d(16, 32, 3, padding=1), nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(32 * 16, 1),
)  # fmt: skip


def real_images(n):
    grid = torch.linspace(-1, 1, size)
    yy, xx = torch.meshgrid(grid, grid, indexing="ij")
    centers = torch.rand(n, 2, 1, 1) * 1.2 - 0.6
    blob = torch.exp(-((xx - centers[:, :1]) ** 2 + (yy - centers[:, 1:]) ** 2) / 0.1)
    return blob * 2 - 1


def d_r1_loss(real_pred, real_img):
    (grad_real,) = autograd.grad(outputs=real_pred.sum(), inputs=real_img, create_graph=True)
    return grad_real.pow(2).reshape(grad_real.shape[0], -1).sum(1).mean()


generator = Generator()
batch, r1, d_reg_every = 8, 1.0, 4
d_reg_ratio = d_reg_every / (d_reg_every + 1)  # lazy regularization rescales lr and betas
g_optim = torch.optim.Adam(generator.parameters(), lr=2e-3, betas=(0.0, 0.99))
d_optim = torch.optim.Adam(
    discriminator.parameters(), lr=2e-3 * d_reg_ratio, betas=(0**d_reg_ratio, 0.99**d_reg_ratio)
)
try:
    torch.optim.Adam(generator.parameters(), betas=(0, 0.99))
except ValueError as error:
    int_betas_error = str(error)
d_losses, g_losses, r1_losses = [], [], []
for i in range(24):
    real_img = real_images(batch)
    noise = [torch.randn(batch, style_dim)]
    fake_img = generator(noise)
    d_loss = (
        F.softplus(discriminator(fake_img.detach())).mean()
        + F.softplus(-discriminator(real_img)).mean()
    )
    d_optim.zero_grad()
    d_loss.backward()
    d_optim.step()
    if i % d_reg_every == 0:
        real_img.requires_grad = True
        r1_loss = d_r1_loss(discriminator(real_img), real_img)
        d_optim.zero_grad()
        (r1 / 2 * r1_loss * d_reg_every).backward()
        d_optim.step()
        r1_losses.append(r1_loss.item())
    g_loss = F.softplus(-discriminator(generator([torch.randn(batch, style_dim)]))).mean()
    g_optim.zero_grad()
    g_loss.backward()
    g_optim.step()
    d_losses.append(d_loss.item())
    g_losses.append(g_loss.item())

with torch.no_grad():
    mean_latent = generator.mean_latent(64)
    z = torch.randn(2, style_dim)
    plain = generator([z])
    truncated = generator([z], truncation=0.5, truncation_latent=mean_latent)
    mixed = generator([z, z.flip(0)], inject_index=2)
sample_shape = tuple(plain.shape)
truncation_spread = [plain.std().item(), truncated.std().item()]
mix_sample = mixed[0, 0, 3].tolist()
noise_strengths = [generator.conv1.noise.weight.item(), generator.conv2.noise.weight.item()]
mapping_weight_sample = generator.style[1].weight[0, :4].tolist()
