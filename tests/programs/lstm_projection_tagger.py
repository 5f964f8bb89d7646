"""A part-of-speech style tagger with a two-layer bidirectional LSTM with projections
(nn.LSTM(proj_size=...), as in LSTMP acoustic models) over packed, unsorted batches: the hidden
state is projected to proj_size (h_n is (layers * 2, B, proj), c_n keeps hidden_size), packed
with pack_padded_sequence(enforce_sorted=False) and unpacked with pad_packed_sequence
(total_length=...), per-token cross-entropy ignoring padding, pack_sequence and PackedSequence
attributes (batch_sizes, sorted_indices), and a check that a packed run equals running each
sequence alone."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import (
    PackedSequence,
    pack_padded_sequence,
    pack_sequence,
    pad_packed_sequence,
    pad_sequence,
)

VOCAB, TAGS, PAD_TAG = 12, 3, -100


def tag_of(tokens):
    """Tag 0: token below 4; tag 1: a token greater than the previous one; else tag 2."""
    prev = torch.cat([tokens.new_full((1,), 99), tokens[:-1]])
    return torch.where(tokens < 4, 0, torch.where(tokens > prev, 1, 2))


def make_batch(n, generator):
    lengths = torch.randint(3, 11, (n,), generator=generator)
    seqs = [torch.randint(0, VOCAB, (int(k),), generator=generator) for k in lengths]
    tags = [tag_of(s) for s in seqs]
    return (
        pad_sequence(seqs, batch_first=True),
        lengths,
        pad_sequence(tags, batch_first=True, padding_value=PAD_TAG),
    )


class ProjTagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, 12)
        self.lstm = nn.LSTM(12, 32, num_layers=2, bidirectional=True, batch_first=True,
                            proj_size=8)  # fmt: skip
        self.out = nn.Linear(2 * 8, TAGS)

    def forward(self, tokens, lengths, total_length=None):
        packed = pack_padded_sequence(self.embed(tokens), lengths, batch_first=True,
                                      enforce_sorted=False)  # fmt: skip
        packed_out, (h_n, c_n) = self.lstm(packed)
        out, _ = pad_packed_sequence(packed_out, batch_first=True, total_length=total_length)
        return self.out(out), packed_out, h_n, c_n


g = torch.Generator().manual_seed(0)
torch.manual_seed(0)
model = ProjTagger()
param_shapes = {n: tuple(p.shape) for n, p in model.lstm.named_parameters() if "l0" in n}
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
losses = []
for step in range(50):
    tokens, lengths, tags = make_batch(16, g)
    logits, packed_out, h_n, c_n = model(tokens, lengths)
    loss = F.cross_entropy(logits.reshape(-1, TAGS), tags.reshape(-1), ignore_index=PAD_TAG)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
state_shapes = [tuple(h_n.shape), tuple(c_n.shape)]
batch_sizes = packed_out.batch_sizes.tolist()
sorted_indices = packed_out.sorted_indices.tolist()

model.eval()
with torch.no_grad():
    tokens, lengths, tags = make_batch(64, g)
    logits, _, h_n, _ = model(tokens, lengths, total_length=12)
    padded_width = logits.size(1)
    valid = tags != PAD_TAG
    accuracy = (logits.argmax(-1)[:, :10] == tags)[valid].float().mean().item()
    alone = [model(tokens[i : i + 1, : lengths[i]], lengths[i : i + 1])[0][0] for i in range(4)]
    alone_gap = max((a - logits[i, : lengths[i]]).abs().max().item() for i, a in enumerate(alone))
    seqs = [tokens[i, : lengths[i]] for i in range(5)]
    packed = pack_sequence(seqs, enforce_sorted=False)
    embedded = PackedSequence(
        model.embed(packed.data), packed.batch_sizes, packed.sorted_indices,
        packed.unsorted_indices,
    )  # fmt: skip
    direct, _ = model.lstm(embedded)
    direct_pad, direct_lengths = pad_packed_sequence(direct, batch_first=True)
    via_model = model(tokens[:5], lengths[:5])[1]  # the same sequences, padded and packed
    direct_gap = (direct.data - via_model.data).abs().max().item()
    direct_lengths = direct_lengths.tolist()
print(f"loss {losses[0]:.3f} -> {losses[-1]:.3f}; token accuracy {accuracy:.3f}")
print(f"h_n/c_n {state_shapes}; alone gap {alone_gap:.1e}")
