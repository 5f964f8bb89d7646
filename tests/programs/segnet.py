"""A small SegNet (Badrinarayanan et al. 2017) for per-pixel segmentation: the encoder's
nn.MaxPool2d(return_indices=True) hands its argmax indices to the decoder's nn.MaxUnpool2d,
which puts each value back where the maximum came from; trained with per-pixel
CrossEntropyLoss(weight=...) on synthetic images of bright squares, scored by mean IoU."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy, randn


def conv_bn_relu(cin, cout):
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)
    )


class SegNet(nn.Module):
    def __init__(self, in_channels=1, num_classes=2):
        super().__init__()
        self.enc1, self.enc2 = conv_bn_relu(in_channels, 8), conv_bn_relu(8, 16)
        self.pool = nn.MaxPool2d(2, stride=2, return_indices=True)
        self.unpool = nn.MaxUnpool2d(2, stride=2)
        self.dec2, self.dec1 = conv_bn_relu(16, 8), nn.Conv2d(8, num_classes, 3, padding=1)

    def forward(self, x):
        x = self.enc1(x)
        x, idx1 = self.pool(x)
        size1 = x.size()
        x = self.enc2(x)
        x, idx2 = self.pool(x)
        x = self.unpool(x, idx2, output_size=size1)
        x = self.dec2(x)
        x = self.unpool(x, idx1)
        return self.dec1(x)


def make_batch(rng, n, size=16):
    images = np.zeros((n, 1, size, size), np.float32)
    masks = np.zeros((n, size, size), np.int64)
    for i in range(n):
        r, c, s = rng.integers(0, size - 6), rng.integers(0, size - 6), rng.integers(3, 7)
        masks[i, r : r + s, c : c + s] = 1
    images[:, 0] = masks + 0.3 * rng.standard_normal((n, size, size))
    return torch.from_numpy(images), torch.from_numpy(masks)


def mean_iou(pred, target, num_classes=2):
    ious = []
    for cls in range(num_classes):
        inter = ((pred == cls) & (target == cls)).sum().item()
        union = ((pred == cls) | (target == cls)).sum().item()
        ious.append(inter / union if union else 1.0)
    return sum(ious) / len(ious)


rng = np.random.default_rng(0)
images, masks = make_batch(rng, 16)
test_images, test_masks = make_batch(rng, 16)

model = init_from_numpy(SegNet())
frequency = torch.bincount(masks.flatten(), minlength=2).float()
criterion = nn.CrossEntropyLoss(weight=frequency.sum() / (2 * frequency))  # median-frequency style
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)

losses = []
for step in range(15):
    model.train()
    optimizer.zero_grad()
    loss = criterion(model(images), masks)
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
print(f"loss {losses[0]:.4f} -> {losses[-1]:.4f}")

model.eval()
with torch.no_grad():
    pred = model(test_images).argmax(1)
miou = mean_iou(pred, test_masks)
print(f"test mean IoU {miou:.3f}")

# unpooling puts every maximum back where it was found, zeros elsewhere
x = randn(np.random.default_rng(1), 1, 2, 4, 4)
pooled, indices = F.max_pool2d(x, 2, return_indices=True)
restored = F.max_unpool2d(pooled, indices, 2)
kept = restored != 0
unpool_ok = bool((restored[kept] == x[kept]).all()) and int(kept.sum()) == pooled.numel()
