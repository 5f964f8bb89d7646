"""K-fold cross-validation as scikit-learn-free PyTorch scripts write it: a ``TensorDataset``
split into folds with ``torch.randperm(generator=...)`` and ``Subset``, the held-out fold and
the rest joined with ``ConcatDataset``, a stratified ``BatchSampler`` subclass that yields
class-balanced index batches, a ``collate_fn`` that stacks samples and returns a dict, a fresh
model per fold restored from one initial ``state_dict`` (``copy.deepcopy``), per-fold best
validation accuracy and the mean and std over folds; ``random_split`` with a seeded generator
for a final hold-out split, and the folds' index sets checked to partition the data."""

import copy

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy, randn
from torch.utils.data import BatchSampler, ConcatDataset, DataLoader, Subset, TensorDataset

K = 4


class StratifiedBatchSampler(BatchSampler):
    """Each batch takes ``per_class`` indices of every class, in a seeded order per epoch."""

    def __init__(self, labels, per_class, seed=0):
        self.labels, self.per_class, self.epoch, self.seed = labels, per_class, 0, seed
        self.by_class = [torch.nonzero(labels == c).flatten() for c in labels.unique()]

    def __iter__(self):
        g = torch.Generator().manual_seed(self.seed + self.epoch)
        self.epoch += 1
        orders = [idx[torch.randperm(len(idx), generator=g)] for idx in self.by_class]
        for b in range(len(self)):
            chunk = [o[b * self.per_class : (b + 1) * self.per_class] for o in orders]
            yield torch.cat(chunk).tolist()

    def __len__(self):
        return min(len(idx) for idx in self.by_class) // self.per_class


def collate(samples):
    xs, ys = zip(*samples)
    return {"x": torch.stack(xs), "y": torch.stack(ys)}


rng = np.random.default_rng(0)
X = randn(rng, 160, 6)
y = ((X[:, 0] + 0.5 * X[:, 1] ** 2) > 0.6).long()
dataset = TensorDataset(X, y)
holdout_g = torch.Generator().manual_seed(42)
train_val, test = torch.utils.data.random_split(dataset, [0.8, 0.2], generator=holdout_g)
split_sizes = [len(train_val), len(test)]

perm = torch.randperm(len(train_val), generator=torch.Generator().manual_seed(7))
folds = [Subset(train_val, perm[k::K].tolist()) for k in range(K)]
fold_sizes = [len(f) for f in folds]
covered = sorted(i for f in folds for i in f.indices)
partition_ok = covered == list(range(len(train_val)))

template = init_from_numpy(nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Linear(32, 2)), seed=1)
initial_state = copy.deepcopy(template.state_dict())
fold_acc, fold_curves, batch_class_counts = [], [], None
for k in range(K):
    train_set = ConcatDataset([folds[j] for j in range(K) if j != k])
    train_labels = torch.stack([train_set[i][1] for i in range(len(train_set))])
    sampler = StratifiedBatchSampler(train_labels, per_class=8, seed=k)
    loader = DataLoader(train_set, batch_sampler=sampler, collate_fn=collate)
    val_loader = DataLoader(folds[k], batch_size=32, shuffle=False, collate_fn=collate)
    model = copy.deepcopy(template)
    model.load_state_dict(initial_state)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    best, curve = 0.0, []
    for epoch in range(6):
        model.train()
        for batch in loader:
            if batch_class_counts is None:
                batch_class_counts = torch.bincount(batch["y"]).tolist()
            loss = F.cross_entropy(model(batch["x"]), batch["y"])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            correct = sum((model(b["x"]).argmax(1) == b["y"]).sum().item() for b in val_loader)
        curve.append(correct / len(folds[k]))
        best = max(best, curve[-1])
    fold_acc.append(best)
    fold_curves.append(curve)

scores = torch.tensor(fold_acc)
cv_mean, cv_std = scores.mean().item(), scores.std().item()
batches_per_epoch = len(loader)
concat_lengths = train_set.cumulative_sizes
test_indices = test.indices[:5]
first_val_label = int(folds[0][0][1])
