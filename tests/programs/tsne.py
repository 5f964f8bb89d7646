"""t-SNE written in PyTorch (the way the tsne-pytorch ports do it): squared pairwise distances
from ``x @ x.T``, a per-point bisection on the Gaussian precision to match a perplexity (all
points at once, with ``torch.where`` updates), the symmetrized joint P, early exaggeration,
the Student-t Q, the KL divergence minimized by autograd with SGD momentum that changes
mid-run and the gains of the original code; neighbourhood preservation measured afterwards."""

import numpy as np
import torch
from numpy_init import randn

rng = np.random.default_rng(121)
n, dim = 60, 10
labels = torch.arange(3).repeat_interleave(n // 3)
data = randn(rng, 3, dim)[labels] * 3 + randn(rng, n, dim)


def squared_distances(x):
    sum_x = (x * x).sum(1)
    return (-2 * x @ x.T + sum_x).T + sum_x


def joint_probabilities(x, perplexity=10.0, tol=1e-5, steps=50):
    d = squared_distances(x)
    d = d.masked_fill(torch.eye(len(x), dtype=torch.bool), float("inf"))
    beta = torch.ones(len(x), 1, dtype=x.dtype)
    lo = torch.full_like(beta, -float("inf"))
    hi = torch.full_like(beta, float("inf"))
    target = torch.log(torch.tensor(perplexity, dtype=x.dtype))
    for _ in range(steps):
        p = torch.exp(-d * beta)
        sum_p = p.sum(1, keepdim=True)
        entropy = (
            torch.log(sum_p) + beta * (d.nan_to_num(posinf=0.0) * p).sum(1, keepdim=True) / sum_p
        )
        diff = entropy - target
        if diff.abs().max() < tol:
            break
        up = diff > 0
        lo = torch.where(up, beta, lo)
        hi = torch.where(up, hi, beta)
        beta = torch.where(
            up,
            torch.where(torch.isinf(hi), beta * 2, (beta + hi) / 2),
            torch.where(torch.isinf(lo), beta / 2, (beta + lo) / 2),
        )
    p = p / sum_p
    p = p + p.T
    return (p / p.sum()).clamp(min=1e-12), beta


P, beta = joint_probabilities(data.double())  # float64 throughout: the updates are large
Y = (randn(rng, n, 2).double() * 1e-2).requires_grad_()
velocity = torch.zeros_like(Y)
gains = torch.ones_like(Y)
kls = []
for it in range(120):
    exaggeration = 4.0 if it < 40 else 1.0
    momentum = 0.5 if it < 30 else 0.8
    num = 1.0 / (1.0 + squared_distances(Y))
    num = num * (1 - torch.eye(n, dtype=num.dtype))
    Q = (num / num.sum()).clamp(min=1e-12)
    kl = (exaggeration * P * torch.log(exaggeration * P / Q)).sum()
    (grad,) = torch.autograd.grad(kl, Y)
    with torch.no_grad():
        gains = (gains + 0.2) * ((grad > 0) != (velocity > 0)) + gains * 0.8 * (
            (grad > 0) == (velocity > 0)
        )
        gains.clamp_(min=0.01)
        velocity = momentum * velocity - 50.0 * gains * grad
        Y += velocity
        Y -= Y.mean(0)
    if it % 10 == 9:
        kls.append(kl.item())

with torch.no_grad():
    dist = squared_distances(Y.detach()).fill_diagonal_(float("inf"))
    nearest = dist.topk(5, largest=False).indices
    neighbour_purity = (labels[nearest] == labels.unsqueeze(1)).float().mean().item()
perplexity_beta = beta[:5, 0].tolist()
print(f"KL {kls[0]:.3f} -> {kls[-1]:.3f}; 5-NN purity in the embedding {neighbour_purity:.3f}")
