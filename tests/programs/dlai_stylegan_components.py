"""deeplearning.ai's GANs specialization, the StyleGAN components and controllable generation
assignments: ``get_truncated_noise`` (resampling |z| > truncation with tensor ops in place of
SciPy's ``truncnorm``), ``MappingLayers``, ``InjectNoise`` (a per-channel ``nn.Parameter``
scaling ``torch.randn(n, 1, h, w)`` noise), ``AdaIN`` (``InstanceNorm2d`` then style scale and
shift through ``[:, :, None, None]``), ``MicroStyleGANGeneratorBlock`` with ``nn.Upsample``,
the generator's ``alpha`` interpolation between the upsampled small image and the big one,
``get_self``-style inspection, and controllable generation: gradient ascent on the noise
(``noise.grad`` times a weight) toward a frozen classifier's target feature with a penalty
on other features changing."""

import torch
import torch.nn as nn
import torch.nn.functional as F


def get_truncated_noise(n_samples, z_dim, truncation):
    noise = torch.randn(n_samples, z_dim)
    outside = noise.abs() > truncation
    while outside.any():
        noise[outside] = torch.randn(int(outside.sum()))
        outside = noise.abs() > truncation
    return noise


class MappingLayers(nn.Module):
    def __init__(self, z_dim, hidden_dim, w_dim):
        super().__init__()
        self.mapping = nn.Sequential(
            nn.Linear(z_dim, hidden_dim),
            nn.ReLU(),
            nn.Linear(hidden_dim, hidden_dim),
            nn.ReLU(),
            nn.Linear(hidden_dim, w_dim),
        )

    def forward(self, noise):
        return self.mapping(noise)


class InjectNoise(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(1, channels, 1, 1))

    def forward(self, image):
        noise_shape = (image.shape[0], 1, image.shape[2], image.shape[3])
        noise = torch.randn(noise_shape, device=image.device)
        return image + self.weight * noise


class AdaIN(nn.Module):
    def __init__(self, channels, w_dim):
        super().__init__()
        self.instance_norm = nn.InstanceNorm2d(channels)
        self.style_scale_transform = nn.Linear(w_dim, channels)
        self.style_shift_transform = nn.Linear(w_dim, channels)

    def forward(self, image, w):
        normalized_image = self.instance_norm(image)
        style_scale = self.style_scale_transform(w)[:, :, None, None]
        style_shift = self.style_shift_transform(w)[:, :, None, None]
        return style_scale * normalized_image + style_shift


class MicroStyleGANGeneratorBlock(nn.Module):
    def __init__(self, in_chan, out_chan, w_dim, kernel_size, starting_size, use_upsample=True):
        super().__init__()
        self.use_upsample = use_upsample
        if self.use_upsample:
            self.upsample = nn.Upsample((starting_size, starting_size), mode="bilinear")
        self.conv = nn.Conv2d(in_chan, out_chan, kernel_size, padding=1)
        self.inject_noise = InjectNoise(out_chan)
        self.adain = AdaIN(out_chan, w_dim)
        self.activation = nn.LeakyReLU(0.2)

    def forward(self, x, w):
        if self.use_upsample:
            x = self.upsample(x)
        x = self.conv(x)
        x = self.inject_noise(x)
        x = self.activation(x)
        return self.adain(x, w)


class MicroStyleGANGenerator(nn.Module):
    def __init__(self, z_dim, map_hidden_dim, w_dim, in_chan, out_chan, kernel_size, hidden_chan):
        super().__init__()
        self.map = MappingLayers(z_dim, map_hidden_dim, w_dim)
        self.starting_constant = nn.Parameter(torch.randn(1, in_chan, 4, 4))
        self.block0 = MicroStyleGANGeneratorBlock(
            in_chan, hidden_chan, w_dim, kernel_size, 4, False
        )
        self.block1 = MicroStyleGANGeneratorBlock(hidden_chan, hidden_chan, w_dim, kernel_size, 8)
        self.block2 = MicroStyleGANGeneratorBlock(hidden_chan, hidden_chan, w_dim, kernel_size, 16)
        self.block1_to_image = nn.Conv2d(hidden_chan, out_chan, kernel_size=1)
        self.block2_to_image = nn.Conv2d(hidden_chan, out_chan, kernel_size=1)
        self.alpha = 0.2

    def upsample_to_match_size(self, smaller_image, bigger_image):
        return F.interpolate(smaller_image, size=bigger_image.shape[-2:], mode="bilinear")

    def forward(self, noise, return_intermediate=False):
        x = self.starting_constant
        w = self.map(noise)
        x = self.block0(x, w)
        x_small = self.block1(x, w)
        x_small_image = self.block1_to_image(x_small)
        x_big = self.block2(x_small, w)
        x_big_image = self.block2_to_image(x_big)
        x_small_upsample = self.upsample_to_match_size(x_small_image, x_big_image)
        interpolation = self.alpha * x_big_image + (1 - self.alpha) * x_small_upsample
        if return_intermediate:
            return interpolation, x_small_upsample, x_big_image
        return interpolation


torch.manual_seed(0)
truncated = get_truncated_noise(6, 10, truncation=0.7)
truncated_max = truncated.abs().max().item()
gen = MicroStyleGANGenerator(10, 16, 12, 8, 3, 3, 8)
gen_params = sum(p.numel() for p in gen.parameters())
images, small, big = gen(truncated, return_intermediate=True)
image_shapes = [tuple(t.shape) for t in (images, small, big)]
image_stats = [images.mean().item(), images.std().item(), big.abs().mean().item()]
adain = gen.block1.adain
adain_check = (
    (
        adain(torch.ones(2, 8, 4, 4), torch.zeros(2, 12))
        - adain.style_shift_transform.bias[None, :, None, None]
    )
    .abs()
    .max()
    .item()
)

for p in gen.parameters():
    p.requires_grad_(False)
classifier = nn.Sequential(
    nn.Conv2d(3, 4, 3, 2, 1), nn.LeakyReLU(0.2), nn.AdaptiveAvgPool2d(1), nn.Flatten()
)
for p in classifier.parameters():
    p.requires_grad_(False)
target_indices, other_indices = torch.tensor([1]), torch.tensor([0, 2, 3])


def get_score(
    current_classifications, original_classifications, target_indices, other_indices, penalty_weight
):
    other_distances = (
        current_classifications[:, other_indices] - original_classifications[:, other_indices]
    )
    other_class_penalty = -torch.norm(other_distances, dim=1).mean() * penalty_weight
    target_score = current_classifications[:, target_indices].mean()
    return target_score + other_class_penalty


opt_noise = get_truncated_noise(6, 10, truncation=0.7).requires_grad_()
start_noise = opt_noise.detach().clone()
original_classifications = classifier(gen(opt_noise)).detach()
scores = []
for i in range(5):
    opt_noise.grad = None
    fake_image = gen(opt_noise)
    fake_score = get_score(
        classifier(fake_image), original_classifications, target_indices, other_indices, 0.1
    )
    fake_score.backward()
    scores.append(fake_score.item())
    opt_noise.data = opt_noise + (opt_noise.grad * 50.0)
noise_shift = (opt_noise.detach() - start_noise).norm().item()
print(f"params {gen_params}, shapes {image_shapes}, scores {[f'{s:.4f}' for s in scores]}")
noise_grad_norm = opt_noise.grad.norm().item()
