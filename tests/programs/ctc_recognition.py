"""Sequence recognition with CTC (Graves et al. 2006) as people write it for PyTorch (speech or
handwriting tutorials): a Conv1d front end and a bidirectional GRU over variable-length frame
sequences packed with pack_padded_sequence(enforce_sorted=False), log_softmax(2) in (T, N, C)
layout, nn.CTCLoss(blank=0, zero_infinity=True) with padded and with concatenated targets,
greedy decoding by argmax and unique_consecutive, and a character error rate."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence

torch.manual_seed(0)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

n_symbols, n_features = 5, 8  # labels 1..5, 0 is the CTC blank
prototypes = torch.randn(n_symbols + 1, n_features) * 2  # row 0: silence


def make_utterance():
    """A label sequence rendered as frames: each symbol lasts 2-4 frames, with silence between
    repeats and at random elsewhere; Gaussian noise on every frame."""
    length = torch.randint(2, 6, (1,)).item()
    labels = torch.randint(1, n_symbols + 1, (length,))
    frames = []
    for i, s in enumerate(labels.tolist()):
        if i > 0 and (s == labels[i - 1].item() or torch.rand(1).item() < 0.3):
            frames += [0] * torch.randint(1, 3, (1,)).item()
        frames += [s] * torch.randint(2, 5, (1,)).item()
    x = prototypes[torch.tensor(frames)] + 0.5 * torch.randn(len(frames), n_features)
    return x, labels


class Recognizer(nn.Module):
    def __init__(self, hidden=32):
        super().__init__()
        self.conv = nn.Conv1d(n_features, hidden, kernel_size=3, padding=1)
        self.rnn = nn.GRU(hidden, hidden, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(2 * hidden, n_symbols + 1)

    def forward(self, x, lengths):
        # x: (N, T, F) -> conv over time in (N, F, T)
        x = F.relu(self.conv(x.transpose(1, 2))).transpose(1, 2)
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, _ = self.rnn(packed)
        out, out_lengths = pad_packed_sequence(out, batch_first=True)
        logits = self.fc(out)  # (N, T, C)
        return logits.log_softmax(2).transpose(0, 1), out_lengths  # (T, N, C) for CTCLoss


def batch(n):
    xs, ys = zip(*[make_utterance() for _ in range(n)])
    input_lengths = torch.tensor([len(x) for x in xs], dtype=torch.long)
    target_lengths = torch.tensor([len(y) for y in ys], dtype=torch.long)
    return pad_sequence(xs, batch_first=True), input_lengths, ys, target_lengths


def greedy_decode(log_probs, lengths):
    """Best path: argmax per frame, merge repeats, drop blanks."""
    best = log_probs.argmax(2).transpose(0, 1)  # (N, T)
    decoded = []
    for path, n in zip(best, lengths.tolist()):
        merged = torch.unique_consecutive(path[:n])
        decoded.append([s for s in merged.tolist() if s != 0])
    return decoded


def edit_distance(a, b):
    d = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        prev, d[0] = d[0], i
        for j in range(1, len(b) + 1):
            cur = min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] != b[j - 1]))
            prev, d[j] = d[j], cur
    return d[-1]


model = Recognizer().to(device)
ctc_loss = nn.CTCLoss(blank=0, zero_infinity=True)
optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=40, gamma=0.5)
losses, gaps = [], []
for step in range(80):
    x, input_lengths, ys, target_lengths = batch(16)
    log_probs, out_lengths = model(x.to(device), input_lengths)
    padded_targets = pad_sequence(list(ys), batch_first=True)  # (N, S), padding ignored
    loss = ctc_loss(log_probs, padded_targets, out_lengths, target_lengths)
    optimizer.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 5.0)
    optimizer.step()
    scheduler.step()
    losses.append(loss.item())
    if step % 16 == 0:
        with torch.no_grad():  # the same loss from concatenated 1-D targets
            flat = ctc_loss(log_probs, torch.cat(ys), out_lengths, target_lengths)
        gaps.append(abs(flat.item() - loss.item()))
        print(f"step {step}: ctc loss {loss.item():.4f}")

model.eval()
with torch.no_grad():
    x, input_lengths, ys, target_lengths = batch(64)
    log_probs, out_lengths = model(x, input_lengths)
    decoded = greedy_decode(log_probs, out_lengths)
errors = sum(edit_distance(d, y.tolist()) for d, y in zip(decoded, ys))
cer = errors / target_lengths.sum().item()
exact = sum(d == y.tolist() for d, y in zip(decoded, ys))
print(f"CER {cer:.3f}, exact {exact}/64, e.g. {ys[0].tolist()} -> {decoded[0]}")
