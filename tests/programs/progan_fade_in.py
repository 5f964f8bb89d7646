"""Aladdin Persson's ProGAN from scratch: equalized-learning-rate ``WSConv2d`` (weights scaled
by ``(gain / fan_in) ** 0.5`` at run time, bias kept apart and added with ``view``),
``PixelNorm``, the generator's ``ConvTranspose2d`` 1x1 -> 4x4 start and its ``fade_in``
(``tanh(alpha * upscaled + (1 - alpha) * generated)``), the critic's ``fade_in`` of a
downscaled ``AvgPool2d`` path, its minibatch standard-deviation channel, and a WGAN-GP step
(``torch.autograd.grad`` with ``create_graph``) with ``alpha`` growing every batch."""

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

factors = [1, 1, 1 / 2]


class WSConv2d(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size=3, stride=1, padding=1, gain=2):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding)
        self.scale = (gain / (in_channels * (kernel_size**2))) ** 0.5
        self.bias = self.conv.bias
        self.conv.bias = None
        nn.init.normal_(self.conv.weight)
        nn.init.zeros_(self.bias)

    def forward(self, x):
        return self.conv(x * self.scale) + self.bias.view(1, self.bias.shape[0], 1, 1)


class PixelNorm(nn.Module):
    def __init__(self):
        super().__init__()
        self.epsilon = 1e-8

    def forward(self, x):
        return x / torch.sqrt(torch.mean(x**2, dim=1, keepdim=True) + self.epsilon)


class ConvBlock(nn.Module):
    def __init__(self, in_channels, out_channels, use_pixelnorm=True):
        super().__init__()
        self.use_pn = use_pixelnorm
        self.conv1 = WSConv2d(in_channels, out_channels)
        self.conv2 = WSConv2d(out_channels, out_channels)
        self.leaky = nn.LeakyReLU(0.2)
        self.pn = PixelNorm()

    def forward(self, x):
        x = self.leaky(self.conv1(x))
        x = self.pn(x) if self.use_pn else x
        x = self.leaky(self.conv2(x))
        return self.pn(x) if self.use_pn else x


class Generator(nn.Module):
    def __init__(self, z_dim, in_channels, img_channels=3):
        super().__init__()
        self.initial = nn.Sequential(
            PixelNorm(),
            nn.ConvTranspose2d(z_dim, in_channels, 4, 1, 0),
            nn.LeakyReLU(0.2),
            WSConv2d(in_channels, in_channels, kernel_size=3, stride=1, padding=1),
            nn.LeakyReLU(0.2),
            PixelNorm(),
        )
        self.initial_rgb = WSConv2d(in_channels, img_channels, kernel_size=1, stride=1, padding=0)
        self.prog_blocks, self.rgb_layers = nn.ModuleList([]), nn.ModuleList([self.initial_rgb])
        for i in range(len(factors) - 1):
            conv_in_c = int(in_channels * factors[i])
            conv_out_c = int(in_channels * factors[i + 1])
            self.prog_blocks.append(ConvBlock(conv_in_c, conv_out_c))
            self.rgb_layers.append(WSConv2d(conv_out_c, img_channels, kernel_size=1, padding=0))

    def fade_in(self, alpha, upscaled, generated):
        return torch.tanh(alpha * generated + (1 - alpha) * upscaled)

    def forward(self, x, alpha, steps):
        out = self.initial(x)
        if steps == 0:
            return self.initial_rgb(out)
        for step in range(steps):
            upscaled = F.interpolate(out, scale_factor=2, mode="nearest")
            out = self.prog_blocks[step](upscaled)
        final_upscaled = self.rgb_layers[steps - 1](upscaled)
        final_out = self.rgb_layers[steps](out)
        return self.fade_in(alpha, final_upscaled, final_out)


class Discriminator(nn.Module):
    def __init__(self, in_channels, img_channels=3):
        super().__init__()
        self.prog_blocks, self.rgb_layers = nn.ModuleList([]), nn.ModuleList([])
        self.leaky = nn.LeakyReLU(0.2)
        for i in range(len(factors) - 1, 0, -1):
            conv_in = int(in_channels * factors[i])
            conv_out = int(in_channels * factors[i - 1])
            self.prog_blocks.append(ConvBlock(conv_in, conv_out, use_pixelnorm=False))
            self.rgb_layers.append(WSConv2d(img_channels, conv_in, kernel_size=1, padding=0))
        self.initial_rgb = WSConv2d(img_channels, in_channels, kernel_size=1, padding=0)
        self.rgb_layers.append(self.initial_rgb)
        self.avg_pool = nn.AvgPool2d(kernel_size=2, stride=2)
        self.final_block = nn.Sequential(
            WSConv2d(in_channels + 1, in_channels, kernel_size=3, padding=1),
            nn.LeakyReLU(0.2),
            WSConv2d(in_channels, in_channels, kernel_size=4, padding=0, stride=1),
            nn.LeakyReLU(0.2),
            WSConv2d(in_channels, 1, kernel_size=1, padding=0, stride=1),
        )

    def fade_in(self, alpha, downscaled, out):
        return alpha * out + (1 - alpha) * downscaled

    def minibatch_std(self, x):
        batch_statistics = torch.std(x, dim=0).mean().repeat(x.shape[0], 1, x.shape[2], x.shape[3])
        return torch.cat([x, batch_statistics], dim=1)

    def forward(self, x, alpha, steps):
        cur_step = len(self.prog_blocks) - steps
        out = self.leaky(self.rgb_layers[cur_step](x))
        if steps == 0:
            out = self.minibatch_std(out)
            return self.final_block(out).view(out.shape[0], -1)
        downscaled = self.leaky(self.rgb_layers[cur_step + 1](self.avg_pool(x)))
        out = self.avg_pool(self.prog_blocks[cur_step](out))
        out = self.fade_in(alpha, downscaled, out)
        for step in range(cur_step + 1, len(self.prog_blocks)):
            out = self.avg_pool(self.prog_blocks[step](out))
        out = self.minibatch_std(out)
        return self.final_block(out).view(out.shape[0], -1)


def gradient_penalty(critic, real, fake, alpha, train_step):
    BATCH_SIZE, C, H, W = real.shape
    beta = torch.rand((BATCH_SIZE, 1, 1, 1)).repeat(1, C, H, W)
    interpolated_images = real * beta + fake.detach() * (1 - beta)
    interpolated_images.requires_grad_(True)
    mixed_scores = critic(interpolated_images, alpha, train_step)
    gradient = torch.autograd.grad(
        inputs=interpolated_images,
        outputs=mixed_scores,
        grad_outputs=torch.ones_like(mixed_scores),
        create_graph=True,
        retain_graph=True,
    )[0]
    gradient = gradient.view(gradient.shape[0], -1)
    gradient_norm = gradient.norm(2, dim=1)
    return torch.mean((gradient_norm - 1) ** 2)


torch.manual_seed(0)
Z_DIM, IN_CHANNELS, LAMBDA_GP, BATCH = 8, 8, 10, 4
gen, critic = Generator(Z_DIM, IN_CHANNELS, img_channels=3), Discriminator(IN_CHANNELS, 3)
opt_gen = optim.Adam(gen.parameters(), lr=1e-3, betas=(0.0, 0.99))
opt_critic = optim.Adam(critic.parameters(), lr=1e-3, betas=(0.0, 0.99))
shapes = [tuple(gen(torch.randn(2, Z_DIM, 1, 1), 1.0, s).shape) for s in range(3)]
critic_shapes = [
    tuple(critic(torch.randn(2, 3, 4 * 2**s, 4 * 2**s), 0.5, s).shape) for s in range(3)
]
scale_first = gen.initial[3].scale

step, alpha, alphas, loss_critics, loss_gens, gps = 1, 1e-5, [], [], [], []
real_images = torch.rand(5 * BATCH, 3, 8, 8) * 2 - 1
for batch_idx in range(5):
    real = real_images[batch_idx * BATCH : (batch_idx + 1) * BATCH]
    noise = torch.randn(BATCH, Z_DIM, 1, 1)
    fake = gen(noise, alpha, step)
    critic_real = critic(real, alpha, step)
    critic_fake = critic(fake.detach(), alpha, step)
    gp = gradient_penalty(critic, real, fake, alpha, step)
    loss_critic = (
        -(torch.mean(critic_real) - torch.mean(critic_fake))
        + LAMBDA_GP * gp
        + (0.001 * torch.mean(critic_real**2))
    )
    opt_critic.zero_grad()
    loss_critic.backward()
    opt_critic.step()
    gen_fake = critic(fake, alpha, step)
    loss_gen = -torch.mean(gen_fake)
    opt_gen.zero_grad()
    loss_gen.backward()
    opt_gen.step()
    alpha += BATCH / (0.5 * 5 * BATCH)
    alpha = min(alpha, 1)
    alphas.append(alpha)
    loss_critics.append(loss_critic.item())
    loss_gens.append(loss_gen.item())
    gps.append(gp.item())
    print(f"batch {batch_idx} alpha {alpha:.3f} loss_critic {loss_critic:.4f} gp {gp:.4f}")

with torch.no_grad():
    sample = gen(torch.randn(2, Z_DIM, 1, 1), alpha, step) * 0.5 + 0.5
sample_range = (round(sample.min().item(), 6), round(sample.max().item(), 6))
used = [p.grad.flatten() for p in gen.parameters() if p.grad is not None]  # step 2 sits idle
gen_grad_norm, n_with_grad = torch.cat(used).norm().item(), len(used)
