"""Sampling pipelines of imbalanced-data training scripts: two sources joined with
``ConcatDataset`` (``cumulative_sizes``, negative indices), ``random_split`` by fractions
``[0.7, 0.2, 0.1]`` with a seeded generator (the remainder dealt round-robin), per-sample
``WeightedRandomSampler`` weights from inverse class counts (``torch.bincount``) drawing with
and without replacement, a ``BatchSampler`` over it passed as ``sampler=`` with
``batch_size=None`` (a ``TensorDataset`` indexed with each list of indices at once), 3-fold
cross-validation with ``SubsetRandomSampler``, a ``StackDataset`` of named fields collated
into dicts, a dataset fetching whole batches with ``__getitems__`` behind a ``Subset`` and a
``TensorDataset`` subclass augmenting in ``__getitem__``; a classifier trained on the balanced
batches, its minority recall compared with plain shuffling."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import (
    BatchSampler,
    ConcatDataset,
    DataLoader,
    RandomSampler,
    StackDataset,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    random_split,
)

torch.manual_seed(0)
major = TensorDataset(torch.randn(90, 3) + torch.tensor([1.0, 0.0, 0.0]), torch.zeros(90).long())
minor = TensorDataset(torch.randn(10, 3) - torch.tensor([1.0, 0.0, 0.0]), torch.ones(10).long())
full = ConcatDataset([major, minor])
concat_info = (len(full), full.cumulative_sizes, full[-1][1].item(), full[89][1].item())

split_gen = torch.Generator().manual_seed(42)
train_set, val_set, test_set = random_split(full, [0.7, 0.2, 0.1], generator=split_gen)
split_sizes = [len(s) for s in (train_set, val_set, test_set)]
split_first = [s.indices[:5] for s in (train_set, val_set, test_set)]
subset_type = type(train_set).__name__

train_labels = torch.stack([train_set[i][1] for i in range(len(train_set))])
class_counts = torch.bincount(train_labels)
sample_weights = (1.0 / class_counts.float())[train_labels]
sampler = WeightedRandomSampler(
    sample_weights,
    num_samples=len(train_set),
    replacement=True,
    generator=torch.Generator().manual_seed(1),
)
drawn = torch.tensor(list(sampler))
drawn_minority_share = (train_labels[drawn] == 1).float().mean().item()
no_repl = list(
    WeightedRandomSampler(
        sample_weights, 20, replacement=False, generator=torch.Generator().manual_seed(2)
    )
)
no_repl_unique = len(set(no_repl)) == 20


def recall(model, dataset):
    x = torch.stack([dataset[i][0] for i in range(len(dataset))])
    t = torch.stack([dataset[i][1] for i in range(len(dataset))])
    with torch.no_grad():
        pred = model(x).argmax(1)
    return [(pred[t == c] == c).float().mean().item() for c in (0, 1)]


def fit(loader, epochs=4):
    torch.manual_seed(3)
    model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 2))
    opt = torch.optim.SGD(model.parameters(), lr=0.3)
    losses = []
    for _ in range(epochs):
        for x, t in loader:
            opt.zero_grad()
            loss = F.cross_entropy(model(x), t)
            loss.backward()
            opt.step()
            losses.append(loss.item())
    return model, losses


# a BatchSampler as the sampler, batch_size=None: the dataset gets each index list at once
# (a TensorDataset indexes its tensors with it; a ConcatDataset cannot)
try:
    full[[0, 1]]
except TypeError as e:
    list_index_error = type(e).__name__
train_tensors = TensorDataset(torch.stack([x for x, _ in train_set]), train_labels)
batch_sampler = BatchSampler(sampler, batch_size=10, drop_last=True)
balanced_loader = DataLoader(train_tensors, sampler=batch_sampler, batch_size=None)
first_batch_shapes = [tuple(t.shape) for t in next(iter(balanced_loader))]
balanced, balanced_losses = fit(balanced_loader)
plain_loader = DataLoader(
    train_set, batch_size=10, shuffle=True, generator=torch.Generator().manual_seed(4)
)
plain, plain_losses = fit(plain_loader)
recalls = {"balanced": recall(balanced, full), "plain": recall(plain, full)}
batches_per_epoch = (len(balanced_loader), len(plain_loader))

# 3-fold cross-validation over the train+val indices
pool = train_set.indices + val_set.indices
perm = torch.randperm(len(pool), generator=torch.Generator().manual_seed(5)).tolist()
folds = [perm[k::3] for k in range(3)]
fold_scores = []
for k in range(3):
    train_idx = [pool[i] for j in range(3) if j != k for i in folds[j]]
    val_idx = [pool[i] for i in folds[k]]
    loader = DataLoader(
        full,
        batch_size=16,
        sampler=SubsetRandomSampler(train_idx, generator=torch.Generator().manual_seed(k)),
    )
    model, _ = fit(loader, epochs=3)
    fold_scores.append(recall(model, Subset(full, val_idx)))
rs = RandomSampler(
    range(10), replacement=True, num_samples=4, generator=torch.Generator().manual_seed(6)
)
random_sampler_draws = list(rs)

stacked = StackDataset(features=torch.arange(12.0).view(6, 2), label=torch.arange(6) % 2)
batch = next(iter(DataLoader(stacked, batch_size=4)))
stack_batch = {k: v.tolist() for k, v in batch.items()}


# a dataset that fetches a whole batch at once (``__getitems__``, as Hugging Face datasets do),
# seen through random_split's Subset, and a TensorDataset subclass that augments per sample
class BatchFetched(torch.utils.data.Dataset):
    def __init__(self, x):
        self.x = x
        self.calls = 0

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i]

    def __getitems__(self, indices):
        self.calls += 1
        rows = self.x[torch.tensor(indices)]
        rows = rows - rows.mean(0)  # a per-batch centering only the batched path applies
        return list(rows)


class Jittered(TensorDataset):
    def __getitem__(self, i):
        x, t = super().__getitem__(i)
        return x + 0.01 * (i % 3), t


fetched = BatchFetched(torch.arange(24.0).view(12, 2))
part, _ = random_split(fetched, [8, 4], generator=torch.Generator().manual_seed(7))
getitems_batches = [b.tolist() for b in DataLoader(part, batch_size=4)]
getitems_calls = fetched.calls
base_x, base_t = major.tensors
jitter_batch = [
    t.tolist() for t in next(iter(DataLoader(Jittered(base_x[:6], base_t[:6]), batch_size=3)))
]
