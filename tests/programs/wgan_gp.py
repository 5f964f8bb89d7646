"""WGAN-GP (Gulrajani et al. 2017) in the style of eriklindernoren/PyTorch-GAN's wgan_gp.py, as
written for PyTorch: Variable and torch.FloatTensor, a conv critic, the gradient penalty from
autograd.grad(..., create_graph=True, only_inputs=True) on random interpolates (a double
backward through conv layers), n_critic critic steps per generator step; then the original
WGAN's weight clipping with RMSprop. Tiny 8x8 synthetic images."""

import numpy as np
import torch
import torch.autograd as autograd
import torch.nn as nn
from torch.autograd import Variable
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
np.random.seed(0)

n_epochs, batch_size, lr, b1, b2 = 6, 32, 2e-3, 0.5, 0.9
latent_dim, img_size, channels = 8, 8, 1
n_critic, lambda_gp, clip_value = 3, 10, 0.05
img_shape = (channels, img_size, img_size)

cuda = True if torch.cuda.is_available() else False


def make_images(n):
    """Images in [-1, 1]: a bright 3x3 block on a dark background."""
    images = -np.ones((n, 1, img_size, img_size), dtype=np.float32)
    for i in range(n):
        r, c = np.random.randint(0, img_size - 2, size=2)
        images[i, :, r : r + 3, c : c + 3] = 1.0
    return torch.from_numpy(images)


dataloader = DataLoader(
    TensorDataset(make_images(256), torch.zeros(256)), batch_size=batch_size, shuffle=True
)


class Generator(nn.Module):
    def __init__(self):
        super(Generator, self).__init__()

        def block(in_feat, out_feat, normalize=True):
            layers = [nn.Linear(in_feat, out_feat)]
            if normalize:
                layers.append(nn.BatchNorm1d(out_feat, 0.8))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            return layers

        self.model = nn.Sequential(
            *block(latent_dim, 32, normalize=False),
            *block(32, 64),
            nn.Linear(64, int(np.prod(img_shape))),
            nn.Tanh(),
        )

    def forward(self, z):
        img = self.model(z)
        img = img.view(img.shape[0], *img_shape)
        return img


class Discriminator(nn.Module):
    def __init__(self):
        super(Discriminator, self).__init__()
        self.model = nn.Sequential(
            nn.Conv2d(channels, 16, 3, 2, 1),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(16, 32, 3, 2, 1),
            nn.InstanceNorm2d(32, affine=True),  # no batch norm in a gradient-penalty critic
            nn.LeakyReLU(0.2, inplace=True),
        )
        self.adv_layer = nn.Linear(32 * 2 * 2, 1)

    def forward(self, img):
        out = self.model(img)
        out = out.view(out.shape[0], -1)
        return self.adv_layer(out)


Tensor = torch.cuda.FloatTensor if cuda else torch.FloatTensor


def compute_gradient_penalty(D, real_samples, fake_samples):
    """Calculates the gradient penalty loss for WGAN GP"""
    # Random weight term for interpolation between real and fake samples
    alpha = Tensor(np.random.random((real_samples.size(0), 1, 1, 1)))
    # Get random interpolation between real and fake samples
    interpolates = (alpha * real_samples + ((1 - alpha) * fake_samples)).requires_grad_(True)
    d_interpolates = D(interpolates)
    fake = Variable(Tensor(real_samples.shape[0], 1).fill_(1.0), requires_grad=False)
    # Get gradient w.r.t. interpolates
    gradients = autograd.grad(
        outputs=d_interpolates,
        inputs=interpolates,
        grad_outputs=fake,
        create_graph=True,
        retain_graph=True,
        only_inputs=True,
    )[0]
    gradients = gradients.view(gradients.size(0), -1)
    gradient_penalty = ((gradients.norm(2, dim=1) - 1) ** 2).mean()
    return gradient_penalty


def train(weight_clipping=False):
    generator, discriminator = Generator(), Discriminator()
    if cuda:
        generator.cuda()
        discriminator.cuda()
    if weight_clipping:  # the original WGAN: RMSprop and clipped critic weights
        optimizer_G = torch.optim.RMSprop(generator.parameters(), lr=lr / 4)
        optimizer_D = torch.optim.RMSprop(discriminator.parameters(), lr=lr / 4)
    else:
        optimizer_G = torch.optim.Adam(generator.parameters(), lr=lr, betas=(b1, b2))
        optimizer_D = torch.optim.Adam(discriminator.parameters(), lr=lr, betas=(b1, b2))

    batches_done = 0
    d_losses, g_losses, penalties, distances = [], [], [], []
    for epoch in range(n_epochs):
        for i, (imgs, _) in enumerate(dataloader):
            # Configure input
            real_imgs = Variable(imgs.type(Tensor))

            # ---------------------
            #  Train Discriminator
            # ---------------------
            optimizer_D.zero_grad()

            # Sample noise as generator input
            z = Variable(Tensor(np.random.normal(0, 1, (imgs.shape[0], latent_dim))))

            # Generate a batch of images
            fake_imgs = generator(z)

            # Real images
            real_validity = discriminator(real_imgs)
            # Fake images
            fake_validity = discriminator(fake_imgs.detach())
            distance = torch.mean(real_validity) - torch.mean(fake_validity)
            if weight_clipping:
                d_loss = -distance
            else:
                # Gradient penalty
                gradient_penalty = compute_gradient_penalty(
                    discriminator, real_imgs.data, fake_imgs.data
                )
                penalties.append(gradient_penalty.item())
                # Adversarial loss
                d_loss = -distance + lambda_gp * gradient_penalty

            d_loss.backward()
            optimizer_D.step()
            distances.append(distance.item())

            if weight_clipping:
                # Clip weights of discriminator
                for p in discriminator.parameters():
                    p.data.clamp_(-clip_value, clip_value)

            optimizer_G.zero_grad()

            # Train the generator every n_critic steps
            if i % n_critic == 0:
                # -----------------
                #  Train Generator
                # -----------------

                # Generate a batch of images
                fake_imgs = generator(z)
                # Loss measures generator's ability to fool the discriminator
                # Train on fake images
                fake_validity = discriminator(fake_imgs)
                g_loss = -torch.mean(fake_validity)

                g_loss.backward()
                optimizer_G.step()

                d_losses.append(d_loss.item())
                g_losses.append(g_loss.item())
                batches_done += n_critic
        print(
            "[Epoch %d/%d] [D loss: %f] [G loss: %f] [W distance: %f]"
            % (epoch, n_epochs, d_loss.item(), g_loss.item(), np.mean(distances[-8:]))
        )
    return generator, discriminator, d_losses, g_losses, penalties, distances, batches_done


generator, discriminator, d_losses, g_losses, penalties, distances, batches_done = train()
print("weight clipping")
clipped = train(weight_clipping=True)
clipped_discriminator = clipped[1]

with torch.no_grad():
    samples = generator.eval()(Tensor(np.random.normal(0, 1, (64, latent_dim))))
bright = (samples > 0).float().sum(dim=(1, 2, 3))  # about nine bright pixels per real image
