"""Speaker verification with the generalized end-to-end loss (Wan et al. 2018), as the
Resemblyzer / Real-Time-Voice-Cloning encoders write it: a 2-layer nn.LSTM with projections
(proj_size), utterances of different lengths packed with pack_sequence(enforce_sorted=False),
the last projected state L2-normalized, centroids per speaker with the exclusive centroid for
each utterance's own speaker, a similarity matrix scaled by learned w (clamped positive) and
b, and cross-entropy over speakers; plus the equal error rate computed with torch ops."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy
from torch.nn.utils.rnn import pack_sequence

rng = np.random.default_rng(0)
n_speakers, n_utterances, n_mels = 4, 5, 10
voices = rng.standard_normal((n_speakers, n_mels)).astype(np.float32)


def utterance(speaker):
    length = int(rng.integers(6, 14))
    frames = voices[speaker] + 0.8 * rng.standard_normal((length, n_mels)).astype(np.float32)
    return torch.from_numpy(frames)


class SpeakerEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(n_mels, 24, num_layers=2, proj_size=12)
        self.similarity_weight = nn.Parameter(torch.tensor([10.0]))
        self.similarity_bias = nn.Parameter(torch.tensor([-5.0]))

    def forward(self, utterances):
        _, (hidden, _) = self.lstm(pack_sequence(utterances, enforce_sorted=False))
        return F.normalize(hidden[-1], dim=1)

    def similarity_matrix(self, embeds):
        speakers, utterances = embeds.shape[:2]
        centroids_incl = F.normalize(embeds.mean(dim=1, keepdim=True), dim=2)
        centroids_excl = (embeds.sum(dim=1, keepdim=True) - embeds) / (utterances - 1)
        centroids_excl = F.normalize(centroids_excl, dim=2)
        sim = torch.einsum("sud,kd->suk", embeds, centroids_incl.squeeze(1))
        own = (embeds * centroids_excl).sum(-1)
        mask = (
            torch.eye(speakers, dtype=torch.bool)
            .unsqueeze(1)
            .expand(speakers, utterances, speakers)
        )
        sim = torch.where(mask, own.unsqueeze(-1).expand_as(sim), sim)
        return sim * self.similarity_weight.clamp(min=1e-6) + self.similarity_bias

    def loss(self, embeds):
        speakers, utterances = embeds.shape[:2]
        sim = self.similarity_matrix(embeds).reshape(speakers * utterances, speakers)
        target = torch.arange(speakers).repeat_interleave(utterances)
        return F.cross_entropy(sim, target)


model = init_from_numpy(SpeakerEncoder())
with torch.no_grad():
    model.similarity_weight.fill_(10.0)
    model.similarity_bias.fill_(-5.0)
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
losses = []
for step in range(25):
    batch = [utterance(s) for s in range(n_speakers) for _ in range(n_utterances)]
    embeds = model(batch).view(n_speakers, n_utterances, -1)
    loss = model.loss(embeds)
    optimizer.zero_grad()
    loss.backward()
    model.similarity_weight.grad *= 0.01  # the paper's smaller step for w and b
    model.similarity_bias.grad *= 0.01
    nn.utils.clip_grad_norm_(model.parameters(), 3.0)
    optimizer.step()
    losses.append(loss.item())
print(f"GE2E loss {losses[0]:.4f} -> {losses[-1]:.4f}")

with torch.no_grad():
    enroll = model([utterance(s) for s in range(n_speakers) for _ in range(3)]).view(
        n_speakers, 3, -1
    )
    centroids = F.normalize(enroll.mean(1), dim=1)
    test = model([utterance(s) for s in range(n_speakers) for _ in range(4)])
    scores = test @ centroids.t()
labels = torch.arange(n_speakers).repeat_interleave(4)
genuine = scores[torch.arange(len(labels)), labels]
impostor = scores[F.one_hot(labels, n_speakers) == 0]
thresholds = torch.linspace(-1, 1, 201)
false_accept = (impostor.unsqueeze(0) >= thresholds.unsqueeze(1)).float().mean(1)
false_reject = (genuine.unsqueeze(0) < thresholds.unsqueeze(1)).float().mean(1)
crossing = (false_accept - false_reject).abs().argmin()
eer = ((false_accept[crossing] + false_reject[crossing]) / 2).item()
hidden_shape = tuple(
    model.lstm(pack_sequence([utterance(0), utterance(1)], enforce_sorted=False))[1][0].shape
)
print(f"equal error rate {eer:.3f}; hidden {hidden_shape}")
