"""node2vec (Grover & Leskovec, 2016) as its PyTorch ports write it: second-order biased random
walks with return parameter ``p`` and in-out parameter ``q`` drawn with NumPy (the
unnormalised weight ``1/p`` back to the previous node, ``1`` to its neighbours, ``1/q``
further out), context windows cut from the walks, and skip-gram with negative sampling over
two ``nn.Embedding(sparse=False)`` tables (``logsigmoid`` of the positive and negated negative
dot products via ``torch.bmm``), negatives drawn from the unigram^0.75 distribution with
``torch.multinomial``, ``SparseAdam``'s dense sibling Adam, a DataLoader over the windows; the
learned embeddings then separate the two communities (nearest-neighbour accuracy and a
logistic-regression probe)."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

rng = np.random.default_rng(23)
torch.manual_seed(23)
n, community = 24, np.arange(24) // 12
adj = [set() for _ in range(n)]
for i in range(n):
    for j in range(i + 1, n):
        prob = 0.4 if community[i] == community[j] else 0.02
        if rng.random() < prob:
            adj[i].add(j)
            adj[j].add(i)
neighbors = [sorted(a) for a in adj]


def node2vec_walk(start, length, p, q):
    walk = [start]
    while len(walk) < length:
        cur = walk[-1]
        nbrs = neighbors[cur]
        if not nbrs:
            break
        if len(walk) == 1:
            walk.append(int(rng.choice(nbrs)))
            continue
        prev = walk[-2]
        weights = np.array(
            [1 / p if x == prev else (1.0 if x in adj[prev] else 1 / q) for x in nbrs]
        )
        walk.append(int(rng.choice(nbrs, p=weights / weights.sum())))
    return walk


walks = [node2vec_walk(s, 10, p=1.0, q=0.5) for _ in range(4) for s in rng.permutation(n)]
window = 3
pairs = [
    (w[i], w[j])
    for w in walks
    for i in range(len(w))
    for j in range(max(0, i - window), min(len(w), i + window + 1))
    if i != j
]
pairs = torch.tensor(pairs)
counts = torch.bincount(pairs[:, 0], minlength=n).float()
noise_dist = counts.pow(0.75) / counts.pow(0.75).sum()


class SkipGram(nn.Module):
    def __init__(self, num_nodes, dim):
        super().__init__()
        self.in_embed = nn.Embedding(num_nodes, dim, sparse=False)
        self.out_embed = nn.Embedding(num_nodes, dim, sparse=False)
        self.in_embed.weight.data.uniform_(-0.5 / dim, 0.5 / dim)
        self.out_embed.weight.data.zero_()

    def forward(self, center, context, negatives):
        v = self.in_embed(center).unsqueeze(2)  # (B, D, 1)
        u_pos = self.out_embed(context).unsqueeze(1)  # (B, 1, D)
        u_neg = self.out_embed(negatives)  # (B, K, D)
        pos = F.logsigmoid(torch.bmm(u_pos, v).squeeze())
        neg = F.logsigmoid(-torch.bmm(u_neg, v).squeeze(2)).sum(1)
        return -(pos + neg).mean()


model = SkipGram(n, 8)
optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
loader = DataLoader(TensorDataset(pairs[:, 0], pairs[:, 1]), batch_size=256, shuffle=True)
epoch_losses = []
for epoch in range(5):
    total = 0.0
    for center, context in loader:
        negatives = torch.multinomial(noise_dist, center.size(0) * 5, replacement=True)
        loss = model(center, context, negatives.view(-1, 5))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item() * center.size(0)
    epoch_losses.append(total / len(pairs))

emb = F.normalize(model.in_embed.weight.detach(), dim=1)
sim = emb @ emb.t()
sim.fill_diagonal_(-2.0)
nearest = sim.argmax(1)
labels = torch.from_numpy(community)
nn_accuracy = (labels[nearest] == labels).float().mean().item()

probe = nn.Linear(8, 2)
probe_opt = torch.optim.LBFGS(probe.parameters(), lr=0.5, max_iter=30)
train = torch.arange(n) % 2 == 0


def closure():
    probe_opt.zero_grad()
    loss = F.cross_entropy(probe(emb[train]), labels[train])
    loss.backward()
    return loss


probe_opt.step(closure)
probe_accuracy = (probe(emb[~train]).argmax(1) == labels[~train]).float().mean().item()
num_pairs, num_walks = len(pairs), len(walks)
walk_sample = walks[0]
