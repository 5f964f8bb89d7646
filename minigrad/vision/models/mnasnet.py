"""torchvision's MNASNet (Tan et al. 2018, "Platform-Aware Neural Architecture Search for
Mobile", the B1 variant) on minigrad's ``nn``: a separable stem and six stacks of inverted
residual blocks, widths scaled by ``alpha``; torchvision's module names and initialisation."""

from __future__ import annotations

from minigrad import nn

from ._api import register_model
from ._weights import check_no_weights, weights_enum

__all__ = [
    "MNASNet",
    "MNASNet0_5_Weights",
    "MNASNet0_75_Weights",
    "MNASNet1_0_Weights",
    "MNASNet1_3_Weights",
    "mnasnet0_5",
    "mnasnet0_75",
    "mnasnet1_0",
    "mnasnet1_3",
]

# TensorFlow's batch-norm decay 0.9997, as a PyTorch momentum.
_BN_MOMENTUM = 1 - 0.9997


class _InvertedResidual(nn.Module):
    """1×1 expansion (ReLU), depthwise ``kernel_size`` (ReLU), linear 1×1 projection; residual
    when the shape is unchanged."""

    def __init__(
        self,
        in_ch: int,
        out_ch: int,
        kernel_size: int,
        stride: int,
        expansion_factor: int,
        bn_momentum: float = 0.1,
    ) -> None:
        super().__init__()
        if stride not in [1, 2]:
            raise ValueError(f"stride should be 1 or 2 instead of {stride}")
        if kernel_size not in [3, 5]:
            raise ValueError(f"kernel_size should be 3 or 5 instead of {kernel_size}")
        mid = in_ch * expansion_factor
        self.apply_residual = in_ch == out_ch and stride == 1
        self.layers = nn.Sequential(
            nn.Conv2d(in_ch, mid, 1, bias=False),
            nn.BatchNorm2d(mid, momentum=bn_momentum),
            nn.ReLU(inplace=True),
            nn.Conv2d(
                mid, mid, kernel_size, padding=kernel_size // 2, stride=stride, groups=mid,
                bias=False,
            ),
            nn.BatchNorm2d(mid, momentum=bn_momentum),
            nn.ReLU(inplace=True),
            nn.Conv2d(mid, out_ch, 1, bias=False),
            nn.BatchNorm2d(out_ch, momentum=bn_momentum),
        )  # fmt: skip

    def forward(self, x):
        return self.layers(x) + x if self.apply_residual else self.layers(x)


def _stack(in_ch, out_ch, kernel_size, stride, exp_factor, repeats, bn_momentum) -> nn.Sequential:
    """``repeats`` inverted residuals, the first with ``stride``."""
    if repeats < 1:
        raise ValueError(f"repeats should be >= 1, instead got {repeats}")
    blocks = [_InvertedResidual(in_ch, out_ch, kernel_size, stride, exp_factor, bn_momentum)]
    blocks += [
        _InvertedResidual(out_ch, out_ch, kernel_size, 1, exp_factor, bn_momentum)
        for _ in range(1, repeats)
    ]
    return nn.Sequential(*blocks)


def _round_to_multiple_of(val: float, divisor: int, round_up_bias: float = 0.9) -> int:
    """``val`` rounded to a multiple of ``divisor``, up unless that loses more than
    ``1 - round_up_bias`` of it: (83, 8) → 80, (84, 8) → 88."""
    if not 0.0 < round_up_bias < 1.0:
        raise ValueError(
            "round_up_bias should be greater than 0.0 and smaller than 1.0 instead of "
            f"{round_up_bias}"
        )
    new_val = max(divisor, int(val + divisor / 2) // divisor * divisor)
    return new_val if new_val >= round_up_bias * val else new_val + divisor


def _get_depths(alpha: float) -> list[int]:
    return [_round_to_multiple_of(d * alpha, 8) for d in [32, 16, 24, 40, 80, 96, 192, 320]]


def _refuse_version_1(module, state_dict, prefix, local_metadata, *_) -> None:
    """torchvision rebuilds the stem for checkpoints saved before 0.9 with ``alpha != 1``."""
    if local_metadata and local_metadata.get("version") == 1 and module.alpha != 1.0:
        raise NotImplementedError(
            "MNASNet: loading a version-1 checkpoint (torchvision < 0.9) with alpha != 1.0 "
            "is not supported by minigrad.vision; re-save it with a current torchvision"
        )


class MNASNet(nn.Module):
    """Stem (3×3 stride 2, depthwise 3×3, 1×1), six inverted-residual stacks, a 1×1
    convolution to 1280, global mean, dropout and a linear head. Convolutions He-normal
    (fan_out), the head He-uniform (fan_out, sigmoid gain); biases zero."""

    _version = 2

    def __init__(self, alpha: float, num_classes: int = 1000, dropout: float = 0.2) -> None:
        super().__init__()
        if alpha <= 0.0:
            raise ValueError(f"alpha should be greater than 0.0 instead of {alpha}")
        self.alpha = alpha
        self.num_classes = num_classes
        d = _get_depths(alpha)
        bn = _BN_MOMENTUM
        self.layers = nn.Sequential(
            nn.Conv2d(3, d[0], 3, padding=1, stride=2, bias=False),
            nn.BatchNorm2d(d[0], momentum=bn),
            nn.ReLU(inplace=True),
            nn.Conv2d(d[0], d[0], 3, padding=1, stride=1, groups=d[0], bias=False),
            nn.BatchNorm2d(d[0], momentum=bn),
            nn.ReLU(inplace=True),
            nn.Conv2d(d[0], d[1], 1, padding=0, stride=1, bias=False),
            nn.BatchNorm2d(d[1], momentum=bn),
            _stack(d[1], d[2], 3, 2, 3, 3, bn),
            _stack(d[2], d[3], 5, 2, 3, 3, bn),
            _stack(d[3], d[4], 5, 2, 6, 3, bn),
            _stack(d[4], d[5], 3, 1, 6, 2, bn),
            _stack(d[5], d[6], 5, 2, 6, 4, bn),
            _stack(d[6], d[7], 3, 1, 6, 1, bn),
            nn.Conv2d(d[7], 1280, 1, padding=0, stride=1, bias=False),
            nn.BatchNorm2d(1280, momentum=bn),
            nn.ReLU(inplace=True),
        )
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout, inplace=True), nn.Linear(1280, num_classes)
        )
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.kaiming_uniform_(m.weight, mode="fan_out", nonlinearity="sigmoid")
                nn.init.zeros_(m.bias)
        self.register_load_state_dict_pre_hook(_refuse_version_1)

    def forward(self, x):
        return self.classifier(self.layers(x).mean([2, 3]))


MNASNet0_5_Weights = weights_enum("MNASNet0_5_Weights", ("IMAGENET1K_V1",))
MNASNet0_75_Weights = weights_enum("MNASNet0_75_Weights", ("IMAGENET1K_V1",))
MNASNet1_0_Weights = weights_enum("MNASNet1_0_Weights", ("IMAGENET1K_V1",))
MNASNet1_3_Weights = weights_enum("MNASNet1_3_Weights", ("IMAGENET1K_V1",))


@register_model(MNASNet0_5_Weights)
def mnasnet0_5(*, weights=None, progress: bool = True, **kwargs) -> MNASNet:
    """MNASNet with depth multiplier 0.5 (2.2 M parameters)."""
    check_no_weights("mnasnet0_5", weights, kwargs)
    return MNASNet(0.5, **kwargs)


@register_model(MNASNet0_75_Weights)
def mnasnet0_75(*, weights=None, progress: bool = True, **kwargs) -> MNASNet:
    """MNASNet with depth multiplier 0.75 (3.2 M parameters)."""
    check_no_weights("mnasnet0_75", weights, kwargs)
    return MNASNet(0.75, **kwargs)


@register_model(MNASNet1_0_Weights)
def mnasnet1_0(*, weights=None, progress: bool = True, **kwargs) -> MNASNet:
    """MNASNet with depth multiplier 1.0 (4.4 M parameters)."""
    check_no_weights("mnasnet1_0", weights, kwargs)
    return MNASNet(1.0, **kwargs)


@register_model(MNASNet1_3_Weights)
def mnasnet1_3(*, weights=None, progress: bool = True, **kwargs) -> MNASNet:
    """MNASNet with depth multiplier 1.3 (6.3 M parameters)."""
    check_no_weights("mnasnet1_3", weights, kwargs)
    return MNASNet(1.3, **kwargs)
