"""ESIM (Chen et al., 2017), enhanced sequential inference for natural language inference, as
its PyTorch ports (coetaur0/ESIM) write it: premises and hypotheses of different lengths padded
by pad_sequence, encoded by a BiLSTM over pack_padded_sequence(enforce_sorted=False), soft
alignment by a masked softmax over the attention matrix (bmm), enhancement [a; b; a-b; a*b]
projected and composed by a second BiLSTM, then masked average and max pooling; three classes
(entailment, contradiction, neutral) of a toy logic on token sets, with label smoothing."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence

VOCAB, EMB, HID = 14, 12, 10


def masked_softmax(scores, mask):
    """Softmax over the last dim where mask is 1; the ports multiply then renormalize."""
    result = F.softmax(scores * mask, dim=-1) * mask
    return result / (result.sum(dim=-1, keepdim=True) + 1e-13)


class Seq2SeqEncoder(nn.Module):
    def __init__(self, input_size):
        super().__init__()
        self.lstm = nn.LSTM(input_size, HID, batch_first=True, bidirectional=True)

    def forward(self, x, lengths):
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        out, _ = self.lstm(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=x.size(1))
        return out


class ESIM(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(VOCAB, EMB, padding_idx=0)
        self.encoding = Seq2SeqEncoder(EMB)
        self.projection = nn.Sequential(nn.Linear(8 * HID, HID), nn.ReLU())
        self.composition = Seq2SeqEncoder(HID)
        self.classification = nn.Sequential(
            nn.Dropout(0.2), nn.Linear(8 * HID, HID), nn.Tanh(), nn.Dropout(0.2), nn.Linear(HID, 3)
        )

    def forward(self, premises, p_len, hypotheses, h_len):
        p_mask, h_mask = (premises != 0).float(), (hypotheses != 0).float()
        a = self.encoding(self.emb(premises), p_len)
        b = self.encoding(self.emb(hypotheses), h_len)
        similarity = a.bmm(b.transpose(2, 1).contiguous())
        p_attn = masked_softmax(similarity, h_mask.unsqueeze(1))
        h_attn = masked_softmax(similarity.transpose(1, 2).contiguous(), p_mask.unsqueeze(1))
        a_tilde = p_attn.bmm(b) * p_mask.unsqueeze(-1)
        b_tilde = h_attn.bmm(a) * h_mask.unsqueeze(-1)
        m_a = torch.cat([a, a_tilde, a - a_tilde, a * a_tilde], dim=-1)
        m_b = torch.cat([b, b_tilde, b - b_tilde, b * b_tilde], dim=-1)
        v_a = self.composition(self.projection(m_a), p_len)
        v_b = self.composition(self.projection(m_b), h_len)
        v_a_avg = (v_a * p_mask.unsqueeze(-1)).sum(1) / p_mask.sum(1, keepdim=True)
        v_b_avg = (v_b * h_mask.unsqueeze(-1)).sum(1) / h_mask.sum(1, keepdim=True)
        v_a_max, _ = v_a.masked_fill(p_mask.unsqueeze(-1) == 0, -1e7).max(dim=1)
        v_b_max, _ = v_b.masked_fill(h_mask.unsqueeze(-1) == 0, -1e7).max(dim=1)
        return self.classification(torch.cat([v_a_avg, v_a_max, v_b_avg, v_b_max], dim=1))


def make_pairs(n, generator):
    """Entailment: the hypothesis is a subset of the premise; contradiction: it holds token 1
    ("not") with a premise token; neutral: it holds a token the premise lacks."""
    premises, hypotheses, labels = [], [], []
    for i in range(n):
        length = int(torch.randint(3, 7, (1,), generator=generator))
        p = torch.randperm(VOCAB - 2, generator=generator)[:length] + 2
        h = p[torch.randperm(length, generator=generator)[: max(1, length // 2)]]
        label = i % 3
        if label == 1:
            h = torch.cat([torch.tensor([1]), h])
        elif label == 2:
            missing = [t for t in range(2, VOCAB) if t not in p.tolist()]
            h = torch.cat([h, torch.tensor(missing[:1])])
        premises.append(p)
        hypotheses.append(h)
        labels.append(label)
    lengths = lambda seqs: torch.tensor([len(s) for s in seqs])  # noqa: E731
    return (
        pad_sequence(premises, batch_first=True),
        lengths(premises),
        pad_sequence(hypotheses, batch_first=True),
        lengths(hypotheses),
        torch.tensor(labels),
    )


torch.manual_seed(0)
g = torch.Generator().manual_seed(0)
p, p_len, h, h_len, y = make_pairs(240, g)
model = ESIM()
criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
losses = []
for epoch in range(5):
    model.train()
    for idx in torch.randperm(192).split(48):
        loss = criterion(model(p[idx], p_len[idx], h[idx], h_len[idx]), y[idx])
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 10.0)
        optimizer.step()
        losses.append(loss.item())
model.eval()
with torch.no_grad():
    logits = model(p[192:], p_len[192:], h[192:], h_len[192:])
    accuracy = (logits.argmax(1) == y[192:]).float().mean().item()
    padded = torch.cat([h[192:], torch.zeros(48, 3, dtype=torch.long)], 1)  # more padding
    padding_gap = (model(p[192:], p_len[192:], padded, h_len[192:]) - logits).abs().max().item()
print(f"loss {losses[0]:.3f} -> {losses[-1]:.3f}, accuracy {accuracy:.3f}, gap {padding_gap:.1e}")
