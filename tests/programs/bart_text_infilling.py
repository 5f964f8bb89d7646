"""BART's text-infilling denoiser (Lewis et al. 2020) as fairseq's ``DenoisingDataset`` writes
``add_whole_word_mask``: word starts from a subword vocabulary, a masking budget of
``ceil(0.3 * words)``, span lengths drawn from Poisson(3) (with NumPy here, so that both
libraries draw the same spans) trimmed to the budget with ``cumsum``, zero-length spans turned
into insertions, span starts picked by ``torch.randperm`` over ``nonzero`` word starts, one
``<mask>`` per span (``replace_length=1``) with some replaced by random tokens, the rest of each
span deleted by walking ``indices + 1`` until the next word start, then ``source[to_keep]``;
the noisy batches are padded with ``pad_sequence`` and a seq2seq ``nn.Transformer`` (padding
masks, a causal ``generate_square_subsequent_mask``, label-smoothed cross entropy ignoring
pads) learns to restore the text, decoded greedily at the end."""

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F  # noqa: F401
from torch.nn.utils.rnn import pad_sequence

torch.manual_seed(0)
rng = np.random.default_rng(0)

PAD, BOS, EOS, MASK = 0, 1, 2, 3
WORD_START = range(4, 10)  # "Ġ"-style tokens that begin a word; 10..15 continue one
VOCAB = 16


class DenoisingDataset:
    def __init__(self, docs, mask_ratio=0.3, random_ratio=0.1, poisson_lambda=3.0):
        self.docs, self.mask_ratio, self.random_ratio = docs, mask_ratio, random_ratio
        self.poisson_lambda = poisson_lambda
        self.replace_length = 1
        self.mask_idx = MASK

    def __len__(self):
        return len(self.docs)

    def __getitem__(self, index):
        tokens = self.docs[index]
        source, target = tokens.clone(), tokens.clone()
        source = self.add_whole_word_mask(source, self.mask_ratio)
        return {"id": index, "source": source, "target": target}

    def word_starts(self, source):
        is_word_start = (source >= WORD_START.start) & (source < WORD_START.stop)
        is_word_start[0] = 0
        is_word_start[-1] = 0
        return is_word_start.long()

    def sample_lengths(self, n):
        return torch.from_numpy(rng.poisson(self.poisson_lambda, n)).long()

    def add_whole_word_mask(self, source, p):
        is_word_start = self.word_starts(source)
        num_to_mask = int(math.ceil(is_word_start.float().sum() * p))
        num_inserts = 0
        if num_to_mask == 0:
            return source
        lengths = self.sample_lengths(num_to_mask)
        # Make sure we have enough to mask
        cum_length = torch.cumsum(lengths, 0)
        while cum_length[-1] < num_to_mask:
            lengths = torch.cat([lengths, self.sample_lengths(num_to_mask)], dim=0)
            cum_length = torch.cumsum(lengths, 0)
        # Trim to masking budget
        i = 0
        while cum_length[i] < num_to_mask:
            i += 1
        lengths[i] = num_to_mask - (0 if i == 0 else cum_length[i - 1])
        num_to_mask = i + 1
        lengths = lengths[:num_to_mask]
        # Handle 0-length mask (inserts) separately
        lengths = lengths[lengths > 0]
        num_inserts = num_to_mask - lengths.size(0)
        num_to_mask -= num_inserts
        if num_to_mask == 0:
            return self.add_insertion_noise(source, num_inserts / source.size(0))
        assert (lengths > 0).all()
        assert is_word_start[-1] == 0
        word_starts = is_word_start.nonzero(as_tuple=False)
        indices = word_starts[torch.randperm(word_starts.size(0))[:num_to_mask]].squeeze(1)
        mask_random = torch.FloatTensor(num_to_mask).uniform_() < self.random_ratio
        source_length = source.size(0)
        assert source_length - 1 not in indices
        to_keep = torch.ones(source_length, dtype=torch.bool)
        is_word_start[-1] = 255  # acts as a long length, so spans don't go over the end of doc
        # keep index, but replace it with [MASK]
        source[indices] = self.mask_idx
        source[indices[mask_random]] = torch.randint(4, VOCAB, size=(mask_random.sum(),))
        assert len(lengths.size()) == 1
        assert lengths.size() == indices.size()
        lengths -= 1
        while indices.size(0) > 0:
            assert lengths.size() == indices.size()
            lengths -= is_word_start[indices + 1].long()
            uncompleted = lengths >= 0
            indices = indices[uncompleted] + 1
            mask_random = mask_random[uncompleted]
            lengths = lengths[uncompleted]
            # delete token
            to_keep[indices] = 0
        source = source[to_keep]
        if num_inserts > 0:
            source = self.add_insertion_noise(source, num_inserts / source.size(0))
        return source

    def add_insertion_noise(self, tokens, p):
        if p == 0.0:
            return tokens
        num_tokens = len(tokens)
        n = int(math.ceil(num_tokens * p))
        noise_indices = torch.randperm(num_tokens + n - 2)[:n] + 1
        noise_mask = torch.zeros(size=(num_tokens + n,), dtype=torch.bool)
        noise_mask[noise_indices] = 1
        result = torch.LongTensor(n + len(tokens)).fill_(-1)
        num_random = int(math.ceil(n * self.random_ratio))
        result[noise_indices[num_random:]] = self.mask_idx
        result[noise_indices[:num_random]] = torch.randint(low=4, high=VOCAB, size=(num_random,))
        result[~noise_mask] = tokens
        assert (result >= 0).all()
        return result


def collate(samples):
    source = pad_sequence([s["source"] for s in samples], batch_first=True, padding_value=PAD)
    target = pad_sequence([s["target"] for s in samples], batch_first=True, padding_value=PAD)
    prev_output_tokens = torch.roll(target, 1, dims=1)  # fairseq: EOS moved to the front
    prev_output_tokens[:, 0] = EOS
    return source, prev_output_tokens.masked_fill(prev_output_tokens == PAD, PAD), target


class BartLike(nn.Module):
    def __init__(self, d_model=16, nhead=2, max_len=32):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, d_model, padding_idx=PAD)
        self.pos = nn.Embedding(max_len, d_model)
        self.transformer = nn.Transformer(
            d_model,
            nhead,
            num_encoder_layers=1,
            num_decoder_layers=1,
            dim_feedforward=32,
            dropout=0.0,
            activation="gelu",
            batch_first=True,
            norm_first=False,
        )
        self.out = nn.Linear(d_model, VOCAB, bias=False)
        self.out.weight = self.embed.weight

    def embed_tokens(self, tokens):
        positions = torch.arange(tokens.size(1), device=tokens.device)
        return self.embed(tokens) + self.pos(positions)  # BART: scale_embedding=False

    def forward(self, src, prev):
        tgt_mask = nn.Transformer.generate_square_subsequent_mask(prev.size(1))
        h = self.transformer(
            self.embed_tokens(src),
            self.embed_tokens(prev),
            tgt_mask=tgt_mask,
            src_key_padding_mask=src == PAD,
            tgt_key_padding_mask=prev == PAD,
            memory_key_padding_mask=src == PAD,
            tgt_is_causal=True,
        )
        return self.out(h)


def make_doc():
    words = []
    for _ in range(int(rng.integers(4, 7))):
        start = int(rng.integers(4, 10))
        words += [start] + [start + 6] * int(rng.integers(0, 2))  # a start and its continuation
    return torch.tensor([BOS] + words + [EOS])


docs = [make_doc() for _ in range(16)]
dataset = DenoisingDataset(docs)
example = dataset[0]
example_pair = [example["target"].tolist(), example["source"].tolist()]
masks_in_sources = [int((dataset[i]["source"] == MASK).sum()) for i in range(6)]
# a fixed corpus of three noisings per document (fairseq re-noises every epoch; the noising is
# the slow, per-sample part, so it is done once here)
corpus = [dataset[i % len(dataset)] for i in range(3 * len(dataset))]
length_ratio = sum(len(s["source"]) for s in corpus) / sum(len(s["target"]) for s in corpus)

model = BartLike()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2, betas=(0.9, 0.98), eps=1e-6)
criterion = nn.CrossEntropyLoss(ignore_index=PAD, label_smoothing=0.1)
loader = torch.utils.data.DataLoader(corpus, batch_size=12, shuffle=True, collate_fn=collate)
losses = []
for epoch in range(10):
    for src, prev, tgt in loader:
        logits = model(src, prev)
        loss = criterion(logits.reshape(-1, VOCAB), tgt.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.1 * 10)
        optimizer.step()
        losses.append(loss.item())

model.eval()
with torch.no_grad():
    src, _, tgt = collate(corpus[:4])
    out = torch.full((4, 1), EOS)
    for _ in range(tgt.size(1) - 1):
        next_token = model(src, out)[:, -1].argmax(-1, keepdim=True)
        out = torch.cat([out, next_token], dim=1)
decoded = out[:, 1:].tolist()
token_accuracy = (
    ((out[:, 1:] == tgt[:, : out.size(1) - 1]) | (tgt[:, : out.size(1) - 1] == PAD))
    .float()
    .mean()
    .item()
)
