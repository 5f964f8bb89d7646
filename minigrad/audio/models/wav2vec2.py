"""torchaudio.models.Wav2Vec2Model (wav2vec 2.0, Baevski et al. 2020; HuBERT, Hsu et al. 2021):
a convolutional feature extractor over raw audio, a feature projection, a convolutional
positional embedding under weight norm and a transformer encoder, with torchaudio's module
names (so its state_dicts load), the ``wav2vec2_model`` factory and the base/large builders."""

from __future__ import annotations

import minigrad as torch
from minigrad import nn
from minigrad.nn import functional as F


class LayerNorm(nn.LayerNorm):
    """Layer norm over the channels of ``(batch, channel, frame)`` (the feature axis is -2)."""

    def forward(self, input):
        x = input.transpose(-2, -1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.transpose(-2, -1)


class ConvLayerBlock(nn.Module):
    """Conv1d, optional normalization, GELU; the valid lengths follow the strided convolution."""

    def __init__(self, in_channels, out_channels, kernel_size, stride, bias, layer_norm):
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride
        self.layer_norm = layer_norm
        self.conv = nn.Conv1d(in_channels, out_channels, kernel_size, stride=stride, bias=bias)

    def forward(self, x, length):
        x = self.conv(x)
        if self.layer_norm is not None:
            x = self.layer_norm(x)
        x = F.gelu(x)
        if length is not None:
            length = torch.div(length - self.kernel_size, self.stride, rounding_mode="floor") + 1
            length = torch.max(torch.zeros_like(length), length)
        return x, length


class FeatureExtractor(nn.Module):
    """Raw audio ``(batch, time)`` to features ``(batch, frame, feature)`` and valid lengths."""

    def __init__(self, conv_layers: nn.ModuleList):
        super().__init__()
        self.conv_layers = conv_layers

    def forward(self, x, length):
        if x.ndim != 2:
            raise ValueError(
                f"Expected the input Tensor to be 2D (batch, time). Found: {list(x.shape)}"
            )
        x = x.unsqueeze(1)
        for layer in self.conv_layers:
            x, length = layer(x, length)
        return x.transpose(1, 2), length


class FeatureProjection(nn.Module):
    """Layer norm, linear projection to the encoder's width, dropout."""

    def __init__(self, in_features: int, out_features: int, dropout: float):
        super().__init__()
        self.layer_norm = nn.LayerNorm(in_features)
        self.projection = nn.Linear(in_features, out_features)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        return self.dropout(self.projection(self.layer_norm(x)))


class ConvolutionalPositionalEmbedding(nn.Module):
    """Grouped Conv1d over time under weight norm (``dim=2``), the extra frame of an even
    kernel dropped, then GELU: the relative position signal added to the features."""

    def __init__(self, embed_dim: int, kernel_size: int, groups: int):
        super().__init__()
        self.embed_dim, self.kernel_size = embed_dim, kernel_size
        conv = nn.Conv1d(embed_dim, embed_dim, kernel_size, padding=kernel_size // 2, groups=groups)
        self.conv = nn.utils.parametrizations.weight_norm(conv, name="weight", dim=2)
        self.num_remove = 1 if kernel_size % 2 == 0 else 0

    def forward(self, x):
        x = self.conv(x.transpose(-2, -1))
        if self.num_remove > 0:
            x = x[..., : -self.num_remove]
        return F.gelu(x).transpose(-2, -1)


class SelfAttention(nn.Module):
    """Multi-head self-attention with separate q/k/v/out projections (torchaudio's names)."""

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0):
        super().__init__()
        head_dim = embed_dim // num_heads
        if head_dim * num_heads != embed_dim:
            raise ValueError(
                f"`embed_dim ({embed_dim})` is not divisible by `num_heads ({num_heads})`"
            )
        self.embed_dim, self.num_heads, self.dropout = embed_dim, num_heads, dropout
        self.head_dim = head_dim
        self.scaling = head_dim**-0.5
        self.k_proj = nn.Linear(embed_dim, embed_dim, bias=True)
        self.v_proj = nn.Linear(embed_dim, embed_dim, bias=True)
        self.q_proj = nn.Linear(embed_dim, embed_dim, bias=True)
        self.out_proj = nn.Linear(embed_dim, embed_dim, bias=True)

    def forward(self, x, attention_mask=None, position_bias=None, key_padding_mask=None):
        if x.ndim != 3 or x.shape[2] != self.embed_dim:
            raise ValueError(
                f"The expected input shape is (batch, sequence, embed_dim=={self.embed_dim}). "
                f"Found {x.shape}."
            )
        batch_size, length, _ = x.shape
        if attention_mask is not None:
            shape_ = (batch_size, 1, length, length)
            if tuple(attention_mask.shape) != shape_:
                raise ValueError(
                    f"The expected attention mask shape is {shape_}. Found {attention_mask.size()}."
                )
        shape = (batch_size, length, self.num_heads, self.head_dim)
        q = self.q_proj(x).view(*shape).transpose(2, 1)
        k = self.k_proj(x).view(*shape).transpose(2, 1)
        v = self.v_proj(x).view(*shape).transpose(2, 1)
        dropout = self.dropout if self.training else 0.0
        out = F.scaled_dot_product_attention(
            q, k, v, attn_mask=attention_mask, dropout_p=dropout, is_causal=False
        )
        out = out.transpose(1, 2).reshape(batch_size, -1, self.num_heads * self.head_dim)
        return self.out_proj(out), None


class FeedForward(nn.Module):
    """Linear, GELU, dropout, linear, dropout."""

    def __init__(self, io_features, intermediate_features, intermediate_dropout, output_dropout):
        super().__init__()
        self.intermediate_dense = nn.Linear(io_features, intermediate_features)
        self.intermediate_dropout = nn.Dropout(intermediate_dropout)
        self.output_dense = nn.Linear(intermediate_features, io_features)
        self.output_dropout = nn.Dropout(output_dropout)

    def forward(self, x):
        x = self.intermediate_dropout(F.gelu(self.intermediate_dense(x)))
        return self.output_dropout(self.output_dense(x))


class EncoderLayer(nn.Module):
    """Self-attention and feed-forward with residuals; layer norms before (pre-norm) or after."""

    def __init__(self, attention, dropout: float, layer_norm_first: bool, feed_forward):
        super().__init__()
        self.attention = attention
        self.dropout = nn.Dropout(dropout)
        self.layer_norm = nn.LayerNorm(attention.embed_dim)
        self.layer_norm_first = layer_norm_first
        self.feed_forward = feed_forward
        self.final_layer_norm = nn.LayerNorm(attention.embed_dim)

    def forward(self, x, attention_mask=None, position_bias=None, key_padding_mask=None):
        residual = x
        if self.layer_norm_first:
            x = self.layer_norm(x)
        x, position_bias = self.attention(
            x,
            attention_mask=attention_mask,
            position_bias=position_bias,
            key_padding_mask=key_padding_mask,
        )
        x = residual + self.dropout(x)
        if self.layer_norm_first:
            x = x + self.feed_forward(self.final_layer_norm(x))
        else:
            x = self.layer_norm(x)
            x = self.final_layer_norm(x + self.feed_forward(x))
        return x, position_bias


class Transformer(nn.Module):
    """Positional embedding added, then the encoder layers (each skipped with probability
    ``layer_drop`` in training: LayerDrop)."""

    def __init__(self, pos_conv_embed, dropout, layers, layer_norm_first, layer_drop):
        super().__init__()
        self.pos_conv_embed = pos_conv_embed
        self.layer_norm = nn.LayerNorm(pos_conv_embed.embed_dim)
        self.layer_norm_first = layer_norm_first
        self.layer_drop = layer_drop
        self.dropout = nn.Dropout(dropout)
        self.layers = layers

    def _preprocess(self, x):
        x = x + self.pos_conv_embed(x)
        if self.layer_norm_first:
            x = self.layer_norm(x)
        return self.dropout(x)

    def forward(self, x, attention_mask=None, position_bias=None):
        x = self._preprocess(x)
        for layer in self.layers:
            if not (self.training and torch.rand(1).item() <= self.layer_drop):
                x, position_bias = layer(x, attention_mask, position_bias=position_bias)
        if not self.layer_norm_first:
            x = self.layer_norm(x)
        return x

    def get_intermediate_outputs(self, x, attention_mask=None, num_layers=None):
        """Every layer's output (the first ``num_layers``), without LayerDrop."""
        if num_layers is not None and not 0 < num_layers <= len(self.layers):
            raise ValueError(f"`num_layers` must be between [1, {len(self.layers)}]")
        ret, position_bias = [], None
        x = self._preprocess(x)
        for layer in self.layers:
            x, position_bias = layer(x, attention_mask, position_bias=position_bias)
            ret.append(x)
            if num_layers is not None and len(ret) >= num_layers:
                break
        return ret


class Encoder(nn.Module):
    """Feature projection, padding mask from the valid lengths, transformer."""

    def __init__(self, feature_projection, transformer):
        super().__init__()
        self.feature_projection = feature_projection
        self.transformer = transformer

    def _preprocess(self, features, lengths=None):
        x = self.feature_projection(features)
        mask = None
        if lengths is not None:
            batch_size, max_len, _ = x.shape
            pad = torch.arange(max_len, device=lengths.device).expand(batch_size, max_len)
            pad = pad >= lengths[:, None]
            x = x.masked_fill(
                pad[:, :, None], 0.0
            )  # padded frames zeroed (torchaudio: x[mask] = 0)
            mask = -10000.0 * pad[:, None, None, :].to(dtype=features.dtype)
            mask = mask.expand(batch_size, 1, max_len, max_len)
        return x, mask

    def forward(self, features, lengths=None):
        x, mask = self._preprocess(features, lengths)
        return self.transformer(x, attention_mask=mask)

    def extract_features(self, features, lengths=None, num_layers=None):
        x, masks = self._preprocess(features, lengths)
        return self.transformer.get_intermediate_outputs(
            x, attention_mask=masks, num_layers=num_layers
        )


def _get_feature_extractor(norm_mode: str, shapes, bias: bool) -> FeatureExtractor:
    """The conv stack: ``"group_norm"`` normalizes the first block only (per channel),
    ``"layer_norm"`` every block (over channels)."""
    if norm_mode not in ["group_norm", "layer_norm"]:
        raise ValueError("Invalid norm mode")
    blocks, in_channels = [], 1
    for i, (out_channels, kernel_size, stride) in enumerate(shapes):
        normalization = None
        if norm_mode == "group_norm" and i == 0:
            normalization = nn.GroupNorm(out_channels, out_channels, affine=True)
        elif norm_mode == "layer_norm":
            normalization = LayerNorm(out_channels, elementwise_affine=True)
        blocks.append(
            ConvLayerBlock(in_channels, out_channels, kernel_size, stride, bias, normalization)
        )
        in_channels = out_channels
    return FeatureExtractor(nn.ModuleList(blocks))


def _get_encoder(
    in_features, embed_dim, dropout_input, pos_conv_kernel, pos_conv_groups, num_layers,
    num_heads, attention_dropout, ff_interm_features, ff_interm_dropout, dropout,
    layer_norm_first, layer_drop,
) -> Encoder:  # fmt: skip
    """Projection, positional convolution and ``num_layers`` encoder layers."""
    feature_projection = FeatureProjection(in_features, embed_dim, dropout_input)
    pos_conv = ConvolutionalPositionalEmbedding(embed_dim, pos_conv_kernel, pos_conv_groups)
    layers = nn.ModuleList(
        EncoderLayer(
            SelfAttention(embed_dim, num_heads, attention_dropout),
            dropout,
            layer_norm_first,
            FeedForward(embed_dim, ff_interm_features, ff_interm_dropout, dropout),
        )
        for _ in range(num_layers)
    )
    transformer = Transformer(pos_conv, dropout, layers, not layer_norm_first, layer_drop)
    return Encoder(feature_projection, transformer)


def _get_wavlm_encoder(
    in_features, embed_dim, dropout_input, pos_conv_kernel, pos_conv_groups, num_layers,
    num_heads, num_buckets, max_distance, attention_dropout, ff_interm_features,
    ff_interm_dropout, dropout, layer_norm_first, layer_drop,
) -> Encoder:  # fmt: skip
    """:func:`_get_encoder` with WavLM's attention (the relative bias learned in layer 0)."""
    from .wavlm_attention import WavLMSelfAttention

    feature_projection = FeatureProjection(in_features, embed_dim, dropout_input)
    pos_conv = ConvolutionalPositionalEmbedding(embed_dim, pos_conv_kernel, pos_conv_groups)
    layers = nn.ModuleList(
        EncoderLayer(
            WavLMSelfAttention(embed_dim, num_heads, attention_dropout, num_buckets=num_buckets,
                               max_distance=max_distance, has_relative_attention_bias=i == 0),
            dropout,
            layer_norm_first,
            FeedForward(embed_dim, ff_interm_features, ff_interm_dropout, dropout),
        )
        for i in range(num_layers)
    )  # fmt: skip
    transformer = Transformer(pos_conv, dropout, layers, not layer_norm_first, layer_drop)
    return Encoder(feature_projection, transformer)


class Wav2Vec2Model(nn.Module):
    """Acoustic model of wav2vec 2.0 / HuBERT: ``forward(waveforms, lengths=None)`` gives
    ``(batch, frame, feature)`` (logits when ``aux`` is set) and the valid frame counts.
    Build it with :func:`wav2vec2_model` or a builder."""

    def __init__(self, feature_extractor, encoder, aux=None):
        super().__init__()
        self.feature_extractor = feature_extractor
        self.encoder = encoder
        self.aux = aux

    def extract_features(self, waveforms, lengths=None, num_layers=None):
        """The outputs of the transformer layers (the first ``num_layers``) and valid lengths."""
        x, lengths = self.feature_extractor(waveforms, lengths)
        return self.encoder.extract_features(x, lengths, num_layers), lengths

    def forward(self, waveforms, lengths=None):
        x, lengths = self.feature_extractor(waveforms, lengths)
        x = self.encoder(x, lengths)
        if self.aux is not None:
            x = self.aux(x)
        return x, lengths


def wav2vec2_model(
    extractor_mode: str,
    extractor_conv_layer_config,
    extractor_conv_bias: bool,
    encoder_embed_dim: int,
    encoder_projection_dropout: float,
    encoder_pos_conv_kernel: int,
    encoder_pos_conv_groups: int,
    encoder_num_layers: int,
    encoder_num_heads: int,
    encoder_attention_dropout: float,
    encoder_ff_interm_features: int,
    encoder_ff_interm_dropout: float,
    encoder_dropout: float,
    encoder_layer_norm_first: bool,
    encoder_layer_drop: float,
    aux_num_out,
) -> Wav2Vec2Model:
    """A custom :class:`Wav2Vec2Model` (torchaudio's arguments; a ``None`` conv config is
    wav2vec 2.0's seven blocks of 512 channels, 320x downsampling)."""
    return _assembled(
        extractor_mode, extractor_conv_layer_config, extractor_conv_bias, encoder_embed_dim,
        aux_num_out,
        lambda channels: _get_encoder(
            channels, encoder_embed_dim, encoder_projection_dropout, encoder_pos_conv_kernel,
            encoder_pos_conv_groups, encoder_num_layers, encoder_num_heads,
            encoder_attention_dropout, encoder_ff_interm_features, encoder_ff_interm_dropout,
            encoder_dropout, encoder_layer_norm_first, encoder_layer_drop,
        ),
    )  # fmt: skip


def _assembled(extractor_mode, conv_config, conv_bias, embed_dim, aux_num_out, encoder_for):
    """A :class:`Wav2Vec2Model` from its parts, as torchaudio's builders make it: the feature
    extractor (wav2vec 2.0's seven blocks of 512 channels, 320x downsampling, for a ``None``
    ``conv_config``), ``encoder_for(its output channels)`` and the optional ``aux`` head."""
    if conv_config is None:
        conv_config = [(512, 10, 5)] + [(512, 3, 2)] * 4 + [(512, 2, 2)] * 2
    feature_extractor = _get_feature_extractor(extractor_mode, conv_config, conv_bias)
    encoder = encoder_for(conv_config[-1][0])
    aux = None if aux_num_out is None else nn.Linear(embed_dim, aux_num_out)
    return Wav2Vec2Model(feature_extractor, encoder, aux)


# name: (extractor_mode, conv bias, embed dim, layers, heads, ff features, layer_norm_first,
#        default dropouts: projection, attention, ff_interm, encoder, layer_drop) -- torchaudio's
_CONFIGS = {
    "wav2vec2_base": ("group_norm", False, 768, 12, 12, 3072, False, (0.1, 0.1, 0.1, 0.1, 0.1)),
    "wav2vec2_large": ("group_norm", False, 1024, 24, 16, 4096, False, (0.1, 0.1, 0.1, 0.1, 0.1)),
    "wav2vec2_large_lv60k": ("layer_norm", True, 1024, 24, 16, 4096, True, (0.1, 0, 0.1, 0, 0.1)),
    "hubert_base": ("group_norm", False, 768, 12, 12, 3072, False, (0.1, 0.1, 0.0, 0.1, 0.05)),
    "hubert_large": ("layer_norm", False, 1024, 24, 16, 4096, True, (0.0,) * 5),
    "hubert_xlarge": ("layer_norm", False, 1280, 48, 16, 5120, True, (0.0,) * 5),
    "wav2vec2_xlsr_300m": ("layer_norm", True, 1024, 24, 16, 4096, True, (0.0,) * 5),
    "wav2vec2_xlsr_1b": ("layer_norm", True, 1280, 48, 16, 5120, True, (0.1, 0, 0, 0, 0)),
    "wav2vec2_xlsr_2b": ("layer_norm", True, 1920, 48, 16, 7680, True, (0.1, 0, 0, 0, 0)),
}


def _builder(name):
    """The builder of a named configuration, its dropouts keyword-overridable as torchaudio's."""
    mode, bias, dim, layers, heads, ff, norm_first, d = _CONFIGS[name]

    def build(
        encoder_projection_dropout: float = d[0],
        encoder_attention_dropout: float = d[1],
        encoder_ff_interm_dropout: float = d[2],
        encoder_dropout: float = d[3],
        encoder_layer_drop: float = d[4],
        aux_num_out=None,
    ) -> Wav2Vec2Model:
        return wav2vec2_model(
            mode, None, bias, dim, encoder_projection_dropout, 128, 16, layers, heads,
            encoder_attention_dropout, ff, encoder_ff_interm_dropout, encoder_dropout,
            norm_first, encoder_layer_drop, aux_num_out,
        )  # fmt: skip

    build.__name__ = build.__qualname__ = name
    build.__doc__ = (
        f"Builds torchaudio's ``{name}`` :class:`Wav2Vec2Model` (no pretrained weights)."
    )
    return build


wav2vec2_base = _builder("wav2vec2_base")
wav2vec2_large = _builder("wav2vec2_large")
wav2vec2_large_lv60k = _builder("wav2vec2_large_lv60k")
hubert_base = _builder("hubert_base")
hubert_large = _builder("hubert_large")
hubert_xlarge = _builder("hubert_xlarge")
wav2vec2_xlsr_300m = _builder("wav2vec2_xlsr_300m")  # XLS-R (Babu et al., 2021)
wav2vec2_xlsr_1b = _builder("wav2vec2_xlsr_1b")
wav2vec2_xlsr_2b = _builder("wav2vec2_xlsr_2b")


def wavlm_model(
    extractor_mode: str, extractor_conv_layer_config, extractor_conv_bias: bool,
    encoder_embed_dim: int, encoder_projection_dropout: float, encoder_pos_conv_kernel: int,
    encoder_pos_conv_groups: int, encoder_num_layers: int, encoder_num_heads: int,
    encoder_num_buckets: int, encoder_max_distance: int, encoder_attention_dropout: float,
    encoder_ff_interm_features: int, encoder_ff_interm_dropout: float, encoder_dropout: float,
    encoder_layer_norm_first: bool, encoder_layer_drop: float, aux_num_out,
) -> Wav2Vec2Model:  # fmt: skip
    """A custom WavLM :class:`Wav2Vec2Model` (torchaudio's arguments: ``wav2vec2_model``'s
    plus the relative position buckets and their maximum distance). Like torchaudio's, its
    attention takes no ``lengths`` mask."""
    return _assembled(
        extractor_mode, extractor_conv_layer_config, extractor_conv_bias, encoder_embed_dim,
        aux_num_out,
        lambda channels: _get_wavlm_encoder(
            channels, encoder_embed_dim, encoder_projection_dropout, encoder_pos_conv_kernel,
            encoder_pos_conv_groups, encoder_num_layers, encoder_num_heads, encoder_num_buckets,
            encoder_max_distance, encoder_attention_dropout, encoder_ff_interm_features,
            encoder_ff_interm_dropout, encoder_dropout, encoder_layer_norm_first,
            encoder_layer_drop,
        ),
    )  # fmt: skip


def wavlm_base(encoder_projection_dropout=0.1, encoder_attention_dropout=0.1,
               encoder_ff_interm_dropout=0.1, encoder_dropout=0.1, encoder_layer_drop=0.1,
               aux_num_out=None) -> Wav2Vec2Model:  # fmt: skip
    """Builds torchaudio's ``wavlm_base`` (no pretrained weights)."""
    return wavlm_model("group_norm", None, False, 768, encoder_projection_dropout, 128, 16, 12, 12,
                       320, 800, encoder_attention_dropout, 3072, encoder_ff_interm_dropout,
                       encoder_dropout, False, encoder_layer_drop, aux_num_out)  # fmt: skip


def wavlm_large(encoder_projection_dropout=0.1, encoder_attention_dropout=0.1,
                encoder_ff_interm_dropout=0.0, encoder_dropout=0.1, encoder_layer_drop=0.1,
                aux_num_out=None) -> Wav2Vec2Model:  # fmt: skip
    """Builds torchaudio's ``wavlm_large`` (no pretrained weights)."""
    return wavlm_model("layer_norm", None, False, 1024, encoder_projection_dropout, 128, 16, 24,
                       16, 320, 800, encoder_attention_dropout, 4096, encoder_ff_interm_dropout,
                       encoder_dropout, True, encoder_layer_drop, aux_num_out)  # fmt: skip
