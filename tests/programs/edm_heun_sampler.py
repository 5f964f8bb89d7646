"""EDM (Karras et al., "Elucidating the Design Space of Diffusion-Based Generative Models") on a
2-D toy distribution, as NVlabs/edm's ``training/networks.py``, ``training/loss.py`` and
``generate.py`` write it: the ``EDMPrecond`` wrapper (``c_skip = sigma_data^2 / (sigma^2 +
sigma_data^2)``, ``c_out``, ``c_in``, ``c_noise = sigma.log() / 4``) around a small MLP with a
Fourier noise embedding, the ``EDMLoss`` (log-normal sigma from ``torch.randn``, loss weight
``(sigma^2 + sigma_data^2) / (sigma * sigma_data)^2``), an EMA copy of the network, and the
deterministic Heun sampler (``S_churn = 0``) on the Karras time steps
``(sigma_max^(1/rho) + i/(N-1) (sigma_min^(1/rho) - sigma_max^(1/rho)))^rho`` with ``t_N = 0``,
all in float64 as ``edm_sampler`` computes."""

import copy

import numpy as np
import torch
import torch.nn as nn

torch.manual_seed(0)


class FourierEmbedding(nn.Module):
    def __init__(self, num_channels, scale=4):
        super().__init__()
        self.register_buffer("freqs", torch.randn(num_channels // 2) * scale)

    def forward(self, x):
        x = x.ger((2 * np.pi * self.freqs).to(x.dtype))
        return torch.cat([x.cos(), x.sin()], dim=1)


class Denoiser(nn.Module):
    def __init__(self, dim=2, hidden=64, emb=16):
        super().__init__()
        self.map_noise = FourierEmbedding(emb)
        self.map_layer = nn.Linear(emb, hidden)
        self.inp = nn.Linear(dim, hidden)
        self.net = nn.Sequential(
            nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU(), nn.Linear(hidden, dim)
        )

    def forward(self, x, noise_labels):
        emb = torch.nn.functional.silu(self.map_layer(self.map_noise(noise_labels)))
        return self.net(self.inp(x) + emb)


class EDMPrecond(nn.Module):
    def __init__(self, model, sigma_min=0.002, sigma_max=80, sigma_data=0.5):
        super().__init__()
        self.sigma_min, self.sigma_max, self.sigma_data = sigma_min, sigma_max, sigma_data
        self.model = model

    def forward(self, x, sigma):
        x = x.to(torch.float32)
        sigma = sigma.to(torch.float32).reshape(-1, 1)
        c_skip = self.sigma_data**2 / (sigma**2 + self.sigma_data**2)
        c_out = sigma * self.sigma_data / (sigma**2 + self.sigma_data**2).sqrt()
        c_in = 1 / (self.sigma_data**2 + sigma**2).sqrt()
        c_noise = sigma.log() / 4
        F_x = self.model((c_in * x).to(torch.float32), c_noise.flatten())
        D_x = c_skip * x + c_out * F_x.to(torch.float32)
        return D_x

    def round_sigma(self, sigma):
        return torch.as_tensor(sigma)


class EDMLoss:
    def __init__(self, P_mean=-1.2, P_std=1.2, sigma_data=0.5):
        self.P_mean, self.P_std, self.sigma_data = P_mean, P_std, sigma_data

    def __call__(self, net, images):
        rnd_normal = torch.randn([images.shape[0], 1], device=images.device)
        sigma = (rnd_normal * self.P_std + self.P_mean).exp()
        weight = (sigma**2 + self.sigma_data**2) / (sigma * self.sigma_data) ** 2
        n = torch.randn_like(images) * sigma
        D_yn = net(images + n, sigma)
        return weight * ((D_yn - images) ** 2)


def edm_sampler(net, latents, num_steps=12, sigma_min=0.002, sigma_max=80, rho=7):
    step_indices = torch.arange(num_steps, dtype=torch.float64, device=latents.device)
    t_steps = (
        sigma_max ** (1 / rho)
        + step_indices / (num_steps - 1) * (sigma_min ** (1 / rho) - sigma_max ** (1 / rho))
    ) ** rho
    t_steps = torch.cat([net.round_sigma(t_steps), torch.zeros_like(t_steps[:1])])
    x_next = latents.to(torch.float64) * t_steps[0]
    for i, (t_cur, t_next) in enumerate(zip(t_steps[:-1], t_steps[1:])):
        x_hat, t_hat = x_next, t_cur
        denoised = net(x_hat, t_hat.repeat(x_hat.shape[0])).to(torch.float64)
        d_cur = (x_hat - denoised) / t_hat
        x_next = x_hat + (t_next - t_hat) * d_cur
        if i < num_steps - 1:  # 2nd order correction
            denoised = net(x_next, t_next.repeat(x_next.shape[0])).to(torch.float64)
            d_prime = (x_next - denoised) / t_next
            x_next = x_hat + (t_next - t_hat) * (0.5 * d_cur + 0.5 * d_prime)
    return x_next, t_steps


# data: four Gaussian blobs at (+-1, +-1) * 0.6
centers = torch.tensor([[1.0, 1.0], [1.0, -1.0], [-1.0, 1.0], [-1.0, -1.0]]) * 0.6
data = centers[torch.randint(0, 4, (256,))] + 0.05 * torch.randn(256, 2)
loader = torch.utils.data.DataLoader(
    torch.utils.data.TensorDataset(data), batch_size=128, shuffle=True
)

net = EDMPrecond(Denoiser())
ema = copy.deepcopy(net).eval().requires_grad_(False)
loss_fn = EDMLoss()
optimizer = torch.optim.Adam(net.parameters(), lr=1e-2, betas=(0.9, 0.999), eps=1e-8)
ema_beta = 0.9

losses = []
for epoch in range(60):
    for (images,) in loader:
        loss = loss_fn(net=net, images=images)
        optimizer.zero_grad(set_to_none=True)
        loss.sum().mul(1.0 / images.shape[0]).backward()
        for param in net.parameters():
            if param.grad is not None:
                torch.nan_to_num(param.grad, nan=0, posinf=1e5, neginf=-1e5, out=param.grad)
        optimizer.step()
        with torch.no_grad():
            for p_ema, p_net in zip(ema.parameters(), net.parameters()):
                p_ema.copy_(p_net.detach().lerp(p_ema, ema_beta))
        losses.append(loss.mean().item())

latents = torch.randn(64, 2)
with torch.no_grad():
    samples, t_steps = edm_sampler(ema, latents)
t_step_values = t_steps.tolist()
sample_dtype = str(samples.dtype)
dist_to_center = torch.cdist(samples.float(), centers).min(dim=1).values
mean_dist = dist_to_center.mean().item()
first_samples = samples[:4].tolist()
c_skip_at = [0.5**2 / (s**2 + 0.5**2) for s in (0.002, 0.5, 80.0)]
