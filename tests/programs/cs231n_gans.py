"""CS231n assignment 3's GAN notebook (``gan_pytorch.py``) on 8x8 "digits": ``sample_noise``
seeding ``torch.manual_seed`` and mapping ``torch.rand`` to [-1, 1), the students' own
``Flatten``/``Unflatten`` modules, ``initialize_weights`` applied with ``model.apply``
(``nn.init.xavier_uniform_(m.weight.data)``), ``count_params`` by ``np.sum([np.prod(p.size())
...])``, ``bce_loss`` as ``nn.functional.binary_cross_entropy_with_logits`` and the
discriminator/generator losses with ``torch.ones_like``/``torch.zeros_like`` targets, the
least-squares GAN losses, ``get_optimizer`` (Adam with ``betas=(0.5, 0.999)``), ``run_a_gan``
alternating D and G steps with ``.detach()``-ed fakes, the DCGAN-style discriminator
(``Conv2d``, ``LeakyReLU(0.01)``, ``MaxPool2d``) and generator (``BatchNorm1d``,
``Unflatten``, ``ConvTranspose2d``, ``Tanh``)."""

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim

NOISE_DIM = 8
dtype = torch.FloatTensor


def sample_noise(batch_size, dim, seed=None):
    if seed is not None:
        torch.manual_seed(seed)
    return torch.rand(batch_size, dim) * 2 - 1


class Flatten(nn.Module):
    def forward(self, x):
        N, C, H, W = x.size()  # read in N, C, H, W
        return x.view(N, -1)  # "flatten" the C * H * W values into a single vector per image


class Unflatten(nn.Module):
    def __init__(self, N=-1, C=16, H=2, W=2):
        super(Unflatten, self).__init__()
        self.N, self.C, self.H, self.W = N, C, H, W

    def forward(self, x):
        return x.view(self.N, self.C, self.H, self.W)


def initialize_weights(m):
    if isinstance(m, nn.Linear) or isinstance(m, nn.ConvTranspose2d):
        nn.init.xavier_uniform_(m.weight.data)


def count_params(model):
    """Count the number of parameters in the model."""
    param_count = np.sum([np.prod(p.size()) for p in model.parameters()])
    return param_count


def discriminator():
    return nn.Sequential(
        Flatten(),
        nn.Linear(64, 32),
        nn.LeakyReLU(0.01),
        nn.Linear(32, 32),
        nn.LeakyReLU(0.01),
        nn.Linear(32, 1),
    )


def generator(noise_dim=NOISE_DIM):
    return nn.Sequential(
        nn.Linear(noise_dim, 32),
        nn.ReLU(),
        nn.Linear(32, 32),
        nn.ReLU(),
        nn.Linear(32, 64),
        nn.Tanh(),
    )


def build_dc_classifier(batch_size):
    return nn.Sequential(
        Unflatten(batch_size, 1, 8, 8), nn.Conv2d(1, 4, kernel_size=3, stride=1), nn.LeakyReLU(0.01),
        nn.MaxPool2d(2, stride=2), Flatten(), nn.Linear(4 * 3 * 3, 16), nn.LeakyReLU(0.01), nn.Linear(16, 1),
    )  # fmt: skip


def build_dc_generator(noise_dim=NOISE_DIM):
    return nn.Sequential(
        nn.Linear(noise_dim, 32), nn.ReLU(), nn.BatchNorm1d(32), nn.Linear(32, 8 * 2 * 2), nn.ReLU(),
        nn.BatchNorm1d(8 * 2 * 2), Unflatten(-1, 8, 2, 2),
        nn.ConvTranspose2d(8, 4, kernel_size=4, stride=2, padding=1), nn.ReLU(), nn.BatchNorm2d(4),
        nn.ConvTranspose2d(4, 1, kernel_size=4, stride=2, padding=1), nn.Tanh(), Flatten(),
    )  # fmt: skip


def bce_loss(input, target):
    return nn.functional.binary_cross_entropy_with_logits(input, target)


def discriminator_loss(logits_real, logits_fake):
    true_labels = torch.ones_like(logits_real).type(dtype)
    return bce_loss(logits_real, true_labels) + bce_loss(logits_fake, 1 - true_labels)


def generator_loss(logits_fake):
    true_labels = torch.ones_like(logits_fake).type(dtype)
    return bce_loss(logits_fake, true_labels)


def ls_discriminator_loss(scores_real, scores_fake):
    return 0.5 * torch.mean((scores_real - 1) ** 2) + 0.5 * torch.mean(scores_fake**2)


def ls_generator_loss(scores_fake):
    return 0.5 * torch.mean((scores_fake - 1) ** 2)


def get_optimizer(model):
    return optim.Adam(model.parameters(), lr=1e-3, betas=(0.5, 0.999))


def run_a_gan(
    D,
    G,
    D_solver,
    G_solver,
    discriminator_loss,
    generator_loss,
    loader,
    batch_size=16,
    num_epochs=2,
):
    history = []
    for epoch in range(num_epochs):
        for x in loader:
            if len(x) != batch_size:
                continue
            D_solver.zero_grad()
            real_data = x.type(dtype)
            logits_real = D(2 * (real_data - 0.5)).type(dtype)
            g_fake_seed = sample_noise(batch_size, NOISE_DIM).type(dtype)
            fake_images = G(g_fake_seed).detach()
            logits_fake = D(fake_images.view(batch_size, 1, 8, 8))
            d_total_error = discriminator_loss(logits_real, logits_fake)
            d_total_error.backward()
            D_solver.step()
            G_solver.zero_grad()
            g_fake_seed = sample_noise(batch_size, NOISE_DIM).type(dtype)
            fake_images = G(g_fake_seed)
            gen_logits_fake = D(fake_images.view(batch_size, 1, 8, 8))
            g_error = generator_loss(gen_logits_fake)
            g_error.backward()
            G_solver.step()
            history.append((d_total_error.item(), g_error.item()))
    return history


noise = sample_noise(3, 4, seed=231)
noise_again = sample_noise(3, 4, seed=231)
noise_range = [noise.min().item() >= -1, noise.max().item() < 1, torch.equal(noise, noise_again)]
torch.manual_seed(0)
strokes = torch.zeros(6, 8, 8)
for k in range(6):
    strokes[k, k % 4 + 2, 1:7] = 1.0
    strokes[k, 1:7, (k * 2) % 8] = 1.0
images = (strokes[torch.randint(0, 6, (64,))] + 0.1 * torch.rand(64, 8, 8)).clamp(0, 1).unsqueeze(1)
loader = torch.utils.data.DataLoader(images, batch_size=16, shuffle=True)

logits_real, logits_fake = torch.randn(5, 1), torch.randn(5, 1)
loss_values = [
    discriminator_loss(logits_real, logits_fake).item(), generator_loss(logits_fake).item(),
    ls_discriminator_loss(logits_real, logits_fake).item(), ls_generator_loss(logits_fake).item(),
]  # fmt: skip

results = {}
for name, (make_d, make_g, d_loss, g_loss) in {
    "vanilla": (discriminator, generator, discriminator_loss, generator_loss),
    "lsgan": (discriminator, generator, ls_discriminator_loss, ls_generator_loss),
    "dcgan": (
        lambda: build_dc_classifier(16),
        build_dc_generator,
        discriminator_loss,
        generator_loss,
    ),
}.items():
    D, G = make_d().type(dtype), make_g().type(dtype)
    D.apply(initialize_weights)
    G.apply(initialize_weights)
    counts = [int(count_params(D)), int(count_params(G))]
    history = run_a_gan(D, G, get_optimizer(D), get_optimizer(G), d_loss, g_loss, loader)
    G.eval()
    with torch.no_grad():
        samples = G(sample_noise(4, NOISE_DIM, seed=7))
    results[name] = (counts, history, samples.mean().item(), tuple(samples.shape))
count_type = type(count_params(discriminator())).__name__
