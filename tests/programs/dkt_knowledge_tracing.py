"""Deep Knowledge Tracing (Piech et al. 2015) as the PyTorch ports write it: each interaction
(skill, correct) becomes the index skill + correct * n_skills into an embedding, an LSTM reads
the padded, packed sequences, a Linear layer predicts every skill's probability of a correct
answer, and the prediction for the next question is picked with gather, masked to the real
steps, and trained with binary cross-entropy; scored by accuracy and a ranking AUC."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence

rng = np.random.default_rng(0)
n_skills, n_students = 5, 24
difficulty = rng.normal(0.0, 1.0, n_skills)
sequences = []
for s in range(n_students):
    length = int(rng.integers(6, 13))
    ability = rng.normal()
    skills = rng.integers(0, n_skills, length)
    correct = []
    for t, sk in enumerate(skills):
        p = 1 / (1 + np.exp(-(ability + 0.2 * t - difficulty[sk])))
        correct.append(int(rng.random() < p))
    sequences.append((torch.from_numpy(skills.astype(np.int64)), torch.tensor(correct)))
sequences.sort(key=lambda sc: -len(sc[0]))
lengths = torch.tensor([len(s) for s, _ in sequences])
skills = pad_sequence([s for s, _ in sequences], batch_first=True)
correct = pad_sequence([c for _, c in sequences], batch_first=True, padding_value=-1)


class DKT(nn.Module):
    def __init__(self, n_skills, hidden=16):
        super().__init__()
        self.n_skills = n_skills
        self.embed = nn.Embedding(2 * n_skills + 1, 12, padding_idx=2 * n_skills)
        self.lstm = nn.LSTM(12, hidden, batch_first=True)
        self.out = nn.Linear(hidden, n_skills)

    def forward(self, skills, correct, lengths):
        interaction = skills + self.n_skills * correct.clamp(min=0)
        interaction = interaction.masked_fill(correct < 0, 2 * self.n_skills)
        packed = pack_padded_sequence(self.embed(interaction), lengths, batch_first=True)
        out, _ = self.lstm(packed)
        out, _ = pad_packed_sequence(out, batch_first=True)
        return self.out(out)  # (batch, time, n_skills) logits


def next_step_targets(logits, skills, correct, lengths):
    pred = logits[:, :-1].gather(2, skills[:, 1:].unsqueeze(-1)).squeeze(-1)
    target = correct[:, 1:]
    mask = torch.arange(skills.size(1) - 1).unsqueeze(0) < (lengths - 1).unsqueeze(1)
    return pred[mask], target[mask].float()


model = init_from_numpy(DKT(n_skills))
optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
losses = []
for epoch in range(40):
    optimizer.zero_grad()
    pred, target = next_step_targets(model(skills, correct, lengths), skills, correct, lengths)
    loss = F.binary_cross_entropy_with_logits(pred, target)
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 5.0)
    optimizer.step()
    losses.append(loss.item())
print(f"BCE {losses[0]:.4f} -> {losses[-1]:.4f}")

model.eval()
with torch.no_grad():
    logits = model(skills, correct, lengths)
    pred, target = next_step_targets(logits, skills, correct, lengths)
    prob = torch.sigmoid(pred)
accuracy = ((prob > 0.5).float() == target).float().mean().item()
order = prob.argsort()
ranks = torch.empty_like(prob).index_put_((order,), torch.arange(1.0, len(prob) + 1))
n_pos = target.sum()
auc = (
    (ranks[target == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * (len(target) - n_pos))
).item()
n_targets = len(target)
padded_shape = tuple(logits.shape)
pad_row_grad = model.embed.weight.grad[2 * n_skills].abs().sum().item()  # padding_idx: no grad
mastery = torch.sigmoid(logits[0, lengths[0] - 1]).tolist()  # first student's final knowledge
print(f"accuracy {accuracy:.3f} AUC {auc:.3f} over {n_targets} predictions")
