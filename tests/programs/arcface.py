"""Face-recognition-style metric learning with an ArcFace head (additive angular margin), as
the insightface PyTorch code writes it: L2-normalized embeddings and class centres
(``F.normalize``), ``cos(theta + m)`` from ``cos`` and ``sin`` with the ``th``/``mm`` fallback
for angles past ``pi - m``, a one-hot mask built with ``scatter_``, the scale ``s``; then the
embeddings are checked by cosine-similarity verification and nearest-centre accuracy."""

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy, randn

rng = np.random.default_rng(21)
num_classes, feat_dim = 6, 8
centres = randn(rng, num_classes, 10) * 1.5
labels = torch.from_numpy(rng.integers(0, num_classes, 240))
inputs = centres[labels] + randn(rng, 240, 10)


class ArcMarginProduct(nn.Module):
    def __init__(self, in_features, out_features, s=16.0, m=0.3, easy_margin=False):
        super().__init__()
        self.s, self.m, self.easy_margin = s, m, easy_margin
        self.weight = nn.Parameter(torch.FloatTensor(out_features, in_features))
        nn.init.xavier_uniform_(self.weight)
        self.cos_m, self.sin_m = math.cos(m), math.sin(m)
        self.th = math.cos(math.pi - m)
        self.mm = math.sin(math.pi - m) * m

    def forward(self, input, label):
        cosine = F.linear(F.normalize(input), F.normalize(self.weight))
        sine = torch.sqrt((1.0 - torch.pow(cosine, 2)).clamp(0, 1))
        phi = cosine * self.cos_m - sine * self.sin_m
        if self.easy_margin:
            phi = torch.where(cosine > 0, phi, cosine)
        else:
            phi = torch.where(cosine > self.th, phi, cosine - self.mm)
        one_hot = torch.zeros(cosine.size())
        one_hot.scatter_(1, label.view(-1, 1).long(), 1)
        output = (one_hot * phi) + ((1.0 - one_hot) * cosine)
        return output * self.s


backbone = nn.Sequential(
    nn.Linear(10, 32), nn.PReLU(), nn.Linear(32, feat_dim), nn.BatchNorm1d(feat_dim)
)
head = ArcMarginProduct(feat_dim, num_classes)
init_from_numpy(backbone, seed=21)
init_from_numpy(head, seed=22)
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(
    [{"params": backbone.parameters()}, {"params": head.parameters(), "weight_decay": 5e-4}],
    lr=0.1,
    momentum=0.9,
)
scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[6, 9], gamma=0.1)
losses = []
for epoch in range(12):
    perm = torch.from_numpy(rng.permutation(240))
    for i in range(0, 240, 48):
        idx = perm[i : i + 48]
        output = head(backbone(inputs[idx]), labels[idx])
        loss = criterion(output, labels[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    scheduler.step()
    losses.append(loss.item())

backbone.eval()
with torch.no_grad():
    emb = F.normalize(backbone(inputs))
    centre_dirs = F.normalize(head.weight)
    accuracy = ((emb @ centre_dirs.T).argmax(1) == labels).float().mean().item()
    sim = emb @ emb.T
    same = labels.unsqueeze(0) == labels.unsqueeze(1)
    off_diag = ~torch.eye(240, dtype=torch.bool)
    same_sim = sim[same & off_diag].mean().item()
    diff_sim = sim[~same].mean().item()
    angles = torch.rad2deg(
        torch.acos((emb @ centre_dirs.T).gather(1, labels.unsqueeze(1)).clamp(-1, 1))
    )
    mean_angle = angles.mean().item()
print(
    f"loss {losses[0]:.3f} -> {losses[-1]:.3f}; accuracy {accuracy:.3f}; same {same_sim:.3f} diff {diff_sim:.3f}"
)
