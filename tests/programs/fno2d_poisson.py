"""A 2-D Fourier neural operator (Li et al. 2021) as the original fourier_2d.py writes it:
SpectralConv2d keeps the lowest modes of ``torch.fft.rfft2`` in two corners of the spectrum
(positive and negative row frequencies), multiplies each by its own complex weight tensor
(``torch.rand(..., dtype=torch.cfloat)`` parameters, ``einsum("bixy,ioxy->boxy")``), writes
them into a zero complex ``out_ft`` and returns ``torch.fft.irfft2(out_ft, s=(H, W))``; the
input gets its (x, y) grid as two extra channels, a lifting ``nn.Linear`` and a 1x1 ``Conv2d``
skip path per layer with GELU. Trained with a relative L2 loss on the periodic Poisson problem
-lap u = f, whose solution operator is exactly diagonal in Fourier space."""

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy, randn

S, MODES, WIDTH = 16, 4, 8
rng = np.random.default_rng(0)


class SpectralConv2d(nn.Module):
    def __init__(self, in_channels, out_channels, modes1, modes2):
        super().__init__()
        self.modes1, self.modes2 = modes1, modes2
        self.scale = 1 / (in_channels * out_channels)
        shape = (in_channels, out_channels, modes1, modes2)
        w1 = randn(rng, *shape, 2) * self.scale
        w2 = randn(rng, *shape, 2) * self.scale
        self.weights1 = nn.Parameter(torch.complex(w1[..., 0], w1[..., 1]))
        self.weights2 = nn.Parameter(torch.complex(w2[..., 0], w2[..., 1]))

    def compl_mul2d(self, x, weights):
        return torch.einsum("bixy,ioxy->boxy", x, weights)

    def forward(self, x):
        b = x.shape[0]
        x_ft = torch.fft.rfft2(x)
        out_ft = torch.zeros(
            b, self.weights1.shape[1], x.size(-2), x.size(-1) // 2 + 1, dtype=torch.cfloat
        )
        m1, m2 = self.modes1, self.modes2
        out_ft[:, :, :m1, :m2] = self.compl_mul2d(x_ft[:, :, :m1, :m2], self.weights1)
        out_ft[:, :, -m1:, :m2] = self.compl_mul2d(x_ft[:, :, -m1:, :m2], self.weights2)
        return torch.fft.irfft2(out_ft, s=(x.size(-2), x.size(-1)))


class FNO2d(nn.Module):
    def __init__(self, modes, width, layers=2):
        super().__init__()
        self.fc0 = nn.Linear(3, width)  # (f(x, y), x, y)
        self.convs = nn.ModuleList(
            SpectralConv2d(width, width, modes, modes) for _ in range(layers)
        )
        self.ws = nn.ModuleList(nn.Conv2d(width, width, 1) for _ in range(layers))
        self.fc1, self.fc2 = nn.Linear(width, 32), nn.Linear(32, 1)

    def get_grid(self, shape):
        b, sx, sy = shape[0], shape[1], shape[2]
        gridx = torch.linspace(0, 1, sx).reshape(1, sx, 1, 1).repeat([b, 1, sy, 1])
        gridy = torch.linspace(0, 1, sy).reshape(1, 1, sy, 1).repeat([b, sx, 1, 1])
        return torch.cat((gridx, gridy), dim=-1)

    def forward(self, x):
        x = torch.cat((x, self.get_grid(x.shape)), dim=-1)
        x = self.fc0(x).permute(0, 3, 1, 2)
        for i, (conv, w) in enumerate(zip(self.convs, self.ws)):
            x = conv(x) + w(x)
            if i < len(self.convs) - 1:
                x = F.gelu(x)
        x = x.permute(0, 2, 3, 1)
        return self.fc2(F.gelu(self.fc1(x)))


def poisson_pairs(n):
    """Smooth zero-mean sources f and the periodic solutions of -lap u = f."""
    f_hat = torch.fft.fft2(randn(rng, n, S, S))
    k = torch.fft.fftfreq(S, d=1.0 / S) * 2 * math.pi
    k2 = k.reshape(-1, 1) ** 2 + k.reshape(1, -1) ** 2
    f_hat = f_hat * torch.exp(-k2 / 200.0)
    f_hat[:, 0, 0] = 0
    u_hat = f_hat / torch.where(k2 == 0, torch.ones_like(k2), k2)
    f, u = torch.fft.ifft2(f_hat).real, torch.fft.ifft2(u_hat).real
    return f.unsqueeze(-1) / f.std(), u.unsqueeze(-1) / f.std()


def rel_l2(pred, target):
    diff = torch.norm(pred.reshape(pred.size(0), -1) - target.reshape(target.size(0), -1), 2, 1)
    return (diff / torch.norm(target.reshape(target.size(0), -1), 2, 1)).mean()


f_train, u_train = poisson_pairs(8)
f_test, u_test = poisson_pairs(4)
model = init_from_numpy(FNO2d(MODES, WIDTH))
weight_dtype = str(model.convs[0].weights1.dtype)
n_params = sum(p.numel() for p in model.parameters())  # complex weights count once each
opt = torch.optim.Adam(model.parameters(), lr=5e-3, weight_decay=1e-4)
sched = torch.optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5)
losses, grad_norms = [], []
for _ in range(20):
    opt.zero_grad()
    loss = rel_l2(model(f_train), u_train)
    loss.backward()
    grad_norms.append(torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0).item())
    opt.step()
    sched.step()
    losses.append(loss.item())

spectral_grad = model.convs[0].weights2.grad[0, 0, :2, :2]
spectral_grad_sample = [spectral_grad.real.tolist(), spectral_grad.imag.tolist()]
with torch.no_grad():
    test_error = rel_l2(model(f_test), u_test).item()
    # the operator is resolution-aware: the same weights run on a 32 x 32 grid
    fine = F.interpolate(f_test.permute(0, 3, 1, 2), size=(32, 32), mode="bilinear")
    fine_shape = tuple(model(fine.permute(0, 2, 3, 1)).shape)
