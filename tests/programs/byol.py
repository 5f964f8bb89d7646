"""BYOL (Grill et al.) as the lucidrains and official PyTorch ports write it: an online
network (encoder, projector, predictor) and a target network made with ``copy.deepcopy`` and
frozen with ``requires_grad_(False)``, the normalized-MSE loss ``2 - 2 cos(p, z')`` on both view
orders, the target updated as an exponential moving average with ``torch._foreach_mul_`` and
``torch._foreach_add_`` (and, for buffers, ``lerp_``), the momentum raised on a cosine schedule;
no gradient reaches the target (``torch.no_grad`` around its forward)."""

import copy
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy, randn

rng = np.random.default_rng(41)
n_samples, dim = 192, 10
labels = torch.from_numpy(rng.integers(0, 4, n_samples))
data = randn(rng, 4, dim)[labels] * 1.5 + randn(rng, n_samples, dim) * 0.6


def mlp(dim_in, hidden, dim_out):
    return nn.Sequential(
        nn.Linear(dim_in, hidden, bias=False),
        nn.BatchNorm1d(hidden),
        nn.ReLU(inplace=True),
        nn.Linear(hidden, dim_out),
    )


class Online(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(dim, 32), nn.ReLU(), nn.Linear(32, 16))
        self.projector = mlp(16, 32, 8)

    def forward(self, x):
        return self.projector(self.encoder(x))


def loss_fn(x, y):
    x = F.normalize(x, dim=-1, p=2)
    y = F.normalize(y, dim=-1, p=2)
    return 2 - 2 * (x * y).sum(dim=-1)


def augment(x):
    return (
        x * torch.from_numpy(rng.uniform(0.7, 1.3, x.shape).astype(np.float32))
        + randn(rng, *x.shape) * 0.2
    )


online = init_from_numpy(Online(), seed=41)
predictor = init_from_numpy(mlp(8, 32, 8), seed=42)
target = copy.deepcopy(online)
target.requires_grad_(False)
# SGD: several biases here (before a batch norm, or feeding one through a linear layer) have
# gradients that are zero up to rounding, which Adam's normalization would turn into full steps
optimizer = torch.optim.SGD(
    list(online.parameters()) + list(predictor.parameters()), lr=0.05, momentum=0.9
)
base_tau, total_steps = 0.99, 24


@torch.no_grad()
def update_target(tau):
    online_params = list(online.parameters())
    target_params = list(target.parameters())
    torch._foreach_mul_(target_params, tau)
    torch._foreach_add_(target_params, online_params, alpha=1 - tau)
    for b_online, b_target in zip(online.buffers(), target.buffers()):
        if b_target.dtype.is_floating_point:
            b_target.lerp_(b_online, 1 - tau)
        else:
            b_target.copy_(b_online)


losses, taus = [], []
step = 0
for epoch in range(4):
    perm = torch.from_numpy(rng.permutation(n_samples))
    for i in range(0, n_samples, 32):
        x = data[perm[i : i + 32]]
        v1, v2 = augment(x), augment(x)
        p1, p2 = predictor(online(v1)), predictor(online(v2))
        with torch.no_grad():
            z1, z2 = target(v1), target(v2)
        loss = (loss_fn(p1, z2.detach()) + loss_fn(p2, z1.detach())).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        tau = 1 - (1 - base_tau) * (math.cos(math.pi * step / total_steps) + 1) / 2
        update_target(tau)
        losses.append(loss.item())
        taus.append(tau)
        step += 1

target_grads = [p.grad is None for p in target.parameters()]
gap = max((a - b).abs().max().item() for a, b in zip(online.parameters(), target.parameters()))
running_mean = target.projector[1].running_mean.tolist()
batches_tracked = target.projector[1].num_batches_tracked.item()
online.eval()
with torch.no_grad():
    emb = F.normalize(online.encoder(data), dim=1)
    nearest = (emb @ emb.T - 2 * torch.eye(n_samples)).argmax(1)
    knn_accuracy = (labels[nearest] == labels).float().mean().item()
foreach = [torch.ones(2), torch.full((3,), 2.0)]
torch._foreach_mul_(foreach, 3.0)
torch._foreach_add_(foreach, [torch.ones(2), torch.ones(3)], alpha=0.5)
foreach_values = [t.tolist() for t in foreach]
foreach_norms = [n.item() for n in torch._foreach_norm(foreach)]
print(f"loss {losses[0]:.3f} -> {losses[-1]:.3f}; 1-NN accuracy {knn_accuracy:.3f}; gap {gap:.4f}")
