"""The full encoder-decoder nn.Transformer as tutorials use it for a toy translation task
(reverse a sequence of digits): batch_first=True, norm_first=True, the causal mask from
nn.Transformer.generate_square_subsequent_mask, src/tgt key padding masks for padded
sequences, memory_key_padding_mask, sinusoidal positions as a buffer, a tied output
projection, and greedy decoding one token at a time under torch.inference_mode()."""

import math

import numpy as np
import torch
import torch.nn as nn
from numpy_init import init_from_numpy

PAD, BOS, EOS, VOCAB = 0, 1, 2, 12


class PositionalEncoding(nn.Module):
    def __init__(self, d_model, max_len=32):
        super().__init__()
        position = torch.arange(max_len).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        pe = torch.zeros(1, max_len, d_model)
        pe[0, :, 0::2] = torch.sin(position * div_term)
        pe[0, :, 1::2] = torch.cos(position * div_term)
        self.register_buffer("pe", pe)

    def forward(self, x):
        return x + self.pe[:, : x.size(1)]


class Seq2SeqTransformer(nn.Module):
    def __init__(self, d_model=32, nhead=4, layers=1):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, d_model, padding_idx=PAD)
        self.pos = PositionalEncoding(d_model)
        self.transformer = nn.Transformer(
            d_model,
            nhead,
            layers,
            layers,
            dim_feedforward=64,
            dropout=0.0,
            batch_first=True,
            norm_first=True,
        )
        self.generator = nn.Linear(d_model, VOCAB)
        self.d_model = d_model

    def encode(self, src, src_padding_mask):
        return self.transformer.encoder(
            self.pos(self.embed(src) * math.sqrt(self.d_model)),
            src_key_padding_mask=src_padding_mask,
        )

    def decode(self, tgt, memory, memory_padding_mask, tgt_padding_mask=None):
        tgt_mask = nn.Transformer.generate_square_subsequent_mask(tgt.size(1))
        out = self.transformer.decoder(
            self.pos(self.embed(tgt) * math.sqrt(self.d_model)),
            memory,
            tgt_mask=tgt_mask,
            tgt_key_padding_mask=tgt_padding_mask,
            memory_key_padding_mask=memory_padding_mask,
            tgt_is_causal=True,
        )
        return self.generator(out)

    def forward(self, src, tgt):
        src_padding_mask, tgt_padding_mask = src == PAD, tgt == PAD
        memory = self.encode(src, src_padding_mask)
        return self.decode(tgt, memory, src_padding_mask, tgt_padding_mask)


def make_batch(rng, n):
    srcs, tgts = [], []
    for _ in range(n):
        digits = rng.integers(3, VOCAB, int(rng.integers(2, 6))).tolist()
        srcs.append(torch.tensor(digits + [EOS]))
        tgts.append(torch.tensor([BOS] + digits[::-1] + [EOS]))
    pad = lambda seqs: nn.utils.rnn.pad_sequence(seqs, batch_first=True, padding_value=PAD)  # noqa: E731
    return pad(srcs), pad(tgts)


rng = np.random.default_rng(0)
model = init_from_numpy(Seq2SeqTransformer())
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3, betas=(0.9, 0.98), eps=1e-9)
loss_fn = nn.CrossEntropyLoss(ignore_index=PAD)
losses = []
for step in range(50):
    src, tgt = make_batch(rng, 32)
    logits = model(src, tgt[:, :-1])
    loss = loss_fn(logits.reshape(-1, VOCAB), tgt[:, 1:].reshape(-1))
    optimizer.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    losses.append(loss.item())
    if step % 20 == 0:
        print(f"step {step}: loss {loss.item():.4f}")


@torch.inference_mode()
def greedy_decode(model, src, max_len=8):
    model.eval()
    src_padding_mask = src == PAD
    memory = model.encode(src, src_padding_mask)
    ys = torch.full((src.size(0), 1), BOS, dtype=torch.long)
    for _ in range(max_len - 1):
        next_word = model.decode(ys, memory, src_padding_mask)[:, -1].argmax(-1)
        ys = torch.cat([ys, next_word.unsqueeze(1)], dim=1)
    return ys


src, tgt = make_batch(rng, 16)
decoded = greedy_decode(model, src)
exact = 0
for row, target in zip(decoded.tolist(), tgt.tolist()):
    target = target[: target.index(EOS) + 1]
    exact += row[: len(target)] == target
mask = nn.Transformer.generate_square_subsequent_mask(3)
print(f"exact reversals {exact}/16; causal mask {mask.tolist()}")
