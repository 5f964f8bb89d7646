"""A language model with nn.AdaptiveLogSoftmaxWithLoss (Grave et al. 2017), as the
word_language_model example's adaptive-softmax variants use it: frequent words in the head,
rare ones in tail clusters with shrunk projections (div_value), the module returning
(output, loss) for targets, log_prob for the full distribution, and predict for the argmax;
on a Zipf-distributed synthetic corpus with an LSTM."""

import numpy as np
import torch
import torch.nn as nn
from numpy_init import init_from_numpy

vocab, emb, hidden = 60, 16, 32
rng = np.random.default_rng(0)
ranks = np.arange(1, vocab + 1)
probs = (1 / ranks) / (1 / ranks).sum()
# a Markov chain: each word is usually followed by (word * 7 + 3) % vocab, else a Zipf draw
corpus = [0]
for _ in range(2000):
    corpus.append(
        (corpus[-1] * 7 + 3) % vocab if rng.random() < 0.6 else int(rng.choice(vocab, p=probs))
    )
data = torch.tensor(corpus)


class LM(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(vocab, emb)
        self.rnn = nn.LSTM(emb, hidden, batch_first=True)
        self.out = nn.AdaptiveLogSoftmaxWithLoss(hidden, vocab, cutoffs=[10, 30], div_value=2.0)

    def forward(self, tokens, targets):
        h, _ = self.rnn(self.embed(tokens))
        return self.out(h.reshape(-1, hidden), targets.reshape(-1)), h


model = init_from_numpy(LM())
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
seq_len, batch = 20, 16
starts = torch.from_numpy(rng.integers(0, len(corpus) - seq_len - 1, (40, batch)))
losses, output_gaps = [], []
for step in range(40):
    idx = starts[step].unsqueeze(1) + torch.arange(seq_len)
    inputs, targets = data[idx], data[idx + 1]
    (output, loss), h = model(inputs, targets)
    # output is the target's log-probability; log_prob gives the whole distribution
    full = model.out.log_prob(h.reshape(-1, hidden).detach())
    picked = full.gather(1, targets.reshape(-1, 1)).squeeze(1)
    output_gaps.append((picked - output.detach()).abs().max().item())
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
print(f"adaptive softmax loss {losses[0]:.3f} -> {losses[-1]:.3f}")
with torch.no_grad():
    (_, _), h = model(data[:-1].unsqueeze(0), data[1:].unsqueeze(0))
    flat = h.reshape(-1, hidden)
    predictions = model.out.predict(flat)
    full = model.out.log_prob(flat)
normalization_gap = (full.exp().sum(1) - 1).abs().max().item()
predict_matches_argmax = bool((predictions == full.argmax(1)).all())
accuracy = (predictions == data[1:]).float().mean().item()
head_size, tail_sizes = (
    model.out.head.out_features,
    [tuple(t[1].weight.shape) for t in model.out.tail],
)
print(f"next-word accuracy {accuracy:.3f}; head {head_size}, tails {tail_sizes}")
