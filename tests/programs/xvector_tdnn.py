"""x-vector speaker embeddings (Snyder et al., 2018) as SpeechBrain-style PyTorch code writes
them: a TDNN of dilated Conv1d layers with BatchNorm1d over frames of variable length, masked
statistics pooling (mean and standard deviation over the valid frames of each utterance), an
embedding layer, and an additive angular margin softmax (AAM, ArcFace's cos(theta + m) with
the easy-margin fallback) on L2-normalized embeddings and class weights; verification by cosine
scoring of trial pairs and the equal error rate from a sweep of thresholds."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

N_SPK, FEAT, EMB = 6, 10, 16


class TDNN(nn.Module):
    def __init__(self):
        super().__init__()
        layers = []
        for c_in, c_out, k, d in ((FEAT, 24, 5, 1), (24, 24, 3, 2), (24, 24, 3, 3), (24, 32, 1, 1)):
            layers += [nn.Conv1d(c_in, c_out, k, dilation=d), nn.ReLU(), nn.BatchNorm1d(c_out)]
        self.frame_layers = nn.Sequential(*layers)
        self.context = 4 + 4 + 6  # frames lost by the unpadded convolutions
        self.embedding = nn.Linear(64, EMB)

    def forward(self, feats, lengths):  # feats (B, FEAT, T)
        h = self.frame_layers(feats)
        valid = torch.arange(h.size(2)) < (lengths - self.context).unsqueeze(1)  # (B, T')
        m = valid.unsqueeze(1).float()
        n = m.sum(2)
        mean = (h * m).sum(2) / n
        var = ((h - mean.unsqueeze(2)).pow(2) * m).sum(2) / n
        std = torch.sqrt(var.clamp(min=1e-5))
        return self.embedding(torch.cat([mean, std], dim=1))


class AAMSoftmax(nn.Module):
    def __init__(self, margin=0.2, scale=30.0):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(N_SPK, EMB))
        nn.init.xavier_uniform_(self.weight)
        self.m, self.s = margin, scale
        self.cos_m, self.sin_m = math.cos(margin), math.sin(margin)
        self.th, self.mm = math.cos(math.pi - margin), math.sin(math.pi - margin) * margin

    def forward(self, x, label):
        cosine = F.linear(F.normalize(x), F.normalize(self.weight))
        sine = torch.sqrt((1.0 - torch.mul(cosine, cosine)).clamp(0, 1))
        phi = cosine * self.cos_m - sine * self.sin_m
        phi = torch.where((cosine - self.th) > 0, phi, cosine - self.mm)
        one_hot = torch.zeros_like(cosine).scatter_(1, label.view(-1, 1), 1)
        logits = self.s * (one_hot * phi + (1.0 - one_hot) * cosine)
        return F.cross_entropy(logits, label), logits


def make_utterances(n, generator):
    """A speaker is a fixed spectral tilt plus a formant; lengths vary from 20 to 32 frames."""
    speakers = torch.arange(n) % N_SPK
    lengths = torch.randint(20, 33, (n,), generator=generator)
    bins = torch.arange(FEAT).float()
    profile = torch.stack([torch.sin(bins * (0.3 + 0.15 * s)) + 0.1 * s for s in range(N_SPK)])
    noise = torch.randn(n, FEAT, 32, generator=generator)
    feats = profile[speakers].unsqueeze(2) + 0.8 * noise
    feats = feats * (torch.arange(32) < lengths.unsqueeze(1)).unsqueeze(1)  # zero padding
    return feats, lengths, speakers


def equal_error_rate(scores, same):
    thresholds = torch.sort(scores).values
    far = torch.stack([((scores >= t) & ~same).sum() / (~same).sum() for t in thresholds])
    frr = torch.stack([((scores < t) & same).sum() / same.sum() for t in thresholds])
    i = torch.argmin((far - frr).abs())
    return ((far[i] + frr[i]) / 2).item()


torch.manual_seed(0)
g = torch.Generator().manual_seed(0)
feats, lengths, speakers = make_utterances(96, g)
model, head = TDNN(), AAMSoftmax()
optimizer = torch.optim.Adam([*model.parameters(), *head.parameters()], lr=3e-3)
scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=18)
losses = []
for epoch in range(6):
    model.train()
    for idx in torch.randperm(72, generator=g).split(24):
        loss, logits = head(model(feats[idx], lengths[idx]), speakers[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
model.eval()
with torch.no_grad():
    emb = F.normalize(model(feats[72:], lengths[72:]))
    scores = emb @ emb.T
    pairs = torch.triu_indices(24, 24, offset=1)
    trial_scores = scores[pairs[0], pairs[1]]
    same = speakers[72:][pairs[0]] == speakers[72:][pairs[1]]
    eer = equal_error_rate(trial_scores, same)
    longest = int(lengths[72:76].max())  # padding beyond the longest utterance changes nothing
    trimmed = model(feats[72:76, :, :longest], lengths[72:76])
    padding_gap = (trimmed - model(feats[72:76], lengths[72:76])).abs().max().item()
running_var = model.frame_layers[2].running_var[:6].tolist()
print(f"loss {losses[0]:.3f} -> {losses[-1]:.3f}, EER {eer:.3f}, trials {len(trial_scores)}")
