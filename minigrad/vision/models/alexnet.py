"""torchvision's AlexNet (the one-GPU variant of "One weird trick...") on minigrad's ``nn``,
with its ``features`` / ``avgpool`` / ``classifier`` layout and PyTorch's default layer
initialisation (torchvision adds none)."""

from __future__ import annotations

import minigrad
from minigrad import nn

from ._api import register_model
from ._weights import check_no_weights, weights_enum

__all__ = ["AlexNet", "AlexNet_Weights", "alexnet"]


class AlexNet(nn.Module):
    """Five convolutions with three max pools, a 6×6 adaptive average pool and a three-layer
    classifier with dropout."""

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(256 * 6 * 6, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x):
        return self.classifier(minigrad.flatten(self.avgpool(self.features(x)), 1))


AlexNet_Weights = weights_enum("AlexNet_Weights", ("IMAGENET1K_V1",))


@register_model(AlexNet_Weights)
def alexnet(*, weights=None, progress: bool = True, **kwargs) -> AlexNet:
    """AlexNet (61.1 M parameters)."""
    check_no_weights("alexnet", weights, kwargs)
    return AlexNet(**kwargs)
