"""A sequence-reversal seq2seq with ``nn.TransformerEncoder`` and ``nn.TransformerDecoder``
(batch_first) as people assemble them by hand: a causal ``tgt_mask`` from
``nn.Transformer.generate_square_subsequent_mask``, ``src_key_padding_mask`` and
``tgt_key_padding_mask`` for sequences of different lengths padded with PAD,
``memory_key_padding_mask``, teacher forcing with a shifted target, cross-entropy with
``ignore_index=PAD``, and greedy decoding one token at a time in eval mode."""

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy

PAD, BOS, EOS = 0, 1, 2
vocab, d_model, max_len = 9, 16, 7
rng = np.random.default_rng(3)


def make_batch(n):
    lengths = rng.integers(2, 6, size=n)
    src = np.full((n, max_len), PAD)
    tgt = np.full((n, max_len), PAD)
    for i, length in enumerate(lengths):
        seq = rng.integers(3, vocab, size=length)
        src[i, :length] = seq
        tgt[i, 0] = BOS
        tgt[i, 1 : length + 1] = seq[::-1]
        tgt[i, length + 1] = EOS
    return torch.from_numpy(src), torch.from_numpy(tgt)


class PositionalEncoding(nn.Module):
    def __init__(self, d_model, max_len=16):
        super().__init__()
        position = torch.arange(max_len).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        pe = torch.zeros(1, max_len, d_model)
        pe[0, :, 0::2] = torch.sin(position * div_term)
        pe[0, :, 1::2] = torch.cos(position * div_term)
        self.register_buffer("pe", pe)

    def forward(self, x):
        return x + self.pe[:, : x.size(1)]


class Seq2Seq(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(vocab, d_model, padding_idx=PAD)
        self.pos = PositionalEncoding(d_model)
        enc_layer = nn.TransformerEncoderLayer(d_model, 2, 32, dropout=0.0, batch_first=True)
        dec_layer = nn.TransformerDecoderLayer(d_model, 2, 32, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(enc_layer, num_layers=1, enable_nested_tensor=False)
        self.decoder = nn.TransformerDecoder(dec_layer, num_layers=1, norm=nn.LayerNorm(d_model))
        self.out = nn.Linear(d_model, vocab)

    def encode(self, src):
        src_pad = src == PAD
        memory = self.encoder(
            self.pos(self.embed(src) * math.sqrt(d_model)), src_key_padding_mask=src_pad
        )
        return memory, src_pad

    def decode(self, tgt_in, memory, src_pad):
        tgt_mask = nn.Transformer.generate_square_subsequent_mask(tgt_in.size(1))
        h = self.decoder(
            self.pos(self.embed(tgt_in) * math.sqrt(d_model)),
            memory,
            tgt_mask=tgt_mask,
            tgt_key_padding_mask=tgt_in == PAD,
            memory_key_padding_mask=src_pad,
            tgt_is_causal=True,
        )
        return self.out(h)

    def forward(self, src, tgt_in):
        memory, src_pad = self.encode(src)
        return self.decode(tgt_in, memory, src_pad)


model = init_from_numpy(Seq2Seq(), seed=3)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
losses = []
for step in range(40):
    src, tgt = make_batch(16)
    logits = model(src, tgt[:, :-1])
    loss = F.cross_entropy(logits.reshape(-1, vocab), tgt[:, 1:].reshape(-1), ignore_index=PAD)
    optimizer.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    losses.append(loss.item())

model.eval()
src, tgt = make_batch(8)
with torch.no_grad():
    memory, src_pad = model.encode(src)
    ys = torch.full((src.size(0), 1), BOS, dtype=torch.long)
    for _ in range(max_len - 1):
        next_token = model.decode(ys, memory, src_pad)[:, -1].argmax(-1, keepdim=True)
        ys = torch.cat([ys, next_token], dim=1)
    first_logits = model(src, tgt[:, :-1])[0, :3].tolist()
decoded = ys.tolist()
mask_values = nn.Transformer.generate_square_subsequent_mask(3).tolist()
print(f"loss {losses[0]:.3f} -> {losses[-1]:.3f}; decoded {decoded[0]} for {src[0].tolist()}")
