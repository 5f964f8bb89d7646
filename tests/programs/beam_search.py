"""Beam search decoding from a small GRU language model, as seq2seq and captioning code writes
it: log_softmax scores accumulated per beam, topk over the flattened (beam x vocab) scores,
integer division and remainder to recover beam and token, torch.gather/index_select to
reorder the hidden states, finished beams frozen with masked_fill, and length-normalized
final scores; compared with greedy decoding and with an exhaustive search over all short
sequences."""

import itertools

import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy

BOS, EOS, VOCAB = 0, 1, 6
corpus = [[2, 3, 4, 1], [2, 3, 5, 1], [3, 4, 1], [2, 5, 5, 1], [4, 2, 3, 1]]


class LM(nn.Module):
    def __init__(self, vocab, hidden):
        super().__init__()
        self.embed = nn.Embedding(vocab, hidden)
        self.gru = nn.GRU(hidden, hidden, batch_first=True)
        self.out = nn.Linear(hidden, vocab)

    def forward(self, tokens, h=None):
        output, h = self.gru(self.embed(tokens), h)
        return self.out(output), h


model = init_from_numpy(LM(VOCAB, 24))
optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
inputs = nn.utils.rnn.pad_sequence(
    [torch.tensor([BOS] + s[:-1]) for s in corpus], batch_first=True, padding_value=EOS
)
targets = nn.utils.rnn.pad_sequence(
    [torch.tensor(s) for s in corpus], batch_first=True, padding_value=-100
)
losses = []
for step in range(60):
    optimizer.zero_grad()
    logits, _ = model(inputs)
    loss = F.cross_entropy(logits.reshape(-1, VOCAB), targets.reshape(-1), ignore_index=-100)
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
print(f"LM loss {losses[0]:.3f} -> {losses[-1]:.3f}")


@torch.no_grad()
def beam_search(model, beam_size=3, max_len=5):
    tokens = torch.full((1, 1), BOS)
    scores = torch.zeros(1)
    finished = torch.zeros(1, dtype=torch.bool)
    h = None
    for _ in range(max_len):
        logits, h = model(tokens[:, -1:], h)
        log_probs = F.log_softmax(logits[:, -1], dim=-1)
        # a finished beam only extends with EOS, at no cost
        frozen = torch.full_like(log_probs, float("-inf"))
        frozen[:, EOS] = 0.0
        log_probs = torch.where(finished.unsqueeze(1), frozen, log_probs)
        candidates = (scores.unsqueeze(1) + log_probs).view(-1)
        scores, flat = candidates.topk(min(beam_size, candidates.numel()))
        beam, token = flat // VOCAB, flat % VOCAB
        tokens = torch.cat([tokens.index_select(0, beam), token.unsqueeze(1)], dim=1)
        h = h.index_select(1, beam)
        finished = finished.gather(0, beam) | (token == EOS)
        if finished.all():
            break
    lengths = (tokens[:, 1:] != EOS).sum(1) + 1
    return tokens[:, 1:], scores, scores / lengths


@torch.no_grad()
def sequence_log_prob(model, seq):
    logits, _ = model(torch.tensor([[BOS] + seq[:-1]]))
    return F.log_softmax(logits[0], -1).gather(1, torch.tensor(seq).unsqueeze(1)).sum().item()


@torch.no_grad()
def greedy(model, max_len=5):
    tokens, h = [BOS], None
    for _ in range(max_len):
        logits, h = model(torch.tensor([[tokens[-1]]]), h)
        tokens.append(int(logits[0, -1].argmax()))
        if tokens[-1] == EOS:
            break
    return tokens[1:]


beams, beam_scores, normalized = beam_search(model)
best = beams[0].tolist()
best = best[: best.index(EOS) + 1] if EOS in best else best
greedy_tokens = greedy(model)
# exhaustive search over all sequences of up to four tokens ending in EOS
all_seqs = [
    list(p) + [EOS] for n in range(0, 4) for p in itertools.product(range(2, VOCAB), repeat=n)
]
exhaustive_best = max(all_seqs, key=lambda s: sequence_log_prob(model, s))
score_gap = abs(beam_scores[0].item() - sequence_log_prob(model, best))
print(
    f"beam {best} score {beam_scores[0].item():.3f}; greedy {greedy_tokens}; exhaustive {exhaustive_best}"
)
