"""Speech-enhancement-style denoising in the STFT domain, as small torchaudio-free recipes
write it: a hand-made mel filterbank (HTK mel scale with ``torch.log10``, triangular filters from
``torch.linspace`` and ``torch.min``/``clamp``, Slaney area normalization), log-mel features of
the noisy signal's ``torch.stft(..., return_complex=True)`` into a small Conv1d network that
predicts a magnitude mask per frequency bin, the enhanced spectrum rebuilt with
``torch.polar(mag * mask, torch.angle(spec))`` and brought back to a waveform with
``torch.istft(..., length=)``; trained with the negative scale-invariant SDR."""

import math

import torch
import torch.nn as nn

torch.manual_seed(0)
SR, N_FFT, HOP, N_MELS, LENGTH = 8000, 128, 32, 16, 1024


def hz_to_mel(freq):
    return 2595.0 * torch.log10(1.0 + freq / 700.0)


def mel_to_hz(mels):
    return 700.0 * (10.0 ** (mels / 2595.0) - 1.0)


def melscale_fbanks(n_freqs, f_min, f_max, n_mels, sample_rate):
    all_freqs = torch.linspace(0, sample_rate // 2, n_freqs)
    m_min, m_max = hz_to_mel(torch.tensor(f_min)), hz_to_mel(torch.tensor(f_max))
    f_pts = mel_to_hz(torch.linspace(m_min, m_max, n_mels + 2))
    f_diff = f_pts[1:] - f_pts[:-1]
    slopes = f_pts.unsqueeze(0) - all_freqs.unsqueeze(1)  # (n_freqs, n_mels + 2)
    down_slopes = (-1.0 * slopes[:, :-2]) / f_diff[:-1]
    up_slopes = slopes[:, 2:] / f_diff[1:]
    fb = torch.max(torch.zeros(1), torch.min(down_slopes, up_slopes))
    enorm = 2.0 / (f_pts[2 : n_mels + 2] - f_pts[:n_mels])  # Slaney: equal area per filter
    return fb * enorm.unsqueeze(0)


def make_signals(batch):
    t = torch.arange(LENGTH) / SR
    freqs = 200 + 1500 * torch.rand(batch, 3, 1)
    phases = 2 * math.pi * torch.rand(batch, 3, 1)
    clean = (torch.sin(2 * math.pi * freqs * t + phases) * torch.rand(batch, 3, 1)).sum(1)
    envelope = torch.sigmoid(20 * (t - 0.02)) * torch.sigmoid(20 * (0.11 - t))
    clean = clean * envelope
    return clean, clean + 0.5 * torch.randn(batch, LENGTH)


def si_sdr(estimate, reference, eps=1e-8):
    reference = reference - reference.mean(-1, keepdim=True)
    estimate = estimate - estimate.mean(-1, keepdim=True)
    alpha = (estimate * reference).sum(-1, keepdim=True) / (reference.pow(2).sum(-1, keepdim=True))
    target = alpha * reference
    noise = estimate - target
    return 10 * torch.log10(target.pow(2).sum(-1) / (noise.pow(2).sum(-1) + eps) + eps)


class MaskNet(nn.Module):
    def __init__(self, fbank):
        super().__init__()
        self.register_buffer("fbank", fbank)  # (n_freqs, n_mels)
        n_freqs = fbank.shape[0]
        self.net = nn.Sequential(
            nn.Conv1d(N_MELS, 32, kernel_size=3, padding=1),
            nn.PReLU(),
            nn.Conv1d(32, n_freqs, kernel_size=3, padding=1),
        )

    def forward(self, noisy):
        window = torch.hann_window(N_FFT)
        spec = torch.stft(noisy, N_FFT, HOP, window=window, return_complex=True)
        power = spec.abs().pow(2)  # (batch, freqs, frames)
        mel = torch.matmul(power.transpose(1, 2), self.fbank).transpose(1, 2)
        features = torch.log(mel.clamp(min=1e-8))
        mask = torch.sigmoid(self.net(features))
        enhanced = torch.polar(spec.abs() * mask, torch.angle(spec))
        return torch.istft(enhanced, N_FFT, HOP, window=window, length=noisy.shape[-1]), mask


fbank = melscale_fbanks(N_FFT // 2 + 1, 0.0, SR / 2, N_MELS, SR)
fbank_info = {
    "shape": list(fbank.shape),
    "peaks": fbank.argmax(0).tolist(),
    "column_sums": fbank.sum(0)[:4].tolist(),
}
model = MaskNet(fbank)
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
losses = []
for step in range(8):
    clean, noisy = make_signals(4)
    enhanced, _ = model(noisy)
    loss = -si_sdr(enhanced, clean).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())

clean, noisy = make_signals(4)
with torch.no_grad():
    enhanced, mask = model(noisy)
noisy_sdr, enhanced_sdr = si_sdr(noisy, clean).tolist(), si_sdr(enhanced, clean).tolist()
mask_mean = mask.mean().item()
window = torch.hann_window(N_FFT)
round_trip = torch.istft(
    torch.stft(clean, N_FFT, HOP, window=window, return_complex=True), N_FFT, HOP, window=window
)
round_trip_gap = (round_trip - clean[:, : round_trip.shape[-1]]).abs().max().item()
print(f"loss {losses[0]:.2f} -> {losses[-1]:.2f}; SI-SDR {sum(noisy_sdr) / 4:.2f} dB ->")
print(f"{sum(enhanced_sdr) / 4:.2f} dB, round trip {round_trip_gap:.1e}")
