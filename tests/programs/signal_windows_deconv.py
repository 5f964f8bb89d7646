"""Signal processing in PyTorch as DSP tutorials write it: the window zoo of
``torch.signal.windows`` (hann, hamming, blackman, kaiser, gaussian, exponential, cosine,
nuttall, general_hamming, bartlett) against the classic ``torch.*_window`` functions and their
closed forms; ``stft``/``istft`` round trips for several windows and hops (``center``,
``normalized``, ``onesided``); a 2-D Wiener deconvolution with ``rfftn``/``irfftn`` and a
Gaussian point-spread function centred with ``ifftshift``, its regularization weight learned by
gradient descent through the FFTs; and a learned frequency response (``rfft``/``irfft``) trained
with a log-magnitude spectrogram loss."""

import math

import torch
import torch.nn.functional as F

torch.manual_seed(0)

# -- windows
N = 16
windows = {
    "hann": torch.signal.windows.hann(N, sym=False),
    "hamming": torch.signal.windows.hamming(N),
    "blackman": torch.signal.windows.blackman(N),
    "kaiser": torch.signal.windows.kaiser(N, beta=8.0),
    "gaussian": torch.signal.windows.gaussian(N, std=3.0),
    "exponential": torch.signal.windows.exponential(N, tau=4.0),
    "cosine": torch.signal.windows.cosine(N),
    "nuttall": torch.signal.windows.nuttall(N),
    "general_hamming": torch.signal.windows.general_hamming(N, alpha=0.6),
    "bartlett": torch.signal.windows.bartlett(N),
}
window_values = {k: v.tolist() for k, v in windows.items()}
n = torch.arange(N)
classic_gaps = [
    (windows["hann"] - torch.hann_window(N)).abs().max().item(),
    (windows["hamming"] - torch.hamming_window(N, periodic=False)).abs().max().item(),
    (windows["kaiser"] - torch.kaiser_window(N, periodic=False, beta=8.0)).abs().max().item(),
    (windows["bartlett"] - torch.bartlett_window(N, periodic=False)).abs().max().item(),
    (windows["hann"] - 0.5 * (1 - torch.cos(2 * math.pi * n / N))).abs().max().item(),
]

# -- stft / istft round trips
signal = torch.randn(2, 400)
round_trips = {}
for name, n_fft, hop, normalized in [
    ("hann", 64, 16, False),
    ("hamming", 64, 32, True),
    ("blackman", 128, 32, False),
]:
    win = getattr(torch, f"{name}_window")(n_fft)
    spec = torch.stft(
        signal, n_fft, hop_length=hop, window=win, normalized=normalized, return_complex=True
    )
    back = torch.istft(
        spec, n_fft, hop_length=hop, window=win, normalized=normalized, length=signal.shape[-1]
    )
    round_trips[name] = [list(spec.shape), (back - signal).abs().max().item()]
spec = torch.stft(signal, 64, hop_length=16, window=torch.hann_window(64), return_complex=True)
spectrum_sample = spec[0, 3:6, 4].abs().tolist()
two_sided = torch.stft(
    signal[0], 32, hop_length=8, window=torch.hann_window(32), onesided=False,
    return_complex=True,
)  # fmt: skip
two_sided_symmetry = (two_sided[1:] - two_sided[1:].flip(0).conj()).abs().max().item()

# -- Wiener deconvolution with a learned regularization weight
H, W = 32, 32
yy, xx = torch.meshgrid(torch.arange(H) - H // 2, torch.arange(W) - W // 2, indexing="ij")
psf = torch.exp(-(xx**2 + yy**2) / (2 * 1.5**2))
psf = psf / psf.sum()
otf = torch.fft.rfftn(torch.fft.ifftshift(psf), dim=(-2, -1))
clean = F.avg_pool2d(torch.rand(1, 1, H, W), 5, stride=1, padding=2).squeeze()
clean = clean + (xx.abs() < 6).float() * (yy.abs() < 4).float() * 0.5
blurred = torch.fft.irfftn(torch.fft.rfftn(clean) * otf, s=(H, W))
noisy = blurred + 0.01 * torch.randn(H, W)

log_lam = torch.tensor(0.0, requires_grad=True)
optimizer = torch.optim.Adam([log_lam], lr=0.3)
wiener_losses = []
for step in range(30):
    optimizer.zero_grad()
    G = otf.conj() / (otf.abs() ** 2 + log_lam.exp())
    restored = torch.fft.irfftn(torch.fft.rfftn(noisy) * G, s=(H, W))
    loss = F.mse_loss(restored, clean)
    loss.backward()
    optimizer.step()
    wiener_losses.append(loss.item())
blurred_mse = F.mse_loss(noisy, clean).item()
learned_lambda = log_lam.exp().item()
freqs = torch.fft.fftshift(torch.fft.fftfreq(8, d=0.5)).tolist()

# -- a learned frequency response trained with a log-magnitude spectrogram loss
t = torch.arange(512) / 512
target_signal = torch.sin(2 * math.pi * 40 * t) + 0.5 * torch.sin(2 * math.pi * 90 * t)
source = target_signal + 0.8 * torch.sin(2 * math.pi * 160 * t) + 0.3 * torch.randn(512)
response = torch.ones(257, requires_grad=True)
optimizer = torch.optim.Adam([response], lr=0.03)
window = torch.hann_window(128)


def log_spec(x):
    s = torch.stft(x, 128, hop_length=32, window=window, return_complex=True)
    return torch.log1p(s.abs())


spec_losses = []
for step in range(25):
    optimizer.zero_grad()
    filtered = torch.fft.irfft(torch.fft.rfft(source) * response, n=512)
    loss = (log_spec(filtered) - log_spec(target_signal)).pow(2).mean()
    loss.backward()
    optimizer.step()
    spec_losses.append(loss.item())
response_sample = response.detach()[[40, 90, 160, 200]].tolist()
