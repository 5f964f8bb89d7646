"""A GRU encoder-decoder learning to reverse digit strings, trained with teacher forcing that
decays by scheduled sampling (Bengio et al., 2015): at each decoder step a coin flip from
torch.rand decides between the ground-truth token and the model's own argmax, with an inverse
sigmoid decay of the teacher-forcing ratio; the encoder takes a padded, packed batch of
variable-length sequences (pack_padded_sequence enforce_sorted=False), the decoder is a GRUCell
fed its embedded previous token, and the loss ignores padding (ignore_index). Greedy decoding
with early stopping at EOS measures exact-match accuracy."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_sequence

PAD, SOS, EOS = 0, 1, 2  # digits are tokens 3..12
VOCAB, MAX_LEN = 13, 7


def make_batch(n, generator):
    lengths = torch.randint(2, MAX_LEN, (n,), generator=generator)
    src = [torch.randint(3, VOCAB, (int(n_),), generator=generator) for n_ in lengths]
    tgt = [torch.cat([s.flip(0), torch.tensor([EOS])]) for s in src]
    return pad_sequence(src, batch_first=True), lengths, pad_sequence(tgt, batch_first=True)


class Seq2Seq(nn.Module):
    def __init__(self, hidden=48):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, 16, padding_idx=PAD)
        self.encoder = nn.GRU(16, hidden, batch_first=True, bidirectional=True)
        self.bridge = nn.Linear(2 * hidden, hidden)
        self.decoder = nn.GRUCell(16, hidden)
        self.out = nn.Linear(hidden, VOCAB)

    def encode(self, src, lengths):
        packed = pack_padded_sequence(
            self.embed(src), lengths, batch_first=True, enforce_sorted=False
        )
        _, h = self.encoder(packed)  # (2, B, H), in the batch's original order
        return torch.tanh(self.bridge(torch.cat([h[0], h[1]], dim=1)))

    def forward(self, src, lengths, tgt, teacher_forcing_ratio):
        h = self.encode(src, lengths)
        token = torch.full((src.size(0),), SOS, dtype=torch.long)
        logits, used_truth = [], 0
        for t in range(tgt.size(1)):
            h = self.decoder(self.embed(token), h)
            step_logits = self.out(h)
            logits.append(step_logits)
            teacher = torch.rand(()) < teacher_forcing_ratio
            used_truth += int(teacher)
            token = tgt[:, t] if teacher else step_logits.argmax(1)
        return torch.stack(logits, dim=1), used_truth

    @torch.no_grad()
    def greedy(self, src, lengths, max_len=MAX_LEN + 1):
        h = self.encode(src, lengths)
        token = torch.full((src.size(0),), SOS, dtype=torch.long)
        outputs, finished = [], torch.zeros(src.size(0), dtype=torch.bool)
        for _ in range(max_len):
            h = self.decoder(self.embed(token), h)
            token = self.out(h).argmax(1).masked_fill(finished, PAD)
            outputs.append(token)
            finished |= token == EOS
            if finished.all():
                break
        return torch.stack(outputs, dim=1)


torch.manual_seed(0)
g = torch.Generator().manual_seed(0)
model = Seq2Seq()
optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
k = 20.0
losses, ratios, truth_steps = [], [], []
for step in range(120):
    ratio = k / (k + math.exp(step / k))  # inverse sigmoid decay
    src, lengths, tgt = make_batch(32, g)
    logits, used = model(src, lengths, tgt, ratio)
    loss = F.cross_entropy(logits.reshape(-1, VOCAB), tgt.reshape(-1), ignore_index=PAD)
    optimizer.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    losses.append(loss.item())
    ratios.append(ratio)
    truth_steps.append(used)

src, lengths, tgt = make_batch(200, g)
pred = model.greedy(src, lengths)
width = max(pred.size(1), tgt.size(1))
pred, tgt = F.pad(pred, (0, width - pred.size(1))), F.pad(tgt, (0, width - tgt.size(1)))
exact_match = (pred == tgt).all(1).float().mean().item()
token_accuracy = ((pred == tgt) | (tgt == PAD)).float().mean().item()
print(f"loss {losses[0]:.3f} -> {losses[-1]:.3f}; ratio {ratios[0]:.2f} -> {ratios[-1]:.2f}")
print(f"exact match {exact_match:.3f}, token accuracy {token_accuracy:.3f}")
