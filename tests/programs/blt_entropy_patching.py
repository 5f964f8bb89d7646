"""Byte Latent Transformer-style entropy patching (Meta's BLT, 2024) in plain PyTorch: a tiny
byte-level GRU language model is trained on text bytes (``torch.frombuffer``), the entropy of its
next-byte distribution (``torch.distributions.Categorical(logits=...).entropy()``) marks patch
starts where it exceeds a global threshold or jumps relative to the previous byte (the paper's
two rules), patch ids come from ``cumsum`` over the boundaries, patch lengths from
``torch.bincount`` and ``torch.diff``, byte n-gram hash embeddings use a rolling polynomial hash
over ``unfold`` windows modulo the table size, and bytes are pooled into patch vectors with
``scatter_reduce`` (``"amax"`` and ``"mean"``, ``include_self=False``)."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import Categorical

torch.manual_seed(0)
TEXT = b"the cat sat on the mat. the cat ate the rat. a bat sat on the hat. " * 2
DIM, HASH_TABLE, NGRAM = 24, 97, 3

data = torch.frombuffer(bytearray(TEXT), dtype=torch.uint8).long()


class ByteLM(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(256, DIM)
        self.gru = nn.GRU(DIM, DIM, batch_first=True)
        self.head = nn.Linear(DIM, 256)

    def forward(self, x):
        return self.head(self.gru(self.embed(x))[0])


model = ByteLM()
optimizer = torch.optim.Adam(model.parameters(), lr=2e-2)
windows = data.unfold(0, 33, 16)  # (n, 33) overlapping training windows
losses = []
for step in range(12):
    logits = model(windows[:, :-1])
    loss = F.cross_entropy(logits.reshape(-1, 256), windows[:, 1:].reshape(-1))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())

with torch.no_grad():
    text = data[:48].unsqueeze(0)
    entropy = Categorical(logits=model(text)[0]).entropy()  # entropy of the NEXT byte
entropy = torch.cat([torch.tensor([float("inf")]), entropy[:-1]])  # byte 0 always starts a patch
threshold = entropy[1:].quantile(0.75).item()
global_starts = entropy > threshold
relative_starts = torch.cat([torch.tensor([True]), entropy[1:] - entropy[:-1] > 0.5])
patch_ids = global_starts.long().cumsum(0) - 1
n_patches = int(patch_ids.max().item()) + 1
patch_lengths = torch.bincount(patch_ids, minlength=n_patches)
start_positions = torch.nonzero(global_starts).squeeze(1)
lengths_from_diff = torch.diff(start_positions, append=torch.tensor([text.size(1)]))

grams = text[0].unfold(0, NGRAM, 1)  # (L - n + 1, n) byte n-grams ending at each position
powers = 257 ** torch.arange(NGRAM - 1, -1, -1)
hashes = (grams * powers).sum(-1) % HASH_TABLE
hashes = F.pad(hashes, (NGRAM - 1, 0), value=0)  # the first bytes have no full n-gram
hash_embed = nn.Embedding(HASH_TABLE, DIM)
with torch.no_grad():
    byte_vectors = model.embed(text[0]) + hash_embed(hashes)
    index = patch_ids.unsqueeze(1).expand(-1, DIM)
    pooled_max = torch.zeros(n_patches, DIM).scatter_reduce(
        0, index, byte_vectors, "amax", include_self=False
    )
    pooled_mean = torch.zeros(n_patches, DIM).scatter_reduce(
        0, index, byte_vectors, "mean", include_self=False
    )
first, second = start_positions[1].item(), start_positions[2].item()
mean_check = (pooled_mean[1] - byte_vectors[first:second].mean(0)).abs().max().item()

entropy_sample = entropy[1:9].tolist()
patch_lengths_list = patch_lengths.tolist()
lengths_agree = lengths_from_diff.tolist() == patch_lengths_list
relative_count = int(relative_starts.sum())
hash_sample = hashes[:8].tolist()
pooled_sample = pooled_max[1, :4].tolist()
decoded_first_patch = bytes(text[0, : patch_lengths[0]].to(torch.uint8).tolist()).decode()
