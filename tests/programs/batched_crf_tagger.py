"""A batched linear-chain CRF as the pytorch-crf package (kmkurn/pytorch-crf) writes it, under
a CNN-BiGRU tagger: start/end/transition parameters initialized uniformly, the numerator from
gathered emissions and transitions under a byte mask, the partition function by the forward
algorithm with torch.logsumexp over broadcast (B, tags, tags) scores kept only where the mask
is on (torch.where), Viterbi with max over the same broadcast scores and backtracking through
flipped history; reduction='token_mean', and the decoded tags checked on a toy NER pattern."""

import torch
import torch.nn as nn

VOCAB, N_TAGS, EMB = 16, 4, 12  # tags: O, B, I, and E(nd)


class CRF(nn.Module):
    def __init__(self, num_tags, batch_first=True):
        super().__init__()
        self.num_tags, self.batch_first = num_tags, batch_first
        self.start_transitions = nn.Parameter(torch.empty(num_tags))
        self.end_transitions = nn.Parameter(torch.empty(num_tags))
        self.transitions = nn.Parameter(torch.empty(num_tags, num_tags))
        for p in (self.start_transitions, self.end_transitions, self.transitions):
            nn.init.uniform_(p, -0.1, 0.1)

    def forward(self, emissions, tags, mask, reduction="token_mean"):
        if self.batch_first:
            emissions, tags, mask = (
                emissions.transpose(0, 1),
                tags.transpose(0, 1),
                mask.transpose(0, 1),
            )
        llh = self._compute_score(emissions, tags, mask) - self._compute_normalizer(emissions, mask)
        if reduction == "sum":
            return llh.sum()
        return llh.sum() / mask.float().sum()

    def _compute_score(self, emissions, tags, mask):
        seq_length, batch_size = tags.shape
        mask = mask.type_as(emissions)
        score = self.start_transitions[tags[0]] + emissions[0, torch.arange(batch_size), tags[0]]
        for i in range(1, seq_length):
            score += self.transitions[tags[i - 1], tags[i]] * mask[i]
            score += emissions[i, torch.arange(batch_size), tags[i]] * mask[i]
        seq_ends = mask.long().sum(dim=0) - 1
        last_tags = tags[seq_ends, torch.arange(batch_size)]
        return score + self.end_transitions[last_tags]

    def _compute_normalizer(self, emissions, mask):
        score = self.start_transitions + emissions[0]
        for i in range(1, emissions.size(0)):
            next_score = score.unsqueeze(2) + self.transitions + emissions[i].unsqueeze(1)
            next_score = torch.logsumexp(next_score, dim=1)
            score = torch.where(mask[i].unsqueeze(1), next_score, score)
        return torch.logsumexp(score + self.end_transitions, dim=1)

    def decode(self, emissions, mask):
        emissions, mask = emissions.transpose(0, 1), mask.transpose(0, 1)
        seq_length, batch_size = mask.shape
        score = self.start_transitions + emissions[0]
        history = []
        for i in range(1, seq_length):
            next_score = score.unsqueeze(2) + self.transitions + emissions[i].unsqueeze(1)
            next_score, indices = next_score.max(dim=1)
            score = torch.where(mask[i].unsqueeze(1), next_score, score)
            history.append(indices)
        score += self.end_transitions
        seq_ends = mask.long().sum(dim=0) - 1
        best_tags_list = []
        for idx in range(batch_size):
            _, best_last_tag = score[idx].max(dim=0)
            best_tags = [best_last_tag.item()]
            for hist in reversed(history[: seq_ends[idx]]):
                best_last_tag = hist[idx][best_tags[-1]]
                best_tags.append(best_last_tag.item())
            best_tags.reverse()
            best_tags_list.append(best_tags)
        return best_tags_list


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, EMB, padding_idx=0)
        self.conv = nn.Conv1d(EMB, EMB, 3, padding=1)
        self.gru = nn.GRU(EMB, 8, batch_first=True, bidirectional=True)
        self.emit = nn.Linear(16, N_TAGS)
        self.crf = CRF(N_TAGS)

    def emissions(self, tokens):
        h = torch.relu(self.conv(self.embed(tokens).transpose(1, 2))).transpose(1, 2)
        return self.emit(self.gru(h)[0])


def make_batch(n, generator):
    """Tokens 10-15 are capitalized words; a run of them is an entity B I .. E, alone B."""
    lengths = torch.randint(4, 9, (n,), generator=generator)
    tokens = torch.randint(1, VOCAB, (n, 8), generator=generator)
    mask = torch.arange(8) < lengths.unsqueeze(1)
    tokens = tokens * mask
    cap = tokens >= 10
    prev = torch.cat([torch.zeros(n, 1, dtype=torch.bool), cap[:, :-1]], 1)
    nxt = torch.cat([cap[:, 1:], torch.zeros(n, 1, dtype=torch.bool)], 1)
    tags = torch.zeros(n, 8, dtype=torch.long)
    tags[cap & ~prev] = 1
    tags[cap & prev & nxt] = 2
    tags[cap & prev & ~nxt] = 3
    return tokens, tags, mask


torch.manual_seed(0)
g = torch.Generator().manual_seed(0)
tokens, tags, mask = make_batch(96, g)
model = Tagger()
optimizer = torch.optim.Adam(model.parameters(), lr=3e-2)
losses = []
for epoch in range(8):
    for idx in torch.randperm(64).split(16):
        loss = -model.crf(model.emissions(tokens[idx]), tags[idx], mask[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
with torch.no_grad():
    emissions = model.emissions(tokens[64:])
    decoded = model.crf.decode(emissions, mask[64:])
    gold = [t[: int(m.sum())].tolist() for t, m in zip(tags[64:], mask[64:])]
    token_accuracy = (
        sum(sum(a == b for a, b in zip(d, t)) for d, t in zip(decoded, gold))
        / mask[64:].sum().item()
    )
    sum_llh = model.crf(emissions, tags[64:], mask[64:], reduction="sum").item()
transitions = model.crf.transitions.detach().tolist()
print(f"loss {losses[0]:.3f} -> {losses[-1]:.3f}, token accuracy {token_accuracy:.3f}")
