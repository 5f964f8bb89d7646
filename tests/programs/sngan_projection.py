"""A conditional GAN with spectral normalization and a projection discriminator (Miyato et al.
2018), as the SNGAN / BigGAN-PyTorch ports write it on 2-D data: torch.nn.utils.spectral_norm
(the hook-based API: weight_orig, weight_u and weight_v, one power iteration per forward in
training), a conditional BatchNorm whose gain and bias come from nn.Embedding, the projection
term sum(embed(y) * h) in the discriminator, hinge losses (relu(1 - D(x)) and -D(G(z))),
Adam with betas (0.0, 0.9) and n_dis discriminator steps per generator step, on a mixture of
Gaussians whose modes are the classes."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils import spectral_norm

torch.manual_seed(0)
num_classes, z_dim = 4, 8
centers = torch.tensor([[math.cos(2 * math.pi * k / num_classes), math.sin(2 * math.pi * k / num_classes)]
                        for k in range(num_classes)]) * 2.0  # fmt: skip


def sample_real(n):
    y = torch.randint(0, num_classes, (n,))
    return centers[y] + 0.1 * torch.randn(n, 2), y


class ConditionalBatchNorm1d(nn.Module):
    def __init__(self, num_features, num_classes):
        super().__init__()
        self.num_features = num_features
        self.bn = nn.BatchNorm1d(num_features, affine=False)
        self.embed = nn.Embedding(num_classes, num_features * 2)
        self.embed.weight.data[:, :num_features].normal_(1, 0.02)  # Initialise scale at N(1, 0.02)
        self.embed.weight.data[:, num_features:].zero_()  # Initialise bias at 0

    def forward(self, x, y):
        out = self.bn(x)
        gamma, beta = self.embed(y).chunk(2, 1)
        out = gamma.view(-1, self.num_features) * out + beta.view(-1, self.num_features)
        return out


class Generator(nn.Module):
    def __init__(self, hidden=64):
        super().__init__()
        self.fc1 = nn.Linear(z_dim, hidden)
        self.bn1 = ConditionalBatchNorm1d(hidden, num_classes)
        self.fc2 = nn.Linear(hidden, hidden)
        self.bn2 = ConditionalBatchNorm1d(hidden, num_classes)
        self.out = nn.Linear(hidden, 2)

    def forward(self, z, y):
        h = F.relu(self.bn1(self.fc1(z), y))
        h = F.relu(self.bn2(self.fc2(h), y))
        return self.out(h)


class Discriminator(nn.Module):
    def __init__(self, hidden=64):
        super().__init__()
        self.fc1 = spectral_norm(nn.Linear(2, hidden))
        self.fc2 = spectral_norm(nn.Linear(hidden, hidden))
        self.l_out = spectral_norm(nn.Linear(hidden, 1))
        self.l_y = spectral_norm(nn.Embedding(num_classes, hidden))

    def forward(self, x, y):
        h = F.leaky_relu(self.fc1(x), 0.2)
        h = F.leaky_relu(self.fc2(h), 0.2)
        output = self.l_out(h)
        output = output + torch.sum(self.l_y(y) * h, dim=1, keepdim=True)
        return output


netG, netD = Generator(), Discriminator()
print(
    [name for name, _ in netD.fc1.named_parameters()],
    [name for name, _ in netD.fc1.named_buffers()],
)
optG = torch.optim.Adam(netG.parameters(), lr=2e-3, betas=(0.0, 0.9))
optD = torch.optim.Adam(netD.parameters(), lr=2e-3, betas=(0.0, 0.9))
n_dis, batch = 2, 64
d_losses, g_losses = [], []
for it in range(75):
    for _ in range(n_dis):
        real, y_real = sample_real(batch)
        z = torch.randn(batch, z_dim)
        y_fake = torch.randint(0, num_classes, (batch,))
        with torch.no_grad():
            fake = netG(z, y_fake)
        loss_d = F.relu(1.0 - netD(real, y_real)).mean() + F.relu(1.0 + netD(fake, y_fake)).mean()
        optD.zero_grad()
        loss_d.backward()
        optD.step()
    z = torch.randn(batch, z_dim)
    y_fake = torch.randint(0, num_classes, (batch,))
    loss_g = -netD(netG(z, y_fake), y_fake).mean()
    optG.zero_grad()
    loss_g.backward()
    optG.step()
    d_losses.append(loss_d.item())
    g_losses.append(loss_g.item())
    if it % 50 == 0:
        print(f"iter {it}: loss_D {loss_d.item():.3f} loss_G {loss_g.item():.3f}")

# Spectral norms of the discriminator's weights stay near 1
netD.eval()
sigmas = [
    torch.linalg.matrix_norm(m.weight.detach(), ord=2).item()
    for m in (netD.fc1, netD.fc2, netD.l_out)
]
# Class-conditional samples land near their class's mode
netG.eval()
with torch.no_grad():
    y = torch.arange(num_classes).repeat_interleave(50)
    samples = netG(torch.randn(len(y), z_dim), y)
    nearest = torch.cdist(samples, centers).argmin(1)
    class_match = (nearest == y).float().mean().item()
    mean_dist = (samples - centers[y]).norm(dim=1).mean().item()
print(
    f"sigma(W) {[round(s, 3) for s in sigmas]}, class match {class_match:.2f}, mean distance {mean_dist:.3f}"
)
