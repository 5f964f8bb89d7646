"""torch.utils.data as data-loading code uses it beyond TensorDataset: a map-style Dataset of
variable-length sequences, a collate_fn that pads them (pad_sequence) and returns lengths, a
custom Sampler that buckets similar lengths, a BatchSampler, WeightedRandomSampler for an
imbalanced label distribution (inverse class-frequency weights), Subset / ConcatDataset /
random_split with a seeded Generator, and an IterableDataset sharded with get_worker_info;
a small model trains on the bucketed batches."""

import math
from collections import Counter

import torch
import torch.nn as nn
from torch.nn.utils.rnn import pad_sequence
from torch.utils.data import (
    BatchSampler,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    Sampler,
    Subset,
    WeightedRandomSampler,
    get_worker_info,
    random_split,
)

torch.manual_seed(0)


class SequenceDataset(Dataset):
    """Sequences of random length; the label says whether the sum is positive (rarely true)."""

    def __init__(self, n, generator):
        self.lengths = torch.randint(2, 20, (n,), generator=generator).tolist()
        self.seqs = [torch.randn(L, generator=generator) - 0.6 for L in self.lengths]
        self.labels = [int(s.sum() > 0) for s in self.seqs]

    def __len__(self):
        return len(self.seqs)

    def __getitem__(self, idx):
        return self.seqs[idx], self.labels[idx]


def collate_fn(batch):
    seqs, labels = zip(*batch)
    lengths = torch.tensor([len(s) for s in seqs])
    padded = pad_sequence(seqs, batch_first=True)
    return padded, lengths, torch.tensor(labels)


class BucketSampler(Sampler):
    """Indices sorted by length inside shuffled chunks, so batches hold similar lengths."""

    def __init__(self, lengths, chunk=32, generator=None):
        self.lengths, self.chunk, self.generator = lengths, chunk, generator

    def __iter__(self):
        order = torch.randperm(len(self.lengths), generator=self.generator).tolist()
        for start in range(0, len(order), self.chunk):
            chunk = order[start : start + self.chunk]
            yield from sorted(chunk, key=lambda i: self.lengths[i])

    def __len__(self):
        return len(self.lengths)


g = torch.Generator().manual_seed(1)
dataset = SequenceDataset(256, g)
train_set, val_set = random_split(dataset, [0.75, 0.25], generator=torch.Generator().manual_seed(2))
lengths = [dataset.lengths[i] for i in train_set.indices]
batch_sampler = BatchSampler(BucketSampler(lengths, generator=g), batch_size=16, drop_last=False)
loader = DataLoader(train_set, batch_sampler=batch_sampler, collate_fn=collate_fn)
padding_fraction = []
for padded, lens, _ in loader:
    padding_fraction.append(1 - lens.sum().item() / padded.numel())
print(
    f"{len(loader)} bucketed batches, mean padding {sum(padding_fraction) / len(padding_fraction):.3f}"
)

# imbalanced labels: sample each example with weight 1 / frequency of its class
labels = [dataset.labels[i] for i in train_set.indices]
counts = Counter(labels)
weights = [1.0 / counts[y] for y in labels]
sampler = WeightedRandomSampler(weights, num_samples=len(weights), replacement=True, generator=g)
drawn = [labels[i] for i in sampler]
positive_rate, balanced_rate = sum(labels) / len(labels), sum(drawn) / len(drawn)
print(f"positive rate {positive_rate:.3f}, with WeightedRandomSampler {balanced_rate:.3f}")


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(1, 16, batch_first=True)
        self.head = nn.Linear(16, 2)

    def forward(self, padded, lengths):
        packed = nn.utils.rnn.pack_padded_sequence(
            padded.unsqueeze(-1), lengths, batch_first=True, enforce_sorted=False
        )
        _, h = self.rnn(packed)
        return self.head(h[-1])


model = Model()
optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
balanced_loader = DataLoader(train_set, batch_size=32, sampler=sampler, collate_fn=collate_fn)
losses = []
for epoch in range(4):
    for padded, lens, y in balanced_loader:
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(padded, lens), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
print(f"loss {sum(losses[:6]) / 6:.4f} -> {sum(losses[-6:]) / 6:.4f}")

with torch.no_grad():
    padded, lens, y = collate_fn([val_set[i] for i in range(len(val_set))])
    pred = model(padded, lens).argmax(1)
    balanced_accuracy = (
        sum(((pred == c) & (y == c)).sum().item() / max((y == c).sum().item(), 1) for c in (0, 1))
        / 2
    )
print(f"validation balanced accuracy {balanced_accuracy:.3f}")

# Subset and ConcatDataset
first_ten = Subset(dataset, range(10))
combined = ConcatDataset([first_ten, val_set])
concat_ok = len(combined) == 10 + len(val_set) and combined[10][0] is val_set[0][0]


class Stream(IterableDataset):
    """A stream each worker shards by its id, as the IterableDataset documentation shows."""

    def __init__(self, start, end):
        self.start, self.end = start, end

    def __iter__(self):
        worker_info = get_worker_info()
        if worker_info is None:  # single-process data loading, return the full iterator
            iter_start, iter_end = self.start, self.end
        else:  # in a worker process: split the workload
            per_worker = int(math.ceil((self.end - self.start) / float(worker_info.num_workers)))
            iter_start = self.start + worker_info.id * per_worker
            iter_end = min(iter_start + per_worker, self.end)
        return iter(range(iter_start, iter_end))


stream = list(DataLoader(Stream(3, 11), batch_size=3))
stream_values = [b.tolist() for b in stream]
print(f"stream batches {stream_values}; concat ok {concat_ok}")
