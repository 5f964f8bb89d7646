"""``LeNet``: a small LeNet-style convolutional classifier for 8×8 or 28×28 grey images."""

from __future__ import annotations

from minigrad import nn


class LeNet(nn.Module):
    """Two conv blocks (3×3 convolution, ReLU, 2×2 max-pool) and a two-layer classifier.

    In the spirit of LeCun et al.'s LeNet, sized for small images: each block keeps the size
    with padding 1 and halves it by pooling, so an 8×8 digit becomes 32 maps of 2×2 and a 28×28
    MNIST digit 32 maps of 7×7.

    Args:
        in_channels: channels of the input images.
        num_classes: number of outputs.
        image_size: height (= width) of the input images, divisible by 4.
        channels: output channels of the two conv blocks.
        hidden: width of the hidden classifier layer.
        dropout: dropout before the last layer.

    Shape:
        (N, in_channels, image_size, image_size) → (N, num_classes).

    Example:
        >>> LeNet(image_size=8)(minigrad.randn(5, 1, 8, 8)).shape
        (5, 10)
    """

    def __init__(
        self,
        in_channels: int = 1,
        num_classes: int = 10,
        image_size: int = 8,
        channels: tuple[int, int] = (16, 32),
        hidden: int = 128,
        dropout: float = 0.0,
    ):
        super().__init__()
        if image_size % 4:
            raise ValueError(f"LeNet: image_size must be divisible by 4, got {image_size}")
        c1, c2 = channels
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, c1, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        side = image_size // 4
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(c2 * side * side, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.features(x))
