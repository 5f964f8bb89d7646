"""Classic DSP written with PyTorch tensors, as signal-processing course labs do: Welch's power
spectral density from ``torch.stft`` (Hann window, 50 % overlap, ``return_complex=True``,
density scaling and the one-sided doubling) with its local-maximum peak frequencies; the analytic signal by
the FFT Hilbert transform (``torch.fft.fft`` times the 0/1/2 mask, ``ifft``) giving the AM
envelope (``abs``) and the instantaneous frequency (``torch.angle``, a hand unwrap with
``torch.cumsum``); a windowed-sinc low-pass FIR (``torch.sinc``, ``torch.hamming_window``)
applied with ``F.conv1d`` and its response from ``torch.fft.rfft(h, n=...)`` in dB; a
Savitzky-Golay smoother from ``torch.linalg.pinv`` of a ``torch.vander`` matrix; a GCC-PHAT
time-delay estimate through ``rfft``/``irfft``; and a learned FIR fitted to the designed one
by Adam on a spectral loss. Float64."""

import math

import torch
import torch.nn.functional as F

torch.manual_seed(11)
torch.set_default_dtype(torch.float64)
fs, n = 200.0, 1024
t = torch.arange(n) / fs
x = torch.sin(2 * math.pi * 12.5 * t) + 0.5 * torch.sin(2 * math.pi * 37.5 * t)
x = x + 0.3 * torch.randn(n)


def welch(x, fs, nperseg=128):
    window = torch.hann_window(nperseg, periodic=True)
    spec = torch.stft(
        x - x.mean(), n_fft=nperseg, hop_length=nperseg // 2, win_length=nperseg,
        window=window, center=False, return_complex=True,
    )  # fmt: skip
    psd = spec.abs().pow(2).mean(-1) / (fs * window.pow(2).sum())
    psd[1:-1] *= 2  # one-sided: fold the negative frequencies
    return torch.fft.rfftfreq(nperseg, d=1 / fs), psd


freqs, psd = welch(x, fs)
is_peak = (psd[1:-1] > psd[:-2]) & (psd[1:-1] > psd[2:])
peak_bins = torch.nonzero(is_peak).flatten() + 1
top2 = peak_bins[torch.topk(psd[peak_bins], 2).indices].sort().values
peak_freqs = freqs[top2].tolist()
total_power = (psd.sum() * (freqs[1] - freqs[0])).item()


def hilbert(x):
    N = x.shape[-1]
    Xf = torch.fft.fft(x)
    h = torch.zeros(N)
    h[0] = 1
    h[1 : (N + 1) // 2] = 2
    if N % 2 == 0:
        h[N // 2] = 1
    return torch.fft.ifft(Xf * h)


carrier = 25.0
am = (1 + 0.5 * torch.cos(2 * math.pi * 2.0 * t)) * torch.cos(2 * math.pi * carrier * t)
analytic = hilbert(am)
envelope = analytic.abs()
phase = torch.angle(analytic)
dphi = torch.diff(phase)
dphi = dphi - 2 * math.pi * torch.round(dphi / (2 * math.pi))  # unwrap
unwrapped = torch.cat([phase[:1], phase[0] + torch.cumsum(dphi, 0)])
inst_freq = dphi * fs / (2 * math.pi)
envelope_err = (
    (envelope[50:-50] - (1 + 0.5 * torch.cos(2 * math.pi * 2.0 * t[50:-50]))).abs().max().item()
)
inst_freq_median = inst_freq[50:-50].median().item()
phase_span = (unwrapped[-1] - unwrapped[0]).item()


def lowpass_fir(numtaps, cutoff, fs):
    m = torch.arange(numtaps) - (numtaps - 1) / 2
    h = 2 * cutoff / fs * torch.sinc(2 * cutoff / fs * m)
    h = h * torch.hamming_window(numtaps, periodic=False)
    return h / h.sum()


h = lowpass_fir(41, 20.0, fs)
y = F.conv1d(x.view(1, 1, -1), h.flip(0).view(1, 1, -1), padding=20).view(-1)
H = torch.fft.rfft(h, n=512)
H_db = 20 * torch.log10(H.abs().clamp(min=1e-12))
f_axis = torch.fft.rfftfreq(512, d=1 / fs)
gain_12 = H_db[torch.argmin((f_axis - 12.5).abs())].item()
gain_37 = H_db[torch.argmin((f_axis - 37.5).abs())].item()
_, psd_y = welch(y, fs)
suppression = (psd_y[top2[1]] / psd[top2[1]]).item()

half, order = 3, 3
offsets = torch.arange(-half, half + 1, dtype=torch.float64)
A = torch.vander(offsets, N=order + 1, increasing=True)
sg_coeffs = torch.linalg.pinv(A)[0]
smooth = F.conv1d(x.view(1, 1, -1), sg_coeffs.view(1, 1, -1), padding=half).view(-1)
clean = torch.sin(2 * math.pi * 12.5 * t) + 0.5 * torch.sin(2 * math.pi * 37.5 * t)
sg_rmse = (smooth - clean)[half:-half].pow(2).mean().sqrt().item()
noisy_rmse = (x - clean)[half:-half].pow(2).mean().sqrt().item()
sg_sum = sg_coeffs.sum().item()

delay = 17
sig = torch.randn(n)
received = torch.roll(sig, delay) + 0.2 * torch.randn(n)
R = torch.fft.rfft(received, n=2 * n) * torch.fft.rfft(sig, n=2 * n).conj()
cc = torch.fft.irfft(R / R.abs().clamp(min=1e-12), n=2 * n)
estimated_delay = int(torch.argmax(cc).item())

learned = (0.01 * torch.randn(41)).requires_grad_(True)
opt = torch.optim.Adam([learned], lr=0.005)
target_mag = H.abs()
fir_losses = []
for step in range(60):
    opt.zero_grad()
    loss = (torch.fft.rfft(learned, n=512).abs() - target_mag).pow(2).mean()
    loss.backward()
    opt.step()
    fir_losses.append(loss.item())
print(f"Welch peaks {peak_freqs} Hz, power {total_power:.4f}; envelope err {envelope_err:.4f}")
print(
    f"inst freq {inst_freq_median:.3f} Hz; FIR gain 12 Hz {gain_12:.2f} dB, 37 Hz {gain_37:.2f} dB"
)
print(
    f"SG rmse {sg_rmse:.4f}; GCC-PHAT delay {estimated_delay}; FIR fit {fir_losses[0]:.4f} -> {fir_losses[-1]:.5f}"
)
torch.set_default_dtype(torch.float32)
