"""2-D Gaussian splatting (the image-fitting toy of 3D Gaussian Splatting, Kerbl et al. 2023, as
the "gsplat"/"2D Gaussian splatting in PyTorch" tutorials write it without CUDA rasterizers):
each Gaussian has a mean, log-scales, a rotation angle, an RGB colour and an opacity logit; the
covariance is ``R @ diag(s**2) @ R.T``, inverted with ``torch.linalg.inv``; Gaussians are sorted
front to back by a depth with ``argsort`` and composited with an exclusive ``cumprod`` of
``1 - alpha`` (transmittance); the loss is 0.8 L1 + 0.2 (1 - SSIM) with SSIM's 11-tap Gaussian
window applied by grouped ``F.conv2d``, as the 3DGS repository's ``loss_utils.py``; Adam with one
learning rate per parameter group."""

import math

import torch
import torch.nn.functional as F

torch.manual_seed(0)
H = W = 16
N = 12


def gaussian(window_size, sigma):
    gauss = torch.Tensor(
        [math.exp(-((x - window_size // 2) ** 2) / float(2 * sigma**2)) for x in range(window_size)]
    )
    return gauss / gauss.sum()


def create_window(window_size, channel):
    _1D_window = gaussian(window_size, 1.5).unsqueeze(1)
    _2D_window = _1D_window.mm(_1D_window.t()).float().unsqueeze(0).unsqueeze(0)
    window = torch.autograd.Variable(
        _2D_window.expand(channel, 1, window_size, window_size).contiguous()
    )
    return window


def ssim(img1, img2, window_size=11):
    channel = img1.size(-3)
    window = create_window(window_size, channel).type_as(img1)
    pad = window_size // 2
    mu1 = F.conv2d(img1, window, padding=pad, groups=channel)
    mu2 = F.conv2d(img2, window, padding=pad, groups=channel)
    mu1_sq, mu2_sq, mu1_mu2 = mu1.pow(2), mu2.pow(2), mu1 * mu2
    sigma1_sq = F.conv2d(img1 * img1, window, padding=pad, groups=channel) - mu1_sq
    sigma2_sq = F.conv2d(img2 * img2, window, padding=pad, groups=channel) - mu2_sq
    sigma12 = F.conv2d(img1 * img2, window, padding=pad, groups=channel) - mu1_mu2
    C1, C2 = 0.01**2, 0.03**2
    ssim_map = ((2 * mu1_mu2 + C1) * (2 * sigma12 + C2)) / (
        (mu1_sq + mu2_sq + C1) * (sigma1_sq + sigma2_sq + C2)
    )
    return ssim_map.mean()


def render(means, log_scales, thetas, colors, opacity_logits, depths):
    """Composite the Gaussians front to back at every pixel centre; returns (3, H, W)."""
    cos, sin = torch.cos(thetas), torch.sin(thetas)
    R = torch.stack([torch.stack([cos, -sin], -1), torch.stack([sin, cos], -1)], -2)  # (N, 2, 2)
    S = torch.diag_embed(torch.exp(log_scales))
    cov = R @ S @ S.transpose(-1, -2) @ R.transpose(-1, -2)
    inv_cov = torch.linalg.inv(cov)
    ys, xs = torch.meshgrid(
        torch.arange(H, dtype=torch.float32) + 0.5,
        torch.arange(W, dtype=torch.float32) + 0.5,
        indexing="ij",
    )
    pixels = torch.stack([xs, ys], dim=-1).reshape(-1, 1, 2)  # (P, 1, 2)
    order = torch.argsort(depths)
    d = pixels - means[order]  # (P, N, 2)
    power = -0.5 * torch.einsum("pni,nij,pnj->pn", d, inv_cov[order], d)
    alpha = (torch.sigmoid(opacity_logits[order]) * torch.exp(power)).clamp(max=0.99)
    transmittance = torch.cumprod(torch.cat([torch.ones_like(alpha[:, :1]), 1 - alpha], 1), 1)
    weights = alpha * transmittance[:, :-1]
    image = weights @ torch.sigmoid(colors[order])  # (P, 3)
    return image.T.reshape(3, H, W), weights.sum(1)


ys, xs = torch.meshgrid(torch.linspace(-1, 1, H), torch.linspace(-1, 1, W), indexing="ij")
target = torch.stack(
    [(xs**2 + ys**2 < 0.5).float(), (xs > 0.2).float() * 0.8, 0.5 + 0.4 * torch.sin(3 * ys)]
)

means = (torch.rand(N, 2) * torch.tensor([W, H])).requires_grad_()
log_scales = (math.log(2.5) + 0.3 * torch.randn(N, 2)).requires_grad_()  # anisotropic
thetas = (torch.rand(N) * math.pi).requires_grad_()
colors = torch.zeros(N, 3).requires_grad_()
opacity_logits = torch.zeros(N).requires_grad_()
depths = torch.rand(N)  # fixed drawing order
optimizer = torch.optim.Adam(
    [
        {"params": [means], "lr": 0.3},
        {"params": [log_scales, thetas], "lr": 0.05},
        {"params": [colors, opacity_logits], "lr": 0.1},
    ]
)
losses, ssims = [], []
for step in range(40):
    image, coverage = render(means, log_scales, thetas, colors, opacity_logits, depths)
    value = ssim(image.unsqueeze(0), target.unsqueeze(0))
    loss = 0.8 * (image - target).abs().mean() + 0.2 * (1.0 - value)
    optimizer.zero_grad()
    loss.backward()
    if step == 0:
        first_grads = [means.grad[:4].tolist(), log_scales.grad[:4].tolist(), thetas.grad.tolist()]
    optimizer.step()
    losses.append(loss.item())
    ssims.append(value.item())
max_coverage = coverage.max().item()
window_sum = create_window(11, 3).sum().item()
