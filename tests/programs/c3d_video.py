"""A tiny C3D-style video classifier (Tran et al. 2015): nn.Conv3d over (time, height,
width) without biases (a bias before BatchNorm only gathers rounding noise, which Adam turns
into full-size steps), nn.BatchNorm3d, nn.MaxPool3d that keeps time at first and then pools it,
nn.AdaptiveAvgPool3d to one cell, and a linear head; the synthetic clips show a bright dot
moving left, right, up or down, so the label is only visible across frames."""

import numpy as np
import torch
import torch.nn as nn
from numpy_init import init_from_numpy


class C3D(nn.Module):
    def __init__(self, num_classes=4):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv3d(1, 8, kernel_size=3, padding=1, bias=False), nn.BatchNorm3d(8), nn.ReLU(inplace=True),
            nn.MaxPool3d(kernel_size=(1, 2, 2), stride=(1, 2, 2)),
            nn.Conv3d(8, 16, kernel_size=3, padding=1, bias=False), nn.BatchNorm3d(16), nn.ReLU(inplace=True),
            nn.MaxPool3d(kernel_size=2, stride=2),
            nn.AdaptiveAvgPool3d(1),
        )  # fmt: skip
        self.fc = nn.Linear(16, num_classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.features(x), 1))


def make_clips(rng, n, frames=6, size=10):
    clips = np.zeros((n, 1, frames, size, size), np.float32)
    labels = rng.integers(0, 4, n)
    moves = [(0, -1), (0, 1), (-1, 0), (1, 0)]
    for i, label in enumerate(labels):
        r, c = rng.integers(3, size - 3, 2)
        dr, dc = moves[label]
        for t in range(frames):
            clips[i, 0, t, (r + dr * t // 2) % size, (c + dc * t // 2) % size] = 1.0
    clips += 0.1 * rng.standard_normal(clips.shape).astype(np.float32)
    return torch.from_numpy(clips), torch.from_numpy(labels.astype(np.int64))


rng = np.random.default_rng(0)
clips, labels = make_clips(rng, 32)
test_clips, test_labels = make_clips(rng, 48)

model = init_from_numpy(C3D())
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
criterion = nn.CrossEntropyLoss()
losses = []
for epoch in range(16):
    model.train()
    for i in range(0, 32, 16):
        optimizer.zero_grad()
        loss = criterion(model(clips[i : i + 16]), labels[i : i + 16])
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
print(f"loss {losses[0]:.4f} -> {losses[-1]:.4f}")

model.eval()
with torch.no_grad():
    accuracy = (model(test_clips).argmax(1) == test_labels).float().mean().item()
    shape_after_first_pool = tuple(model.features[:4](test_clips[:2]).shape)
running_var = model.features[1].running_var.clone()
print(f"test accuracy {accuracy:.3f}; after the first pool {shape_after_first_pool}")
