"""Keyword spotting on MFCC features, as speech-commands tutorials compute them when they do not
depend on torchaudio: torch.stft with a Hann window (center=True, reflect padding), a power
spectrogram, a triangular mel filterbank built with torchaudio's HTK formulas, log-mel with an
amplitude_to_DB top_db floor, a DCT-II matrix (norm='ortho') for the cepstral coefficients,
deltas by a padded conv1d, and a small 1-D CNN (Conv1d, BatchNorm1d, MaxPool1d,
AdaptiveAvgPool1d) trained to tell four synthetic "words" (tone patterns) apart."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

SAMPLE_RATE, N_FFT, HOP, N_MELS, N_MFCC = 8000, 256, 128, 32, 13


def hz_to_mel(freq):
    return 2595.0 * math.log10(1.0 + freq / 700.0)


def melscale_fbanks(n_freqs, f_min, f_max, n_mels, sample_rate):
    all_freqs = torch.linspace(0, sample_rate // 2, n_freqs)
    m_pts = torch.linspace(hz_to_mel(f_min), hz_to_mel(f_max), n_mels + 2)
    f_pts = 700.0 * (10 ** (m_pts / 2595.0) - 1.0)
    f_diff = f_pts[1:] - f_pts[:-1]
    slopes = f_pts.unsqueeze(0) - all_freqs.unsqueeze(1)  # (n_freqs, n_mels + 2)
    down_slopes = (-1.0 * slopes[:, :-2]) / f_diff[:-1]
    up_slopes = slopes[:, 2:] / f_diff[1:]
    return torch.max(torch.zeros(1), torch.min(down_slopes, up_slopes))


def create_dct(n_mfcc, n_mels):
    n = torch.arange(float(n_mels))
    k = torch.arange(float(n_mfcc)).unsqueeze(1)
    dct = torch.cos(math.pi / float(n_mels) * (n + 0.5) * k)  # size (n_mfcc, n_mels)
    dct[0] *= 1.0 / math.sqrt(2.0)
    dct *= math.sqrt(2.0 / float(n_mels))
    return dct.t()


class MFCC(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("window", torch.hann_window(N_FFT))
        self.register_buffer("fb", melscale_fbanks(N_FFT // 2 + 1, 0.0, 4000.0, N_MELS, 8000))
        self.register_buffer("dct_mat", create_dct(N_MFCC, N_MELS))

    def forward(self, waveform):
        spec = (
            torch.stft(
                waveform,
                N_FFT,
                HOP,
                window=self.window,
                center=True,
                pad_mode="reflect",
                return_complex=True,
            )
            .abs()
            .pow(2.0)
        )
        mel = torch.matmul(spec.transpose(-1, -2), self.fb).transpose(-1, -2)
        db = 10.0 * torch.log10(torch.clamp(mel, min=1e-10))
        db = torch.max(db, db.amax(dim=(-2, -1), keepdim=True) - 80.0)  # top_db
        return torch.matmul(db.transpose(-1, -2), self.dct_mat).transpose(-1, -2)


def compute_deltas(specgram, win_length=5):
    n = (win_length - 1) // 2
    denom = n * (n + 1) * (2 * n + 1) / 3
    shape = specgram.shape
    specgram = specgram.reshape(1, -1, shape[-1])
    specgram = F.pad(specgram, (n, n), mode="replicate")
    kernel = torch.arange(-n, n + 1, 1, dtype=specgram.dtype).repeat(specgram.shape[1], 1, 1)
    return (F.conv1d(specgram, kernel, groups=specgram.shape[1]) / denom).reshape(shape)


def make_word(label, n, generator):
    t = torch.arange(SAMPLE_RATE // 2) / SAMPLE_RATE
    base = torch.tensor([300.0, 700.0, 1200.0, 2000.0])[label]
    f0 = base * (1 + 0.05 * torch.randn(n, 1, generator=generator))
    sweep = 1.0 + (label % 2) * 0.8 * t  # odd words rise in pitch
    wave = torch.sin(2 * math.pi * f0 * t * sweep) * torch.hann_window(t.numel(), periodic=False)
    return wave + 0.3 * torch.randn(n, t.numel(), generator=generator)


g = torch.Generator().manual_seed(0)
labels = torch.arange(4).repeat_interleave(24)
waves = torch.cat([make_word(c, 24, g) for c in range(4)])
torch.manual_seed(0)
featurizer = MFCC()
with torch.no_grad():
    mfcc = featurizer(waves)
    features = torch.cat([mfcc, compute_deltas(mfcc)], dim=1)  # (96, 26, frames)
features = (features - features.mean(dim=(0, 2), keepdim=True)) / features.std(
    dim=(0, 2), keepdim=True
)
fb_column_peaks = featurizer.fb.argmax(0)[:6].tolist()
dct_orthogonal_gap = (
    (featurizer.dct_mat.t() @ featurizer.dct_mat - torch.eye(N_MFCC)).abs().max().item()
)
feature_shape = tuple(features.shape)

model = nn.Sequential(
    nn.Conv1d(2 * N_MFCC, 32, 3, padding=1),
    nn.BatchNorm1d(32),
    nn.ReLU(),
    nn.MaxPool1d(2),
    nn.Conv1d(32, 32, 3, padding=1),
    nn.BatchNorm1d(32),
    nn.ReLU(),
    nn.AdaptiveAvgPool1d(1),
    nn.Flatten(),
    nn.Linear(32, 4),
)
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-2)
perm = torch.randperm(96)
train, test = perm[:64], perm[64:]
losses = []
for epoch in range(15):
    for batch in train.split(16):
        loss = F.cross_entropy(model(features[batch]), labels[batch], label_smoothing=0.1)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
model.eval()
with torch.no_grad():
    test_accuracy = (model(features[test]).argmax(1) == labels[test]).float().mean().item()
print(
    f"features {feature_shape}, loss {losses[0]:.3f} -> {losses[-1]:.3f}, test acc {test_accuracy:.3f}"
)
