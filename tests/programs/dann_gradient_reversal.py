"""Domain-adversarial training (DANN, Ganin & Lempitsky) as its PyTorch ports write it: a
gradient reversal layer as a custom ``autograd.Function`` (identity forward, ``-lambda * grad``
backward), a feature extractor shared by a label classifier trained on the labelled source
domain and a domain classifier trained on both domains, the reversal weight ramped by
``2 / (1 + exp(-10 p)) - 1``, and SGD with the annealed learning rate ``lr0 / (1 + 10 p)^0.75``
set through ``param_groups``."""

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy, randn

rng = np.random.default_rng(11)


class GradReverse(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, lambd):
        ctx.lambd = lambd
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output.neg() * ctx.lambd, None


def grad_reverse(x, lambd=1.0):
    return GradReverse.apply(x, lambd)


def domain(n, shift):
    y = torch.from_numpy(rng.integers(0, 2, n))
    x = randn(rng, n, 6) * 0.6 + (y.float() * 2 - 1).unsqueeze(1) * torch.linspace(1, 0.2, 6)
    return x + shift, y


source_x, source_y = domain(256, 0.0)
target_x, target_y = domain(256, torch.tensor([1.0, -1.0, 0.5, 0.0, 0.8, -0.5]))


class DANN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Linear(32, 16), nn.ReLU())
        self.label_classifier = nn.Linear(16, 2)
        self.domain_classifier = nn.Sequential(nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 1))

    def forward(self, x, lambd):
        f = self.features(x)
        return self.label_classifier(f), self.domain_classifier(grad_reverse(f, lambd)).squeeze(1)


model = init_from_numpy(DANN(), seed=11)
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
epochs, batch = 15, 32
steps = epochs * (256 // batch)
label_losses, domain_losses, lambdas = [], [], []
step = 0
for epoch in range(epochs):
    perm_s = torch.from_numpy(rng.permutation(256))
    perm_t = torch.from_numpy(rng.permutation(256))
    for i in range(0, 256, batch):
        p = step / steps
        lambd = 2.0 / (1.0 + math.exp(-10 * p)) - 1
        for group in optimizer.param_groups:
            group["lr"] = 0.05 / (1.0 + 10 * p) ** 0.75
        xs, ys = source_x[perm_s[i : i + batch]], source_y[perm_s[i : i + batch]]
        xt = target_x[perm_t[i : i + batch]]
        class_logits, domain_s = model(xs, lambd)
        _, domain_t = model(xt, lambd)
        label_loss = F.cross_entropy(class_logits, ys)
        domain_logits = torch.cat([domain_s, domain_t])
        domain_labels = torch.cat([torch.zeros(len(xs)), torch.ones(len(xt))])
        domain_loss = F.binary_cross_entropy_with_logits(domain_logits, domain_labels)
        optimizer.zero_grad()
        (label_loss + domain_loss).backward()
        optimizer.step()
        step += 1
    label_losses.append(label_loss.item())
    domain_losses.append(domain_loss.item())
    lambdas.append(lambd)

model.eval()
with torch.no_grad():
    target_accuracy = (model(target_x, 0.0)[0].argmax(1) == target_y).float().mean().item()
    source_accuracy = (model(source_x, 0.0)[0].argmax(1) == source_y).float().mean().item()

probe = torch.ones(3, requires_grad=True)
grad_reverse(probe * 2, 0.5).sum().backward()
reversed_grad = probe.grad.tolist()
final_lr = optimizer.param_groups[0]["lr"]
print(
    f"source {source_accuracy:.3f} target {target_accuracy:.3f} domain loss {domain_losses[-1]:.3f}"
)
