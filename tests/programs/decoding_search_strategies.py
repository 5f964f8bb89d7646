"""Decoding strategies beyond top-k/top-p, as written in generation utilities: a tiny GRU
language model trained on a repeating pattern, then greedy decoding with a no-repeat-n-gram
block, OpenAI-style presence and frequency penalties (``bincount`` of the generated tokens),
a logit bias, epsilon and eta truncation, gpt-fast's "exponential race" sampling
(``argmax(probs / Exp(1))`` with ``exponential_`` on a seeded generator), Gumbel-max,
``multinomial`` without replacement, group (diverse) beam search with a Hamming diversity
penalty and a length penalty, and contrastive search (the degeneration penalty: the largest
cosine similarity of a candidate's hidden state to the context's)."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
V, H = 10, 24


class TinyLM(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(V, H)
        self.rnn = nn.GRU(H, H, batch_first=True)
        self.out = nn.Linear(H, V)

    def forward(self, ids):
        hidden, _ = self.rnn(self.emb(ids))
        return self.out(hidden), hidden


model = TinyLM()
pattern = torch.tensor([1, 2, 3, 4, 2, 5, 6, 7, 3, 8])
data = torch.stack([pattern.roll(-s) for s in range(8)])
opt = torch.optim.Adam(model.parameters(), lr=0.02)
losses = []
for _ in range(12):
    logits, _ = model(data[:, :-1])
    loss = F.cross_entropy(logits.reshape(-1, V), data[:, 1:].reshape(-1))
    opt.zero_grad()
    loss.backward()
    opt.step()
    losses.append(loss.item())
model.eval()


def next_logits(ids):
    with torch.no_grad():
        logits, hidden = model(ids)
    return logits[:, -1], hidden


def banned_ngram_tokens(seq, n):
    """Tokens that would complete an n-gram already in ``seq`` (a 1-D tensor)."""
    if seq.numel() < n:
        return []
    grams = seq.unfold(0, n, 1)
    prefix = seq[-(n - 1) :]
    hits = (grams[:, :-1] == prefix).all(dim=1)
    return grams[hits, -1].tolist()


def greedy(prompt, steps, no_repeat=0, presence=0.0, frequency=0.0, bias=None):
    ids = prompt.clone()
    for _ in range(steps):
        logits, _ = next_logits(ids)
        counts = torch.bincount(ids[0], minlength=V).float()
        logits = logits - frequency * counts - presence * (counts > 0).float()
        if bias is not None:
            logits = logits + bias
        if no_repeat:
            logits[0, banned_ngram_tokens(ids[0], no_repeat)] = -float("inf")
        ids = torch.cat([ids, logits.argmax(dim=-1, keepdim=True)], dim=1)
    return ids[0].tolist()


prompt = torch.tensor([[1, 2, 3]])
bias = torch.zeros(V)
bias[9] = 6.0
greedy_runs = {
    "plain": greedy(prompt, 12),
    "no_repeat_2": greedy(prompt, 12, no_repeat=2),
    "penalties": greedy(prompt, 12, presence=2.0, frequency=2.5),
    "bias": greedy(prompt, 4, bias=bias),
}

# truncation sampling on the next-token distribution of a few prefixes.
batch = torch.stack([pattern[:4], pattern[2:6], pattern[5:9]])
logits, _ = next_logits(batch)
probs = logits.softmax(-1)
epsilon = 0.02
eps_kept = (probs >= epsilon) | (probs == probs.max(-1, keepdim=True).values)
entropy = -(probs * probs.clamp_min(1e-12).log()).sum(-1, keepdim=True)
eta = min(epsilon, math.sqrt(epsilon) * 0.1)
eta_cut = torch.minimum(torch.full_like(entropy, eta), math.sqrt(eta) * torch.exp(-entropy))
eta_kept = (probs >= eta_cut) | (probs == probs.max(-1, keepdim=True).values)
truncation = [eps_kept.sum(-1).tolist(), eta_kept.sum(-1).tolist(), entropy.squeeze(1).tolist()]

gen = torch.Generator().manual_seed(7)
race = torch.argmax(probs / torch.empty_like(probs).exponential_(1, generator=gen), dim=-1)
gumbel = -torch.log(-torch.log(torch.rand(probs.shape, generator=gen)))
gumbel_max = (probs.log() + gumbel).argmax(-1)
without_replacement = torch.multinomial(probs, 4, replacement=False, generator=gen)
masked = probs.masked_fill(~eps_kept, 0.0)
truncated_draws = torch.multinomial(masked, 6, replacement=True, generator=gen)
samples = [race.tolist(), gumbel_max.tolist(), without_replacement.tolist()]
truncated_ok = bool(eps_kept.gather(1, truncated_draws).all())


def diverse_beam_search(prompt, steps, groups=2, beams_per_group=2, diversity=1.5, alpha=0.8):
    beams = [[(prompt[0].tolist(), 0.0)] for _ in range(groups)]
    for _ in range(steps):
        chosen_this_step = torch.zeros(V)
        for g in range(groups):
            cand = []
            for seq, score in beams[g]:
                logp = next_logits(torch.tensor([seq]))[0][0].log_softmax(-1)
                adjusted = logp - diversity * chosen_this_step
                top = adjusted.topk(beams_per_group)
                for val, tok in zip(top.values.tolist(), top.indices.tolist()):
                    cand.append((seq + [tok], score + val))
            cand.sort(key=lambda c: -c[1])  # sorted() is stable: ties keep candidate order
            beams[g] = cand[:beams_per_group]
            for seq, _ in beams[g]:
                chosen_this_step[seq[-1]] += 1
    finals = [b for group in beams for b in group]
    lp = lambda seq: ((5 + len(seq)) / 6) ** alpha  # noqa: E731 (GNMT's length penalty)
    return [(seq, round(score / lp(seq), 5)) for seq, score in finals]


beams = diverse_beam_search(prompt, 4)


def contrastive_search(prompt, steps, k=4, alpha=0.6):
    ids = prompt.clone()
    for _ in range(steps):
        logits, hidden = next_logits(ids)
        top = logits.softmax(-1).topk(k, dim=-1)
        cand = torch.cat([ids.expand(k, -1), top.indices.t()], dim=1)
        _, cand_hidden = next_logits(cand)
        context = F.normalize(cand_hidden[:, :-1], dim=-1)
        last = F.normalize(cand_hidden[:, -1:], dim=-1)
        degeneration = (context @ last.transpose(1, 2)).squeeze(-1).max(dim=-1).values
        score = (1 - alpha) * top.values[0] - alpha * degeneration
        ids = cand[score.argmax()].unsqueeze(0)
    return ids[0].tolist(), degeneration.tolist()


contrastive, last_degeneration = contrastive_search(prompt, 5)
