"""Complex numbers and FFT layers: a global-filter layer (GFNet style: ``rfft2``, multiply by a
learned complex weight stored as ``view_as_complex`` of a real parameter, ``irfft2`` with
``s=``, ``norm='ortho'``), a complex-valued linear layer with a modReLU built from ``abs``/
``angle``/``polar``, spectral convolution vs direct circular convolution, and ``fftshift``/
``fftfreq`` for a frequency-domain low-pass filter; trained on a denoising task."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy, randn

rng = np.random.default_rng(14)
H, W = 8, 8


class GlobalFilter(nn.Module):
    def __init__(self, channels, h, w):
        super().__init__()
        self.complex_weight = nn.Parameter(torch.randn(channels, h, w // 2 + 1, 2) * 0.02)

    def forward(self, x):
        X = torch.fft.rfft2(x, dim=(-2, -1), norm="ortho")
        weight = torch.view_as_complex(self.complex_weight)
        return torch.fft.irfft2(X * weight, s=x.shape[-2:], dim=(-2, -1), norm="ortho")


class ComplexLinear(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.real = nn.Linear(n, n, bias=False)
        self.imag = nn.Linear(n, n, bias=False)
        self.b = nn.Parameter(torch.zeros(n))

    def forward(self, z):
        out = torch.complex(
            self.real(z.real) - self.imag(z.imag), self.real(z.imag) + self.imag(z.real)
        )
        magnitude = F.relu(out.abs() + self.b)  # modReLU
        return torch.polar(magnitude, out.angle())


class Denoiser(nn.Module):
    def __init__(self):
        super().__init__()
        self.filter = GlobalFilter(1, H, W)
        self.mix = ComplexLinear(W)

    def forward(self, x):
        y = self.filter(x)
        z = torch.fft.fft(y, dim=-1)
        z = self.mix(z)
        return torch.fft.ifft(z, dim=-1).real + y


clean = torch.sin(torch.linspace(0, 3.14, H)).unsqueeze(1) * torch.cos(torch.linspace(0, 6.28, W))
clean = clean.expand(32, 1, H, W) * (1 + 0.3 * randn(rng, 32, 1, 1, 1))
noisy = clean + 0.3 * randn(rng, 32, 1, H, W)
model = init_from_numpy(Denoiser(), seed=5)
with torch.no_grad():
    model.filter.complex_weight.copy_(
        torch.from_numpy(rng.standard_normal((1, H, W // 2 + 1, 2)).astype(np.float32) * 0.3)
    )
optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
losses = []
for step in range(40):
    optimizer.zero_grad()
    loss = F.mse_loss(model(noisy), clean)
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
weight_grad_norm = model.filter.complex_weight.grad.norm().item()

signal = randn(rng, 16)
kernel = randn(rng, 16)
spectral = torch.fft.ifft(torch.fft.fft(signal) * torch.fft.fft(kernel)).real
direct = torch.stack([(signal * kernel.flip(0).roll(i + 1)).sum() for i in range(16)])
circular_gap = (spectral - direct).abs().max().item()

freqs = torch.fft.fftshift(torch.fft.fftfreq(16, d=0.5))
spectrum = torch.fft.fftshift(torch.fft.fft(signal))
lowpass = torch.fft.ifft(torch.fft.ifftshift(spectrum * (freqs.abs() < 0.4))).real
lowpass_values = lowpass.tolist()
z = torch.complex(randn(rng, 4), randn(rng, 4))
complex_values = [
    z.abs().tolist(),
    z.angle().tolist(),
    (z * z.conj()).real.tolist(),
    torch.view_as_real(z.sqrt()).flatten().tolist(),
    (z.exp() / z).imag.tolist(),
    z.sgn().real.tolist(),
]
