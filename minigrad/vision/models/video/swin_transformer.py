"""torchvision's Video Swin Transformer (Liu et al., 2022), ``swin3d_t``/``s``/``b``: clips
cut into 2×4×4 patches, then Swin stages whose self-attention runs in 3-D windows (8×7×7
by default), every other block cyclically shifted by half a window with the cross-region
mask. The blocks, patch merging (over height and width only) and MLPs are the image Swin's
(``models.swin_transformer``); module names, initialisation and counts as torchvision's."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np

import minigrad
from minigrad import nn
from minigrad.nn import functional as F

from .._api import register_model
from .._weights import check_no_weights, weights_enum
from ..swin_transformer import PatchMerging, SwinTransformerBlock, shift_mask_nd

__all__ = [
    "SwinTransformer3d",
    "Swin3D_T_Weights",
    "Swin3D_S_Weights",
    "Swin3D_B_Weights",
    "swin3d_t",
    "swin3d_s",
    "swin3d_b",
]


def _get_window_and_shift_size(shift_size, size_dhw, window_size):
    """A window no larger than the clip's (T, H, W), unshifted along a dimension it covers."""
    for i in range(3):
        if size_dhw[i] <= window_size[i]:
            window_size[i] = size_dhw[i]
            shift_size[i] = 0
    return window_size, shift_size


def _get_relative_position_bias(table, index, window_size: list[int]):
    """The (1, heads, V, V) bias of a window of V = Wd·Wh·Ww positions (a smaller window uses
    the top-left block of the full window's index, as torchvision)."""
    vol = window_size[0] * window_size[1] * window_size[2]
    bias = table[index[:vol, :vol].flatten()].view(vol, vol, -1)
    return bias.permute(2, 0, 1).contiguous().unsqueeze(0)


def _compute_pad_size_3d(size_dhw, patch_size) -> tuple[int, int, int]:
    """Padding after each of (T, H, W) up to whole ``patch_size`` blocks."""
    pad = [(patch_size[i] - size_dhw[i] % patch_size[i]) % patch_size[i] for i in range(3)]
    return pad[0], pad[1], pad[2]


def shifted_window_attention_3d(
    input,
    qkv_weight,
    proj_weight,
    relative_position_bias,
    window_size: list[int],
    num_heads: int,
    shift_size: list[int],
    attention_dropout: float = 0.0,
    dropout: float = 0.0,
    qkv_bias=None,
    proj_bias=None,
    training: bool = True,
):
    """Multi-head self-attention within 3-D windows of a (B, T, H, W, C) input, padded to
    whole windows and cyclically shifted by ``shift_size`` (with the mask) when any is set."""
    b, t, h, w, c = input.shape
    pad = _compute_pad_size_3d((t, h, w), window_size)
    x = F.pad(input, (0, 0, 0, pad[2], 0, pad[1], 0, pad[0]))
    padded = x.shape[1:4]
    shifted = sum(shift_size) > 0
    if shifted:
        x = minigrad.roll(x, shifts=tuple(-s for s in shift_size), dims=(1, 2, 3))
    grid = [p // s for p, s in zip(padded, window_size)]
    num_windows = grid[0] * grid[1] * grid[2]
    tokens = window_size[0] * window_size[1] * window_size[2]
    x = x.view(b, grid[0], window_size[0], grid[1], window_size[1], grid[2], window_size[2], c)
    x = x.permute(0, 1, 3, 5, 2, 4, 6, 7).reshape(b * num_windows, tokens, c)
    qkv = F.linear(x, qkv_weight, qkv_bias)
    qkv = qkv.reshape(x.shape[0], tokens, 3, num_heads, c // num_heads).permute(2, 0, 3, 1, 4)
    q, k, v = qkv[0], qkv[1], qkv[2]
    attn = (q * (c // num_heads) ** -0.5).matmul(k.transpose(-2, -1))
    attn = attn + relative_position_bias
    if shifted:
        mask = shift_mask_nd(list(padded), window_size, shift_size)
        mask = minigrad.tensor(mask, dtype=x.dtype, device=x.device)
        attn = attn.view(x.shape[0] // num_windows, num_windows, num_heads, tokens, tokens)
        attn = (attn + mask.unsqueeze(1).unsqueeze(0)).view(-1, num_heads, tokens, tokens)
    attn = F.dropout(F.softmax(attn, dim=-1), p=attention_dropout, training=training)
    x = attn.matmul(v).transpose(1, 2).reshape(x.shape[0], tokens, c)
    x = F.dropout(F.linear(x, proj_weight, proj_bias), p=dropout, training=training)
    x = x.view(b, *grid, *window_size, c).permute(0, 1, 4, 2, 5, 3, 6, 7)
    x = x.reshape(b, *padded, c)
    if shifted:
        x = minigrad.roll(x, shifts=tuple(shift_size), dims=(1, 2, 3))
    return x[:, :t, :h, :w, :].contiguous()


def _relative_position_index_3d(window_size: list[int]):
    """For each pair of positions in a 3-D window, the row of the bias table for their
    offset, as a (V, V) int64 tensor."""
    wd, wh, ww = window_size
    axes = np.meshgrid(np.arange(wd), np.arange(wh), np.arange(ww), indexing="ij")
    coords = np.stack(axes).reshape(3, -1)
    rel = (coords[:, :, None] - coords[:, None, :]).transpose(1, 2, 0)
    rel = rel + np.array([wd - 1, wh - 1, ww - 1])
    index = rel[:, :, 0] * (2 * wh - 1) * (2 * ww - 1) + rel[:, :, 1] * (2 * ww - 1) + rel[:, :, 2]
    return minigrad.tensor(index, dtype=minigrad.int64)


class ShiftedWindowAttention3d(nn.Module):
    """:func:`shifted_window_attention_3d` with its ``qkv`` and ``proj`` linears and a learned
    relative position bias table (truncated normal, std 0.02)."""

    def __init__(
        self,
        dim: int,
        window_size: list[int],
        shift_size: list[int],
        num_heads: int,
        qkv_bias: bool = True,
        proj_bias: bool = True,
        attention_dropout: float = 0.0,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if len(window_size) != 3 or len(shift_size) != 3:
            raise ValueError("window_size and shift_size must be of length 2")  # torchvision's
        self.window_size = window_size
        self.shift_size = shift_size
        self.num_heads = num_heads
        self.attention_dropout = attention_dropout
        self.dropout = dropout
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim, bias=proj_bias)
        self.define_relative_position_bias_table()
        self.define_relative_position_index()

    def define_relative_position_bias_table(self) -> None:
        size = int(np.prod([2 * w - 1 for w in self.window_size]))
        self.relative_position_bias_table = nn.Parameter(minigrad.zeros(size, self.num_heads))
        nn.init.trunc_normal_(self.relative_position_bias_table, std=0.02)

    def define_relative_position_index(self) -> None:
        index = _relative_position_index_3d(self.window_size)
        self.register_buffer("relative_position_index", index)

    def get_relative_position_bias(self, window_size: list[int]):
        return _get_relative_position_bias(
            self.relative_position_bias_table, self.relative_position_index, window_size
        )

    def forward(self, x):
        size_dhw = list(x.shape[1:4])
        window_size, shift_size = _get_window_and_shift_size(
            list(self.shift_size), size_dhw, list(self.window_size)
        )
        return shifted_window_attention_3d(
            x,
            self.qkv.weight,
            self.proj.weight,
            self.get_relative_position_bias(window_size),
            window_size,
            self.num_heads,
            shift_size=shift_size,
            attention_dropout=self.attention_dropout,
            dropout=self.dropout,
            qkv_bias=self.qkv.bias,
            proj_bias=self.proj.bias,
            training=self.training,
        )


class PatchEmbed3d(nn.Module):
    """Non-overlapping ``patch_size`` patches (the clip zero-padded to whole patches)
    projected by a strided ``Conv3d`` to ``embed_dim``, channels last, then ``norm_layer``."""

    def __init__(
        self,
        patch_size: list[int],
        in_channels: int = 3,
        embed_dim: int = 96,
        norm_layer: Callable[..., nn.Module] | None = None,
    ) -> None:
        super().__init__()
        self.tuple_patch_size = (patch_size[0], patch_size[1], patch_size[2])
        self.proj = nn.Conv3d(
            in_channels, embed_dim, kernel_size=self.tuple_patch_size, stride=self.tuple_patch_size
        )
        self.norm = norm_layer(embed_dim) if norm_layer is not None else nn.Identity()

    def forward(self, x):
        pad = _compute_pad_size_3d(x.shape[2:], self.tuple_patch_size)
        x = F.pad(x, (0, pad[2], 0, pad[1], 0, pad[0]))
        return self.norm(self.proj(x).permute(0, 2, 3, 4, 1))


class SwinTransformer3d(nn.Module):
    """Patch embedding, Swin stages (``depths`` blocks with ``num_heads`` heads, widths
    doubling, ``PatchMerging`` between), LayerNorm, average pooling over the clip and a linear
    head (400 Kinetics classes by default); stochastic depth rising linearly to
    ``stochastic_depth_prob``."""

    def __init__(
        self,
        patch_size: list[int],
        embed_dim: int,
        depths: list[int],
        num_heads: list[int],
        window_size: list[int],
        mlp_ratio: float = 4.0,
        dropout: float = 0.0,
        attention_dropout: float = 0.0,
        stochastic_depth_prob: float = 0.1,
        num_classes: int = 400,
        norm_layer: Callable[..., nn.Module] | None = None,
        block: Callable[..., nn.Module] | None = None,
        downsample_layer: Callable[..., nn.Module] = PatchMerging,
        patch_embed: Callable[..., nn.Module] | None = None,
    ) -> None:
        super().__init__()
        self.num_classes = num_classes
        if block is None:
            block = partial(SwinTransformerBlock, attn_layer=ShiftedWindowAttention3d)
        if norm_layer is None:
            norm_layer = partial(nn.LayerNorm, eps=1e-5)
        if patch_embed is None:
            patch_embed = PatchEmbed3d
        self.patch_embed = patch_embed(
            patch_size=patch_size, embed_dim=embed_dim, norm_layer=norm_layer
        )
        self.pos_drop = nn.Dropout(p=dropout)
        layers: list[nn.Module] = []
        total_blocks, block_id = sum(depths), 0
        for i_stage, depth in enumerate(depths):
            dim = embed_dim * 2**i_stage
            stage = []
            for i_layer in range(depth):
                stage.append(
                    block(
                        dim,
                        num_heads[i_stage],
                        window_size=window_size,
                        shift_size=[0 if i_layer % 2 == 0 else w // 2 for w in window_size],
                        mlp_ratio=mlp_ratio,
                        dropout=dropout,
                        attention_dropout=attention_dropout,
                        stochastic_depth_prob=stochastic_depth_prob
                        * float(block_id)
                        / (total_blocks - 1),
                        norm_layer=norm_layer,
                        attn_layer=ShiftedWindowAttention3d,
                    )
                )
                block_id += 1
            layers.append(nn.Sequential(*stage))
            if i_stage < len(depths) - 1:
                layers.append(downsample_layer(dim, norm_layer))
        self.features = nn.Sequential(*layers)
        self.num_features = embed_dim * 2 ** (len(depths) - 1)
        self.norm = norm_layer(self.num_features)
        self.avgpool = nn.AdaptiveAvgPool3d(1)
        self.head = nn.Linear(self.num_features, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def forward(self, x):
        x = self.norm(self.features(self.pos_drop(self.patch_embed(x))))
        x = self.avgpool(x.permute(0, 4, 1, 2, 3))
        return self.head(minigrad.flatten(x, 1))


Swin3D_T_Weights = weights_enum("Swin3D_T_Weights", ("KINETICS400_V1",))
Swin3D_S_Weights = weights_enum("Swin3D_S_Weights", ("KINETICS400_V1",))
Swin3D_B_Weights = weights_enum(
    "Swin3D_B_Weights", ("KINETICS400_V1", "KINETICS400_IMAGENET22K_V1"), "KINETICS400_V1"
)


def _swin3d(name, embed_dim, depths, num_heads, weights, kwargs) -> SwinTransformer3d:
    check_no_weights(name, weights, kwargs)
    kwargs.pop("progress", None)
    return SwinTransformer3d(
        patch_size=[2, 4, 4],
        embed_dim=embed_dim,
        depths=depths,
        num_heads=num_heads,
        window_size=[8, 7, 7],
        stochastic_depth_prob=0.1,
        **kwargs,
    )


@register_model(Swin3D_T_Weights)
def swin3d_t(*, weights=None, progress: bool = True, **kwargs) -> SwinTransformer3d:
    """Video Swin-T (28.2 M parameters)."""
    return _swin3d("swin3d_t", 96, [2, 2, 6, 2], [3, 6, 12, 24], weights, kwargs)


@register_model(Swin3D_S_Weights)
def swin3d_s(*, weights=None, progress: bool = True, **kwargs) -> SwinTransformer3d:
    """Video Swin-S (49.8 M parameters)."""
    return _swin3d("swin3d_s", 96, [2, 2, 18, 2], [3, 6, 12, 24], weights, kwargs)


@register_model(Swin3D_B_Weights)
def swin3d_b(*, weights=None, progress: bool = True, **kwargs) -> SwinTransformer3d:
    """Video Swin-B (88.0 M parameters)."""
    return _swin3d("swin3d_b", 128, [2, 2, 18, 2], [4, 8, 16, 32], weights, kwargs)
