"""torchvision's DenseNet-BC networks (``densenet121``, ``161``, ``169``, ``201``) on minigrad's
``nn``: the same ``features`` (``conv0`` ... ``denseblock4.denselayer16`` ... ``norm5``) and
``classifier`` names, so state-dict keys and shapes match torchvision's, and the same
initialisation. ``memory_efficient=True`` recomputes each layer's bottleneck in the backward
pass (:func:`minigrad.utils.checkpoint.checkpoint`), as torchvision's."""

from __future__ import annotations

from collections import OrderedDict

import minigrad
from minigrad import nn
from minigrad.nn import functional as F
from minigrad.utils.checkpoint import checkpoint

from ._api import register_model
from ._weights import check_no_weights, weights_enum

__all__ = ["DenseNet"]


class _DenseLayer(nn.Module):
    """Batch norm, ReLU, 1×1 bottleneck convolution to ``bn_size * growth_rate`` channels, then
    batch norm, ReLU, 3×3 convolution to ``growth_rate`` new channels, on the concatenation of
    all earlier features."""

    def __init__(
        self,
        num_input_features: int,
        growth_rate: int,
        bn_size: int,
        drop_rate: float,
        memory_efficient: bool = False,
    ) -> None:
        super().__init__()
        width = bn_size * growth_rate
        self.norm1 = nn.BatchNorm2d(num_input_features)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(num_input_features, width, kernel_size=1, stride=1, bias=False)
        self.norm2 = nn.BatchNorm2d(width)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(width, growth_rate, kernel_size=3, stride=1, padding=1, bias=False)
        self.drop_rate = float(drop_rate)
        self.memory_efficient = memory_efficient

    def bn_function(self, inputs) -> minigrad.Tensor:
        return self.conv1(self.relu1(self.norm1(minigrad.cat(list(inputs), 1))))

    def any_requires_grad(self, inputs) -> bool:
        return any(t.requires_grad for t in inputs)

    def forward(self, input):
        prev = [input] if isinstance(input, minigrad.Tensor) else input
        if self.memory_efficient and self.any_requires_grad(prev):
            bottleneck = checkpoint(lambda *xs: self.bn_function(xs), *prev, use_reentrant=False)
        else:
            bottleneck = self.bn_function(prev)
        new_features = self.conv2(self.relu2(self.norm2(bottleneck)))
        if self.drop_rate > 0:
            new_features = F.dropout(new_features, p=self.drop_rate, training=self.training)
        return new_features


class _DenseBlock(nn.ModuleDict):
    """``num_layers`` dense layers, each fed every earlier output; returns them all, concatenated
    after the input."""

    _version = 2

    def __init__(
        self,
        num_layers: int,
        num_input_features: int,
        bn_size: int,
        growth_rate: int,
        drop_rate: float,
        memory_efficient: bool = False,
    ) -> None:
        super().__init__()
        for i in range(num_layers):
            layer = _DenseLayer(
                num_input_features + i * growth_rate,
                growth_rate=growth_rate,
                bn_size=bn_size,
                drop_rate=drop_rate,
                memory_efficient=memory_efficient,
            )
            self.add_module(f"denselayer{i + 1}", layer)

    def forward(self, init_features):
        features = [init_features]
        for layer in self.values():
            features.append(layer(features))
        return minigrad.cat(features, 1)


class _Transition(nn.Sequential):
    """Between blocks: batch norm, ReLU, 1×1 convolution and a 2×2 average pool."""

    def __init__(self, num_input_features: int, num_output_features: int) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(num_input_features)
        self.relu = nn.ReLU(inplace=True)
        self.conv = nn.Conv2d(
            num_input_features, num_output_features, kernel_size=1, stride=1, bias=False
        )
        self.pool = nn.AvgPool2d(kernel_size=2, stride=2)


class DenseNet(nn.Module):
    """DenseNet-BC ("Densely Connected Convolutional Networks"): a 7×7 stem, four dense blocks
    of ``block_config`` layers adding ``growth_rate`` channels each, halving transitions, a
    final batch norm, global average pooling and a linear classifier."""

    def __init__(
        self,
        growth_rate: int = 32,
        block_config: tuple[int, int, int, int] = (6, 12, 24, 16),
        num_init_features: int = 64,
        bn_size: int = 4,
        drop_rate: float = 0,
        num_classes: int = 1000,
        memory_efficient: bool = False,
    ) -> None:
        super().__init__()
        stem = [
            ("conv0", nn.Conv2d(3, num_init_features, 7, stride=2, padding=3, bias=False)),
            ("norm0", nn.BatchNorm2d(num_init_features)),
            ("relu0", nn.ReLU(inplace=True)),
            ("pool0", nn.MaxPool2d(kernel_size=3, stride=2, padding=1)),
        ]
        self.features = nn.Sequential(OrderedDict(stem))
        num_features = num_init_features
        for i, num_layers in enumerate(block_config):
            block = _DenseBlock(
                num_layers=num_layers,
                num_input_features=num_features,
                bn_size=bn_size,
                growth_rate=growth_rate,
                drop_rate=drop_rate,
                memory_efficient=memory_efficient,
            )
            self.features.add_module(f"denseblock{i + 1}", block)
            num_features += num_layers * growth_rate
            if i != len(block_config) - 1:
                trans = _Transition(num_features, num_features // 2)
                self.features.add_module(f"transition{i + 1}", trans)
                num_features //= 2
        self.features.add_module("norm5", nn.BatchNorm2d(num_features))
        self.classifier = nn.Linear(num_features, num_classes)
        for m in self.modules():  # torchvision's initialisation, in its order
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.Linear):
                nn.init.constant_(m.bias, 0)

    def forward(self, x):
        out = F.relu(self.features(x), inplace=True)
        out = minigrad.flatten(F.adaptive_avg_pool2d(out, (1, 1)), 1)
        return self.classifier(out)


def _define(name: str, growth_rate: int, block_config: tuple, num_init_features: int) -> None:
    """Module-level builder ``name`` and its weights enum, as torchvision's."""
    weights_name = f"DenseNet{name[len('densenet') :]}_Weights"

    def builder(*, weights=None, progress: bool = True, **kwargs) -> DenseNet:
        check_no_weights(name, weights, kwargs)
        return DenseNet(growth_rate, block_config, num_init_features, **kwargs)

    builder.__name__ = builder.__qualname__ = name
    builder.__doc__ = f"DenseNet-{name[len('densenet') :]} (growth rate {growth_rate})."
    weights_cls = weights_enum(weights_name, ("IMAGENET1K_V1",), default="IMAGENET1K_V1")
    globals()[name] = register_model(weights_cls)(builder)
    globals()[weights_name] = weights_cls
    __all__.extend([name, weights_name])


_define("densenet121", 32, (6, 12, 24, 16), 64)
_define("densenet161", 48, (6, 12, 36, 24), 96)
_define("densenet169", 32, (6, 12, 32, 32), 64)
_define("densenet201", 32, (6, 12, 48, 32), 64)
