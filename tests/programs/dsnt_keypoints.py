"""Keypoint regression with a differentiable spatial-to-numerical transform (DSNT, Nibali et al.
2018) as anibali/dsntnn writes it: ``flat_softmax`` of the heatmaps (``view(-1, h*w)``,
``softmax``), ``dsnt`` taking the expected coordinate under each heatmap with
``normalized_linspace`` grids (pixel centres in (-1, 1)), ``euclidean_losses`` on the
coordinates and the Jensen-Shannon regulariser against Gaussians drawn at the targets
(``make_gauss``, ``js_reg_losses``) with sigma 1; a small fully-convolutional net predicting two
keypoints (the two ends of a bar) on 12x12 images; then PCK@0.2 and the soft-argmax against a
hard ``argmax`` decoding by ``unravel_index``."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
S, K = 12, 2


def normalized_linspace(length, dtype=None, device=None):
    first = -(length - 1.0) / length
    return torch.arange(length, dtype=dtype, device=device) * (2.0 / length) + first


def flat_softmax(inp):
    orig_size = inp.size()
    flat = inp.view(-1, inp.size(-2) * inp.size(-1))
    flat = F.softmax(flat, -1)
    return flat.view(*orig_size)


def soft_argmax_coords(heatmaps):
    """dsnt: the heatmaps' expected (x, y) in normalized coordinates."""
    h, w = heatmaps.shape[-2:]
    xs = normalized_linspace(w, dtype=heatmaps.dtype)
    ys = normalized_linspace(h, dtype=heatmaps.dtype)
    x = (heatmaps.sum(-2) * xs).sum(-1)
    y = (heatmaps.sum(-1) * ys).sum(-1)
    return torch.stack([x, y], -1)


def euclidean_losses(actual, target):
    return torch.norm(actual - target, p=2, dim=-1, keepdim=False)


def make_gauss(means, size, sigma, normalize=True):
    xs = normalized_linspace(size[-1], dtype=means.dtype)
    ys = normalized_linspace(size[-2], dtype=means.dtype)
    scale = 2.0 / size[-1]  # sigma is given in pixels
    gx = torch.exp(-((xs - means[..., 0:1]) ** 2) / (2 * (sigma * scale) ** 2))
    gy = torch.exp(-((ys - means[..., 1:2]) ** 2) / (2 * (sigma * scale) ** 2))
    gauss = gy.unsqueeze(-1) * gx.unsqueeze(-2)
    if normalize:
        gauss = gauss / gauss.sum((-2, -1), keepdim=True)
    return gauss


def _kl(p, q, eps=1e-24):
    unsummed_kl = p * ((p + eps).log() - (q + eps).log())
    return unsummed_kl.sum((-2, -1))


def js_reg_losses(heatmaps, mu_t, sigma_t):
    gauss = make_gauss(mu_t, heatmaps.size()[-2:], sigma_t)
    m = 0.5 * (heatmaps + gauss)
    return 0.5 * (_kl(heatmaps, m) + _kl(gauss, m))


class CoordRegressionNetwork(nn.Module):
    def __init__(self, n_locations=K):
        super().__init__()
        self.fcn = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
            nn.Conv2d(16, 16, 3, padding=2, dilation=2), nn.ReLU(),
            nn.Conv2d(16, 16, 3, padding=4, dilation=4), nn.ReLU(),
        )  # fmt: skip
        self.hm_conv = nn.Conv2d(16, n_locations, kernel_size=1, bias=False)

    def forward(self, images):
        unnormalized_heatmaps = self.hm_conv(self.fcn(images))
        heatmaps = flat_softmax(unnormalized_heatmaps)
        return soft_argmax_coords(heatmaps), heatmaps


def make_bars(n):
    """A horizontal bar; keypoints at its left and right ends, in normalized coordinates."""
    images = 0.05 * torch.randn(n, 1, S, S)
    row = torch.randint(1, S - 1, (n,))
    left = torch.randint(0, S // 2 - 1, (n,))
    right = left + torch.randint(3, S // 2 + 1, (n,))
    for i in range(n):
        images[i, 0, row[i], left[i] : right[i] + 1] += 1.0
    pix = torch.stack([torch.stack([left, row], -1), torch.stack([right, row], -1)], 1).float()
    return images, (pix * 2 + 1) / S - 1  # pixel centres to (-1, 1)


images, targets = make_bars(32)
model = CoordRegressionNetwork()
optimizer = torch.optim.SGD(model.parameters(), lr=0.3, momentum=0.9)
losses = []
for step in range(30):
    idx = torch.arange(16) + (step % 2) * 16
    coords, heatmaps = model(images[idx])
    euc_losses = euclidean_losses(coords, targets[idx])
    reg_losses = js_reg_losses(heatmaps, targets[idx], sigma_t=1.0)
    loss = (euc_losses + reg_losses).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())

with torch.no_grad():
    test_images, test_targets = make_bars(16)
    coords, heatmaps = model(test_images)
    errors = euclidean_losses(coords, test_targets)
    pck = (errors < 0.2 * 2).float().mean().item()  # within 20% of the image width
    flat_index = heatmaps.flatten(-2).argmax(-1)
    rows, cols = torch.unravel_index(flat_index, (S, S))
    hard = torch.stack([cols, rows], -1).float() * 2 / S + 1 / S - 1
    hard_error = euclidean_losses(hard, test_targets).mean().item()
soft_error = errors.mean().item()
heatmap_sums = heatmaps.sum((-2, -1))[0].tolist()
gauss_peak = make_gauss(torch.zeros(1, 2), (S, S), 1.0).max().item()
linspace_ends = normalized_linspace(S)[[0, -1]].tolist()
