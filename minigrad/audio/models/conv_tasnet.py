"""torchaudio.models.ConvTasNet (Luo & Mesgarani, 2019): a learned conv encoder, a temporal
convolutional network of dilated depthwise blocks predicting one mask per source, and a
transposed-conv decoder; torchaudio's layers and state_dict keys."""

from __future__ import annotations

import minigrad as torch
from minigrad import nn


class ConvBlock(nn.Module):
    """1x1 conv, PReLU, global layer norm, dilated depthwise conv, PReLU, norm; returns the
    (residual or None, skip) 1x1 projections."""

    def __init__(self, io_channels: int, hidden_channels: int, kernel_size: int, padding: int,
                 dilation: int = 1, no_residual: bool = False):  # fmt: skip
        super().__init__()
        self.conv_layers = nn.Sequential(
            nn.Conv1d(io_channels, hidden_channels, kernel_size=1),
            nn.PReLU(),
            nn.GroupNorm(num_groups=1, num_channels=hidden_channels, eps=1e-08),
            nn.Conv1d(
                hidden_channels,
                hidden_channels,
                kernel_size=kernel_size,
                padding=padding,
                dilation=dilation,
                groups=hidden_channels,
            ),  # fmt: skip
            nn.PReLU(),
            nn.GroupNorm(num_groups=1, num_channels=hidden_channels, eps=1e-08),
        )
        self.res_out = None if no_residual else nn.Conv1d(hidden_channels, io_channels, 1)
        self.skip_out = nn.Conv1d(hidden_channels, io_channels, kernel_size=1)

    def forward(self, input):
        feature = self.conv_layers(input)
        residual = None if self.res_out is None else self.res_out(feature)
        return residual, self.skip_out(feature)


class MaskGenerator(nn.Module):
    """The TCN: ``num_stacks`` x ``num_layers`` :class:`ConvBlock` with dilations 1, 2, 4, ...;
    summed skips give ``(batch, num_sources, input_dim, frames)`` masks."""

    def __init__(self, input_dim: int, num_sources: int, kernel_size: int, num_feats: int,
                 num_hidden: int, num_layers: int, num_stacks: int, msk_activate: str):  # fmt: skip
        super().__init__()
        self.input_dim, self.num_sources = input_dim, num_sources
        self.input_norm = nn.GroupNorm(num_groups=1, num_channels=input_dim, eps=1e-08)
        self.input_conv = nn.Conv1d(input_dim, num_feats, kernel_size=1)
        self.receptive_field = 0
        self.conv_layers = nn.ModuleList([])
        for s in range(num_stacks):
            for layer in range(num_layers):
                dilation = 2**layer
                last = layer == num_layers - 1 and s == num_stacks - 1
                self.conv_layers.append(
                    ConvBlock(
                        num_feats,
                        num_hidden,
                        kernel_size,
                        padding=dilation,
                        dilation=dilation,
                        no_residual=last,
                    )  # fmt: skip
                )
                first = s == 0 and layer == 0
                self.receptive_field += kernel_size if first else (kernel_size - 1) * dilation
        self.output_prelu = nn.PReLU()
        self.output_conv = nn.Conv1d(num_feats, input_dim * num_sources, kernel_size=1)
        if msk_activate == "sigmoid":
            self.mask_activate = nn.Sigmoid()
        elif msk_activate == "relu":
            self.mask_activate = nn.ReLU()
        else:
            raise ValueError(f"Unsupported activation {msk_activate}")

    def forward(self, input):
        feats = self.input_conv(self.input_norm(input))
        output = 0.0
        for layer in self.conv_layers:
            residual, skip = layer(feats)
            if residual is not None:
                feats = feats + residual
            output = output + skip
        output = self.mask_activate(self.output_conv(self.output_prelu(output)))
        return output.view(input.shape[0], self.num_sources, self.input_dim, -1)


class ConvTasNet(nn.Module):
    """Separated sources ``(batch, num_sources, frames)`` from a mixture ``(batch, 1, frames)``."""

    def __init__(self, num_sources: int = 2, enc_kernel_size: int = 16, enc_num_feats: int = 512,
                 msk_kernel_size: int = 3, msk_num_feats: int = 128,
                 msk_num_hidden_feats: int = 512, msk_num_layers: int = 8,
                 msk_num_stacks: int = 3, msk_activate: str = "sigmoid"):  # fmt: skip
        super().__init__()
        self.num_sources, self.enc_num_feats = num_sources, enc_num_feats
        self.enc_kernel_size, self.enc_stride = enc_kernel_size, enc_kernel_size // 2
        self.encoder = nn.Conv1d(1, enc_num_feats, kernel_size=enc_kernel_size,
                                 stride=self.enc_stride, padding=self.enc_stride, bias=False)  # fmt: skip
        self.mask_generator = MaskGenerator(
            input_dim=enc_num_feats, num_sources=num_sources, kernel_size=msk_kernel_size,
            num_feats=msk_num_feats, num_hidden=msk_num_hidden_feats, num_layers=msk_num_layers,
            num_stacks=msk_num_stacks, msk_activate=msk_activate,
        )  # fmt: skip
        self.decoder = nn.ConvTranspose1d(enc_num_feats, 1, kernel_size=enc_kernel_size,
                                          stride=self.enc_stride, padding=self.enc_stride,
                                          bias=False)  # fmt: skip

    def _align_num_frames_with_strides(self, input):
        """``input`` zero-padded at the end to a whole number of strides, and the padding."""
        batch, channels, frames = input.shape
        odd = self.enc_kernel_size % 2
        remaining = frames - (odd + (frames - odd) // self.enc_stride * self.enc_stride)
        if remaining == 0:
            return input, 0
        pads = self.enc_stride - remaining
        zeros = torch.zeros(batch, channels, pads, dtype=input.dtype, device=input.device)
        return torch.cat([input, zeros], 2), pads

    def forward(self, input):
        if input.ndim != 3 or input.shape[1] != 1:
            raise ValueError(
                f"Expected 3D tensor (batch, channel==1, frames). Found: {input.shape}"
            )
        padded, pads = self._align_num_frames_with_strides(input)
        batch, frames = padded.shape[0], padded.shape[2]
        feats = self.encoder(padded)
        masked = self.mask_generator(feats) * feats.unsqueeze(1)
        masked = masked.view(batch * self.num_sources, self.enc_num_feats, -1)
        output = self.decoder(masked).view(batch, self.num_sources, frames)
        return output[..., :-pads] if pads > 0 else output


def conv_tasnet_base(num_sources: int = 2) -> ConvTasNet:
    """ConvTasNet with the paper's best configuration (ReLU masks)."""
    return ConvTasNet(num_sources=num_sources, enc_kernel_size=16, enc_num_feats=512,
                      msk_kernel_size=3, msk_num_feats=128, msk_num_hidden_feats=512,
                      msk_num_layers=8, msk_num_stacks=3, msk_activate="relu")  # fmt: skip
