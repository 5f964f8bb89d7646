"""Dynamic quantization of a small LSTM word language model, following the PyTorch dynamic
quantization tutorial: ``quantize_dynamic`` with ``{nn.LSTM, nn.Linear}`` and ``torch.qint8``
(weights int8, activations quantized on the fly), the model's modules swapped, perplexity of
the float and quantized models on held-out text, and the state dict's size shrinking."""

import io
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy


class LSTMModel(nn.Module):
    def __init__(self, ntoken, ninp, nhid, nlayers):
        super().__init__()
        self.encoder = nn.Embedding(ntoken, ninp)
        self.rnn = nn.LSTM(ninp, nhid, nlayers)
        self.decoder = nn.Linear(nhid, ntoken)
        self.nhid, self.nlayers = nhid, nlayers

    def forward(self, input, hidden):
        output, hidden = self.rnn(self.encoder(input), hidden)
        return self.decoder(output), hidden

    def init_hidden(self, bsz):
        weight = next(self.parameters())
        return (
            weight.new_zeros(self.nlayers, bsz, self.nhid),
            weight.new_zeros(self.nlayers, bsz, self.nhid),
        )


rng = np.random.default_rng(14)
ntokens = 12
pattern = [0, 3, 5, 7, 3, 5, 9, 1]
stream = torch.tensor((pattern * 40)[:300]) + torch.from_numpy((rng.random(300) < 0.1) * 2)
stream = stream % ntokens
data = stream.reshape(-1, 4)  # (seq, batch)
model = init_from_numpy(LSTMModel(ntokens, 8, 16, 2), seed=14)
opt = torch.optim.Adam(model.parameters(), lr=0.02)
train_losses = []
for epoch in range(3):
    hidden = model.init_hidden(4)
    for i in range(0, 50, 10):
        hidden = tuple(h.detach() for h in hidden)
        x, y = data[i : i + 10], data[i + 1 : i + 11]
        opt.zero_grad()
        out, hidden = model(x, hidden)
        loss = F.cross_entropy(out.reshape(-1, ntokens), y.reshape(-1))
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 0.25)
        opt.step()
    train_losses.append(loss.item())
model.eval()


def evaluate(m):
    hidden = m.init_hidden(4)
    with torch.no_grad():
        out, _ = m(data[50:-1], hidden)
        return F.cross_entropy(out.reshape(-1, ntokens), data[51:].reshape(-1)).item()


quantized = torch.ao.quantization.quantize_dynamic(model, {nn.LSTM, nn.Linear}, dtype=torch.qint8)
module_types = [type(m).__name__ for m in quantized.children()]
float_ppl = math.exp(evaluate(model))
quant_ppl = math.exp(evaluate(quantized))


def size_of(m):
    buffer = io.BytesIO()
    torch.save(m.state_dict(), buffer)
    return buffer.getbuffer().nbytes


smaller = size_of(quantized) < size_of(model)
with torch.no_grad():
    float_logits, _ = model(data[:5], model.init_hidden(4))
    quant_logits, _ = quantized(data[:5], quantized.init_hidden(4))
logit_gap = (float_logits - quant_logits).abs().max().item()
quant_values = quant_logits[0, 0].tolist()
decoder_weight_scale = quantized.decoder.weight().q_scale()
