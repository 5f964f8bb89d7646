"""A sentence classifier of the kind NLP courses assign: a bidirectional two-layer LSTM over
``pack_padded_sequence(..., enforce_sorted=False)``, the final hidden state of each direction
taken from ``h_n.view(num_layers, 2, batch, hidden)``, unpacked outputs attended by an
``nn.MultiheadAttention`` query token with ``key_padding_mask`` and per-head weights
(``need_weights=True, average_attn_weights=False``), a float additive ``attn_mask`` in a second
call, ``ReduceLROnPlateau`` on a validation loss, and the attention weights checked to ignore
padding."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

rng = np.random.default_rng(271)
PAD, vocab, emb, hidden = 0, 20, 8, 8


def batch(n):
    lengths = rng.integers(2, 9, n)
    tokens = np.zeros((n, 8), np.int64)
    labels = np.zeros(n, np.int64)
    for i, length in enumerate(lengths):
        tokens[i, :length] = rng.integers(3, vocab, length)
        if rng.random() < 0.5:
            tokens[i, rng.integers(0, length)] = 1  # the marker word decides the label
            labels[i] = 1
    return torch.from_numpy(tokens), torch.from_numpy(lengths), torch.from_numpy(labels)


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(vocab, emb, padding_idx=PAD)
        self.lstm = nn.LSTM(
            emb, hidden, num_layers=2, bidirectional=True, batch_first=True, dropout=0.0
        )
        self.query = nn.Parameter(torch.zeros(1, 1, 2 * hidden))
        self.attn = nn.MultiheadAttention(2 * hidden, 2, batch_first=True)
        self.out = nn.Linear(4 * hidden, 2)

    def forward(self, tokens, lengths):
        packed = pack_padded_sequence(
            self.embed(tokens), lengths, batch_first=True, enforce_sorted=False
        )
        outputs, (h_n, c_n) = self.lstm(packed)
        outputs, out_lengths = pad_packed_sequence(
            outputs, batch_first=True, total_length=tokens.shape[1]
        )
        h_last = h_n.view(2, 2, tokens.shape[0], hidden)[-1]  # last layer, both directions
        summary = torch.cat([h_last[0], h_last[1]], dim=1)
        pad_mask = torch.arange(tokens.shape[1]).unsqueeze(0) >= lengths.unsqueeze(1)
        query = self.query.expand(tokens.shape[0], -1, -1)
        attended, weights = self.attn(
            query,
            outputs,
            outputs,
            key_padding_mask=pad_mask,
            need_weights=True,
            average_attn_weights=False,
        )
        return self.out(torch.cat([summary, attended.squeeze(1)], dim=1)), weights, out_lengths


model = init_from_numpy(Classifier(), seed=271)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
    optimizer, mode="min", factor=0.5, patience=1
)
val_tokens, val_lengths, val_labels = batch(32)
train_losses, val_losses, lrs = [], [], []
for epoch in range(6):
    model.train()
    for _ in range(3):
        tokens, lengths, labels = batch(16)
        logits, _, _ = model(tokens, lengths)
        loss = F.cross_entropy(logits, labels)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()
    model.eval()
    with torch.no_grad():
        val_logits, weights, out_lengths = model(val_tokens, val_lengths)
        val_loss = F.cross_entropy(val_logits, val_labels).item()
    scheduler.step(val_loss)
    train_losses.append(loss.item())
    val_losses.append(val_loss)
    lrs.append(optimizer.param_groups[0]["lr"])

weights_shape = list(weights.shape)
pad_mask = torch.arange(8).unsqueeze(0) >= val_lengths.unsqueeze(1)
weight_on_padding = (
    weights.squeeze(2).masked_select(pad_mask.unsqueeze(1).expand(-1, 2, -1)).abs().max().item()
)
row_sums = weights.sum(-1).flatten()
accuracy = (val_logits.argmax(1) == val_labels).float().mean().item()
lengths_back = out_lengths.tolist() == val_lengths.tolist()
additive = torch.zeros(1, 8)
additive[0, 4:] = float("-inf")
with torch.no_grad():
    outputs = torch.from_numpy(rng.normal(size=(3, 8, 2 * hidden)).astype(np.float32))
    _, masked = model.attn(model.query.expand(3, -1, -1), outputs, outputs, attn_mask=additive)
float_mask_ok = masked[:, :, 4:].abs().max().item()
masked_avg = masked.sum(-1).flatten().tolist()
print(f"val loss {val_losses[0]:.3f} -> {val_losses[-1]:.3f}; accuracy {accuracy:.3f}; lrs {lrs}")
