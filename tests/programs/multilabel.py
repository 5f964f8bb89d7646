"""Multi-label classification as people write it for tagging tasks: one sigmoid per label,
nn.BCEWithLogitsLoss(pos_weight=...) against class imbalance, nn.MultiLabelSoftMarginLoss
(the same loss averaged per sample), nn.MultiLabelMarginLoss with -1-terminated target
lists, thresholds at 0.5, and micro/macro F1 computed with tensor ops."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy, randn

num_features, num_labels = 12, 5
rng = np.random.default_rng(0)
W_true = randn(rng, num_features, num_labels)
bias_true = torch.tensor([0.0, -1.0, -2.0, -2.5, 0.5])  # some labels are rare


def make_data(n):
    x = randn(rng, n, num_features)
    return x, (x @ W_true / 2 + bias_true > 0).float()


x_train, y_train = make_data(256)
x_test, y_test = make_data(256)
positives = y_train.sum(0)
pos_weight = (len(y_train) - positives) / positives.clamp(min=1)

model = init_from_numpy(
    nn.Sequential(nn.Linear(num_features, 32), nn.ReLU(), nn.Linear(32, num_labels))
)
criterion = nn.BCEWithLogitsLoss(pos_weight=pos_weight)
soft_margin = nn.MultiLabelSoftMarginLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
losses, margin_gaps = [], []
for epoch in range(30):
    optimizer.zero_grad()
    logits = model(x_train)
    loss = criterion(logits, y_train)
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
    # MultiLabelSoftMarginLoss is BCE-with-logits averaged over labels, then samples
    margin_gaps.append(
        abs(
            soft_margin(logits, y_train).item()
            - F.binary_cross_entropy_with_logits(logits, y_train).item()
        )
    )
print(f"weighted BCE {losses[0]:.4f} -> {losses[-1]:.4f}")


def f1_scores(pred, target):
    tp = (pred * target).sum(0)
    fp = (pred * (1 - target)).sum(0)
    fn = ((1 - pred) * target).sum(0)
    per_label = 2 * tp / (2 * tp + fp + fn).clamp(min=1)
    micro = 2 * tp.sum() / (2 * tp.sum() + fp.sum() + fn.sum())
    return micro.item(), per_label.mean().item()


with torch.no_grad():
    probs = torch.sigmoid(model(x_test))
    pred = (probs > 0.5).float()
micro_f1, macro_f1 = f1_scores(pred, y_test)
print(f"micro F1 {micro_f1:.3f}, macro F1 {macro_f1:.3f}")

# the multi-label hinge loss takes label indices padded with -1
margin_targets = torch.full((len(y_train), num_labels), -1, dtype=torch.long)
for i, row in enumerate(y_train):
    labels = row.nonzero().flatten()
    margin_targets[i, : len(labels)] = labels
hinge = nn.MultiLabelMarginLoss()(model(x_train), margin_targets)
hinge.backward()
hinge_value = hinge.item()
print(f"multi-label margin loss of the trained model {hinge_value:.4f}")
