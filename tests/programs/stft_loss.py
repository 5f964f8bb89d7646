"""The multi-resolution STFT loss of Parallel WaveGAN (Yamamoto et al. 2020) as its
stft_loss.py writes it for PyTorch: torch.stft with a Hann window and return_complex=True,
magnitudes through view_as_real and a clamp, spectral convergence (Frobenius norms) plus a log
STFT magnitude L1 loss over three resolutions; it trains a small Conv1d denoiser on noisy
sine mixtures, and checks torch.istft's round trip."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


def stft(x, fft_size, hop_size, win_length, window):
    """Magnitude spectrogram (B, frames, fft_size // 2 + 1)."""
    x_stft = torch.stft(x, fft_size, hop_size, win_length, window, return_complex=True)
    x_stft = torch.view_as_real(x_stft)
    real = x_stft[..., 0]
    imag = x_stft[..., 1]
    return torch.sqrt(torch.clamp(real**2 + imag**2, min=1e-7)).transpose(2, 1)


class SpectralConvergengeLoss(nn.Module):
    def forward(self, x_mag, y_mag):
        return torch.norm(y_mag - x_mag, p="fro") / torch.norm(y_mag, p="fro")


class LogSTFTMagnitudeLoss(nn.Module):
    def forward(self, x_mag, y_mag):
        return F.l1_loss(torch.log(y_mag), torch.log(x_mag))


class STFTLoss(nn.Module):
    def __init__(self, fft_size=64, shift_size=16, win_length=48, window="hann_window"):
        super().__init__()
        self.fft_size = fft_size
        self.shift_size = shift_size
        self.win_length = win_length
        self.register_buffer("window", getattr(torch, window)(win_length))
        self.spectral_convergenge_loss = SpectralConvergengeLoss()
        self.log_stft_magnitude_loss = LogSTFTMagnitudeLoss()

    def forward(self, x, y):
        x_mag = stft(x, self.fft_size, self.shift_size, self.win_length, self.window)
        y_mag = stft(y, self.fft_size, self.shift_size, self.win_length, self.window)
        sc_loss = self.spectral_convergenge_loss(x_mag, y_mag)
        mag_loss = self.log_stft_magnitude_loss(x_mag, y_mag)
        return sc_loss, mag_loss


class MultiResolutionSTFTLoss(nn.Module):
    def __init__(self, fft_sizes=(32, 64, 128), hop_sizes=(8, 16, 32), win_lengths=(24, 48, 96)):
        super().__init__()
        self.stft_losses = nn.ModuleList(
            [STFTLoss(fs, ss, wl) for fs, ss, wl in zip(fft_sizes, hop_sizes, win_lengths)]
        )

    def forward(self, x, y):
        sc_loss, mag_loss = 0.0, 0.0
        for f in self.stft_losses:
            sc_l, mag_l = f(x, y)
            sc_loss += sc_l
            mag_loss += mag_l
        return sc_loss / len(self.stft_losses), mag_loss / len(self.stft_losses)


class Denoiser(nn.Module):
    def __init__(self, channels=16):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv1d(1, channels, 9, padding=4),
            nn.LeakyReLU(0.2),
            nn.Conv1d(channels, channels, 9, padding=4),
            nn.LeakyReLU(0.2),
            nn.Conv1d(channels, 1, 9, padding=4),
        )

    def forward(self, x):
        return x + self.net(x.unsqueeze(1)).squeeze(1)


def batch(n=8, length=512):
    t = torch.arange(length) / 8000.0
    freqs = torch.rand(n, 2) * 1500 + 200
    clean = sum(torch.sin(2 * math.pi * freqs[:, i : i + 1] * t) for i in range(2)) / 2
    return clean + 0.3 * torch.randn(n, length), clean


model = Denoiser()
criterion = MultiResolutionSTFTLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
history = []
for step in range(40):
    noisy, clean = batch()
    sc_loss, mag_loss = criterion(model(noisy), clean)
    loss = sc_loss + mag_loss
    optimizer.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
    optimizer.step()
    history.append(loss.item())
    if step % 10 == 0:
        print(
            f"step {step}: spectral convergence {sc_loss.item():.3f}, log mag {mag_loss.item():.3f}"
        )

noisy, clean = batch(4)
window = torch.hann_window(64)
spec = torch.stft(noisy, 64, 16, window=window, return_complex=True)
round_trip = torch.istft(spec, 64, 16, window=window, length=noisy.shape[-1])
round_trip_error = (round_trip - noisy).abs().max().item()
with torch.no_grad():
    before = criterion(noisy, clean)[0].item()
    after = criterion(model(noisy), clean)[0].item()
print(f"spectral convergence {before:.3f} -> {after:.3f}; istft round trip {round_trip_error:.2e}")
