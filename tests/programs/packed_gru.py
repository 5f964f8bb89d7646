"""Classifying variable-length sequences with a bidirectional GRU over packed batches, as the
PyTorch sequence-model tutorials and the "packed padded sequences" sentiment notebooks
(bentrevett/pytorch-sentiment-analysis) write it: pad_sequence in a collate_fn, lengths on the
CPU, pack_padded_sequence(enforce_sorted=False), the final hidden states of both directions
concatenated, pad_packed_sequence for per-token outputs, and clip_grad_norm_ before the step.
The task: does a sequence of tokens contain more 1s than 2s (padding must not count)."""

import numpy as np
import torch
import torch.nn as nn
from numpy_init import init_from_numpy
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence

PAD, VOCAB = 0, 6


def make_data(rng, n):
    seqs, labels = [], []
    for _ in range(n):
        length = int(rng.integers(2, 12))
        tokens = rng.integers(1, VOCAB, length)
        seqs.append(torch.from_numpy(tokens.astype(np.int64)))
        labels.append(int((tokens == 1).sum() > (tokens == 2).sum()))
    return seqs, torch.tensor(labels)


def collate(batch):
    seqs, labels = zip(*batch)
    lengths = torch.tensor([len(s) for s in seqs])
    return (
        pad_sequence(list(seqs), batch_first=True, padding_value=PAD),
        lengths,
        torch.stack(labels),
    )


class BiGRUClassifier(nn.Module):
    def __init__(self, vocab_size, embedding_dim, hidden_dim, output_dim):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=PAD)
        self.rnn = nn.GRU(
            embedding_dim, hidden_dim, num_layers=1, bidirectional=True, batch_first=True
        )
        self.fc = nn.Linear(hidden_dim * 2, output_dim)

    def forward(self, text, text_lengths):
        embedded = self.embedding(text)
        packed_embedded = pack_padded_sequence(
            embedded, text_lengths.cpu(), batch_first=True, enforce_sorted=False
        )
        packed_output, hidden = self.rnn(packed_embedded)
        output, output_lengths = pad_packed_sequence(packed_output, batch_first=True)
        hidden = torch.cat((hidden[-2, :, :], hidden[-1, :, :]), dim=1)
        return self.fc(hidden), output, output_lengths


rng = np.random.default_rng(0)
train_seqs, train_labels = make_data(rng, 96)
test_seqs, test_labels = make_data(rng, 64)
batches = [
    collate(list(zip(train_seqs[i : i + 32], train_labels[i : i + 32]))) for i in range(0, 96, 32)
]

model = init_from_numpy(BiGRUClassifier(VOCAB, 8, 16, 2))
with torch.no_grad():
    model.embedding.weight[PAD] = 0  # as nn.Embedding(padding_idx=) initializes it
optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
criterion = nn.CrossEntropyLoss()

losses, grad_norms = [], []
for epoch in range(10):
    for text, lengths, labels in batches:
        optimizer.zero_grad()
        logits, _, _ = model(text, lengths)
        loss = criterion(logits, labels)
        loss.backward()
        grad_norms.append(float(nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)))
        optimizer.step()
        losses.append(loss.item())
    if epoch % 3 == 0:
        print(f"epoch {epoch}: loss {sum(losses[-3:]) / 3:.4f}")

model.eval()
with torch.no_grad():
    text, lengths, labels = collate(list(zip(test_seqs, test_labels)))
    logits, output, output_lengths = model(text, lengths)
    accuracy = (logits.argmax(1) == labels).float().mean().item()
    # the same sequence alone, unpadded, gives the same prediction
    alone, _, _ = model(test_seqs[0].unsqueeze(0), torch.tensor([len(test_seqs[0])]))
    padding_gap = (alone[0] - logits[0]).abs().max().item()
    padded_outputs_zero = bool((output[0, lengths[0] :] == 0).all())
embedding_pad_grad = model.embedding.weight.grad[PAD].abs().sum().item()
print(f"test accuracy {accuracy:.3f}; output {tuple(output.shape)}, padding gap {padding_gap:.2e}")
