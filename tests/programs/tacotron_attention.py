"""Tacotron 2's decoder (Shen et al., 2018) as NVIDIA's PyTorch implementation writes it: a
prenet whose dropout stays on at inference (F.dropout(training=True)), location-sensitive
attention (a Conv1d over the previous and cumulative attention weights, masked_fill of padded
encoder steps with -inf), an LSTMCell decoder stepping with teacher forcing over mel frames, a
stop-token gate trained with BCE-with-logits (pos_weight), a guided-attention loss that keeps
the alignment near the diagonal, and greedy free-running inference that stops on the gate."""

import torch
import torch.nn as nn
import torch.nn.functional as F

N_SYMBOLS, N_MELS, ENC, ATT, RNN = 10, 8, 16, 12, 24


class LocationLayer(nn.Module):
    def __init__(self, filters=4, kernel=5):
        super().__init__()
        self.conv = nn.Conv1d(2, filters, kernel, padding=(kernel - 1) // 2, bias=False)
        self.dense = nn.Linear(filters, ATT, bias=False)

    def forward(self, attention_weights_cat):  # (B, 2, T_in)
        return self.dense(self.conv(attention_weights_cat).transpose(1, 2))


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.query_layer = nn.Linear(RNN, ATT, bias=False)
        self.memory_layer = nn.Linear(ENC, ATT, bias=False)
        self.v = nn.Linear(ATT, 1, bias=False)
        self.location_layer = LocationLayer()

    def forward(self, query, memory, processed_memory, weights_cat, mask):
        energies = self.v(
            torch.tanh(
                self.query_layer(query.unsqueeze(1))
                + self.location_layer(weights_cat)
                + processed_memory
            )
        ).squeeze(-1)
        energies = energies.masked_fill(mask, -float("inf"))
        weights = F.softmax(energies, dim=1)
        return torch.bmm(weights.unsqueeze(1), memory).squeeze(1), weights


class Tacotron(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(N_SYMBOLS, ENC)
        self.encoder = nn.LSTM(ENC, ENC // 2, batch_first=True, bidirectional=True)
        self.prenet = nn.ModuleList([nn.Linear(N_MELS, 16), nn.Linear(16, 16)])
        self.attention = Attention()
        self.decoder = nn.LSTMCell(16 + ENC, RNN)
        self.proj = nn.Linear(RNN + ENC, N_MELS)
        self.gate = nn.Linear(RNN + ENC, 1)

    def run_prenet(self, x):
        for linear in self.prenet:
            x = F.dropout(F.relu(linear(x)), p=0.5, training=True)
        return x

    def decode(self, memory, lengths, frames=None, max_steps=20):
        B, T_in, _ = memory.shape
        mask = torch.arange(T_in).unsqueeze(0) >= lengths.unsqueeze(1)
        processed = self.attention.memory_layer(memory)
        h, c = memory.new_zeros(B, RNN), memory.new_zeros(B, RNN)
        weights, cum = memory.new_zeros(B, T_in), memory.new_zeros(B, T_in)
        context = memory.new_zeros(B, ENC)
        frame = memory.new_zeros(B, N_MELS)  # the <GO> frame
        mels, gates, alignments = [], [], []
        steps = frames.size(1) if frames is not None else max_steps
        for t in range(steps):
            h, c = self.decoder(torch.cat([self.run_prenet(frame), context], -1), (h, c))
            weights_cat = torch.cat([weights.unsqueeze(1), cum.unsqueeze(1)], dim=1)
            context, weights = self.attention(h, memory, processed, weights_cat, mask)
            cum = cum + weights
            out = torch.cat([h, context], -1)
            mels.append(self.proj(out))
            gates.append(self.gate(out).squeeze(1))
            alignments.append(weights)
            frame = frames[:, t] if frames is not None else mels[-1]
            if frames is None and torch.sigmoid(gates[-1]).min() > 0.5:
                break
        return torch.stack(mels, 1), torch.stack(gates, 1), torch.stack(alignments, 1)

    def forward(self, text, lengths, frames=None):
        memory, _ = self.encoder(self.embedding(text))
        return self.decode(memory, lengths, frames)


def guided_attention_loss(alignments, in_lengths, out_len, g=0.3):
    n = torch.arange(out_len).float().view(1, -1, 1) / out_len
    t = torch.arange(alignments.size(2)).float().view(1, 1, -1) / in_lengths.view(-1, 1, 1)
    w = 1 - torch.exp(-((n - t) ** 2) / (2 * g * g))
    return (alignments * w).mean()


def make_batch(n, generator):
    """Each symbol is spoken as 2 frames of its own mel pattern; the gate fires on the last."""
    lengths = torch.randint(3, 6, (n,), generator=generator)
    text = torch.randint(1, N_SYMBOLS, (n, 5), generator=generator)
    text = text * (torch.arange(5) < lengths.unsqueeze(1))
    table = torch.linspace(-1, 1, N_SYMBOLS * N_MELS).view(N_SYMBOLS, N_MELS).sin()
    frames = table[text].repeat_interleave(2, dim=1)  # (n, 10, N_MELS)
    gate = (torch.arange(10) >= 2 * lengths.unsqueeze(1) - 1).float()
    return text, lengths, frames, gate


torch.manual_seed(0)
g = torch.Generator().manual_seed(0)
text, lengths, frames, gate_target = make_batch(32, g)
model = Tacotron()
optimizer = torch.optim.Adam(model.parameters(), lr=5e-3, weight_decay=1e-6)
gate_criterion = nn.BCEWithLogitsLoss(pos_weight=torch.tensor(3.0))
losses, mel_losses, attn_losses = [], [], []
for step in range(14):
    mels, gates, alignments = model(text, lengths, frames)
    mel_loss = F.mse_loss(mels, frames)
    attn_loss = guided_attention_loss(alignments, lengths, frames.size(1))
    loss = mel_loss + gate_criterion(gates, gate_target) + attn_loss
    optimizer.zero_grad()
    loss.backward()
    grad_norm = nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    losses.append(loss.item())
    mel_losses.append(mel_loss.item())
    attn_losses.append(attn_loss.item())
padded_attention = alignments.detach()[lengths == 3][:, :, 3:].abs().max().item()
model.eval()
with torch.no_grad():
    torch.manual_seed(5)
    mels_inf, gates_inf, align_inf = model(text[:4], lengths[:4])
inference_steps = mels_inf.size(1)
print(f"loss {losses[0]:.3f} -> {losses[-1]:.3f}, inference {inference_steps} steps")
