"""The super-resolution example of pytorch/examples (ESPCN, Shi et al. 2016): a network of
convolutions ending in nn.PixelShuffle upscales the luminance of small images by 3; trained
with MSE and scored with PSNR against bicubic-free nearest upsampling (F.interpolate), with a global residual over nearest upsampling (VDSR), then
nn.PixelUnshuffle checked as its inverse."""

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from numpy_init import init_from_numpy

upscale_factor = 3


class Net(nn.Module):
    """ESPCN with VDSR's global residual: the network adds detail to nearest upsampling."""

    def __init__(self, upscale_factor):
        super(Net, self).__init__()
        self.relu = nn.ReLU()
        self.conv1 = nn.Conv2d(1, 16, (5, 5), (1, 1), (2, 2))
        self.conv2 = nn.Conv2d(16, 16, (3, 3), (1, 1), (1, 1))
        self.conv3 = nn.Conv2d(16, upscale_factor**2, (3, 3), (1, 1), (1, 1))
        self.pixel_shuffle = nn.PixelShuffle(upscale_factor)

    def forward(self, input):
        x = self.relu(self.conv1(input))
        x = self.relu(self.conv2(x))
        residual = self.pixel_shuffle(self.conv3(x))
        return F.interpolate(input, scale_factor=upscale_factor, mode="nearest") + residual


def make_images(rng, n, size):
    """Smooth random images: sums of a few sinusoids."""
    yy, xx = np.meshgrid(np.linspace(0, 1, size), np.linspace(0, 1, size), indexing="ij")
    images = np.zeros((n, 1, size, size), np.float32)
    for i in range(n):
        for _ in range(3):
            fx, fy, phase = rng.uniform(0.5, 3.0), rng.uniform(0.5, 3.0), rng.uniform(0, 6.3)
            images[i, 0] += np.sin(2 * np.pi * (fx * xx + fy * yy) + phase).astype(np.float32)
    return torch.from_numpy(0.5 + images / 6)


rng = np.random.default_rng(0)
target = make_images(rng, 24, 18)
input = F.avg_pool2d(target, upscale_factor)  # the low-resolution images, 6 x 6

model = init_from_numpy(Net(upscale_factor))
criterion = nn.MSELoss()
optimizer = optim.Adam(model.parameters(), lr=0.01)


def psnr(prediction, target):
    mse = criterion(prediction, target)
    return 10 * math.log10(1 / mse.item())


losses = []
for epoch in range(1, 26):
    optimizer.zero_grad()
    loss = criterion(model(input), target)
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
    if epoch % 5 == 0:
        print(f"===> Epoch {epoch} Complete: Avg. Loss: {loss.item():.4f}")

model.eval()
with torch.no_grad():
    out = model(input)
    nearest = F.interpolate(input, scale_factor=upscale_factor, mode="nearest")
    bilinear = F.interpolate(input, size=(18, 18), mode="bilinear", align_corners=False)
psnr_model, psnr_nearest, psnr_bilinear = (
    psnr(out, target),
    psnr(nearest, target),
    psnr(bilinear, target),
)
print(
    f"PSNR model {psnr_model:.2f} dB, nearest {psnr_nearest:.2f} dB, bilinear {psnr_bilinear:.2f} dB"
)

unshuffled = nn.PixelUnshuffle(upscale_factor)(out)
roundtrip_gap = (nn.PixelShuffle(upscale_factor)(unshuffled) - out).abs().max().item()
print(
    f"output {tuple(out.shape)}, unshuffled {tuple(unshuffled.shape)}, round trip gap {roundtrip_gap}"
)
