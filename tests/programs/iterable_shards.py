"""Streaming data with ``torch.utils.data.IterableDataset``: a line-reading dataset that shards
its stream by ``get_worker_info()`` (None in the main process; a worker id and count otherwise,
simulated here by splitting by hand), a buffered shuffle with a seeded NumPy generator,
``ChainDataset``, batching with ``DataLoader(batch_size=, drop_last=)`` and a ``collate_fn``
that pads variable-length sequences; the loader feeds a bag-of-embeddings model
(``EmbeddingBag`` with offsets) trained for a few passes."""

import io
import itertools
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy
from torch.nn.utils.rnn import pad_sequence
from torch.utils.data import ChainDataset, DataLoader, IterableDataset, get_worker_info

rng = np.random.default_rng(17)
vocab = 20
corpus_lines = []
for i in range(60):
    label = i % 2
    length = int(rng.integers(2, 7))
    tokens = rng.integers(0, 10, length) + 10 * label
    corpus_lines.append(f"{label}\t" + " ".join(map(str, tokens)))
text = "\n".join(corpus_lines)


class LineStream(IterableDataset):
    def __init__(self, text, start=0, end=None):
        super().__init__()
        self.text, self.start = text, start
        self.end = end if end is not None else text.count("\n") + 1

    def parse(self, line):
        label, tokens = line.split("\t")
        return torch.tensor([int(t) for t in tokens.split()]), int(label)

    def __iter__(self):
        worker_info = get_worker_info()
        if worker_info is None:
            iter_start, iter_end = self.start, self.end
        else:
            per_worker = int(math.ceil((self.end - self.start) / float(worker_info.num_workers)))
            iter_start = self.start + worker_info.id * per_worker
            iter_end = min(iter_start + per_worker, self.end)
        lines = itertools.islice(io.StringIO(self.text), iter_start, iter_end)
        return (self.parse(line.rstrip("\n")) for line in lines)


class ShuffleBuffer(IterableDataset):
    def __init__(self, dataset, buffer_size, seed):
        super().__init__()
        self.dataset, self.buffer_size, self.seed = dataset, buffer_size, seed

    def __iter__(self):
        rng, buffer = np.random.default_rng(self.seed), []
        for item in self.dataset:
            buffer.append(item)
            if len(buffer) == self.buffer_size:
                yield buffer.pop(int(rng.integers(len(buffer))))
        while buffer:
            yield buffer.pop(int(rng.integers(len(buffer))))


def collate(batch):
    seqs, labels = zip(*batch)
    lengths = torch.tensor([len(s) for s in seqs])
    return (
        pad_sequence(list(seqs), batch_first=True, padding_value=0),
        lengths,
        torch.tensor(labels),
    )


worker_info_in_main = get_worker_info() is None
whole = [y for _, y in LineStream(text)]
halves = ChainDataset([LineStream(text, 0, 30), LineStream(text, 30, 60)])
chained_same = [y for _, y in halves] == whole


class FakeWorker:
    def __init__(self, id, num_workers):
        self.id, self.num_workers = id, num_workers


import torch.utils.data as data_module  # noqa: E402

shard_sizes = []
original = data_module.get_worker_info
for wid in range(3):  # what each of three workers would read
    globals()["get_worker_info"] = lambda wid=wid: FakeWorker(wid, 3)
    shard_sizes.append(len(list(LineStream(text))))
globals()["get_worker_info"] = original


class BagModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.bag = nn.EmbeddingBag(vocab, 8, mode="mean")
        self.out = nn.Linear(8, 2)

    def forward(self, padded, lengths):
        flat = torch.cat([row[:n] for row, n in zip(padded, lengths)])
        offsets = torch.cat([torch.zeros(1, dtype=torch.long), lengths.cumsum(0)[:-1]])
        return self.out(self.bag(flat, offsets))


model = init_from_numpy(BagModel(), seed=9)
optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
losses, batch_shapes = [], []
for epoch in range(3):
    loader = DataLoader(
        ShuffleBuffer(LineStream(text), 8, seed=epoch),
        batch_size=16,
        collate_fn=collate,
        drop_last=True,
    )
    for padded, lengths, labels in loader:
        batch_shapes.append(tuple(padded.shape))
        optimizer.zero_grad()
        loss = F.cross_entropy(model(padded, lengths), labels)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
batches_per_epoch = len(batch_shapes) // 3
