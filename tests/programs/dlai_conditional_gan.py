"""deeplearning.ai's GANs specialization, the conditional GAN assignment: ``get_one_hot_labels``
with ``F.one_hot``, ``combine_vectors`` concatenating noise and one-hot class vectors
(``torch.cat(..., 1).float()``), one-hot image channels made with ``[:, :, None, None]`` and
``repeat``, ``get_input_dimensions``, the DCGAN-style generator (``ConvTranspose2d`` +
``BatchNorm2d`` + ``ReLU`` then ``Tanh``) and critic blocks, ``weights_init`` with
``normal_(0.0, 0.02)`` through ``apply``, and ``BCEWithLogitsLoss`` training; then the same
critic trained WGAN-style with ``clamp_`` weight clipping, and class-conditioned sampling."""

import torch
import torch.nn.functional as F
from torch import nn

n_classes, z_dim, im_chan, im_size, batch_size, lr = 3, 6, 1, 8, 12, 0.0002


class Generator(nn.Module):
    def __init__(self, input_dim=10, im_chan=1, hidden_dim=8):
        super().__init__()
        self.input_dim = input_dim
        self.gen = nn.Sequential(
            self.make_gen_block(input_dim, hidden_dim * 2, kernel_size=4, stride=1),  # 1 -> 4
            self.make_gen_block(
                hidden_dim * 2, im_chan, kernel_size=4, stride=2, padding=1, final_layer=True
            ),  # 4 -> 8
        )

    def make_gen_block(
        self, input_channels, output_channels, kernel_size=3, stride=2, padding=0, final_layer=False
    ):
        if not final_layer:
            return nn.Sequential(
                nn.ConvTranspose2d(input_channels, output_channels, kernel_size, stride, padding),
                nn.BatchNorm2d(output_channels),
                nn.ReLU(inplace=True),
            )
        return nn.Sequential(
            nn.ConvTranspose2d(input_channels, output_channels, kernel_size, stride, padding),
            nn.Tanh(),
        )

    def forward(self, noise):
        x = noise.view(len(noise), self.input_dim, 1, 1)
        return self.gen(x)


class Discriminator(nn.Module):
    def __init__(self, im_chan=1, hidden_dim=8):
        super().__init__()
        self.disc = nn.Sequential(
            self.make_disc_block(im_chan, hidden_dim, kernel_size=4, stride=2, padding=1),
            self.make_disc_block(hidden_dim, 1, kernel_size=4, stride=1, final_layer=True),
        )

    def make_disc_block(
        self, input_channels, output_channels, kernel_size=4, stride=2, padding=0, final_layer=False
    ):
        if not final_layer:
            return nn.Sequential(
                nn.Conv2d(input_channels, output_channels, kernel_size, stride, padding),
                nn.BatchNorm2d(output_channels),
                nn.LeakyReLU(0.2, inplace=True),
            )
        return nn.Sequential(nn.Conv2d(input_channels, output_channels, kernel_size, stride))

    def forward(self, image):
        disc_pred = self.disc(image)
        return disc_pred.view(len(disc_pred), -1)


def get_noise(n_samples, input_dim, device="cpu"):
    return torch.randn(n_samples, input_dim, device=device)


def get_one_hot_labels(labels, n_classes):
    return F.one_hot(labels, n_classes)


def combine_vectors(x, y):
    return torch.cat((x.float(), y.float()), 1)


def get_input_dimensions(z_dim, mnist_shape, n_classes):
    return z_dim + n_classes, mnist_shape[0] + n_classes


def weights_init(m):
    if isinstance(m, nn.Conv2d) or isinstance(m, nn.ConvTranspose2d):
        torch.nn.init.normal_(m.weight, 0.0, 0.02)
    if isinstance(m, nn.BatchNorm2d):
        torch.nn.init.normal_(m.weight, 0.0, 0.02)
        torch.nn.init.constant_(m.bias, 0)


torch.manual_seed(0)
labels_all = torch.randint(0, n_classes, (48,))
yy, xx = torch.meshgrid(torch.arange(im_size), torch.arange(im_size), indexing="ij")
patterns = torch.stack([(xx < 4).float(), (yy < 4).float(), ((xx + yy) % 2).float()]) * 2 - 1
real_all = patterns[labels_all].unsqueeze(1) + 0.1 * torch.randn(48, 1, im_size, im_size)

generator_input_dim, discriminator_im_chan = get_input_dimensions(z_dim, (im_chan, 8, 8), n_classes)
gen = Generator(input_dim=generator_input_dim)
gen_opt = torch.optim.Adam(gen.parameters(), lr=lr * 10, betas=(0.5, 0.999))
disc = Discriminator(im_chan=discriminator_im_chan)
disc_opt = torch.optim.Adam(disc.parameters(), lr=lr * 10, betas=(0.5, 0.999))
gen, disc = gen.apply(weights_init), disc.apply(weights_init)
criterion = nn.BCEWithLogitsLoss()
init_std = round(gen.gen[0][0].weight.std().item(), 3)

generator_losses, discriminator_losses = [], []
for cur_step in range(4):
    real = real_all[cur_step * batch_size : (cur_step + 1) * batch_size]
    labels = labels_all[cur_step * batch_size : (cur_step + 1) * batch_size]
    one_hot_labels = get_one_hot_labels(labels, n_classes)
    image_one_hot_labels = one_hot_labels[:, :, None, None]
    image_one_hot_labels = image_one_hot_labels.repeat(1, 1, im_size, im_size)

    disc_opt.zero_grad()
    fake_noise = get_noise(len(real), z_dim)
    noise_and_labels = combine_vectors(fake_noise, one_hot_labels)
    fake = gen(noise_and_labels)
    fake_image_and_labels = combine_vectors(fake, image_one_hot_labels)
    real_image_and_labels = combine_vectors(real, image_one_hot_labels)
    disc_fake_pred = disc(fake_image_and_labels.detach())
    disc_real_pred = disc(real_image_and_labels)
    disc_fake_loss = criterion(disc_fake_pred, torch.zeros_like(disc_fake_pred))
    disc_real_loss = criterion(disc_real_pred, torch.ones_like(disc_real_pred))
    disc_loss = (disc_fake_loss + disc_real_loss) / 2
    disc_loss.backward(retain_graph=True)
    disc_opt.step()
    discriminator_losses += [disc_loss.item()]

    gen_opt.zero_grad()
    fake_image_and_labels = combine_vectors(fake, image_one_hot_labels)
    disc_fake_pred = disc(fake_image_and_labels)
    gen_loss = criterion(disc_fake_pred, torch.ones_like(disc_fake_pred))
    gen_loss.backward()
    gen_opt.step()
    generator_losses += [gen_loss.item()]
    print(f"Step {cur_step}: Generator loss: {gen_loss:.4f}, discriminator loss: {disc_loss:.4f}")

critic_opt = torch.optim.RMSprop(disc.parameters(), lr=5e-4)
critic_losses, c_lambda = [], 0.01
for cur_step in range(3):
    real = real_all[cur_step * batch_size : (cur_step + 1) * batch_size]
    image_one_hot = F.one_hot(labels_all[: len(real)], n_classes)[:, :, None, None]
    image_one_hot = image_one_hot.repeat(1, 1, im_size, im_size)
    noise = combine_vectors(get_noise(len(real), z_dim), F.one_hot(labels_all[: len(real)], 3))
    fake = gen(noise).detach()
    crit_loss = (
        disc(combine_vectors(fake, image_one_hot)).mean()
        - disc(combine_vectors(real, image_one_hot)).mean()
    )
    critic_opt.zero_grad()
    crit_loss.backward()
    critic_opt.step()
    for p in disc.parameters():
        p.data.clamp_(-c_lambda, c_lambda)
    critic_losses.append(crit_loss.item())
max_abs_weight = max(p.abs().max().item() for p in disc.parameters())

gen.eval()
with torch.no_grad():
    interpolation_noise = get_noise(1, z_dim).repeat(n_classes, 1)
    class_codes = get_one_hot_labels(torch.arange(n_classes), n_classes)
    samples = gen(combine_vectors(interpolation_noise, class_codes))
sample_shape, sample_means = tuple(samples.shape), samples.mean(dim=(1, 2, 3)).tolist()
input_dims = (generator_input_dim, discriminator_im_chan)
one_hot_dtype = str(get_one_hot_labels(labels_all[:2], n_classes).dtype)
