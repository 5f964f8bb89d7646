"""A tiny language model's head trained with ``F.linear_cross_entropy`` (the fused projection +
cross-entropy the LLM training recipes use to avoid materialising the logits): losses and
gradients compared with ``F.cross_entropy(F.linear(...))``, with ``ignore_index`` padding,
label smoothing and the ``'sum'``/``'none'`` reductions; weights tied with the embedding."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy

rng = np.random.default_rng(16)
vocab, dim = 20, 12
tokens = torch.from_numpy(rng.integers(1, vocab, (4, 9)))
tokens[2, 6:] = 0  # padding
inputs, targets = tokens[:, :-1], tokens[:, 1:].clone()
targets[targets == 0] = -100


class TinyLM(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.mix = nn.GRU(dim, dim, batch_first=True)
        self.norm = nn.LayerNorm(dim)

    def forward(self, x):
        return self.norm(self.mix(self.embed(x))[0])


def run(fused):
    model = init_from_numpy(TinyLM(), seed=16)
    opt = torch.optim.AdamW(model.parameters(), lr=0.03)
    losses = []
    for _ in range(6):
        opt.zero_grad()
        hidden = model(inputs).reshape(-1, dim)
        if fused:
            loss = F.linear_cross_entropy(
                hidden, model.embed.weight, targets.reshape(-1), label_smoothing=0.1
            )
        else:
            logits = F.linear(hidden, model.embed.weight)
            loss = F.cross_entropy(logits, targets.reshape(-1), label_smoothing=0.1)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses, model


fused_losses, model = run(True)
plain_losses, _ = run(False)
with torch.no_grad():
    hidden = model(inputs).reshape(-1, dim)
    per_token = F.linear_cross_entropy(
        hidden, model.embed.weight, targets.reshape(-1), reduction="none"
    )
    summed = F.linear_cross_entropy(
        hidden, model.embed.weight, targets.reshape(-1), reduction="sum"
    )
ignored_zero = per_token.reshape(4, 8)[2, 5:].abs().sum().item()
per_token_values = per_token[:8].tolist()
summed_value = summed.item()
