"""torchaudio.models.WaveRNN (Kalchbrenner et al., 2018; the fatchord variant torchaudio
ships): a mel-spectrogram ResNet and stretch + smoothing-conv upsampler condition two GRUs
that predict each sample's class (``n_classes = 2 ** bits``); ``infer`` samples sample by
sample. torchaudio's module names, so its state_dicts load."""

from __future__ import annotations

import math

import minigrad as torch
from minigrad import nn
from minigrad.nn import functional as F


class ResBlock(nn.Module):
    """Two pointwise conv + batch norm layers with a ReLU between, plus the input."""

    def __init__(self, n_freq: int = 128):
        super().__init__()
        self.resblock_model = nn.Sequential(
            nn.Conv1d(n_freq, n_freq, kernel_size=1, bias=False),
            nn.BatchNorm1d(n_freq),
            nn.ReLU(inplace=True),
            nn.Conv1d(n_freq, n_freq, kernel_size=1, bias=False),
            nn.BatchNorm1d(n_freq),
        )

    def forward(self, specgram):
        return self.resblock_model(specgram) + specgram


class MelResNet(nn.Module):
    """Conv (``kernel_size``, no padding) + batch norm + ReLU, ``n_res_block`` ResBlocks and a
    pointwise output conv over ``(batch, n_freq, time)``."""

    def __init__(self, n_res_block=10, n_freq=128, n_hidden=128, n_output=128, kernel_size=5):
        super().__init__()
        self.melresnet_model = nn.Sequential(
            nn.Conv1d(n_freq, n_hidden, kernel_size=kernel_size, bias=False),
            nn.BatchNorm1d(n_hidden),
            nn.ReLU(inplace=True),
            *[ResBlock(n_hidden) for _ in range(n_res_block)],
            nn.Conv1d(n_hidden, n_output, kernel_size=1),
        )

    def forward(self, specgram):
        return self.melresnet_model(specgram)


class Stretch2d(nn.Module):
    """Repeats each element ``freq_scale`` times along -2 and ``time_scale`` times along -1."""

    def __init__(self, time_scale: int, freq_scale: int):
        super().__init__()
        self.freq_scale, self.time_scale = freq_scale, time_scale

    def forward(self, specgram):
        out = specgram.repeat_interleave(self.freq_scale, -2)
        return out.repeat_interleave(self.time_scale, -1)


class UpsampleNetwork(nn.Module):
    """The spectrogram stretched and smoothed by each scale in turn (trimmed by the ResNet's
    receptive field), and the ResNet's features stretched by the total scale."""

    def __init__(
        self, upsample_scales, n_res_block=10, n_freq=128, n_hidden=128, n_output=128,
        kernel_size=5,
    ):  # fmt: skip
        super().__init__()
        self.total_scale = math.prod(upsample_scales)
        self.indent = (kernel_size - 1) // 2 * self.total_scale
        self.resnet = MelResNet(n_res_block, n_freq, n_hidden, n_output, kernel_size)
        self.resnet_stretch = Stretch2d(self.total_scale, 1)
        up_layers = []
        for scale in upsample_scales:
            conv = nn.Conv2d(1, 1, kernel_size=(1, scale * 2 + 1), padding=(0, scale), bias=False)
            nn.init.constant_(conv.weight, 1.0 / (scale * 2 + 1))
            up_layers += [Stretch2d(scale, 1), conv]
        self.upsample_layers = nn.Sequential(*up_layers)

    def forward(self, specgram):
        resnet_output = self.resnet_stretch(self.resnet(specgram).unsqueeze(1)).squeeze(1)
        upsampled = self.upsample_layers(specgram.unsqueeze(1))
        return upsampled.squeeze(1)[:, :, self.indent : -self.indent], resnet_output


class WaveRNN(nn.Module):
    """``forward(waveform (batch, 1, time), specgram (batch, 1, n_freq, frames))`` gives the
    class logits ``(batch, 1, time, n_classes)``; ``time = (frames - kernel_size + 1) *
    hop_length``."""

    def __init__(
        self, upsample_scales, n_classes: int, hop_length: int, n_res_block: int = 10,
        n_rnn: int = 512, n_fc: int = 512, kernel_size: int = 5, n_freq: int = 128,
        n_hidden: int = 128, n_output: int = 128,
    ):  # fmt: skip
        super().__init__()
        self.kernel_size = kernel_size
        self._pad = (kernel_size - 1 if kernel_size % 2 else kernel_size) // 2
        self.n_rnn, self.n_aux = n_rnn, n_output // 4
        self.hop_length, self.n_classes = hop_length, n_classes
        self.n_bits = int(math.log2(n_classes))
        total_scale = math.prod(upsample_scales)
        if total_scale != hop_length:
            raise ValueError(
                f"Expected: total_scale == hop_length, but found {total_scale} != {hop_length}"
            )
        self.upsample = UpsampleNetwork(
            upsample_scales, n_res_block, n_freq, n_hidden, n_output, kernel_size
        )
        self.fc = nn.Linear(n_freq + self.n_aux + 1, n_rnn)
        self.rnn1 = nn.GRU(n_rnn, n_rnn, batch_first=True)
        self.rnn2 = nn.GRU(n_rnn + self.n_aux, n_rnn, batch_first=True)
        self.relu1 = nn.ReLU(inplace=True)
        self.relu2 = nn.ReLU(inplace=True)
        self.fc1 = nn.Linear(n_rnn + self.n_aux, n_fc)
        self.fc2 = nn.Linear(n_fc + self.n_aux, n_fc)
        self.fc3 = nn.Linear(n_fc, self.n_classes)

    def _aux(self, aux, dim):
        """The ResNet features cut into the four conditioning parts along ``dim``."""
        return [aux.narrow(dim, self.n_aux * i, self.n_aux) for i in range(4)]

    def forward(self, waveform, specgram):
        if waveform.size(1) != 1:
            raise ValueError("Require the input channel of waveform is 1")
        if specgram.size(1) != 1:
            raise ValueError("Require the input channel of specgram is 1")
        waveform, specgram = waveform.squeeze(1), specgram.squeeze(1)
        h = torch.zeros(1, waveform.size(0), self.n_rnn, dtype=waveform.dtype,
                        device=waveform.device)  # fmt: skip
        specgram, aux = self.upsample(specgram)
        specgram, aux = specgram.transpose(1, 2), aux.transpose(1, 2)
        a1, a2, a3, a4 = self._aux(aux, 2)
        x = self.fc(torch.cat([waveform.unsqueeze(-1), specgram, a1], dim=-1))
        x = self.rnn1(x, h)[0] + x
        x = self.rnn2(torch.cat([x, a2], dim=-1), h)[0] + x
        x = self.relu1(self.fc1(torch.cat([x, a3], dim=-1)))
        x = self.relu2(self.fc2(torch.cat([x, a4], dim=-1)))
        return self.fc3(x).unsqueeze(1)

    def infer(self, specgram, lengths=None):
        """Waveforms ``(batch, 1, time)`` in [-1, 1] sampled one step at a time from
        ``specgram (batch, n_freq, frames)``, and the lengths scaled by the hop."""
        device, dtype = specgram.device, specgram.dtype
        specgram, aux = self.upsample(F.pad(specgram, (self._pad, self._pad)))
        if lengths is not None:
            lengths = lengths * self.upsample.total_scale
        b_size, _, seq_len = specgram.size()
        h1 = torch.zeros((1, b_size, self.n_rnn), device=device, dtype=dtype)
        h2 = torch.zeros((1, b_size, self.n_rnn), device=device, dtype=dtype)
        x = torch.zeros((b_size, 1), device=device, dtype=dtype)
        aux_split, output = self._aux(aux, 1), []
        for i in range(seq_len):
            a1_t, a2_t, a3_t, a4_t = [a[:, :, i] for a in aux_split]
            x = self.fc(torch.cat([x, specgram[:, :, i], a1_t], dim=1))
            _, h1 = self.rnn1(x.unsqueeze(1), h1)
            x = x + h1[0]
            _, h2 = self.rnn2(torch.cat([x, a2_t], dim=1).unsqueeze(1), h2)
            x = x + h2[0]
            x = F.relu(self.fc1(torch.cat([x, a3_t], dim=1)))
            x = F.relu(self.fc2(torch.cat([x, a4_t], dim=1)))
            posterior = F.softmax(self.fc3(x), dim=1)
            x = torch.multinomial(posterior, 1).float()
            output.append(2 * x / (2**self.n_bits - 1.0) - 1.0)
        return torch.stack(output).permute(1, 2, 0), lengths
