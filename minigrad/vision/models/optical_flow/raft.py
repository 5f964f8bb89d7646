"""torchvision's RAFT (Teed & Deng, 2020, "Recurrent All-Pairs Field Transforms for Optical
Flow"): a feature encoder run on both frames, the all-pairs correlation volume between their
features pooled into a pyramid (``CorrBlock``), a context encoder on the first frame, and a
convolutional GRU (``UpdateBlock``) that refines the flow ``num_flow_updates`` times, each
estimate upsampled ×8 (learned convex upsampling for ``raft_large``, bilinear for
``raft_small``). Module names and initialisation as torchvision's."""

from __future__ import annotations

import minigrad
from minigrad import nn
from minigrad.nn import functional as F

from ...ops.misc import Conv2dNormActivation
from .._api import register_model
from .._weights import check_no_weights, weights_enum
from ._utils import grid_sample, make_coords_grid, upsample_flow

__all__ = ["RAFT", "raft_large", "raft_small", "Raft_Large_Weights", "Raft_Small_Weights"]


class ResidualBlock(nn.Module):
    """Two 3×3 convolutions (norm, ReLU) with a residual; a strided 1×1 projection when the
    size changes (or ``always_project``)."""

    def __init__(self, in_channels, out_channels, *, norm_layer, stride=1, always_project=False):
        super().__init__()
        conv = lambda i, o, **kw: Conv2dNormActivation(i, o, norm_layer=norm_layer, bias=True, **kw)  # noqa: E731
        self.convnormrelu1 = conv(in_channels, out_channels, kernel_size=3, stride=stride)
        self.convnormrelu2 = conv(out_channels, out_channels, kernel_size=3)
        if stride == 1 and not always_project:
            self.downsample = nn.Identity()
        else:
            self.downsample = conv(
                in_channels, out_channels, kernel_size=1, stride=stride, activation_layer=None
            )
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        y = self.convnormrelu2(self.convnormrelu1(x))
        return self.relu(self.downsample(x) + y)


class BottleneckBlock(nn.Module):
    """1×1 to a quarter of the width, 3×3 (strided), 1×1 back, each with norm and ReLU, with a
    residual (a strided 1×1 projection when the size changes)."""

    def __init__(self, in_channels, out_channels, *, norm_layer, stride=1):
        super().__init__()
        conv = lambda i, o, **kw: Conv2dNormActivation(i, o, norm_layer=norm_layer, bias=True, **kw)  # noqa: E731
        mid = out_channels // 4
        self.convnormrelu1 = conv(in_channels, mid, kernel_size=1)
        self.convnormrelu2 = conv(mid, mid, kernel_size=3, stride=stride)
        self.convnormrelu3 = conv(mid, out_channels, kernel_size=1)
        self.relu = nn.ReLU(inplace=True)
        if stride == 1:
            self.downsample = nn.Identity()
        else:
            self.downsample = conv(
                in_channels, out_channels, kernel_size=1, stride=stride, activation_layer=None
            )

    def forward(self, x):
        y = self.convnormrelu3(self.convnormrelu2(self.convnormrelu1(x)))
        return self.relu(self.downsample(x) + y)


class FeatureEncoder(nn.Module):
    """A 7×7 stem and three stages of two ``block`` each (``layers`` widths, ``strides``), then
    a 1×1 convolution to ``layers[-1]`` channels: features at 1/8 of the size by default."""

    def __init__(
        self,
        *,
        block=ResidualBlock,
        layers=(64, 64, 96, 128, 256),
        strides=(2, 1, 2, 2),
        norm_layer=nn.BatchNorm2d,
    ):
        super().__init__()
        if len(layers) != 5:
            raise ValueError(f"The expected number of layers is 5, instead got {len(layers)}")
        self.convnormrelu = Conv2dNormActivation(
            3, layers[0], norm_layer=norm_layer, kernel_size=7, stride=strides[0], bias=True
        )
        self.layer1 = self._make_2_blocks(block, layers[0], layers[1], norm_layer, strides[1])
        self.layer2 = self._make_2_blocks(block, layers[1], layers[2], norm_layer, strides[2])
        self.layer3 = self._make_2_blocks(block, layers[2], layers[3], norm_layer, strides[3])
        self.conv = nn.Conv2d(layers[3], layers[4], kernel_size=1)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, (nn.BatchNorm2d, nn.InstanceNorm2d)):
                if m.weight is not None:
                    nn.init.constant_(m.weight, 1)
                if m.bias is not None:
                    nn.init.constant_(m.bias, 0)
        self.output_dim = layers[-1]
        self.downsample_factor = 2 ** sum(s == 2 for s in strides)

    @staticmethod
    def _make_2_blocks(block, in_channels, out_channels, norm_layer, first_stride):
        return nn.Sequential(
            block(in_channels, out_channels, norm_layer=norm_layer, stride=first_stride),
            block(out_channels, out_channels, norm_layer=norm_layer, stride=1),
        )

    def forward(self, x):
        x = self.layer3(self.layer2(self.layer1(self.convnormrelu(x))))
        return self.conv(x)


class MotionEncoder(nn.Module):
    """Encodes the correlation features and the current flow into ``out_channels`` maps (the
    flow itself appended as the last two)."""

    def __init__(
        self, *, in_channels_corr, corr_layers=(256, 192), flow_layers=(128, 64), out_channels=128
    ):
        super().__init__()
        if len(flow_layers) != 2:
            raise ValueError(
                f"The expected number of flow_layers is 2, instead got {len(flow_layers)}"
            )
        if len(corr_layers) not in (1, 2):
            raise ValueError(
                f"The number of corr_layers should be 1 or 2, instead got {len(corr_layers)}"
            )
        conv = lambda i, o, k: Conv2dNormActivation(i, o, norm_layer=None, kernel_size=k)  # noqa: E731
        self.convcorr1 = conv(in_channels_corr, corr_layers[0], 1)
        if len(corr_layers) == 2:
            self.convcorr2 = conv(corr_layers[0], corr_layers[1], 3)
        else:
            self.convcorr2 = nn.Identity()
        self.convflow1 = conv(2, flow_layers[0], 7)
        self.convflow2 = conv(flow_layers[0], flow_layers[1], 3)
        self.conv = conv(corr_layers[-1] + flow_layers[-1], out_channels - 2, 3)
        self.out_channels = out_channels

    def forward(self, flow, corr_features):
        corr = self.convcorr2(self.convcorr1(corr_features))
        encoded = self.convflow2(self.convflow1(flow))
        corr_flow = self.conv(minigrad.cat([corr, encoded], dim=1))
        return minigrad.cat([corr_flow, flow], dim=1)


class ConvGRU(nn.Module):
    """A GRU cell whose gates are convolutions over [hidden, input]."""

    def __init__(self, *, input_size, hidden_size, kernel_size, padding):
        super().__init__()
        channels = hidden_size + input_size
        self.convz = nn.Conv2d(channels, hidden_size, kernel_size=kernel_size, padding=padding)
        self.convr = nn.Conv2d(channels, hidden_size, kernel_size=kernel_size, padding=padding)
        self.convq = nn.Conv2d(channels, hidden_size, kernel_size=kernel_size, padding=padding)

    def forward(self, h, x):
        hx = minigrad.cat([h, x], dim=1)
        z = minigrad.sigmoid(self.convz(hx))
        r = minigrad.sigmoid(self.convr(hx))
        q = minigrad.tanh(self.convq(minigrad.cat([r * h, x], dim=1)))
        return (1 - z) * h + z * q


def _pass_through_h(h, _):
    return h


class RecurrentBlock(nn.Module):
    """One or two ``ConvGRU`` cells in a row (``raft_large``: a 1×5 then a 5×1 one)."""

    def __init__(
        self, *, input_size, hidden_size, kernel_size=((1, 5), (5, 1)), padding=((0, 2), (2, 0))
    ):
        super().__init__()
        if len(kernel_size) != len(padding):
            raise ValueError(
                "kernel_size should have the same length as padding, instead got "
                f"len(kernel_size) = {len(kernel_size)} and len(padding) = {len(padding)}"
            )
        if len(kernel_size) not in (1, 2):
            raise ValueError(f"kernel_size should either 1 or 2, instead got {len(kernel_size)}")
        sizes = {"input_size": input_size, "hidden_size": hidden_size}
        self.convgru1 = ConvGRU(**sizes, kernel_size=kernel_size[0], padding=padding[0])
        if len(kernel_size) == 2:
            self.convgru2 = ConvGRU(**sizes, kernel_size=kernel_size[1], padding=padding[1])
        else:
            self.convgru2 = _pass_through_h
        self.hidden_size = hidden_size

    def forward(self, h, x):
        return self.convgru2(self.convgru1(h, x), x)


class FlowHead(nn.Module):
    """Two 3×3 convolutions from the hidden state to a flow update (2 channels)."""

    def __init__(self, *, in_channels, hidden_size):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, hidden_size, 3, padding=1)
        self.conv2 = nn.Conv2d(hidden_size, 2, 3, padding=1)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.conv2(self.relu(self.conv1(x)))


class UpdateBlock(nn.Module):
    """One refinement step: motion features, the recurrent block on [context, motion], and the
    flow head; returns the new hidden state and the flow update."""

    def __init__(self, *, motion_encoder, recurrent_block, flow_head):
        super().__init__()
        self.motion_encoder = motion_encoder
        self.recurrent_block = recurrent_block
        self.flow_head = flow_head
        self.hidden_state_size = recurrent_block.hidden_size

    def forward(self, hidden_state, context, corr_features, flow):
        motion_features = self.motion_encoder(flow, corr_features)
        x = minigrad.cat([context, motion_features], dim=1)
        hidden_state = self.recurrent_block(hidden_state, x)
        return hidden_state, self.flow_head(hidden_state)


class MaskPredictor(nn.Module):
    """The convex-upsampling weights (8·8·9 per coarse pixel) from the hidden state, scaled by
    ``multiplier`` (0.25 in the original code, to balance the gradients)."""

    def __init__(self, *, in_channels, hidden_size, multiplier=0.25):
        super().__init__()
        self.convrelu = Conv2dNormActivation(
            in_channels, hidden_size, norm_layer=None, kernel_size=3
        )
        self.conv = nn.Conv2d(hidden_size, 8 * 8 * 9, 1, padding=0)
        self.multiplier = multiplier

    def forward(self, x):
        return self.multiplier * self.conv(self.convrelu(x))


class CorrBlock(nn.Module):
    """The correlation pyramid: ``build_pyramid`` takes the dot products of every pair of
    pixels of the two feature maps (scaled by 1/√C), average-pooled ``num_levels - 1`` times
    over the second map; ``index_pyramid`` samples each level bilinearly in a
    (2·radius+1)² window around each pixel's current match."""

    def __init__(self, *, num_levels: int = 4, radius: int = 4):
        super().__init__()
        self.num_levels = num_levels
        self.radius = radius
        self.corr_pyramid: list = []
        self.out_channels = num_levels * (2 * radius + 1) ** 2

    def build_pyramid(self, fmap1, fmap2):
        if fmap1.shape != fmap2.shape:
            raise ValueError(
                "Input feature maps should have the same shape, instead got "
                f"{fmap1.shape} (fmap1.shape) != {fmap2.shape} (fmap2.shape)"
            )
        min_fmap_size = 2 * (2 ** (self.num_levels - 1))
        if any(size < min_fmap_size for size in fmap1.shape[-2:]):
            raise ValueError(
                "Feature maps are too small to be down-sampled by the correlation pyramid. "
                f"H and W of feature maps should be at least {min_fmap_size}; got: "
                f"{fmap1.shape[-2:]}. Remember that input images to the model are downsampled "
                f"by 8, so that means their dimensions should be at least 8 * {min_fmap_size} "
                f"= {8 * min_fmap_size}."
            )
        corr_volume = self._compute_corr_volume(fmap1, fmap2)
        batch_size, h, w, num_channels, _, _ = corr_volume.shape
        corr_volume = corr_volume.reshape(batch_size * h * w, num_channels, h, w)
        self.corr_pyramid = [corr_volume]
        for _ in range(self.num_levels - 1):
            corr_volume = F.avg_pool2d(corr_volume, kernel_size=2, stride=2)
            self.corr_pyramid.append(corr_volume)

    def index_pyramid(self, centroids_coords):
        side = 2 * self.radius + 1
        di = minigrad.linspace(-self.radius, self.radius, side)
        dj = minigrad.linspace(-self.radius, self.radius, side)
        delta = minigrad.stack(minigrad.meshgrid(di, dj, indexing="ij"), dim=-1)
        delta = delta.to(centroids_coords.device).view(1, side, side, 2)
        batch_size, _, h, w = centroids_coords.shape
        centroids = centroids_coords.permute(0, 2, 3, 1).reshape(batch_size * h * w, 1, 1, 2)
        indexed = []
        for corr_volume in self.corr_pyramid:
            sampled = grid_sample(corr_volume, centroids + delta, align_corners=True)
            indexed.append(sampled.view(batch_size, h, w, -1))
            centroids = centroids / 2
        corr_features = minigrad.cat(indexed, dim=-1).permute(0, 3, 1, 2).contiguous()
        expected = (batch_size, self.out_channels, h, w)
        if corr_features.shape != expected:
            raise ValueError(
                f"Output shape of index pyramid is incorrect. Should be {expected}, got "
                f"{corr_features.shape}"
            )
        return corr_features

    def _compute_corr_volume(self, fmap1, fmap2):
        batch_size, num_channels, h, w = fmap1.shape
        fmap1 = fmap1.view(batch_size, num_channels, h * w)
        fmap2 = fmap2.view(batch_size, num_channels, h * w)
        corr = minigrad.matmul(fmap1.transpose(1, 2), fmap2).view(batch_size, h, w, 1, h, w)
        # √C as a float32 tensor, as torchvision (the same divisor in float64 runs)
        return corr / minigrad.sqrt(minigrad.tensor(float(num_channels)))


class RAFT(nn.Module):
    """RAFT from its parts; ``forward(image1, image2, num_flow_updates=12)`` returns the list
    of the ``num_flow_updates`` flow estimates (N, 2, H, W), the last the best. H and W must be
    multiples of 8 (at least 128 for the 4-level pyramid)."""

    def __init__(
        self, *, feature_encoder, context_encoder, corr_block, update_block, mask_predictor=None
    ):
        super().__init__()
        self.feature_encoder = feature_encoder
        self.context_encoder = context_encoder
        self.corr_block = corr_block
        self.update_block = update_block
        self.mask_predictor = mask_predictor
        if not hasattr(self.update_block, "hidden_state_size"):
            raise ValueError(
                "The update_block parameter should expose a 'hidden_state_size' attribute."
            )

    def _check_images(self, image1, image2):
        h, w = image1.shape[-2:]
        if (h, w) != image2.shape[-2:]:
            raise ValueError(
                f"input images should have the same shape, instead got ({h}, {w}) != "
                f"{image2.shape[-2:]}"
            )
        if h % 8 or w % 8:
            raise ValueError(
                f"input image H and W should be divisible by 8, instead got {h} (h) and {w} (w)"
            )

    def _context(self, image1, h, w):
        """The initial hidden state (tanh) and the context features (ReLU) from frame 1."""
        context_out = self.context_encoder(image1)
        if context_out.shape[-2:] != (h // 8, w // 8):
            raise ValueError("The context encoder should downsample H and W by 8")
        hidden_size = self.update_block.hidden_state_size
        out_channels_context = context_out.shape[1] - hidden_size
        if out_channels_context <= 0:
            raise ValueError(
                f"The context encoder outputs {context_out.shape[1]} channels, but it should "
                f"have at strictly more than hidden_state={hidden_size} channels"
            )
        hidden_state, context = minigrad.split(
            context_out, [hidden_size, out_channels_context], dim=1
        )
        return minigrad.tanh(hidden_state), F.relu(context)

    def forward(self, image1, image2, num_flow_updates: int = 12):
        self._check_images(image1, image2)
        batch_size, _, h, w = image1.shape
        fmaps = self.feature_encoder(minigrad.cat([image1, image2], dim=0))
        fmap1, fmap2 = minigrad.chunk(fmaps, chunks=2, dim=0)
        if fmap1.shape[-2:] != (h // 8, w // 8):
            raise ValueError("The feature encoder should downsample H and W by 8")
        self.corr_block.build_pyramid(fmap1, fmap2)
        hidden_state, context = self._context(image1, h, w)
        coords0 = make_coords_grid(batch_size, h // 8, w // 8).to(fmap1.device)
        coords1 = make_coords_grid(batch_size, h // 8, w // 8).to(fmap1.device)
        flow_predictions = []
        for _ in range(num_flow_updates):
            coords1 = coords1.detach()  # no gradient through the sampling positions (paper)
            corr_features = self.corr_block.index_pyramid(centroids_coords=coords1)
            flow = coords1 - coords0
            hidden_state, delta_flow = self.update_block(hidden_state, context, corr_features, flow)
            coords1 = coords1 + delta_flow
            up_mask = None if self.mask_predictor is None else self.mask_predictor(hidden_state)
            flow_predictions.append(upsample_flow(flow=coords1 - coords0, up_mask=up_mask))
        return flow_predictions


Raft_Large_Weights = weights_enum(
    "Raft_Large_Weights",
    ("C_T_V1", "C_T_V2", "C_T_SKHT_V1", "C_T_SKHT_V2", "C_T_SKHT_K_V1", "C_T_SKHT_K_V2"),
    default="C_T_SKHT_V2",
)
Raft_Small_Weights = weights_enum("Raft_Small_Weights", ("C_T_V1", "C_T_V2"))


def _raft(
    *,
    feature_encoder_layers,
    feature_encoder_block,
    feature_encoder_norm_layer,
    context_encoder_layers,
    context_encoder_block,
    context_encoder_norm_layer,
    corr_block_num_levels,
    corr_block_radius,
    motion_encoder_corr_layers,
    motion_encoder_flow_layers,
    motion_encoder_out_channels,
    recurrent_block_hidden_state_size,
    recurrent_block_kernel_size,
    recurrent_block_padding,
    flow_head_hidden_size,
    use_mask_predictor,
    **kwargs,
) -> RAFT:
    """RAFT from its settings; ``kwargs`` may pass ready-made parts (``feature_encoder``,
    ``context_encoder``, ``corr_block``, ``update_block``, ``mask_predictor``)."""
    feature_encoder = kwargs.pop("feature_encoder", None) or FeatureEncoder(
        block=feature_encoder_block,
        layers=feature_encoder_layers,
        norm_layer=feature_encoder_norm_layer,
    )
    context_encoder = kwargs.pop("context_encoder", None) or FeatureEncoder(
        block=context_encoder_block,
        layers=context_encoder_layers,
        norm_layer=context_encoder_norm_layer,
    )
    corr_block = kwargs.pop("corr_block", None) or CorrBlock(
        num_levels=corr_block_num_levels, radius=corr_block_radius
    )
    update_block = kwargs.pop("update_block", None)
    if update_block is None:
        motion_encoder = MotionEncoder(
            in_channels_corr=corr_block.out_channels,
            corr_layers=motion_encoder_corr_layers,
            flow_layers=motion_encoder_flow_layers,
            out_channels=motion_encoder_out_channels,
        )
        out_channels_context = context_encoder_layers[-1] - recurrent_block_hidden_state_size
        recurrent_block = RecurrentBlock(
            input_size=motion_encoder.out_channels + out_channels_context,
            hidden_size=recurrent_block_hidden_state_size,
            kernel_size=recurrent_block_kernel_size,
            padding=recurrent_block_padding,
        )
        flow_head = FlowHead(
            in_channels=recurrent_block_hidden_state_size, hidden_size=flow_head_hidden_size
        )
        update_block = UpdateBlock(
            motion_encoder=motion_encoder, recurrent_block=recurrent_block, flow_head=flow_head
        )
    mask_predictor = kwargs.pop("mask_predictor", None)
    if mask_predictor is None and use_mask_predictor:
        mask_predictor = MaskPredictor(
            in_channels=recurrent_block_hidden_state_size, hidden_size=256, multiplier=0.25
        )
    return RAFT(
        feature_encoder=feature_encoder,
        context_encoder=context_encoder,
        corr_block=corr_block,
        update_block=update_block,
        mask_predictor=mask_predictor,
        **kwargs,
    )


@register_model(Raft_Large_Weights)
def raft_large(*, weights=None, progress=True, **kwargs) -> RAFT:
    """RAFT as in the paper (5.3 M parameters): residual encoders (instance norm for the
    features, batch norm for the context), a 4-level radius-4 pyramid, two separable GRUs and
    convex upsampling."""
    check_no_weights("raft_large", weights, kwargs)
    return _raft(
        feature_encoder_layers=(64, 64, 96, 128, 256),
        feature_encoder_block=ResidualBlock,
        feature_encoder_norm_layer=nn.InstanceNorm2d,
        context_encoder_layers=(64, 64, 96, 128, 256),
        context_encoder_block=ResidualBlock,
        context_encoder_norm_layer=nn.BatchNorm2d,
        corr_block_num_levels=4,
        corr_block_radius=4,
        motion_encoder_corr_layers=(256, 192),
        motion_encoder_flow_layers=(128, 64),
        motion_encoder_out_channels=128,
        recurrent_block_hidden_state_size=128,
        recurrent_block_kernel_size=((1, 5), (5, 1)),
        recurrent_block_padding=((0, 2), (2, 0)),
        flow_head_hidden_size=256,
        use_mask_predictor=True,
        **kwargs,
    )


@register_model(Raft_Small_Weights)
def raft_small(*, weights=None, progress=True, **kwargs) -> RAFT:
    """The small RAFT (1.0 M parameters): bottleneck encoders (no norm in the context one), a
    radius-3 pyramid, one 3×3 GRU and bilinear upsampling."""
    check_no_weights("raft_small", weights, kwargs)
    return _raft(
        feature_encoder_layers=(32, 32, 64, 96, 128),
        feature_encoder_block=BottleneckBlock,
        feature_encoder_norm_layer=nn.InstanceNorm2d,
        context_encoder_layers=(32, 32, 64, 96, 160),
        context_encoder_block=BottleneckBlock,
        context_encoder_norm_layer=None,
        corr_block_num_levels=4,
        corr_block_radius=3,
        motion_encoder_corr_layers=(96,),
        motion_encoder_flow_layers=(64, 32),
        motion_encoder_out_channels=82,
        recurrent_block_hidden_state_size=96,
        recurrent_block_kernel_size=(3,),
        recurrent_block_padding=(1,),
        flow_head_hidden_size=128,
        use_mask_predictor=False,
        **kwargs,
    )
