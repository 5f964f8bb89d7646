"""Calibrating a classifier with temperature scaling (Guo et al. 2017, gpleiss/
temperature_scaling): an overconfident network's logits are divided by one learned
temperature, fitted on validation logits with optim.LBFGS (closure, line_search_fn=
"strong_wolfe"); the expected calibration error is computed with torch.bucketize over
confidence bins and the reliability counts with torch.histc."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy, randn

rng = np.random.default_rng(0)
num_classes = 4
centers = 1.2 * randn(rng, num_classes, 8)


def make_data(n):
    labels = torch.from_numpy(rng.integers(0, num_classes, n).astype(np.int64))
    return centers[labels] + randn(rng, n, 8), labels


x_train, y_train = make_data(64)
x_val, y_val = make_data(256)

model = init_from_numpy(nn.Sequential(nn.Linear(8, 64), nn.ReLU(), nn.Linear(64, num_classes)))
optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
for step in range(150):  # long training on few samples: overconfident
    optimizer.zero_grad()
    F.cross_entropy(model(x_train), y_train).backward()
    optimizer.step()


def ece(logits, labels, n_bins=10):
    confidences, predictions = F.softmax(logits, dim=1).max(1)
    accuracies = predictions.eq(labels).float()
    boundaries = torch.linspace(0, 1, n_bins + 1)
    bins = torch.bucketize(confidences, boundaries[1:-1])
    total = torch.zeros(())
    for b in range(n_bins):
        in_bin = bins == b
        if in_bin.any():
            gap = confidences[in_bin].mean() - accuracies[in_bin].mean()
            total = total + gap.abs() * in_bin.float().mean()
    counts = torch.histc(confidences, bins=n_bins, min=0, max=1)
    return total.item(), counts


class ModelWithTemperature(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model
        self.temperature = nn.Parameter(torch.ones(1) * 1.5)

    def forward(self, input):
        return self.temperature_scale(self.model(input))

    def temperature_scale(self, logits):
        temperature = self.temperature.unsqueeze(1).expand(logits.size(0), logits.size(1))
        return logits / temperature

    def set_temperature(self, logits, labels):
        nll_criterion = nn.CrossEntropyLoss()
        optimizer = torch.optim.LBFGS(
            [self.temperature], lr=0.01, max_iter=50, line_search_fn="strong_wolfe"
        )

        def eval():
            optimizer.zero_grad()
            loss = nll_criterion(self.temperature_scale(logits), labels)
            loss.backward()
            return loss

        optimizer.step(eval)
        return self


with torch.no_grad():
    val_logits = model(x_val)
nll_before = F.cross_entropy(val_logits, y_val).item()
ece_before, counts_before = ece(val_logits, y_val)
scaled = ModelWithTemperature(model).set_temperature(val_logits, y_val)
temperature = scaled.temperature.item()
with torch.no_grad():
    scaled_logits = scaled(x_val)
nll_after = F.cross_entropy(scaled_logits, y_val).item()
ece_after, counts_after = ece(scaled_logits, y_val)
accuracy_kept = bool((scaled_logits.argmax(1) == val_logits.argmax(1)).all())
print(f"Before temperature - NLL: {nll_before:.3f}, ECE: {ece_before:.3f}")
print(f"Optimal temperature: {temperature:.3f}")
print(f"After temperature - NLL: {nll_after:.3f}, ECE: {ece_after:.3f}")
