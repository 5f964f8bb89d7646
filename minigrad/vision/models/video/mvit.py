"""torchvision's Multiscale Vision Transformers for video: ``mvit_v1_b`` (Fan et al., 2021)
and ``mvit_v2_s`` (Li et al., 2022). A strided 3×7×7 patch embedding plus a class token, then
blocks of pooling attention (queries, keys and values pooled by depthwise ``Conv3d`` + norm, so
the token grid shrinks stage by stage while the width grows); v2 adds decomposed relative
position biases over (t, h, w), residual pooling of the queries and the width change after
attention. Module names, initialisation and parameter counts as torchvision's."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

import minigrad
from minigrad import nn
from minigrad.nn import functional as F

from ...ops.misc import MLP
from ...ops.stochastic_depth import StochasticDepth
from .._api import register_model
from .._weights import check_no_weights, weights_enum

__all__ = ["MViT", "MViT_V1_B_Weights", "mvit_v1_b", "MViT_V2_S_Weights", "mvit_v2_s"]


@dataclass
class MSBlockConfig:
    """One block's heads, widths and (possibly empty) pooling kernels and strides."""

    num_heads: int
    input_channels: int
    output_channels: int
    kernel_q: list[int]
    kernel_kv: list[int]
    stride_q: list[int]
    stride_kv: list[int]


def _prod(s: Sequence[int]) -> int:
    return math.prod(s)


def _unsqueeze(x, target_dim: int, expand_dim: int):
    tensor_dim = x.dim()
    if tensor_dim == target_dim - 1:
        x = x.unsqueeze(expand_dim)
    elif tensor_dim != target_dim:
        raise ValueError(f"Unsupported input dimension {x.shape}")
    return x, tensor_dim


def _squeeze(x, target_dim: int, expand_dim: int, tensor_dim: int):
    return x.squeeze(expand_dim) if tensor_dim == target_dim - 1 else x


class Pool(nn.Module):
    """Pools the (B, heads, 1 + T·H·W, C) tokens but the class token over their (T, H, W) grid
    with ``pool``, then ``norm`` (and ``activation``); returns them and the new grid size."""

    def __init__(self, pool, norm, activation=None, norm_before_pool: bool = False) -> None:
        super().__init__()
        self.pool = pool
        layers = [m for m in (norm, activation) if m is not None]
        self.norm_act = nn.Sequential(*layers) if layers else None
        self.norm_before_pool = norm_before_pool

    def forward(self, x, thw):
        x, tensor_dim = _unsqueeze(x, 4, 1)
        class_token, x = x[:, :, :1], x[:, :, 1:]
        x = x.transpose(2, 3)
        b, n, c = x.shape[:3]
        x = x.reshape((b * n, c) + tuple(thw)).contiguous()
        if self.norm_before_pool and self.norm_act is not None:
            x = self.norm_act(x)
        x = self.pool(x)
        t, h, w = x.shape[2:]
        x = minigrad.cat((class_token, x.reshape(b, n, c, -1).transpose(2, 3)), dim=2)
        if not self.norm_before_pool and self.norm_act is not None:
            x = self.norm_act(x)
        return _squeeze(x, 4, 1, tensor_dim), (t, h, w)


def _interpolate(embedding, d: int):
    """A relative-position table linearly resized to ``d`` rows."""
    if embedding.shape[0] == d:
        return embedding
    resized = F.interpolate(embedding.permute(1, 0).unsqueeze(0), size=d, mode="linear")
    return resized.squeeze(0).permute(1, 0)


def _rel_distance(q_size: int, k_size: int):
    """Row indices into a table of ``2·max - 1`` offsets for each (query, key) position pair
    along one axis, the sizes' ratio accounted for (pooled keys)."""
    q_ratio = max(k_size / q_size, 1.0)
    k_ratio = max(q_size / k_size, 1.0)
    dist = (
        minigrad.arange(q_size)[:, None] * q_ratio
        - (minigrad.arange(k_size)[None, :] + (1.0 - k_size)) * k_ratio
    )
    return dist.long()


def _add_rel_pos(attn, q, q_thw, k_thw, rel_pos_h, rel_pos_w, rel_pos_t):
    """``attn`` plus MViTv2's decomposed relative position terms q·R_h + q·R_w + q·R_t
    (the class token's row and column left as they are)."""
    q_t, q_h, q_w = q_thw
    k_t, k_h, k_w = k_thw
    rh = _interpolate(rel_pos_h, int(2 * max(q_h, k_h) - 1))[_rel_distance(q_h, k_h)]
    rw = _interpolate(rel_pos_w, int(2 * max(q_w, k_w) - 1))[_rel_distance(q_w, k_w)]
    rt = _interpolate(rel_pos_t, int(2 * max(q_t, k_t) - 1))[_rel_distance(q_t, k_t)]
    b, n_head, _, dim = q.shape
    r_q = q[:, :, 1:].reshape(b, n_head, q_t, q_h, q_w, dim)
    rel_h_q = minigrad.einsum("bythwc,hkc->bythwk", r_q, rh)
    rel_w_q = minigrad.einsum("bythwc,wkc->bythwk", r_q, rw)
    r_q = r_q.permute(2, 0, 1, 3, 4, 5).reshape(q_t, b * n_head * q_h * q_w, dim)
    rel_q_t = minigrad.matmul(r_q, rt.transpose(1, 2)).transpose(0, 1)
    rel_q_t = rel_q_t.reshape(b, n_head, q_h, q_w, q_t, k_t).permute(0, 1, 4, 2, 3, 5)
    rel_pos = (
        rel_h_q[:, :, :, :, :, None, :, None]
        + rel_w_q[:, :, :, :, :, None, None, :]
        + rel_q_t[:, :, :, :, :, :, None, None]
    ).reshape(b, n_head, q_t * q_h * q_w, k_t * k_h * k_w)
    return attn + F.pad(rel_pos, (1, 0, 1, 0))


def _add_shortcut(x, shortcut, residual_with_cls_embed: bool):
    """Residual pooling: the pooled queries added back (not the class token's, unless
    ``residual_with_cls_embed``)."""
    if residual_with_cls_embed:
        return x + shortcut
    return x + F.pad(shortcut[:, :, 1:, :], (0, 0, 1, 0))


def _pool_conv(head_dim: int, kernel, stride, norm_layer) -> Pool:
    """A depthwise ``Conv3d`` pooling (padding half the kernel) with its norm."""
    padding = [int(k // 2) for k in kernel]
    conv = nn.Conv3d(
        head_dim, head_dim, kernel, stride=stride, padding=padding, groups=head_dim, bias=False
    )
    return Pool(conv, norm_layer(head_dim))


class MultiscaleAttention(nn.Module):
    """Pooling attention: ``qkv``, queries pooled by ``kernel_q``/``stride_q`` and keys and
    values by ``kernel_kv``/``stride_kv`` (where a kernel or stride exceeds 1), optional
    relative position terms and residual pooling, then ``project``."""

    def __init__(
        self,
        input_size: list[int],
        embed_dim: int,
        output_dim: int,
        num_heads: int,
        kernel_q: list[int],
        kernel_kv: list[int],
        stride_q: list[int],
        stride_kv: list[int],
        residual_pool: bool,
        residual_with_cls_embed: bool,
        rel_pos_embed: bool,
        dropout: float = 0.0,
        norm_layer: Callable[..., nn.Module] = nn.LayerNorm,
    ) -> None:
        super().__init__()
        self.embed_dim = embed_dim
        self.output_dim = output_dim
        self.num_heads = num_heads
        self.head_dim = output_dim // num_heads
        self.scaler = 1.0 / math.sqrt(self.head_dim)
        self.residual_pool = residual_pool
        self.residual_with_cls_embed = residual_with_cls_embed
        self.qkv = nn.Linear(embed_dim, 3 * output_dim)
        layers: list[nn.Module] = [nn.Linear(output_dim, output_dim)]
        if dropout > 0.0:
            layers.append(nn.Dropout(dropout, inplace=True))
        self.project = nn.Sequential(*layers)
        self.pool_q = None
        if _prod(kernel_q) > 1 or _prod(stride_q) > 1:
            self.pool_q = _pool_conv(self.head_dim, kernel_q, stride_q, norm_layer)
        self.pool_k = self.pool_v = None
        if _prod(kernel_kv) > 1 or _prod(stride_kv) > 1:
            self.pool_k = _pool_conv(self.head_dim, kernel_kv, stride_kv, norm_layer)
            self.pool_v = _pool_conv(self.head_dim, kernel_kv, stride_kv, norm_layer)
        self.rel_pos_h = self.rel_pos_w = self.rel_pos_t = None
        if rel_pos_embed:
            size = max(input_size[1:])
            q_size = size // stride_q[1] if len(stride_q) > 0 else size
            kv_size = size // stride_kv[1] if len(stride_kv) > 0 else size
            spatial_dim = 2 * max(q_size, kv_size) - 1
            temporal_dim = 2 * input_size[0] - 1
            self.rel_pos_h = nn.Parameter(minigrad.zeros(spatial_dim, self.head_dim))
            self.rel_pos_w = nn.Parameter(minigrad.zeros(spatial_dim, self.head_dim))
            self.rel_pos_t = nn.Parameter(minigrad.zeros(temporal_dim, self.head_dim))
            nn.init.trunc_normal_(self.rel_pos_h, std=0.02)
            nn.init.trunc_normal_(self.rel_pos_w, std=0.02)
            nn.init.trunc_normal_(self.rel_pos_t, std=0.02)

    def forward(self, x, thw):
        b, n, _ = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.num_heads, self.head_dim).transpose(1, 3)
        q, k, v = qkv.unbind(dim=2)
        k, k_thw = self.pool_k(k, thw) if self.pool_k is not None else (k, thw)
        if self.pool_v is not None:
            v = self.pool_v(v, thw)[0]
        if self.pool_q is not None:
            q, thw = self.pool_q(q, thw)
        attn = minigrad.matmul(self.scaler * q, k.transpose(2, 3))
        if self.rel_pos_h is not None:
            attn = _add_rel_pos(attn, q, thw, k_thw, self.rel_pos_h, self.rel_pos_w, self.rel_pos_t)
        x = minigrad.matmul(attn.softmax(dim=-1), v)
        if self.residual_pool:
            x = _add_shortcut(x, q, self.residual_with_cls_embed)
        x = x.transpose(1, 2).reshape(b, -1, self.output_dim)
        return self.project(x), thw


class MultiscaleBlock(nn.Module):
    """Pre-norm pooling attention and MLP, each residual under stochastic depth; the shortcut
    max-pooled where the queries are strided, and projected where the width changes (after
    the attention in v2, after the MLP's norm in v1)."""

    def __init__(
        self,
        input_size: list[int],
        cnf: MSBlockConfig,
        residual_pool: bool,
        residual_with_cls_embed: bool,
        rel_pos_embed: bool,
        proj_after_attn: bool,
        dropout: float = 0.0,
        stochastic_depth_prob: float = 0.0,
        norm_layer: Callable[..., nn.Module] = nn.LayerNorm,
    ) -> None:
        super().__init__()
        self.proj_after_attn = proj_after_attn
        self.pool_skip = None
        if _prod(cnf.stride_q) > 1:
            kernel_skip = [s + 1 if s > 1 else s for s in cnf.stride_q]
            padding_skip = [int(k // 2) for k in kernel_skip]
            self.pool_skip = Pool(
                nn.MaxPool3d(kernel_skip, stride=cnf.stride_q, padding=padding_skip), None
            )
        attn_dim = cnf.output_channels if proj_after_attn else cnf.input_channels
        self.norm1 = norm_layer(cnf.input_channels)
        self.norm2 = norm_layer(attn_dim)
        self.needs_transposal = isinstance(self.norm1, nn.BatchNorm1d)
        self.attn = MultiscaleAttention(
            input_size,
            cnf.input_channels,
            attn_dim,
            cnf.num_heads,
            kernel_q=cnf.kernel_q,
            kernel_kv=cnf.kernel_kv,
            stride_q=cnf.stride_q,
            stride_kv=cnf.stride_kv,
            rel_pos_embed=rel_pos_embed,
            residual_pool=residual_pool,
            residual_with_cls_embed=residual_with_cls_embed,
            dropout=dropout,
            norm_layer=norm_layer,
        )
        self.mlp = MLP(
            attn_dim,
            [4 * attn_dim, cnf.output_channels],
            activation_layer=nn.GELU,
            dropout=dropout,
            inplace=None,
        )
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob, "row")
        self.project = None
        if cnf.input_channels != cnf.output_channels:
            self.project = nn.Linear(cnf.input_channels, cnf.output_channels)

    def _norm(self, norm, x):
        return norm(x.transpose(1, 2)).transpose(1, 2) if self.needs_transposal else norm(x)

    def forward(self, x, thw):
        x_norm1 = self._norm(self.norm1, x)
        x_attn, thw_new = self.attn(x_norm1, thw)
        if self.project is not None and self.proj_after_attn:
            x = self.project(x_norm1)
        x_skip = x if self.pool_skip is None else self.pool_skip(x, thw)[0]
        x = x_skip + self.stochastic_depth(x_attn)
        x_norm2 = self._norm(self.norm2, x)
        x_proj = x if self.project is None or self.proj_after_attn else self.project(x_norm2)
        return x_proj + self.stochastic_depth(self.mlp(x_norm2)), thw_new


class PositionalEncoding(nn.Module):
    """Prepends the class token; without relative positions, adds learned class, temporal and
    spatial position embeddings (separable: temporal repeated over space plus spatial)."""

    def __init__(self, embed_size, spatial_size, temporal_size, rel_pos_embed: bool) -> None:
        super().__init__()
        self.spatial_size = spatial_size
        self.temporal_size = temporal_size
        self.class_token = nn.Parameter(minigrad.zeros(embed_size))
        self.spatial_pos = self.temporal_pos = self.class_pos = None
        if not rel_pos_embed:
            self.spatial_pos = nn.Parameter(
                minigrad.zeros(self.spatial_size[0] * self.spatial_size[1], embed_size)
            )
            self.temporal_pos = nn.Parameter(minigrad.zeros(self.temporal_size, embed_size))
            self.class_pos = nn.Parameter(minigrad.zeros(embed_size))

    def forward(self, x):
        class_token = self.class_token.expand(x.shape[0], -1).unsqueeze(1)
        x = minigrad.cat((class_token, x), dim=1)
        if self.spatial_pos is None:
            return x
        hw_size, embed_size = self.spatial_pos.shape
        pos = minigrad.repeat_interleave(self.temporal_pos, hw_size, dim=0)
        spatial = self.spatial_pos.unsqueeze(0).expand(self.temporal_size, -1, -1)
        pos = pos + spatial.reshape(-1, embed_size)
        return x + minigrad.cat((self.class_pos.unsqueeze(0), pos), dim=0).unsqueeze(0)


class MViT(nn.Module):
    """MViT for clips of ``temporal_size`` frames of ``spatial_size``: ``conv_proj`` patch
    embedding, positional encoding, the ``block_setting`` blocks, a norm and a head on the
    class token (400 Kinetics classes by default)."""

    def __init__(
        self,
        spatial_size: tuple[int, int],
        temporal_size: int,
        block_setting: Sequence[MSBlockConfig],
        residual_pool: bool,
        residual_with_cls_embed: bool,
        rel_pos_embed: bool,
        proj_after_attn: bool,
        dropout: float = 0.5,
        attention_dropout: float = 0.0,
        stochastic_depth_prob: float = 0.0,
        num_classes: int = 400,
        block: Callable[..., nn.Module] | None = None,
        norm_layer: Callable[..., nn.Module] | None = None,
        patch_embed_kernel: tuple[int, int, int] = (3, 7, 7),
        patch_embed_stride: tuple[int, int, int] = (2, 4, 4),
        patch_embed_padding: tuple[int, int, int] = (1, 3, 3),
    ) -> None:
        super().__init__()
        total_stage_blocks = len(block_setting)
        if total_stage_blocks == 0:
            raise ValueError("The configuration parameter can't be empty.")
        block = block or MultiscaleBlock
        norm_layer = norm_layer or partial(nn.LayerNorm, eps=1e-6)
        self.conv_proj = nn.Conv3d(
            in_channels=3,
            out_channels=block_setting[0].input_channels,
            kernel_size=patch_embed_kernel,
            stride=patch_embed_stride,
            padding=patch_embed_padding,
        )
        sizes = (temporal_size, *spatial_size)
        input_size = [size // stride for size, stride in zip(sizes, self.conv_proj.stride)]
        self.pos_encoding = PositionalEncoding(
            embed_size=block_setting[0].input_channels,
            spatial_size=(input_size[1], input_size[2]),
            temporal_size=input_size[0],
            rel_pos_embed=rel_pos_embed,
        )
        self.blocks = nn.ModuleList()
        for stage_block_id, cnf in enumerate(block_setting):
            self.blocks.append(
                block(
                    input_size=input_size,
                    cnf=cnf,
                    residual_pool=residual_pool,
                    residual_with_cls_embed=residual_with_cls_embed,
                    rel_pos_embed=rel_pos_embed,
                    proj_after_attn=proj_after_attn,
                    dropout=attention_dropout,
                    stochastic_depth_prob=stochastic_depth_prob
                    * stage_block_id
                    / (total_stage_blocks - 1.0),
                    norm_layer=norm_layer,
                )
            )
            if len(cnf.stride_q) > 0:
                input_size = [size // stride for size, stride in zip(input_size, cnf.stride_q)]
        self.norm = norm_layer(block_setting[-1].output_channels)
        self.head = nn.Sequential(
            nn.Dropout(dropout, inplace=True),
            nn.Linear(block_setting[-1].output_channels, num_classes),
        )
        self._init_weights()

    def _init_weights(self) -> None:
        """Linears truncated normal (std 0.02) with zero biases, LayerNorms 1 and 0, position
        embeddings and class token truncated normal."""
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.constant_(m.bias, 0.0)
            elif isinstance(m, nn.LayerNorm):
                if m.weight is not None:
                    nn.init.constant_(m.weight, 1.0)
                if m.bias is not None:
                    nn.init.constant_(m.bias, 0.0)
            elif isinstance(m, PositionalEncoding):
                for weights in m.parameters():
                    nn.init.trunc_normal_(weights, std=0.02)

    def forward(self, x):
        x = self.conv_proj(_unsqueeze(x, 5, 2)[0])
        x = self.pos_encoding(x.flatten(2).transpose(1, 2))
        thw = (self.pos_encoding.temporal_size, *self.pos_encoding.spatial_size)
        for block in self.blocks:
            x, thw = block(x, thw)
        return self.head(self.norm(x)[:, 0])


MViT_V1_B_Weights = weights_enum("MViT_V1_B_Weights", ("KINETICS400_V1",))
MViT_V2_S_Weights = weights_enum("MViT_V2_S_Weights", ("KINETICS400_V1",))


def _settings(num_heads, input_channels, output_channels, kernel_q, stride_q, stride_kv):
    """The 16 blocks' configs (every key/value kernel 3×3×3)."""
    return [
        MSBlockConfig(h, i, o, kq, [3, 3, 3], sq, skv)
        for h, i, o, kq, sq, skv in zip(
            num_heads, input_channels, output_channels, kernel_q, stride_q, stride_kv
        )
    ]


_HEADS = [1, 2, 2, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 8, 8]
_STRIDE_KV = [[1, 8, 8], [1, 4, 4], [1, 4, 4], *[[1, 2, 2]] * 11, [1, 1, 1], [1, 1, 1]]


def _mvit(name, block_setting, weights, kwargs, **recipe) -> MViT:
    check_no_weights(name, weights, kwargs)
    kwargs.pop("progress", None)
    return MViT(
        spatial_size=kwargs.pop("spatial_size", (224, 224)),
        temporal_size=kwargs.pop("temporal_size", 16),
        block_setting=block_setting,
        residual_pool=kwargs.pop("residual_pool", recipe["residual_pool"]),
        residual_with_cls_embed=kwargs.pop("residual_with_cls_embed", False),
        rel_pos_embed=kwargs.pop("rel_pos_embed", recipe["rel_pos_embed"]),
        proj_after_attn=kwargs.pop("proj_after_attn", recipe["proj_after_attn"]),
        stochastic_depth_prob=kwargs.pop("stochastic_depth_prob", 0.2),
        **kwargs,
    )


@register_model(MViT_V1_B_Weights)
def mvit_v1_b(*, weights=None, progress: bool = True, **kwargs) -> MViT:
    """MViT-B (v1; 36.6 M parameters): absolute position embeddings, the width doubling in
    the MLP before each pooling stage."""
    strided = [[], [1, 2, 2], [], [1, 2, 2], *[[]] * 10, [1, 2, 2], []]
    kernel_q = [[3, 3, 3] if s else [] for s in strided]
    widths = [96, 192, 192, *[384] * 11, 768, 768]
    setting = _settings(_HEADS, widths, [*widths[1:], 768], kernel_q, strided, _STRIDE_KV)
    return _mvit(
        "mvit_v1_b", setting, weights, kwargs,
        residual_pool=False, rel_pos_embed=False, proj_after_attn=False,
    )  # fmt: skip


@register_model(MViT_V2_S_Weights)
def mvit_v2_s(*, weights=None, progress: bool = True, **kwargs) -> MViT:
    """MViTv2-S (34.5 M parameters): decomposed relative positions, residual pooling, every
    block pooling its queries (3×3×3), the width changing after attention."""
    stride_q = [[1, 1, 1], [1, 2, 2], [1, 1, 1], [1, 2, 2], *[[1, 1, 1]] * 10]
    stride_q += [[1, 2, 2], [1, 1, 1]]
    widths_in = [96, 96, 192, 192, *[384] * 11, 768]
    widths_out = [96, 192, 192, *[384] * 11, 768, 768]
    setting = _settings(_HEADS, widths_in, widths_out, [[3, 3, 3]] * 16, stride_q, _STRIDE_KV)
    return _mvit(
        "mvit_v2_s", setting, weights, kwargs,
        residual_pool=True, rel_pos_embed=True, proj_after_attn=True,
    )  # fmt: skip
