"""torchaudio.models.Conformer (Gulati et al., 2020): layers of a half-step feed-forward,
multi-head self-attention over the valid frames, a GLU + depthwise convolution module and a
second half-step feed-forward, with torchaudio's module names (so its state_dicts load)."""

from __future__ import annotations

import minigrad as torch
from minigrad import nn


def _lengths_to_padding_mask(lengths):
    """``True`` at the padded frames ``(batch, max(lengths))``."""
    batch_size, max_length = lengths.shape[0], int(torch.max(lengths).item())
    steps = torch.arange(max_length, device=lengths.device, dtype=lengths.dtype)
    return steps.expand(batch_size, max_length) >= lengths.unsqueeze(1)


class _ConvolutionModule(nn.Module):
    """Layer norm, pointwise conv + GLU, depthwise conv, batch (or group) norm, SiLU,
    pointwise conv, dropout; over ``(batch, time, feature)``."""

    def __init__(
        self, input_dim, num_channels, depthwise_kernel_size, dropout=0.0, bias=False,
        use_group_norm=False,
    ):  # fmt: skip
        super().__init__()
        if (depthwise_kernel_size - 1) % 2 != 0:
            raise ValueError("depthwise_kernel_size must be odd to achieve 'SAME' padding.")
        self.layer_norm = nn.LayerNorm(input_dim)
        norm = (
            nn.GroupNorm(num_groups=1, num_channels=num_channels)
            if use_group_norm
            else nn.BatchNorm1d(num_channels)
        )
        self.sequential = nn.Sequential(
            nn.Conv1d(input_dim, 2 * num_channels, 1, bias=bias),
            nn.GLU(dim=1),
            nn.Conv1d(
                num_channels,
                num_channels,
                depthwise_kernel_size,
                padding=(depthwise_kernel_size - 1) // 2,
                groups=num_channels,
                bias=bias,
            ),  # fmt: skip
            norm,
            nn.SiLU(),
            nn.Conv1d(num_channels, input_dim, kernel_size=1, bias=bias),
            nn.Dropout(dropout),
        )

    def forward(self, input):
        x = self.layer_norm(input).transpose(1, 2)
        return self.sequential(x).transpose(1, 2)


class _FeedForwardModule(nn.Module):
    """Layer norm, linear, SiLU, dropout, linear, dropout."""

    def __init__(self, input_dim: int, hidden_dim: int, dropout: float = 0.0):
        super().__init__()
        self.sequential = nn.Sequential(
            nn.LayerNorm(input_dim),
            nn.Linear(input_dim, hidden_dim, bias=True),
            nn.SiLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden_dim, input_dim, bias=True),
            nn.Dropout(dropout),
        )

    def forward(self, input):
        return self.sequential(input)


class ConformerLayer(nn.Module):
    """One Conformer block over ``(time, batch, feature)``; the convolution module goes after
    the attention, or before it with ``convolution_first``."""

    def __init__(
        self, input_dim, ffn_dim, num_attention_heads, depthwise_conv_kernel_size, dropout=0.0,
        use_group_norm=False, convolution_first=False,
    ):  # fmt: skip
        super().__init__()
        self.ffn1 = _FeedForwardModule(input_dim, ffn_dim, dropout=dropout)
        self.self_attn_layer_norm = nn.LayerNorm(input_dim)
        self.self_attn = nn.MultiheadAttention(input_dim, num_attention_heads, dropout=dropout)
        self.self_attn_dropout = nn.Dropout(dropout)
        self.conv_module = _ConvolutionModule(
            input_dim, input_dim, depthwise_conv_kernel_size, dropout=dropout, bias=True,
            use_group_norm=use_group_norm,
        )  # fmt: skip
        self.ffn2 = _FeedForwardModule(input_dim, ffn_dim, dropout=dropout)
        self.final_layer_norm = nn.LayerNorm(input_dim)
        self.convolution_first = convolution_first

    def _apply_convolution(self, input):
        return input + self.conv_module(input.transpose(0, 1)).transpose(0, 1)

    def forward(self, input, key_padding_mask):
        x = self.ffn1(input) * 0.5 + input
        if self.convolution_first:
            x = self._apply_convolution(x)
        residual = x
        x = self.self_attn_layer_norm(x)
        x, _ = self.self_attn(
            query=x, key=x, value=x, key_padding_mask=key_padding_mask, need_weights=False
        )
        x = self.self_attn_dropout(x) + residual
        if not self.convolution_first:
            x = self._apply_convolution(x)
        x = self.ffn2(x) * 0.5 + x
        return self.final_layer_norm(x)


class Conformer(nn.Module):
    """``forward(input (batch, time, input_dim), lengths (batch,))`` -> ``(output, lengths)``;
    attention ignores the frames past each length."""

    def __init__(
        self, input_dim: int, num_heads: int, ffn_dim: int, num_layers: int,
        depthwise_conv_kernel_size: int, dropout: float = 0.0, use_group_norm: bool = False,
        convolution_first: bool = False,
    ):  # fmt: skip
        super().__init__()
        self.conformer_layers = nn.ModuleList(
            ConformerLayer(
                input_dim,
                ffn_dim,
                num_heads,
                depthwise_conv_kernel_size,
                dropout=dropout,
                use_group_norm=use_group_norm,
                convolution_first=convolution_first,
            )  # fmt: skip
            for _ in range(num_layers)
        )

    def forward(self, input, lengths):
        encoder_padding_mask = _lengths_to_padding_mask(lengths)
        x = input.transpose(0, 1)
        for layer in self.conformer_layers:
            x = layer(x, encoder_padding_mask)
        return x.transpose(0, 1), lengths
