"""The original AlexNet's layer types in miniature, as the ImageNet-era PyTorch ports write
them: nn.LocalResponseNorm after the first convolutions, overlapping nn.MaxPool2d(3, 2,
ceil_mode=True), grouped convolutions (groups=2, the two-GPU split), nn.AdaptiveMaxPool2d and
nn.AdaptiveAvgPool2d to a fixed grid from any input size, nn.Dropout in the classifier (off
here), and SGD with momentum and weight decay as in the paper."""

import numpy as np
import torch
import torch.nn as nn
from numpy_init import init_from_numpy


class AlexNetTiny(nn.Module):
    def __init__(self, num_classes=3):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, kernel_size=5, stride=1, padding=2), nn.ReLU(inplace=True),
            nn.LocalResponseNorm(size=5, alpha=1e-4, beta=0.75, k=2.0),
            nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
            nn.Conv2d(8, 16, kernel_size=3, padding=1, groups=2), nn.ReLU(inplace=True),
            nn.LocalResponseNorm(size=5, alpha=1e-4, beta=0.75, k=2.0),
            nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
        )  # fmt: skip
        self.max_pool = nn.AdaptiveMaxPool2d((2, 2))
        self.avg_pool = nn.AdaptiveAvgPool2d((2, 2))
        self.classifier = nn.Sequential(
            nn.Dropout(p=0.0),
            nn.Linear(16 * 4 * 2, 32),
            nn.ReLU(inplace=True),
            nn.Linear(32, num_classes),
        )

    def forward(self, x):
        x = self.features(x)
        x = torch.cat([self.max_pool(x), self.avg_pool(x)], dim=1)
        return self.classifier(torch.flatten(x, 1))


def make_images(rng, n, size):
    labels = rng.integers(0, 3, n)
    images = 0.3 * rng.standard_normal((n, 1, size, size)).astype(np.float32)
    for i, label in enumerate(labels):
        r, c = rng.integers(0, size - 4, 2)
        if label == 0:
            images[i, 0, r : r + 4, c] += 2.0  # a vertical bar
        elif label == 1:
            images[i, 0, r, c : c + 4] += 2.0  # a horizontal bar
        else:
            images[i, 0, r : r + 3, c : c + 3] += 1.0  # a blob
    return torch.from_numpy(images), torch.from_numpy(labels.astype(np.int64))


rng = np.random.default_rng(0)
images, labels = make_images(rng, 48, 15)
model = init_from_numpy(AlexNetTiny())
optimizer = torch.optim.SGD(model.parameters(), lr=0.2, momentum=0.9, weight_decay=5e-4)
criterion = nn.CrossEntropyLoss()
losses = []
for epoch in range(30):
    optimizer.zero_grad()
    loss = criterion(model(images), labels)
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
print(f"loss {losses[0]:.4f} -> {losses[-1]:.4f}")
shapes = []
with torch.no_grad():
    for size in (15, 20, 31):  # adaptive pooling: any input size gives the same feature grid
        test_images, test_labels = make_images(rng, 24, size)
        features = model.features(test_images)
        shapes.append((tuple(features.shape), tuple(model.max_pool(features).shape)))
        if size == 15:
            accuracy = (model(test_images).argmax(1) == test_labels).float().mean().item()
print(f"test accuracy {accuracy:.3f}; feature shapes {shapes}")
