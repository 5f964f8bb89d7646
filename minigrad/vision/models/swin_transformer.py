"""torchvision's Swin Transformer (Liu et al. 2021) and Swin Transformer V2 (Liu et al. 2022)
on minigrad's ``nn``: channels-last stages of (shifted) window attention with a relative
position bias — V1 a learned table, V2 a small MLP over log-spaced coordinates with cosine
attention and post-norm — and patch merging between stages; Swin-T/S/B and V2-T/S/B with
torchvision's module names, buffers and initialisation."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from functools import partial

import numpy as np

import minigrad
from minigrad import nn
from minigrad.nn import functional as F

from ..ops.misc import MLP, Permute
from ..ops.stochastic_depth import StochasticDepth
from ._api import register_model
from ._weights import check_no_weights, weights_enum

__all__ = [
    "SwinTransformer",
    "Swin_T_Weights",
    "Swin_S_Weights",
    "Swin_B_Weights",
    "Swin_V2_T_Weights",
    "Swin_V2_S_Weights",
    "Swin_V2_B_Weights",
    "swin_t",
    "swin_s",
    "swin_b",
    "swin_v2_t",
    "swin_v2_s",
    "swin_v2_b",
]


def _patch_merging_pad(x):
    """``[..., H, W, C]`` (padded to even H, W) to ``[..., H/2, W/2, 4C]``: the four pixels of
    each 2×2 patch side by side."""
    h, w = x.shape[-3], x.shape[-2]
    x = F.pad(x, (0, 0, 0, w % 2, 0, h % 2))
    parts = [
        x[..., 0::2, 0::2, :],
        x[..., 1::2, 0::2, :],
        x[..., 0::2, 1::2, :],
        x[..., 1::2, 1::2, :],
    ]
    return minigrad.cat(parts, -1)


def _get_relative_position_bias(table, index, window_size: list[int]):
    """The ``(1, heads, N, N)`` bias of the ``N`` positions of a window, gathered from
    ``table`` by ``index``."""
    n = window_size[0] * window_size[1]
    return table[index].view(n, n, -1).permute(2, 0, 1).contiguous().unsqueeze(0)


class PatchMerging(nn.Module):
    """Concatenate each 2×2 patch (4C), LayerNorm, project to 2C."""

    def __init__(self, dim: int, norm_layer: Callable[..., nn.Module] = nn.LayerNorm) -> None:
        super().__init__()
        self.dim = dim
        self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)
        self.norm = norm_layer(4 * dim)

    def forward(self, x):
        return self.reduction(self.norm(_patch_merging_pad(x)))


class PatchMergingV2(nn.Module):
    """V2's patch merging: project to 2C, then LayerNorm."""

    def __init__(self, dim: int, norm_layer: Callable[..., nn.Module] = nn.LayerNorm) -> None:
        super().__init__()
        self.dim = dim
        self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)
        self.norm = norm_layer(2 * dim)

    def forward(self, x):
        return self.norm(self.reduction(_patch_merging_pad(x)))


def _shift_mask(pad_h: int, pad_w: int, window_size: list[int], shift_size: list[int]):
    """The ``(windows, N, N)`` additive mask (0 or -100) that keeps a shifted window's tokens
    from attending across the regions the cyclic shift brought together."""
    return shift_mask_nd([pad_h, pad_w], window_size, shift_size)


def shift_mask_nd(padded: list[int], window_size: list[int], shift_size: list[int]):
    """:func:`_shift_mask` for a padded map of any rank (the video Swin's 3-D windows)."""
    regions = np.zeros(padded)
    slices = [((0, -w), (-w, -s), (-s, None)) for w, s in zip(window_size, shift_size)]
    for count, corner in enumerate(itertools.product(*slices)):
        regions[tuple(slice(a, b) for a, b in corner)] = count
    n = len(padded)
    blocks = [d for p, w in zip(padded, window_size) for d in (p // w, w)]
    regions = regions.reshape(blocks).transpose([*range(0, 2 * n, 2), *range(1, 2 * n, 2)])
    regions = regions.reshape(-1, int(np.prod(window_size)))
    diff = regions[:, None, :] - regions[:, :, None]
    return np.where(diff != 0, -100.0, 0.0)


def shifted_window_attention(
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
    logit_scale=None,
    training: bool = True,
):
    """Multi-head self-attention within ``window_size`` windows of a ``[B, H, W, C]`` input
    (padded to whole windows), cyclically shifted by ``shift_size`` with the cross-region mask;
    cosine attention scaled by ``exp(min(logit_scale, log 100))`` when ``logit_scale`` is given
    (V2, whose key bias is zero), else scaled dot products."""
    b, h, w, c = input.shape
    pad_r = (window_size[1] - w % window_size[1]) % window_size[1]
    pad_b = (window_size[0] - h % window_size[0]) % window_size[0]
    x = F.pad(input, (0, 0, 0, pad_r, 0, pad_b))
    _, pad_h, pad_w, _ = x.shape
    shift_size = list(shift_size)
    if window_size[0] >= pad_h:
        shift_size[0] = 0
    if window_size[1] >= pad_w:
        shift_size[1] = 0
    shifted = sum(shift_size) > 0
    if shifted:
        x = minigrad.roll(x, shifts=(-shift_size[0], -shift_size[1]), dims=(1, 2))
    nh, nw = pad_h // window_size[0], pad_w // window_size[1]
    num_windows = nh * nw
    tokens = window_size[0] * window_size[1]
    x = x.view(b, nh, window_size[0], nw, window_size[1], c)
    x = x.permute(0, 1, 3, 2, 4, 5).reshape(b * num_windows, tokens, c)
    if logit_scale is not None and qkv_bias is not None:
        length = qkv_bias.numel() // 3
        keep = minigrad.ones(qkv_bias.shape, dtype=qkv_bias.dtype, device=qkv_bias.device)
        keep[length : 2 * length] = 0
        qkv_bias = qkv_bias * keep
    qkv = F.linear(x, qkv_weight, qkv_bias)
    qkv = qkv.reshape(x.shape[0], tokens, 3, num_heads, c // num_heads).permute(2, 0, 3, 1, 4)
    q, k, v = qkv[0], qkv[1], qkv[2]
    if logit_scale is not None:
        attn = F.normalize(q, dim=-1) @ F.normalize(k, dim=-1).transpose(-2, -1)
        attn = attn * minigrad.clamp(logit_scale, max=math.log(100.0)).exp()
    else:
        attn = (q * (c // num_heads) ** -0.5).matmul(k.transpose(-2, -1))
    attn = attn + relative_position_bias
    if shifted:
        mask = _shift_mask(pad_h, pad_w, window_size, shift_size)
        mask = minigrad.tensor(mask, dtype=x.dtype, device=x.device)
        attn = attn.view(x.shape[0] // num_windows, num_windows, num_heads, tokens, tokens)
        attn = (attn + mask.unsqueeze(1).unsqueeze(0)).view(-1, num_heads, tokens, tokens)
    attn = F.dropout(F.softmax(attn, dim=-1), p=attention_dropout, training=training)
    x = attn.matmul(v).transpose(1, 2).reshape(x.shape[0], tokens, c)
    x = F.dropout(F.linear(x, proj_weight, proj_bias), p=dropout, training=training)
    x = x.view(b, nh, nw, window_size[0], window_size[1], c)
    x = x.permute(0, 1, 3, 2, 4, 5).reshape(b, pad_h, pad_w, c)
    if shifted:
        x = minigrad.roll(x, shifts=(shift_size[0], shift_size[1]), dims=(1, 2))
    return x[:, :h, :w, :].contiguous()


def _relative_position_index(window_size: list[int]):
    """For each pair of positions in a window, the row of the bias table for their offset."""
    wh, ww = window_size
    coords = np.stack(np.meshgrid(np.arange(wh), np.arange(ww), indexing="ij")).reshape(2, -1)
    rel = (coords[:, :, None] - coords[:, None, :]).transpose(1, 2, 0)
    index = (rel[:, :, 0] + wh - 1) * (2 * ww - 1) + rel[:, :, 1] + ww - 1
    return minigrad.tensor(index.reshape(-1), dtype=minigrad.int64)


class ShiftedWindowAttention(nn.Module):
    """:func:`shifted_window_attention` with its ``qkv`` and ``proj`` linears and a learned
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
        if len(window_size) != 2 or len(shift_size) != 2:
            raise ValueError("window_size and shift_size must be of length 2")
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
        rows = (2 * self.window_size[0] - 1) * (2 * self.window_size[1] - 1)
        self.relative_position_bias_table = nn.Parameter(minigrad.zeros(rows, self.num_heads))
        nn.init.trunc_normal_(self.relative_position_bias_table, std=0.02)

    def define_relative_position_index(self) -> None:
        self.register_buffer("relative_position_index", _relative_position_index(self.window_size))

    def get_relative_position_bias(self):
        return _get_relative_position_bias(
            self.relative_position_bias_table, self.relative_position_index, self.window_size
        )

    def _attend(self, x, logit_scale=None):
        return shifted_window_attention(
            x, self.qkv.weight, self.proj.weight, self.get_relative_position_bias(),
            self.window_size, self.num_heads, shift_size=self.shift_size,
            attention_dropout=self.attention_dropout, dropout=self.dropout,
            qkv_bias=self.qkv.bias, proj_bias=self.proj.bias, logit_scale=logit_scale,
            training=self.training,
        )  # fmt: skip

    def forward(self, x):
        return self._attend(x)


class ShiftedWindowAttentionV2(ShiftedWindowAttention):
    """V2's window attention: cosine similarity with a learned per-head ``logit_scale`` and a
    continuous position bias (``cpb_mlp`` over log-spaced offsets, ``16·sigmoid``)."""

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
        super().__init__(
            dim, window_size, shift_size, num_heads, qkv_bias=qkv_bias, proj_bias=proj_bias,
            attention_dropout=attention_dropout, dropout=dropout,
        )  # fmt: skip
        self.logit_scale = nn.Parameter(minigrad.log(10 * minigrad.ones((num_heads, 1, 1))))
        self.cpb_mlp = nn.Sequential(
            nn.Linear(2, 512, bias=True),
            nn.ReLU(inplace=True),
            nn.Linear(512, num_heads, bias=False),
        )
        if qkv_bias:
            length = self.qkv.bias.numel() // 3
            with minigrad.no_grad():
                self.qkv.bias[length : 2 * length].zero_()

    def define_relative_position_bias_table(self) -> None:
        wh, ww = self.window_size
        h = np.arange(-(wh - 1), wh, dtype=np.float32)
        w = np.arange(-(ww - 1), ww, dtype=np.float32)
        table = np.stack(np.meshgrid(h, w, indexing="ij")).transpose(1, 2, 0)[None].copy()
        table[..., 0] /= np.float32(wh - 1)
        table[..., 1] /= np.float32(ww - 1)
        table = minigrad.tensor(table * np.float32(8))  # to [-8, 8]
        table = minigrad.sign(table) * minigrad.log2(minigrad.abs(table) + 1.0) / 3.0
        self.register_buffer("relative_coords_table", table)

    def get_relative_position_bias(self):
        table = self.cpb_mlp(self.relative_coords_table).view(-1, self.num_heads)
        bias = _get_relative_position_bias(table, self.relative_position_index, self.window_size)
        return 16 * minigrad.sigmoid(bias)

    def forward(self, x):
        return self._attend(x, self.logit_scale)


class SwinTransformerBlock(nn.Module):
    """Pre-norm window attention and GELU MLP (``mlp_ratio``), each added back through
    stochastic depth."""

    def __init__(
        self,
        dim: int,
        num_heads: int,
        window_size: list[int],
        shift_size: list[int],
        mlp_ratio: float = 4.0,
        dropout: float = 0.0,
        attention_dropout: float = 0.0,
        stochastic_depth_prob: float = 0.0,
        norm_layer: Callable[..., nn.Module] = nn.LayerNorm,
        attn_layer: Callable[..., nn.Module] = ShiftedWindowAttention,
    ) -> None:
        super().__init__()
        self.norm1 = norm_layer(dim)
        self.attn = attn_layer(
            dim, window_size, shift_size, num_heads, attention_dropout=attention_dropout,
            dropout=dropout,
        )  # fmt: skip
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob, "row")
        self.norm2 = norm_layer(dim)
        self.mlp = MLP(dim, [int(dim * mlp_ratio), dim], activation_layer=nn.GELU, dropout=dropout)
        for m in self.mlp.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.normal_(m.bias, std=1e-6)

    def forward(self, x):
        x = x + self.stochastic_depth(self.attn(self.norm1(x)))
        return x + self.stochastic_depth(self.mlp(self.norm2(x)))


class SwinTransformerBlockV2(SwinTransformerBlock):
    """V2's block: the norms come after attention and MLP (res-post-norm)."""

    def __init__(
        self,
        dim: int,
        num_heads: int,
        window_size: list[int],
        shift_size: list[int],
        mlp_ratio: float = 4.0,
        dropout: float = 0.0,
        attention_dropout: float = 0.0,
        stochastic_depth_prob: float = 0.0,
        norm_layer: Callable[..., nn.Module] = nn.LayerNorm,
        attn_layer: Callable[..., nn.Module] = ShiftedWindowAttentionV2,
    ) -> None:
        super().__init__(
            dim, num_heads, window_size, shift_size, mlp_ratio=mlp_ratio, dropout=dropout,
            attention_dropout=attention_dropout, stochastic_depth_prob=stochastic_depth_prob,
            norm_layer=norm_layer, attn_layer=attn_layer,
        )  # fmt: skip

    def forward(self, x):
        x = x + self.stochastic_depth(self.norm1(self.attn(x)))
        return x + self.stochastic_depth(self.norm2(self.mlp(x)))


class SwinTransformer(nn.Module):
    """A ``patch_size`` patch embedding (convolution, channels last, LayerNorm), stages of
    ``depths`` blocks (every other one shifted by half a window; widths doubling, patch merging
    between), LayerNorm, average pooling and a linear head. Linears start truncated-normal (std
    0.02), biases zero."""

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
        num_classes: int = 1000,
        norm_layer: Callable[..., nn.Module] | None = None,
        block: Callable[..., nn.Module] | None = None,
        downsample_layer: Callable[..., nn.Module] = PatchMerging,
    ) -> None:
        super().__init__()
        self.num_classes = num_classes
        block = block or SwinTransformerBlock
        norm_layer = norm_layer or partial(nn.LayerNorm, eps=1e-5)
        patch = (patch_size[0], patch_size[1])
        layers: list[nn.Module] = [
            nn.Sequential(
                nn.Conv2d(3, embed_dim, kernel_size=patch, stride=patch),
                Permute([0, 2, 3, 1]),
                norm_layer(embed_dim),
            )
        ]
        total = sum(depths)
        block_id = 0
        for i_stage, depth in enumerate(depths):
            dim = embed_dim * 2**i_stage
            stage = []
            for i_layer in range(depth):
                sd_prob = stochastic_depth_prob * float(block_id) / (total - 1)
                stage.append(
                    block(
                        dim, num_heads[i_stage], window_size=window_size,
                        shift_size=[0 if i_layer % 2 == 0 else w // 2 for w in window_size],
                        mlp_ratio=mlp_ratio, dropout=dropout, attention_dropout=attention_dropout,
                        stochastic_depth_prob=sd_prob, norm_layer=norm_layer,
                    )
                )  # fmt: skip
                block_id += 1
            layers.append(nn.Sequential(*stage))
            if i_stage < len(depths) - 1:
                layers.append(downsample_layer(dim, norm_layer))
        self.features = nn.Sequential(*layers)
        num_features = embed_dim * 2 ** (len(depths) - 1)
        self.norm = norm_layer(num_features)
        self.permute = Permute([0, 3, 1, 2])
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten(1)
        self.head = nn.Linear(num_features, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def forward(self, x):
        x = self.permute(self.norm(self.features(x)))
        return self.head(self.flatten(self.avgpool(x)))


# embed_dim, depths, heads, default stochastic depth
_VARIANTS = {
    "t": (96, [2, 2, 6, 2], [3, 6, 12, 24], 0.2),
    "s": (96, [2, 2, 18, 2], [3, 6, 12, 24], 0.3),
    "b": (128, [2, 2, 18, 2], [4, 8, 16, 32], 0.5),
}


def _swin(name: str, variant: str, v2: bool, weights, kwargs: dict) -> SwinTransformer:
    check_no_weights(name, weights, kwargs)
    embed_dim, depths, heads, sd_prob = _VARIANTS[variant]
    extra = dict(block=SwinTransformerBlockV2, downsample_layer=PatchMergingV2) if v2 else {}
    return SwinTransformer(
        patch_size=[4, 4], embed_dim=embed_dim, depths=depths, num_heads=heads,
        window_size=[8, 8] if v2 else [7, 7],
        stochastic_depth_prob=kwargs.pop("stochastic_depth_prob", sd_prob), **extra, **kwargs,
    )  # fmt: skip


Swin_T_Weights = weights_enum("Swin_T_Weights", ("IMAGENET1K_V1",))
Swin_S_Weights = weights_enum("Swin_S_Weights", ("IMAGENET1K_V1",))
Swin_B_Weights = weights_enum("Swin_B_Weights", ("IMAGENET1K_V1",))
Swin_V2_T_Weights = weights_enum("Swin_V2_T_Weights", ("IMAGENET1K_V1",))
Swin_V2_S_Weights = weights_enum("Swin_V2_S_Weights", ("IMAGENET1K_V1",))
Swin_V2_B_Weights = weights_enum("Swin_V2_B_Weights", ("IMAGENET1K_V1",))


@register_model(Swin_T_Weights)
def swin_t(*, weights=None, progress: bool = True, **kwargs) -> SwinTransformer:
    """Swin-T (28.3 M parameters)."""
    return _swin("swin_t", "t", False, weights, kwargs)


@register_model(Swin_S_Weights)
def swin_s(*, weights=None, progress: bool = True, **kwargs) -> SwinTransformer:
    """Swin-S (49.6 M parameters)."""
    return _swin("swin_s", "s", False, weights, kwargs)


@register_model(Swin_B_Weights)
def swin_b(*, weights=None, progress: bool = True, **kwargs) -> SwinTransformer:
    """Swin-B (87.8 M parameters)."""
    return _swin("swin_b", "b", False, weights, kwargs)


@register_model(Swin_V2_T_Weights)
def swin_v2_t(*, weights=None, progress: bool = True, **kwargs) -> SwinTransformer:
    """Swin-V2-T (28.4 M parameters)."""
    return _swin("swin_v2_t", "t", True, weights, kwargs)


@register_model(Swin_V2_S_Weights)
def swin_v2_s(*, weights=None, progress: bool = True, **kwargs) -> SwinTransformer:
    """Swin-V2-S (49.7 M parameters)."""
    return _swin("swin_v2_s", "s", True, weights, kwargs)


@register_model(Swin_V2_B_Weights)
def swin_v2_b(*, weights=None, progress: bool = True, **kwargs) -> SwinTransformer:
    """Swin-V2-B (87.9 M parameters)."""
    return _swin("swin_v2_b", "b", True, weights, kwargs)
