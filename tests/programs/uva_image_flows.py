"""The UvA deep learning course's Tutorial 11 ("Normalizing Flows for image modeling", Phillip
Lippe) shrunk to 8x8 images with 8 grey levels: the ``ImageFlow`` with a standard-normal prior
from ``torch.distributions.normal.Normal`` and bits per dimension from ``np.log2(np.exp(1))``,
``Dequantization`` (uniform noise by ``torch.rand_like``, the logit/sigmoid pair with its
log-determinant, ``floor().clamp(...).to(torch.int32)`` back), affine ``CouplingLayer``s with a
learnable ``tanh`` scaling and masks registered as buffers (checkerboard by ``torch.fmod`` of a
``meshgrid``, channel masks by ``cat``), the ``GatedConvNet`` (``ConcatELU``, per-channel layer
norm, gated residual convolutions, a zero-initialised last convolution), ``SqueezeFlow`` by
``reshape``/``permute``, a short Adam run, exact inversion of the discrete images, and samples."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(42)


class ImageFlow(nn.Module):
    def __init__(self, flows):
        super().__init__()
        self.flows = nn.ModuleList(flows)
        self.prior = torch.distributions.normal.Normal(loc=0.0, scale=1.0)

    def encode(self, imgs):
        z, ldj = imgs, torch.zeros(imgs.shape[0])
        for flow in self.flows:
            z, ldj = flow(z, ldj, reverse=False)
        return z, ldj

    def _get_likelihood(self, imgs, return_ll=False):
        z, ldj = self.encode(imgs)
        log_pz = self.prior.log_prob(z).sum(dim=[1, 2, 3])
        log_px = ldj + log_pz
        nll = -log_px
        bpd = nll * np.log2(np.exp(1)) / np.prod(imgs.shape[1:])
        return bpd.mean() if not return_ll else log_px

    @torch.no_grad()
    def sample(self, img_shape, z_init=None):
        z = self.prior.sample(sample_shape=img_shape) if z_init is None else z_init
        ldj = torch.zeros(img_shape[0])
        for flow in reversed(self.flows):
            z, ldj = flow(z, ldj, reverse=True)
        return z


class Dequantization(nn.Module):
    def __init__(self, alpha=1e-5, quants=256):
        super().__init__()
        self.alpha = alpha
        self.quants = quants

    def forward(self, z, ldj, reverse=False):
        if not reverse:
            z, ldj = self.dequant(z, ldj)
            z, ldj = self.sigmoid(z, ldj, reverse=True)
        else:
            z, ldj = self.sigmoid(z, ldj, reverse=False)
            z = z * self.quants
            ldj += np.log(self.quants) * np.prod(z.shape[1:])
            z = torch.floor(z).clamp(min=0, max=self.quants - 1).to(torch.int32)
        return z, ldj

    def sigmoid(self, z, ldj, reverse=False):
        if not reverse:
            ldj += (-z - 2 * F.softplus(-z)).sum(dim=[1, 2, 3])
            z = torch.sigmoid(z)
        else:
            z = z * (1 - self.alpha) + 0.5 * self.alpha
            ldj += np.log(1 - self.alpha) * np.prod(z.shape[1:])
            ldj += (-torch.log(z) - torch.log(1 - z)).sum(dim=[1, 2, 3])
            z = torch.log(z) - torch.log(1 - z)
        return z, ldj

    def dequant(self, z, ldj):
        z = z.to(torch.float32)
        z = z + torch.rand_like(z).detach()
        z = z / self.quants
        ldj -= np.log(self.quants) * np.prod(z.shape[1:])
        return z, ldj


class CouplingLayer(nn.Module):
    def __init__(self, network, mask, c_in):
        super().__init__()
        self.network = network
        self.scaling_factor = nn.Parameter(torch.zeros(c_in))
        self.register_buffer("mask", mask)

    def forward(self, z, ldj, reverse=False):
        z_in = z * self.mask
        nn_out = self.network(z_in)
        s, t = nn_out.chunk(2, dim=1)
        s_fac = self.scaling_factor.exp().view(1, -1, 1, 1)
        s = torch.tanh(s / s_fac) * s_fac
        s = s * (1 - self.mask)
        t = t * (1 - self.mask)
        if not reverse:
            z = (z + t) * torch.exp(s)
            ldj += s.sum(dim=[1, 2, 3])
        else:
            z = (z * torch.exp(-s)) - t
            ldj -= s.sum(dim=[1, 2, 3])
        return z, ldj


def create_checkerboard_mask(h, w, invert=False):
    x, y = torch.arange(h, dtype=torch.int32), torch.arange(w, dtype=torch.int32)
    xx, yy = torch.meshgrid(x, y, indexing="ij")
    mask = torch.fmod(xx + yy, 2)
    mask = mask.to(torch.float32).view(1, 1, h, w)
    if invert:
        mask = 1 - mask
    return mask


def create_channel_mask(c_in, invert=False):
    mask = torch.cat(
        [
            torch.ones(c_in // 2, dtype=torch.float32),
            torch.zeros(c_in - c_in // 2, dtype=torch.float32),
        ]
    )
    mask = mask.view(1, c_in, 1, 1)
    if invert:
        mask = 1 - mask
    return mask


class ConcatELU(nn.Module):
    def forward(self, x):
        return torch.cat([F.elu(x), F.elu(-x)], dim=1)


class LayerNormChannels(nn.Module):
    def __init__(self, c_in, eps=1e-5):
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(1, c_in, 1, 1))
        self.beta = nn.Parameter(torch.zeros(1, c_in, 1, 1))
        self.eps = eps

    def forward(self, x):
        mean = x.mean(dim=1, keepdim=True)
        var = x.var(dim=1, unbiased=False, keepdim=True)
        y = (x - mean) / torch.sqrt(var + self.eps)
        y = y * self.gamma + self.beta
        return y


class GatedConv(nn.Module):
    def __init__(self, c_in, c_hidden):
        super().__init__()
        self.net = nn.Sequential(
            ConcatELU(),
            nn.Conv2d(2 * c_in, c_hidden, kernel_size=3, padding=1),
            ConcatELU(),
            nn.Conv2d(2 * c_hidden, 2 * c_in, kernel_size=1),
        )

    def forward(self, x):
        out = self.net(x)
        val, gate = out.chunk(2, dim=1)
        return x + val * torch.sigmoid(gate)


class GatedConvNet(nn.Module):
    def __init__(self, c_in, c_hidden=8, c_out=-1, num_layers=1):
        super().__init__()
        c_out = c_out if c_out > 0 else 2 * c_in
        layers = []
        layers += [nn.Conv2d(c_in, c_hidden, kernel_size=3, padding=1)]
        for layer_index in range(num_layers):
            layers += [GatedConv(c_hidden, c_hidden), LayerNormChannels(c_hidden)]
        layers += [ConcatELU(), nn.Conv2d(2 * c_hidden, c_out, kernel_size=3, padding=1)]
        self.nn = nn.Sequential(*layers)
        self.nn[-1].weight.data.zero_()
        self.nn[-1].bias.data.zero_()

    def forward(self, x):
        return self.nn(x)


class SqueezeFlow(nn.Module):
    def forward(self, z, ldj, reverse=False):
        B, C, H, W = z.shape
        if not reverse:
            z = z.reshape(B, C, H // 2, 2, W // 2, 2)
            z = z.permute(0, 1, 3, 5, 2, 4)
            z = z.reshape(B, 4 * C, H // 2, W // 2)
        else:
            z = z.reshape(B, C // 4, 2, 2, H, W)
            z = z.permute(0, 1, 4, 2, 5, 3)
            z = z.reshape(B, C // 4, H * 2, W * 2)
        return z, ldj


quants = 8
flow_layers = [Dequantization(quants=quants)]
for i in range(2):
    mask = create_checkerboard_mask(h=8, w=8, invert=(i % 2 == 1))
    flow_layers += [CouplingLayer(GatedConvNet(c_in=1), mask, c_in=1)]
flow_layers += [SqueezeFlow()]
for i in range(2):
    mask = create_channel_mask(c_in=4, invert=(i % 2 == 1))
    flow_layers += [CouplingLayer(GatedConvNet(c_in=4), mask, c_in=4)]
flow = ImageFlow(flow_layers)
n_params = sum(p.numel() for p in flow.parameters())
buffers = [name for name, _ in flow.named_buffers()]

# bars images: a bright row or column on a dark, noisy background, quantised to 8 levels
rows = torch.randint(0, 8, (64,))
is_row = torch.rand(64) < 0.5
imgs = torch.randint(0, 2, (64, 1, 8, 8))
for k in range(64):
    if is_row[k]:
        imgs[k, 0, rows[k], :] = 7
    else:
        imgs[k, 0, :, rows[k]] = 7

optimizer = torch.optim.Adam(flow.parameters(), lr=1e-2)
bpds = []
for step in range(12):
    batch = imgs[(step % 4) * 16 : (step % 4) * 16 + 16]
    loss = flow._get_likelihood(batch)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    bpds.append(loss.item())
scaling = [layer.scaling_factor.detach().abs().sum().item() for layer in flow.flows[1:3]]

with torch.no_grad():
    z, ldj = flow.encode(imgs[:4])
    recon = flow.sample(img_shape=z.shape, z_init=z)
    exact = torch.equal(recon, imgs[:4].to(torch.int32))
    latent_shape = tuple(z.shape)
    log_px = flow._get_likelihood(imgs[:4], return_ll=True).tolist()
    samples = flow.sample(img_shape=[3, 4, 4, 4])
sample_info = [str(samples.dtype), tuple(samples.shape), samples.min().item(), samples.max().item()]
checker = create_checkerboard_mask(3, 3).view(3, 3).tolist()
squeeze_roundtrip = torch.equal(
    SqueezeFlow()(SqueezeFlow()(imgs[:2].float(), None)[0], None, reverse=True)[0],
    imgs[:2].float(),
)
