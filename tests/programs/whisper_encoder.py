"""Whisper's audio front end and encoder (Radford et al. 2022) as openai/whisper's audio.py and
model.py write them, scaled down: ``log_mel_spectrogram`` with ``torch.stft`` (Hann window,
``return_complex=True``), power spectrum of all frames but the last, a mel filterbank built by
hand (Slaney-style triangles on the HTK mel scale, area-normalized), ``log10`` of the clamped
mel energies, dynamic range compression with ``torch.maximum(log_spec, log_spec.max() - 8)``
and ``(x + 4) / 4``; ``pad_or_trim`` with ``F.pad``; the conv1d stem (kernel 3, the second
with stride 2, exact GELU), the fixed ``sinusoids`` positional embedding registered as a
buffer, pre-norm residual attention blocks with a bias-less key projection; the encoder is
trained with a small decoder that cross-attends to it and predicts the sequence of tones in a
clip (teacher forcing, cross-entropy), then decodes greedily, also with Whisper's key/value
cache kept by forward hooks on the projections (``register_forward_hook`` returning the
grown cache, modules as dictionary keys, ``hook.remove()``)."""

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
SAMPLE_RATE, N_FFT, HOP, N_MELS, N_SAMPLES = 4000, 128, 32, 16, 1024
FREQS = [300.0, 600.0, 1000.0, 1500.0]
SOT, EOT = 4, 5


def mel_filters(n_mels, n_fft, sr, fmin=0.0, fmax=None):
    fmax = fmax or sr / 2
    hz_to_mel = lambda f: 2595.0 * np.log10(1.0 + f / 700.0)  # noqa: E731
    mel_to_hz = lambda m: 700.0 * (10.0 ** (m / 2595.0) - 1.0)  # noqa: E731
    mels = np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2)
    hz = torch.tensor(mel_to_hz(mels), dtype=torch.float32)
    fft_freqs = torch.linspace(0, sr / 2, n_fft // 2 + 1)
    lower = (fft_freqs[None, :] - hz[:-2, None]) / (hz[1:-1] - hz[:-2])[:, None]
    upper = (hz[2:, None] - fft_freqs[None, :]) / (hz[2:] - hz[1:-1])[:, None]
    weights = torch.clamp(torch.minimum(lower, upper), min=0.0)
    enorm = 2.0 / (hz[2:] - hz[:-2])
    return weights * enorm[:, None]


def pad_or_trim(array, length=N_SAMPLES, axis=-1):
    if array.shape[axis] > length:
        array = array.index_select(dim=axis, index=torch.arange(length))
    if array.shape[axis] < length:
        pad_widths = [(0, 0)] * array.ndim
        pad_widths[axis] = (0, length - array.shape[axis])
        array = F.pad(array, [pad for sizes in pad_widths[::-1] for pad in sizes])
    return array


def log_mel_spectrogram(audio, filters):
    window = torch.hann_window(N_FFT)
    stft = torch.stft(audio, N_FFT, HOP, window=window, return_complex=True)
    magnitudes = stft[..., :-1].abs() ** 2
    mel_spec = filters @ magnitudes
    log_spec = torch.clamp(mel_spec, min=1e-10).log10()
    log_spec = torch.maximum(log_spec, log_spec.max() - 8.0)
    return (log_spec + 4.0) / 4.0


def sinusoids(length, channels, max_timescale=10000):
    log_timescale_increment = np.log(max_timescale) / (channels // 2 - 1)
    inv_timescales = torch.exp(-log_timescale_increment * torch.arange(channels // 2))
    scaled_time = torch.arange(length)[:, np.newaxis] * inv_timescales[np.newaxis, :]
    return torch.cat([torch.sin(scaled_time), torch.cos(scaled_time)], dim=1)


class MultiHeadAttention(nn.Module):
    def __init__(self, n_state, n_head):
        super().__init__()
        self.n_head = n_head
        self.query, self.key = nn.Linear(n_state, n_state), nn.Linear(n_state, n_state, bias=False)
        self.value, self.out = nn.Linear(n_state, n_state), nn.Linear(n_state, n_state)

    def forward(self, x, xa=None, mask=None, kv_cache=None):
        q = self.query(x)
        if kv_cache is None or xa is None or self.key not in kv_cache:
            # hooks installed on key/value append to (self-attention) or keep (cross) the cache
            k, v = self.key(x if xa is None else xa), self.value(x if xa is None else xa)
        else:
            k, v = kv_cache[self.key], kv_cache[self.value]
        n_batch, n_ctx, n_state = q.shape
        scale = (n_state // self.n_head) ** -0.25
        q = q.view(*q.shape[:2], self.n_head, -1).permute(0, 2, 1, 3) * scale
        k = k.view(*k.shape[:2], self.n_head, -1).permute(0, 2, 3, 1) * scale
        v = v.view(*v.shape[:2], self.n_head, -1).permute(0, 2, 1, 3)
        qk = q @ k
        if mask is not None:
            qk = qk + mask[:n_ctx, :n_ctx]
        w = F.softmax(qk.float(), dim=-1).to(q.dtype)
        return self.out((w @ v).permute(0, 2, 1, 3).flatten(start_dim=2))


class ResidualAttentionBlock(nn.Module):
    def __init__(self, n_state, n_head, cross_attention=False):
        super().__init__()
        self.attn, self.attn_ln = MultiHeadAttention(n_state, n_head), nn.LayerNorm(n_state)
        self.cross_attn = MultiHeadAttention(n_state, n_head) if cross_attention else None
        self.cross_attn_ln = nn.LayerNorm(n_state) if cross_attention else None
        self.mlp = nn.Sequential(
            nn.Linear(n_state, 4 * n_state), nn.GELU(), nn.Linear(4 * n_state, n_state)
        )
        self.mlp_ln = nn.LayerNorm(n_state)

    def forward(self, x, xa=None, mask=None, kv_cache=None):
        x = x + self.attn(self.attn_ln(x), mask=mask, kv_cache=kv_cache)
        if self.cross_attn is not None:
            x = x + self.cross_attn(self.cross_attn_ln(x), xa, kv_cache=kv_cache)
        return x + self.mlp(self.mlp_ln(x))


class AudioEncoder(nn.Module):
    def __init__(self, n_mels, n_ctx, n_state, n_head, n_layer):
        super().__init__()
        self.conv1 = nn.Conv1d(n_mels, n_state, kernel_size=3, padding=1)
        self.conv2 = nn.Conv1d(n_state, n_state, kernel_size=3, stride=2, padding=1)
        self.register_buffer("positional_embedding", sinusoids(n_ctx, n_state))
        self.blocks = nn.ModuleList(ResidualAttentionBlock(n_state, n_head) for _ in range(n_layer))
        self.ln_post = nn.LayerNorm(n_state)

    def forward(self, x):
        x = F.gelu(self.conv1(x))
        x = F.gelu(self.conv2(x)).permute(0, 2, 1)
        assert x.shape[1:] == self.positional_embedding.shape, "incorrect audio shape"
        x = (x + self.positional_embedding).to(x.dtype)
        for block in self.blocks:
            x = block(x)
        return self.ln_post(x)


class TextDecoder(nn.Module):
    def __init__(self, n_vocab, n_ctx, n_state, n_head):
        super().__init__()
        self.token_embedding = nn.Embedding(n_vocab, n_state)
        nn.init.normal_(self.token_embedding.weight, std=0.2)
        self.positional_embedding = nn.Parameter(torch.empty(n_ctx, n_state))
        nn.init.normal_(self.positional_embedding, std=0.02)
        self.block = ResidualAttentionBlock(n_state, n_head, cross_attention=True)
        self.ln = nn.LayerNorm(n_state)
        mask = torch.empty(n_ctx, n_ctx).fill_(-np.inf).triu_(1)
        self.register_buffer("mask", mask, persistent=False)

    def forward(self, tokens, xa, kv_cache=None):
        offset = next(iter(kv_cache.values())).shape[1] if kv_cache else 0
        x = self.token_embedding(tokens)
        x = x + self.positional_embedding[offset : offset + tokens.shape[-1]]
        x = self.ln(self.block(x, xa, mask=self.mask, kv_cache=kv_cache))
        return (x @ torch.transpose(self.token_embedding.weight.to(x.dtype), 0, 1)).float()


def clips(n):
    """Three tones of 0.08 s each from FREQS, with noise, at random amplitude."""
    labels = torch.randint(0, len(FREQS), (n, 3))
    t = torch.arange(320) / SAMPLE_RATE
    audio = []
    for row in labels.tolist():
        parts = [torch.sin(2 * math.pi * FREQS[c] * t) for c in row]
        wave = torch.cat(parts) * (0.3 + torch.rand(1)) + 0.05 * torch.randn(960)
        audio.append(pad_or_trim(wave))
    return torch.stack(audio), labels


def install_kv_cache_hooks(decoder):
    """Whisper's cache: forward hooks on the key/value projections store their outputs, the
    self-attention ones growing by ``torch.cat`` along the sequence at each new token."""
    cache, hooks = {}, []

    def save_to_cache(module, _, output):
        if module not in cache or output.shape[1] > decoder.positional_embedding.shape[0]:
            cache[module] = output  # first token or cross attention
        else:
            cache[module] = torch.cat([cache[module], output], dim=1).detach()
        return cache[module]

    def install_hooks(layer):
        if isinstance(layer, MultiHeadAttention):
            hooks.append(layer.key.register_forward_hook(save_to_cache))
            hooks.append(layer.value.register_forward_hook(save_to_cache))

    decoder.apply(install_hooks)
    return cache, hooks


filters = mel_filters(N_MELS, N_FFT, SAMPLE_RATE)
filter_info = [list(filters.shape), filters.sum(1)[:4].tolist(), filters.argmax(1).tolist()]
pos = sinusoids(16, 8)
trim_shapes = [
    list(pad_or_trim(torch.zeros(2, 1500)).shape),
    list(pad_or_trim(torch.ones(700)).shape),
]
audio, labels = clips(24)
mels = log_mel_spectrogram(audio, filters)
mel_stats = [list(mels.shape), mels.mean().item(), mels.std().item(), mels.max().item()]
encoder = AudioEncoder(N_MELS, 16, 32, 4, 1)
decoder = TextDecoder(6, 5, 32, 4)
params = list(encoder.parameters()) + list(decoder.parameters())
optimizer = torch.optim.AdamW(params, lr=1e-2)
tokens = torch.cat([torch.full((24, 1), SOT), labels, torch.full((24, 1), EOT)], dim=1)
losses = []
for step in range(15):
    idx = torch.randperm(24)[:12]
    logits = decoder(tokens[idx, :-1], encoder(mels[idx]))
    loss = F.cross_entropy(logits.reshape(-1, 6), tokens[idx, 1:].reshape(-1))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
conv_grad = encoder.conv1.weight.grad[0, :4, 1].tolist()
with torch.no_grad():
    xa = encoder(mels[:6])
    out = torch.full((6, 1), SOT)
    for _ in range(4):
        out = torch.cat([out, decoder(out, xa)[:, -1].argmax(-1, keepdim=True)], dim=1)
    decoded = out[:, 1:].tolist()
    cache, hooks = install_kv_cache_hooks(decoder)
    tokens, cached_logits = torch.full((6, 1), SOT), []
    for _ in range(4):
        logits = decoder(tokens if not cache else tokens[:, -1:], xa, kv_cache=cache)[:, -1]
        cached_logits.append(logits)
        tokens = torch.cat([tokens, logits.argmax(-1, keepdim=True)], dim=1)
    for hook in hooks:
        hook.remove()
    cached_decoded = tokens[:, 1:].tolist()
    cache_shapes = sorted(list(t.shape) for t in cache.values())
    full_logits = decoder(tokens[:, :-1], xa)
    cache_gap = (torch.stack(cached_logits, 1) - full_logits).abs().max().item()
    token_accuracy = (out[:, 1:4] == labels[:6]).float().mean().item()
print(f"mel {mel_stats}, loss {losses[0]:.3f} -> {losses[-1]:.3f}, accuracy {token_accuracy}")
