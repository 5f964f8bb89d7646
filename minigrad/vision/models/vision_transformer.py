"""torchvision's Vision Transformer (Dosovitskiy et al. 2020) on minigrad's ``nn``: a patch
projection (or a convolutional stem), a class token, learned position embeddings, pre-norm
encoder blocks (``nn.MultiheadAttention`` and a GELU MLP) and a linear head; ViT-B/16, B/32,
L/16, L/32 and H/14 with torchvision's module names and initialisation."""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable
from functools import partial
from typing import NamedTuple

import minigrad
from minigrad import nn

from ..ops.misc import MLP, Conv2dNormActivation
from ._api import register_model
from ._weights import check_no_weights, weights_enum

__all__ = [
    "VisionTransformer",
    "ViT_B_16_Weights",
    "ViT_B_32_Weights",
    "ViT_L_16_Weights",
    "ViT_L_32_Weights",
    "ViT_H_14_Weights",
    "vit_b_16",
    "vit_b_32",
    "vit_l_16",
    "vit_l_32",
    "vit_h_14",
    "interpolate_embeddings",
]

_LAYER_NORM = partial(nn.LayerNorm, eps=1e-6)


class ConvStemConfig(NamedTuple):
    """One convolution + norm + activation of an optional convolutional stem."""

    out_channels: int
    kernel_size: int
    stride: int
    norm_layer: Callable[..., nn.Module] = nn.BatchNorm2d
    activation_layer: Callable[..., nn.Module] = nn.ReLU


def _rename_legacy_mlp_keys(module, state_dict, prefix, local_metadata, *_) -> None:
    """Checkpoints saved before torchvision 0.12 (state-dict version 1) named the MLP's
    linears ``linear_1`` / ``linear_2``; they are ``0`` / ``3`` now."""
    version = local_metadata.get("version") if local_metadata else None
    if version is not None and version >= 2:
        return
    for i in range(2):
        for kind in ("weight", "bias"):
            old = f"{prefix}linear_{i + 1}.{kind}"
            if old in state_dict:
                state_dict[f"{prefix}{3 * i}.{kind}"] = state_dict.pop(old)


class MLPBlock(MLP):
    """The encoder's MLP: ``in_dim → mlp_dim`` (GELU) ``→ in_dim``, each followed by dropout;
    Xavier-uniform weights, N(0, 1e-6) biases."""

    _version = 2

    def __init__(self, in_dim: int, mlp_dim: int, dropout: float) -> None:
        super().__init__(in_dim, [mlp_dim, in_dim], activation_layer=nn.GELU, dropout=dropout)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.normal_(m.bias, std=1e-6)
        self.register_load_state_dict_pre_hook(_rename_legacy_mlp_keys)


def _expect_3d(x) -> None:
    if x.dim() != 3:
        raise AssertionError(f"Expected (batch_size, seq_length, hidden_dim) got {x.shape}")


class EncoderBlock(nn.Module):
    """``x + attention(ln_1(x))`` then ``+ mlp(ln_2(·))`` (pre-norm), dropout after attention."""

    def __init__(
        self,
        num_heads: int,
        hidden_dim: int,
        mlp_dim: int,
        dropout: float,
        attention_dropout: float,
        norm_layer: Callable[..., nn.Module] = _LAYER_NORM,
    ) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.ln_1 = norm_layer(hidden_dim)
        self.self_attention = nn.MultiheadAttention(
            hidden_dim, num_heads, dropout=attention_dropout, batch_first=True
        )
        self.dropout = nn.Dropout(dropout)
        self.ln_2 = norm_layer(hidden_dim)
        self.mlp = MLPBlock(hidden_dim, mlp_dim, dropout)

    def forward(self, input):
        _expect_3d(input)
        x = self.ln_1(input)
        x, _ = self.self_attention(x, x, x, need_weights=False)
        x = self.dropout(x) + input
        return x + self.mlp(self.ln_2(x))


class Encoder(nn.Module):
    """Position embeddings (N(0, 0.02), as BERT), dropout, ``num_layers`` encoder blocks
    (``encoder_layer_{i}``) and a final LayerNorm."""

    def __init__(
        self,
        seq_length: int,
        num_layers: int,
        num_heads: int,
        hidden_dim: int,
        mlp_dim: int,
        dropout: float,
        attention_dropout: float,
        norm_layer: Callable[..., nn.Module] = _LAYER_NORM,
    ) -> None:
        super().__init__()
        self.pos_embedding = nn.Parameter(
            minigrad.empty(1, seq_length, hidden_dim).normal_(std=0.02)
        )
        self.dropout = nn.Dropout(dropout)
        layers = OrderedDict(
            (
                f"encoder_layer_{i}",
                EncoderBlock(
                    num_heads, hidden_dim, mlp_dim, dropout, attention_dropout, norm_layer
                ),
            )
            for i in range(num_layers)
        )
        self.layers = nn.Sequential(layers)
        self.ln = norm_layer(hidden_dim)

    def forward(self, input):
        _expect_3d(input)
        return self.ln(self.layers(self.dropout(input + self.pos_embedding)))


class VisionTransformer(nn.Module):
    """Split a square ``image_size`` image into ``patch_size`` patches (a strided convolution,
    or ``conv_stem_configs`` then a 1×1 convolution), prepend a class token, run the encoder
    and classify the class token (through a tanh ``representation_size`` layer if given).
    The head starts at zero."""

    def __init__(
        self,
        image_size: int,
        patch_size: int,
        num_layers: int,
        num_heads: int,
        hidden_dim: int,
        mlp_dim: int,
        dropout: float = 0.0,
        attention_dropout: float = 0.0,
        num_classes: int = 1000,
        representation_size: int | None = None,
        norm_layer: Callable[..., nn.Module] = _LAYER_NORM,
        conv_stem_configs: list[ConvStemConfig] | None = None,
    ) -> None:
        super().__init__()
        if image_size % patch_size != 0:
            raise AssertionError("Input shape indivisible by patch size!")
        self.image_size = image_size
        self.patch_size = patch_size
        self.hidden_dim = hidden_dim
        self.mlp_dim = mlp_dim
        self.attention_dropout = attention_dropout
        self.dropout = dropout
        self.num_classes = num_classes
        self.representation_size = representation_size
        self.norm_layer = norm_layer
        if conv_stem_configs is not None:
            self.conv_proj = _conv_stem(conv_stem_configs, hidden_dim)
        else:
            self.conv_proj = nn.Conv2d(3, hidden_dim, kernel_size=patch_size, stride=patch_size)
        seq_length = (image_size // patch_size) ** 2 + 1
        self.class_token = nn.Parameter(minigrad.zeros(1, 1, hidden_dim))
        self.encoder = Encoder(
            seq_length, num_layers, num_heads, hidden_dim, mlp_dim, dropout, attention_dropout,
            norm_layer,
        )  # fmt: skip
        self.seq_length = seq_length
        heads: OrderedDict[str, nn.Module] = OrderedDict()
        if representation_size is None:
            heads["head"] = nn.Linear(hidden_dim, num_classes)
        else:
            heads["pre_logits"] = nn.Linear(hidden_dim, representation_size)
            heads["act"] = nn.Tanh()
            heads["head"] = nn.Linear(representation_size, num_classes)
        self.heads = nn.Sequential(heads)
        self._init_weights()

    def _init_weights(self) -> None:
        """Patch projection truncated-normal (std √(1/fan_in)), or a stem's last convolution
        N(0, √(2/out)); pre-logits truncated-normal; head zero."""
        proj = self.conv_proj
        if isinstance(proj, nn.Conv2d):
            fan_in = proj.in_channels * proj.kernel_size[0] * proj.kernel_size[1]
            nn.init.trunc_normal_(proj.weight, std=math.sqrt(1 / fan_in))
            if proj.bias is not None:
                nn.init.zeros_(proj.bias)
        elif isinstance(getattr(proj, "conv_last", None), nn.Conv2d):
            last = proj.conv_last
            nn.init.normal_(last.weight, mean=0.0, std=math.sqrt(2.0 / last.out_channels))
            if last.bias is not None:
                nn.init.zeros_(last.bias)
        if isinstance(getattr(self.heads, "pre_logits", None), nn.Linear):
            pre = self.heads.pre_logits
            nn.init.trunc_normal_(pre.weight, std=math.sqrt(1 / pre.in_features))
            nn.init.zeros_(pre.bias)
        if isinstance(self.heads.head, nn.Linear):
            nn.init.zeros_(self.heads.head.weight)
            nn.init.zeros_(self.heads.head.bias)

    def _process_input(self, x):
        """``(N, 3, H, W)`` images to ``(N, H/p · W/p, hidden_dim)`` patch embeddings."""
        n, _, h, w = x.shape
        if h != self.image_size:
            raise AssertionError(f"Wrong image height! Expected {self.image_size} but got {h}!")
        if w != self.image_size:
            raise AssertionError(f"Wrong image width! Expected {self.image_size} but got {w}!")
        p = self.patch_size
        x = self.conv_proj(x).reshape(n, self.hidden_dim, (h // p) * (w // p))
        return x.permute(0, 2, 1)

    def forward(self, x):
        x = self._process_input(x)
        token = self.class_token.expand(x.shape[0], -1, -1)
        x = self.encoder(minigrad.cat([token, x], dim=1))
        return self.heads(x[:, 0])


def interpolate_embeddings(
    image_size: int,
    patch_size: int,
    model_state: OrderedDict,
    interpolation_mode: str = "bicubic",
    reset_heads: bool = False,
) -> OrderedDict:
    """``model_state`` (a ViT state dict) with ``encoder.pos_embedding`` resized for
    ``image_size`` / ``patch_size`` images: the patch grid's embeddings interpolated
    (``interpolation_mode``, corners aligned), the class token's kept; ``heads.*`` dropped when
    ``reset_heads`` — to fine-tune a checkpoint at another resolution."""
    pos_embedding = model_state["encoder.pos_embedding"]
    n, seq_length, hidden_dim = pos_embedding.shape
    if n != 1:
        raise ValueError(f"Unexpected position embedding shape: {pos_embedding.shape}")
    new_seq_length = (image_size // patch_size) ** 2 + 1
    if new_seq_length == seq_length:
        return model_state
    side = int(math.sqrt(seq_length - 1))
    if side * side != seq_length - 1:
        raise ValueError(
            f"seq_length is not a perfect square! Instead got seq_length_1d * seq_length_1d = "
            f"{side * side} and seq_length = {seq_length - 1}"
        )
    grid = pos_embedding[:, 1:, :].permute(0, 2, 1).reshape(1, hidden_dim, side, side)
    new_side = image_size // patch_size
    grid = nn.functional.interpolate(
        grid, size=new_side, mode=interpolation_mode, align_corners=True
    )
    grid = grid.reshape(1, hidden_dim, new_side * new_side).permute(0, 2, 1)
    model_state["encoder.pos_embedding"] = minigrad.cat([pos_embedding[:, :1, :], grid], dim=1)
    if reset_heads:
        model_state = OrderedDict(
            (k, v) for k, v in model_state.items() if not k.startswith("heads")
        )
    return model_state


def _conv_stem(configs: list[ConvStemConfig], hidden_dim: int) -> nn.Sequential:
    stem = nn.Sequential()
    prev = 3
    for i, cfg in enumerate(configs):
        stem.add_module(
            f"conv_bn_relu_{i}",
            Conv2dNormActivation(
                prev, cfg.out_channels, kernel_size=cfg.kernel_size, stride=cfg.stride,
                norm_layer=cfg.norm_layer, activation_layer=cfg.activation_layer,
            ),
        )  # fmt: skip
        prev = cfg.out_channels
    stem.add_module("conv_last", nn.Conv2d(prev, hidden_dim, kernel_size=1))
    return stem


def _vit(name, patch_size, num_layers, num_heads, hidden_dim, mlp_dim, weights, kwargs):
    check_no_weights(name, weights, kwargs)
    return VisionTransformer(
        image_size=kwargs.pop("image_size", 224), patch_size=patch_size, num_layers=num_layers,
        num_heads=num_heads, hidden_dim=hidden_dim, mlp_dim=mlp_dim, **kwargs,
    )  # fmt: skip


_SWAG = ("IMAGENET1K_SWAG_E2E_V1", "IMAGENET1K_SWAG_LINEAR_V1")
ViT_B_16_Weights = weights_enum("ViT_B_16_Weights", ("IMAGENET1K_V1", *_SWAG), "IMAGENET1K_V1")
ViT_B_32_Weights = weights_enum("ViT_B_32_Weights", ("IMAGENET1K_V1",))
ViT_L_16_Weights = weights_enum("ViT_L_16_Weights", ("IMAGENET1K_V1", *_SWAG), "IMAGENET1K_V1")
ViT_L_32_Weights = weights_enum("ViT_L_32_Weights", ("IMAGENET1K_V1",))
ViT_H_14_Weights = weights_enum("ViT_H_14_Weights", _SWAG, "IMAGENET1K_SWAG_E2E_V1")


@register_model(ViT_B_16_Weights)
def vit_b_16(*, weights=None, progress: bool = True, **kwargs) -> VisionTransformer:
    """ViT-B/16 (86.6 M parameters)."""
    return _vit("vit_b_16", 16, 12, 12, 768, 3072, weights, kwargs)


@register_model(ViT_B_32_Weights)
def vit_b_32(*, weights=None, progress: bool = True, **kwargs) -> VisionTransformer:
    """ViT-B/32 (88.2 M parameters)."""
    return _vit("vit_b_32", 32, 12, 12, 768, 3072, weights, kwargs)


@register_model(ViT_L_16_Weights)
def vit_l_16(*, weights=None, progress: bool = True, **kwargs) -> VisionTransformer:
    """ViT-L/16 (304.3 M parameters)."""
    return _vit("vit_l_16", 16, 24, 16, 1024, 4096, weights, kwargs)


@register_model(ViT_L_32_Weights)
def vit_l_32(*, weights=None, progress: bool = True, **kwargs) -> VisionTransformer:
    """ViT-L/32 (306.5 M parameters)."""
    return _vit("vit_l_32", 32, 24, 16, 1024, 4096, weights, kwargs)


@register_model(ViT_H_14_Weights)
def vit_h_14(*, weights=None, progress: bool = True, **kwargs) -> VisionTransformer:
    """ViT-H/14 (633.5 M parameters)."""
    return _vit("vit_h_14", 14, 32, 16, 1280, 5120, weights, kwargs)
