"""Prototypical networks for few-shot classification (Snell et al. 2017), as the PyTorch
implementations write an episode: sample N classes and K support + Q query examples each,
embed them, average the support embeddings into class prototypes, classify queries by
-torch.cdist(...)**2 (checked against the expanded-difference form), and train with
log_softmax + gather over episodes; evaluated on classes never seen in training."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy

rng = np.random.default_rng(0)
num_classes, dim = 20, 16
class_means = rng.standard_normal((num_classes, dim)).astype(np.float32) * 1.5
mixing = rng.standard_normal((dim, dim)).astype(np.float32) / 4  # a distortion the net must undo
train_classes, test_classes = list(range(14)), list(range(14, 20))


def sample_episode(classes, n_way, k_shot, n_query):
    chosen = rng.choice(classes, n_way, replace=False)
    samples = class_means[chosen][:, None, :] + rng.standard_normal(
        (n_way, k_shot + n_query, dim)
    ).astype(np.float32)
    samples = np.tanh(samples @ mixing) + samples
    samples = torch.from_numpy(samples.astype(np.float32))
    return samples[:, :k_shot], samples[:, k_shot:]


def euclidean_dist(x, y):
    n, m, d = x.size(0), y.size(0), x.size(1)
    x = x.unsqueeze(1).expand(n, m, d)
    y = y.unsqueeze(0).expand(n, m, d)
    return torch.pow(x - y, 2).sum(2)


encoder = init_from_numpy(nn.Sequential(nn.Linear(dim, 32), nn.ReLU(), nn.Linear(32, 32)))
optimizer = torch.optim.Adam(encoder.parameters(), lr=0.005)


def episode_loss(support, query):
    n_way, k_shot, _ = support.shape
    n_query = query.size(1)
    prototypes = encoder(support.reshape(-1, dim)).view(n_way, k_shot, -1).mean(1)
    z_query = encoder(query.reshape(-1, dim))
    dists = torch.cdist(z_query, prototypes) ** 2
    log_p_y = F.log_softmax(-dists, dim=1).view(n_way, n_query, -1)
    target_inds = torch.arange(0, n_way).view(n_way, 1, 1).expand(n_way, n_query, 1).long()
    loss_val = -log_p_y.gather(2, target_inds).squeeze().view(-1).mean()
    _, y_hat = log_p_y.max(2)
    acc_val = torch.eq(y_hat, target_inds.squeeze(2)).float().mean()
    return loss_val, acc_val, (dists - euclidean_dist(z_query, prototypes)).abs().max().item()


losses, dist_gaps = [], []
for episode in range(40):
    support, query = sample_episode(train_classes, n_way=5, k_shot=3, n_query=4)
    loss, acc, gap = episode_loss(support, query)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
    dist_gaps.append(gap)
print(f"episode loss {np.mean(losses[:5]):.4f} -> {np.mean(losses[-5:]):.4f}")

with torch.no_grad():
    test_accs = [episode_loss(*sample_episode(test_classes, 5, 3, 4))[1].item() for _ in range(10)]
test_accuracy = float(np.mean(test_accs))
print(f"5-way 3-shot accuracy on unseen classes: {test_accuracy:.3f}")
