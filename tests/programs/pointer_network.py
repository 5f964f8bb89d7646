"""A pointer network (Vinyals et al. 2015) that learns to sort short lists of numbers, as the
popular PyTorch re-implementations write it: an nn.LSTM encoder, an nn.LSTMCell decoder fed the
embedding of the element it pointed to last, additive attention whose scores are the output
distribution over input positions, masked_fill(-inf) for positions already chosen, teacher
forcing with the true order, and greedy decoding."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy


class PointerNet(nn.Module):
    def __init__(self, hidden=32):
        super().__init__()
        self.embed = nn.Linear(1, hidden)
        self.encoder = nn.LSTM(hidden, hidden, batch_first=True)
        self.decoder = nn.LSTMCell(hidden, hidden)
        self.W_ref = nn.Linear(hidden, hidden, bias=False)
        self.W_q = nn.Linear(hidden, hidden, bias=False)
        self.v = nn.Linear(hidden, 1, bias=False)
        self.start = nn.Parameter(torch.zeros(hidden))

    def forward(self, inputs, targets=None):
        batch, n, _ = inputs.shape
        embedded = self.embed(inputs)
        enc, (h, c) = self.encoder(embedded)
        h, c = h[0], c[0]
        dec_input = self.start.unsqueeze(0).expand(batch, -1)
        mask = torch.zeros(batch, n, dtype=torch.bool)
        ref = self.W_ref(enc)
        logits_all, pointers = [], []
        for step in range(n):
            h, c = self.decoder(dec_input, (h, c))
            scores = self.v(torch.tanh(ref + self.W_q(h).unsqueeze(1))).squeeze(-1)
            scores = scores.masked_fill(mask, float("-inf"))
            logits_all.append(scores)
            chosen = scores.argmax(dim=1) if targets is None else targets[:, step]
            pointers.append(chosen)
            mask = mask.clone()
            mask[torch.arange(batch), chosen] = True
            dec_input = embedded[torch.arange(batch), chosen]
        return torch.stack(logits_all, dim=1), torch.stack(pointers, dim=1)


def make_batch(rng, batch, n):
    values = torch.from_numpy(rng.random((batch, n, 1)).astype(np.float32))
    return values, values.squeeze(-1).argsort(dim=1)


rng = np.random.default_rng(0)
model = init_from_numpy(PointerNet())
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
losses = []
for step in range(40):
    inputs, order = make_batch(rng, 32, 5)
    logits, _ = model(inputs, targets=order)
    loss = F.cross_entropy(logits.reshape(-1, 5), order.reshape(-1))
    optimizer.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 2.0)
    optimizer.step()
    losses.append(loss.item())
    if step % 10 == 0:
        print(f"step {step}: loss {loss.item():.4f}")

with torch.no_grad():
    inputs, order = make_batch(rng, 64, 5)
    _, pointers = model(inputs)
position_accuracy = (pointers == order).float().mean().item()
is_permutation = bool((pointers.sort(dim=1).values == torch.arange(5)).all())
print(f"greedy pointer accuracy {position_accuracy:.3f}, always a permutation: {is_permutation}")
