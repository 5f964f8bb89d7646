"""Audio signal recipes as torchaudio's functional module writes them, in plain torch: mu-law
companding (mu_law_encoding / mu_law_decoding with sign, log1p and 8-bit quantization),
Griffin-Lim phase reconstruction from a magnitude spectrogram (random initial phases, stft and
istft with a Hann window and length=, the momentum update of fast Griffin-Lim), the spectral
convergence it reaches, and a WaveNet-style mu-law classifier head trained on the quantized
samples; variable-length clips handled with unpad_sequence and pack_sequence/unpack_sequence."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_sequence, pad_sequence, unpack_sequence, unpad_sequence

N_FFT, HOP = 256, 64


def mu_law_encoding(x, quantization_channels=256):
    mu = torch.tensor(quantization_channels - 1.0, dtype=x.dtype)
    x_mu = torch.sign(x) * torch.log1p(mu * torch.abs(x)) / torch.log1p(mu)
    return ((x_mu + 1) / 2 * mu + 0.5).to(torch.int64)


def mu_law_decoding(x_mu, quantization_channels=256):
    mu = quantization_channels - 1.0
    x = (x_mu.float() / mu) * 2 - 1.0
    return torch.sign(x) * (torch.exp(torch.abs(x) * math.log1p(mu)) - 1.0) / mu


def griffinlim(specgram, n_iter, momentum, length, generator):
    window = torch.hann_window(N_FFT)
    angles = torch.rand(specgram.shape, generator=generator) * 2 * math.pi
    angles = torch.polar(torch.ones_like(specgram), angles)
    tprev = torch.tensor(0.0, dtype=angles.dtype)
    errors = []
    for _ in range(n_iter):
        inverse = torch.istft(specgram * angles, N_FFT, HOP, window=window, length=length)
        rebuilt = torch.stft(inverse, N_FFT, HOP, window=window, return_complex=True)
        angles = rebuilt - tprev.mul_(momentum / (1 + momentum)) if momentum else rebuilt
        angles = angles.div(angles.abs().add(1e-16))
        tprev = rebuilt
        errors.append(((rebuilt.abs() - specgram).norm() / specgram.norm()).item())
    waveform = torch.istft(specgram * angles, N_FFT, HOP, window=window, length=length)
    return waveform, errors


g = torch.Generator().manual_seed(0)
t = torch.arange(4000) / 8000
wave = 0.5 * torch.sin(2 * math.pi * 330 * t) + 0.3 * torch.sin(2 * math.pi * 660 * t * (1 + t))
encoded = mu_law_encoding(wave)
decoded = mu_law_decoding(encoded)
mulaw_error = (decoded - wave).abs().max().item()
encoded_range = [encoded.min().item(), encoded.max().item()]

magnitude = torch.stft(wave, N_FFT, HOP, window=torch.hann_window(N_FFT), return_complex=True).abs()
results = {}
for momentum in (0.0, 0.99):
    rebuilt, errors = griffinlim(
        magnitude, 16, momentum, len(wave), torch.Generator().manual_seed(1)
    )
    results[momentum] = errors
rebuilt_length = len(rebuilt)

# next-sample prediction over mu-law classes from a few clips of different lengths
torch.manual_seed(0)
clips = [encoded[s : s + n] for s, n in [(0, 150), (500, 120), (1000, 140), (2000, 100)]]
lengths = torch.tensor([len(c) for c in clips])
padded = pad_sequence(clips, batch_first=True)
restored = unpad_sequence(padded, lengths, batch_first=True)
unpad_ok = all(torch.equal(a, b) for a, b in zip(restored, clips))
embed, rnn, head = nn.Embedding(256, 16), nn.GRU(16, 32, batch_first=True), nn.Linear(32, 256)
params = [*embed.parameters(), *rnn.parameters(), *head.parameters()]
optimizer = torch.optim.Adam(params, lr=1e-2)
losses = []
for step in range(25):
    packed = pack_sequence([embed(c[:-1]) for c in clips], enforce_sorted=False)
    out, _ = rnn(packed)
    outputs = unpack_sequence(out)  # a list in the original order
    logits = head(torch.cat(outputs))
    targets = torch.cat([c[1:] for c in clips])
    loss = F.cross_entropy(logits, targets)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
output_lengths = [len(o) for o in outputs]
print(
    f"mu-law error {mulaw_error:.4f}; Griffin-Lim {results[0.0][-1]:.3f} vs fast {results[0.99][-1]:.3f}"
)
print(f"loss {losses[0]:.3f} -> {losses[-1]:.3f}")
