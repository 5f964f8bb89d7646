"""A convolutional sentence classifier (Kim 2014, as the bentrevett sentiment tutorial writes
it): ``nn.Embedding`` with ``padding_idx`` and pretrained vectors loaded by
``from_pretrained(freeze=False)``, a ``collate_fn`` that pads to the batch's longest sentence
(at least the widest filter) with ``pad_sequence``, ``nn.ModuleList`` of ``Conv1d`` of several
widths, ReLU, max-over-time pooling with ``F.max_pool1d(..., kernel_size=conved.shape[2])``,
concatenation, dropout and a binary ``BCEWithLogitsLoss``; a ``DataLoader`` with a
``BatchSampler`` over a ``SequentialSampler`` feeds it."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy
from torch.nn.utils.rnn import pad_sequence
from torch.utils.data import BatchSampler, DataLoader, Dataset, SequentialSampler

rng = np.random.default_rng(151)
PAD, vocab_size, emb_dim = 0, 30, 12
positive, negative = range(2, 8), range(8, 14)


def sentence(label):
    length = int(rng.integers(3, 12))
    words = rng.integers(14, vocab_size, length)
    cue = rng.choice(list(positive if label else negative), size=int(rng.integers(1, 3)))
    places = rng.choice(length, size=len(cue), replace=False)
    words[places] = cue
    return torch.from_numpy(words)


class Reviews(Dataset):
    def __init__(self, n):
        self.labels = rng.integers(0, 2, n)
        self.sentences = [sentence(int(label)) for label in self.labels]

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return self.sentences[i], float(self.labels[i])


def collate(batch, min_len=4):
    texts, labels = zip(*batch)
    padded = pad_sequence(list(texts), batch_first=True, padding_value=PAD)
    if padded.shape[1] < min_len:
        padded = F.pad(padded, (0, min_len - padded.shape[1]), value=PAD)
    return padded, torch.tensor(labels)


class CNN(nn.Module):
    def __init__(self, vectors, n_filters, filter_sizes, output_dim, dropout, pad_idx):
        super().__init__()
        self.embedding = nn.Embedding.from_pretrained(vectors, freeze=False, padding_idx=pad_idx)
        self.convs = nn.ModuleList(
            [nn.Conv1d(vectors.shape[1], n_filters, fs) for fs in filter_sizes]
        )
        self.fc = nn.Linear(len(filter_sizes) * n_filters, output_dim)
        self.dropout = nn.Dropout(dropout)

    def forward(self, text):
        embedded = self.embedding(text).permute(0, 2, 1)
        conved = [F.relu(conv(embedded)) for conv in self.convs]
        pooled = [F.max_pool1d(conv, conv.shape[2]).squeeze(2) for conv in conved]
        cat = self.dropout(torch.cat(pooled, dim=1))
        return self.fc(cat)


vectors = torch.from_numpy(rng.normal(0, 1, (vocab_size, emb_dim)).astype(np.float32))
vectors[PAD] = 0
model = CNN(vectors, n_filters=8, filter_sizes=[2, 3, 4], output_dim=1, dropout=0.0, pad_idx=PAD)
init_from_numpy(model.convs, seed=151)
init_from_numpy(model.fc, seed=152)
train_set, test_set = Reviews(160), Reviews(80)
order = BatchSampler(SequentialSampler(train_set), batch_size=32, drop_last=False)
train_loader = DataLoader(train_set, batch_sampler=order, collate_fn=collate)
test_loader = DataLoader(test_set, batch_size=40, collate_fn=collate)
optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
criterion = nn.BCEWithLogitsLoss()


def binary_accuracy(preds, y):
    return (torch.round(torch.sigmoid(preds)) == y).float().mean()


losses, batch_widths = [], []
for epoch in range(5):
    model.train()
    for text, label in train_loader:
        predictions = model(text).squeeze(1)
        loss = criterion(predictions, label)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        batch_widths.append(text.shape[1])

model.eval()
with torch.no_grad():
    test_accuracy = sum(
        binary_accuracy(model(t).squeeze(1), y).item() * len(y) for t, y in test_loader
    ) / len(test_set)
pad_row_grad = model.embedding.weight.grad[PAD].abs().sum().item()
pad_vector = model.embedding.weight[PAD].abs().sum().item()
print(f"loss {losses[0]:.3f} -> {losses[-1]:.3f}; test accuracy {test_accuracy:.3f}")
