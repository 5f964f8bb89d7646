"""mixup (Zhang et al. 2018) and CutMix (Yun et al. 2019) as the reference implementations
write them: lambda drawn from Beta(alpha, alpha) (np.random.beta), a permutation of the batch,
mixed inputs and the loss lam * CE(y_a) + (1 - lam) * CE(y_b); CutMix pastes a box (its area
sets lam) with slice assignment; the same loss with soft (probability) targets
F.cross_entropy accepts; trained on small synthetic images."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy

rng = np.random.default_rng(0)
num_classes = 3


def make_images(n):
    labels = rng.integers(0, num_classes, n)
    images = 0.5 * rng.standard_normal((n, 1, 12, 12)).astype(np.float32)
    for i, label in enumerate(labels):
        images[i, 0, 2 + 3 * label : 5 + 3 * label, :] += (
            1.5  # a bright band whose row is the class
        )
    return torch.from_numpy(images), torch.from_numpy(labels.astype(np.int64))


def mixup_data(x, y, alpha=1.0):
    lam = float(rng.beta(alpha, alpha)) if alpha > 0 else 1.0  # a seeded generator
    index = torch.from_numpy(rng.permutation(x.size()[0]))
    mixed_x = lam * x + (1 - lam) * x[index, :]
    return mixed_x, y, y[index], lam


def mixup_criterion(criterion, pred, y_a, y_b, lam):
    return lam * criterion(pred, y_a) + (1 - lam) * criterion(pred, y_b)


def rand_bbox(size, lam):
    W, H = size[2], size[3]
    cut_rat = np.sqrt(1.0 - lam)
    cut_w, cut_h = int(W * cut_rat), int(H * cut_rat)
    cx, cy = rng.integers(W), rng.integers(H)
    bbx1, bby1 = np.clip(cx - cut_w // 2, 0, W), np.clip(cy - cut_h // 2, 0, H)
    bbx2, bby2 = np.clip(cx + cut_w // 2, 0, W), np.clip(cy + cut_h // 2, 0, H)
    return bbx1, bby1, bbx2, bby2


def cutmix_data(x, y, beta=1.0):
    lam = float(rng.beta(beta, beta))
    index = torch.from_numpy(rng.permutation(x.size()[0]))
    bbx1, bby1, bbx2, bby2 = rand_bbox(x.size(), lam)
    x = x.clone()
    x[:, :, bbx1:bbx2, bby1:bby2] = x[index, :, bbx1:bbx2, bby1:bby2]
    lam = 1 - ((bbx2 - bbx1) * (bby2 - bby1) / (x.size()[-1] * x.size()[-2]))  # the real area
    return x, y, y[index], lam


model = init_from_numpy(
    nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(8 * 36, num_classes),
    )
)
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True)
criterion = nn.CrossEntropyLoss()
images, labels = make_images(96)
test_images, test_labels = make_images(96)
losses, soft_gaps = [], []
for epoch in range(6):
    for i in range(0, 96, 32):
        x, y = images[i : i + 32], labels[i : i + 32]
        if (epoch + i // 32) % 2 == 0:
            x, y_a, y_b, lam = mixup_data(x, y, alpha=0.4)
        else:
            x, y_a, y_b, lam = cutmix_data(x, y)
        pred = model(x)
        loss = mixup_criterion(criterion, pred, y_a, y_b, lam)
        soft_targets = (
            lam * F.one_hot(y_a, num_classes).float()
            + (1 - lam) * F.one_hot(y_b, num_classes).float()
        )
        soft_gaps.append(abs(F.cross_entropy(pred, soft_targets).item() - loss.item()))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
print(f"mixed loss {sum(losses[:3]) / 3:.4f} -> {sum(losses[-3:]) / 3:.4f}")
with torch.no_grad():
    accuracy = (model(test_images).argmax(1) == test_labels).float().mean().item()
print(f"test accuracy {accuracy:.3f}; soft-target gap {max(soft_gaps):.1e}")
