"""An audio classifier built from Conformer blocks (Gulati et al., 2020) on SpecAugmented
log-spectrograms, as torchaudio's Conformer and its SpecAugment transforms write them: a
magnitude spectrogram by torch.stft, log1p compression, frequency and time masks drawn per
example (mask_along_axis_iid: the mask width and start from torch.rand, applied with
masked_fill over an arange comparison), a Conv2d subsampling front end (stride 2, twice), and
Conformer blocks: half-step feed-forward modules with SiLU, multi-head self-attention with a key
padding mask, the convolution module (pointwise Conv1d, GLU, depthwise Conv1d, BatchNorm1d,
SiLU, pointwise Conv1d) and a final LayerNorm; masked mean pooling over valid frames."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

N_FFT, HOP, SR = 128, 64, 4000


def spectrogram(waves):
    window = torch.hann_window(N_FFT)
    spec = torch.stft(waves, N_FFT, HOP, window=window, return_complex=True).abs()
    return torch.log1p(spec).transpose(1, 2)  # (B, frames, freq)


def mask_along_axis_iid(specs, mask_param, mask_value, axis, generator):
    value = torch.rand(specs.shape[0], generator=generator) * mask_param
    min_value = torch.rand(specs.shape[0], generator=generator) * (specs.size(axis) - value)
    mask_start, mask_end = (
        min_value.long()[:, None, None],
        (min_value + value).long()[:, None, None],
    )
    ids = torch.arange(specs.size(axis), dtype=torch.long)
    ids = ids.view(1, -1, 1) if axis == 1 else ids.view(1, 1, -1)
    return specs.masked_fill((ids >= mask_start) & (ids < mask_end), mask_value)


class FeedForward(nn.Module):
    def __init__(self, d, dropout=0.1):
        super().__init__()
        self.net = nn.Sequential(
            nn.LayerNorm(d), nn.Linear(d, 4 * d), nn.SiLU(), nn.Dropout(dropout),
            nn.Linear(4 * d, d), nn.Dropout(dropout),
        )  # fmt: skip

    def forward(self, x):
        return self.net(x)


class ConvModule(nn.Module):
    def __init__(self, d, kernel_size=7):
        super().__init__()
        self.norm = nn.LayerNorm(d)
        self.pointwise1 = nn.Conv1d(d, 2 * d, 1)
        self.depthwise = nn.Conv1d(d, d, kernel_size, padding=(kernel_size - 1) // 2, groups=d)
        self.bn = nn.BatchNorm1d(d)
        self.pointwise2 = nn.Conv1d(d, d, 1)

    def forward(self, x):
        h = self.norm(x).transpose(1, 2)
        h = F.glu(self.pointwise1(h), dim=1)
        h = self.pointwise2(F.silu(self.bn(self.depthwise(h))))
        return h.transpose(1, 2)


class ConformerBlock(nn.Module):
    def __init__(self, d, heads=4):
        super().__init__()
        self.ffn1, self.ffn2 = FeedForward(d), FeedForward(d)
        self.attn_norm = nn.LayerNorm(d)
        self.attn = nn.MultiheadAttention(d, heads, dropout=0.1, batch_first=True)
        self.conv = ConvModule(d)
        self.final_norm = nn.LayerNorm(d)

    def forward(self, x, padding_mask):
        x = x + 0.5 * self.ffn1(x)
        h = self.attn_norm(x)
        x = x + self.attn(h, h, h, key_padding_mask=padding_mask, need_weights=False)[0]
        x = x + self.conv(x)
        return self.final_norm(x + 0.5 * self.ffn2(x))


class AudioConformer(nn.Module):
    def __init__(self, n_freq=N_FFT // 2 + 1, d=32, n_classes=3):
        super().__init__()
        self.subsample = nn.Sequential(
            nn.Conv2d(1, 8, 3, stride=2), nn.ReLU(), nn.Conv2d(8, 8, 3, stride=2), nn.ReLU()
        )
        freq_out = ((n_freq - 3) // 2 + 1 - 3) // 2 + 1
        self.proj = nn.Linear(8 * freq_out, d)
        self.blocks = nn.ModuleList([ConformerBlock(d) for _ in range(2)])
        self.head = nn.Linear(d, n_classes)

    def forward(self, specs, lengths):
        x = self.subsample(specs.unsqueeze(1))  # (B, 8, T', F')
        x = self.proj(x.permute(0, 2, 1, 3).flatten(2))
        lengths = ((lengths - 3) // 2 + 1 - 3) // 2 + 1
        padding_mask = torch.arange(x.size(1)).unsqueeze(0) >= lengths.unsqueeze(1)
        for block in self.blocks:
            x = block(x, padding_mask)
        valid = (~padding_mask).unsqueeze(-1).float()
        return self.head((x * valid).sum(1) / valid.sum(1)), padding_mask


def make_clip(label, seconds, generator):
    t = torch.arange(int(SR * seconds)) / SR
    if label == 0:  # a steady tone
        wave = torch.sin(2 * math.pi * 440 * t)
    elif label == 1:  # a chirp
        wave = torch.sin(2 * math.pi * (200 + 600 * t) * t)
    else:  # amplitude-modulated noise bursts
        wave = torch.randn(t.shape, generator=generator) * (torch.sin(2 * math.pi * 6 * t) > 0)
    return wave + 0.2 * torch.randn(t.shape, generator=generator)


g = torch.Generator().manual_seed(0)
labels = torch.arange(3).repeat(16)
seconds = 0.3 + 0.3 * torch.rand(48, generator=g)
clips = [make_clip(int(c), float(s), g) for c, s in zip(labels, seconds)]
lengths = torch.tensor([len(c) // HOP + 1 for c in clips])
waves = nn.utils.rnn.pad_sequence(clips, batch_first=True)
specs = spectrogram(waves)
specs = (specs - specs.mean()) / specs.std()

torch.manual_seed(0)
model = AudioConformer()
optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3)
losses = []
for epoch in range(6):
    for idx in torch.randperm(48).split(12):
        x = mask_along_axis_iid(specs[idx], 10, 0.0, axis=2, generator=g)  # frequency mask
        x = mask_along_axis_iid(x, 5, 0.0, axis=1, generator=g)  # time mask
        logits, _ = model(x, lengths[idx])
        loss = F.cross_entropy(logits, labels[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
model.eval()
with torch.no_grad():
    logits, padding_mask = model(specs, lengths)
    accuracy = (logits.argmax(1) == labels).float().mean().item()
    short = model(specs[:1, : lengths[0]], lengths[:1])[0]
    padding_gap = (short - logits[:1]).abs().max().item()
masked_example = mask_along_axis_iid(
    torch.ones(2, 6, 5), 4, 0.0, 2, torch.Generator().manual_seed(1)
)
masked_columns = (masked_example == 0).all(1).tolist()
print(
    f"specs {tuple(specs.shape)}; loss {losses[0]:.3f} -> {losses[-1]:.3f}; accuracy {accuracy:.3f}"
)
print(f"padding gap {padding_gap:.1e}, valid frames {(~padding_mask).sum(1)[:4].tolist()}")
