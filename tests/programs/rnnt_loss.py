"""An RNN-Transducer (Graves, 2012) trained with the transducer loss written by hand, as
speech recognition tutorials do before torchaudio's rnnt_loss: an LSTM encoder over acoustic
frames, an embedding + LSTM prediction network over the label history (blank-prefixed), a joint
network adding both through broadcasting into a (B, T, U+1, V) lattice, the forward variable
alpha computed over anti-diagonals with torch.logaddexp and log_softmax gathers, per-utterance
lengths picked from the lattice, and greedy decoding (at most one symbol per frame)."""

import torch
import torch.nn as nn
import torch.nn.functional as F

BLANK, VOCAB, FEAT, H = 0, 5, 6, 16


class Transducer(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.LSTM(FEAT, H, batch_first=True)
        self.embed = nn.Embedding(VOCAB, H)
        self.predictor = nn.LSTM(H, H, batch_first=True)
        self.joint_enc, self.joint_pred = nn.Linear(H, H), nn.Linear(H, H, bias=False)
        self.out = nn.Linear(H, VOCAB)

    def joint(self, f, g):  # f (B, T, 1, H), g (B, 1, U+1, H)
        return self.out(torch.tanh(self.joint_enc(f) + self.joint_pred(g)))

    def forward(self, x, y):
        f, _ = self.encoder(x)
        y_in = F.pad(y, (1, 0), value=BLANK)  # the predictor starts from blank
        g, _ = self.predictor(self.embed(y_in))
        return self.joint(f.unsqueeze(2), g.unsqueeze(1))  # (B, T, U+1, V)


def transducer_loss(logits, targets, frame_lengths, target_lengths):
    log_probs = F.log_softmax(logits, dim=-1)
    B, T, U1, _ = log_probs.shape
    blank = log_probs[..., BLANK]  # (B, T, U+1)
    emit = (
        log_probs[:, :, :-1, :]
        .gather(3, targets.view(B, 1, U1 - 1, 1).expand(B, T, U1 - 1, 1))
        .squeeze(3)
    )  # (B, T, U)
    neg_inf = torch.tensor(float("-inf"))
    alpha = [[None] * U1 for _ in range(T)]
    for t in range(T):
        for u in range(U1):
            if t == 0 and u == 0:
                alpha[t][u] = torch.zeros(B)
                continue
            from_blank = alpha[t - 1][u] + blank[:, t - 1, u] if t > 0 else neg_inf.expand(B)
            from_emit = alpha[t][u - 1] + emit[:, t, u - 1] if u > 0 else neg_inf.expand(B)
            alpha[t][u] = torch.logaddexp(from_blank, from_emit)
    alphas = torch.stack([torch.stack(row, 1) for row in alpha], 1)  # (B, T, U+1)
    b = torch.arange(B)
    final = (
        alphas[b, frame_lengths - 1, target_lengths] + blank[b, frame_lengths - 1, target_lengths]
    )
    return -final.mean()


@torch.no_grad()
def greedy_decode(model, x):
    f, _ = model.encoder(x.unsqueeze(0))
    hyp, state = [], None
    g, state = model.predictor(model.embed(torch.tensor([[BLANK]])), state)
    for t in range(f.size(1)):
        k = model.joint(f[:, t], g[:, 0]).argmax(-1).item()
        if k != BLANK:
            hyp.append(k)
            g, state = model.predictor(model.embed(torch.tensor([[k]])), state)
    return hyp


def make_batch(n, generator):
    """Each label k sounds as 2 frames of one-hot-ish feature k plus noise; silence between."""
    targets = torch.randint(1, VOCAB, (n, 3), generator=generator)
    target_lengths = torch.randint(2, 4, (n,), generator=generator)
    targets = targets * (torch.arange(3) < target_lengths.unsqueeze(1))
    x = 0.1 * torch.randn(n, 9, FEAT, generator=generator)
    for i in range(n):
        for j in range(int(target_lengths[i])):
            x[i, 3 * j : 3 * j + 2, int(targets[i, j])] += 1.0
    frame_lengths = 3 * target_lengths
    return x, targets, frame_lengths, target_lengths


torch.manual_seed(0)
g = torch.Generator().manual_seed(0)
x, targets, frame_lengths, target_lengths = make_batch(24, g)
model = Transducer()
optimizer = torch.optim.Adam(model.parameters(), lr=3e-2)
losses = []
for step in range(40):
    loss = transducer_loss(model(x, targets), targets, frame_lengths, target_lengths)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
grad_norm = sum(p.grad.norm() ** 2 for p in model.parameters()).sqrt().item()
hyps = [greedy_decode(model, x[i, : frame_lengths[i]]) for i in range(6)]
refs = [targets[i, : target_lengths[i]].tolist() for i in range(6)]
correct = sum(h == r for h, r in zip(hyps, refs))
print(f"loss {losses[0]:.3f} -> {losses[-1]:.3f}, {correct}/6 decoded exactly")
