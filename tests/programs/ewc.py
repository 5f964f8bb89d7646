"""Elastic weight consolidation (Kirkpatrick et al. 2017) against catastrophic forgetting, as
the common PyTorch implementations write it: after task A, the diagonal Fisher information is
estimated from squared per-sample gradients (autograd.grad of each sample's log-likelihood),
the optimal weights are kept as detached copies (a dict from named_parameters), and training
on task B adds (lambda / 2) * sum F * (theta - theta_A)^2; compared with plain fine-tuning
from the same starting point (copy.deepcopy)."""

import copy

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy, randn

rng = np.random.default_rng(0)


def make_task(w, n=128):
    x = randn(rng, n, 6)
    return x, (x @ w > 0).long()


task_a = make_task(torch.tensor([1.0, -1.0, 0.5, 0.0, 0.0, 0.0]))
task_b = make_task(torch.tensor([0.0, 0.0, 0.0, 1.0, 1.0, -1.0]))


def accuracy(model, task):
    with torch.no_grad():
        return (model(task[0]).argmax(1) == task[1]).float().mean().item()


def train(model, task, steps, penalty=None):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(steps):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(task[0]), task[1])
        if penalty is not None:
            loss = loss + penalty(model)
        loss.backward()
        optimizer.step()
    return loss.item()


class EWC:
    def __init__(self, model, task, samples=64):
        self.params = {n: p for n, p in model.named_parameters() if p.requires_grad}
        self._means = {n: p.clone().detach() for n, p in self.params.items()}
        self._precision_matrices = self._diag_fisher(model, task, samples)

    def _diag_fisher(self, model, task, samples):
        precision = {n: torch.zeros_like(p) for n, p in self.params.items()}
        model.eval()
        for x in task[0][:samples]:
            log_probs = F.log_softmax(model(x.unsqueeze(0)), dim=1)
            label = log_probs.argmax(1)  # the model's own prediction: the empirical-Fisher variant
            loglik = log_probs[0, label[0]]
            grads = torch.autograd.grad(loglik, list(self.params.values()))
            for (n, _), g in zip(self.params.items(), grads):
                precision[n] += g.detach() ** 2 / samples
        model.train()
        return precision

    def penalty(self, model):
        loss = 0
        for n, p in model.named_parameters():
            _loss = self._precision_matrices[n] * (p - self._means[n]) ** 2
            loss += _loss.sum()
        return loss


model = init_from_numpy(nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Linear(32, 2)))
loss_a = train(model, task_a, 60)
acc_a_after_a = accuracy(model, task_a)
ewc = EWC(model, task_a)
fisher_total = sum(f.sum().item() for f in ewc._precision_matrices.values())

plain = copy.deepcopy(model)
train(plain, task_b, 200)
lam = 100.0
consolidated = copy.deepcopy(model)
train(consolidated, task_b, 200, penalty=lambda m: lam / 2 * ewc.penalty(m))
results = {
    "plain": (accuracy(plain, task_a), accuracy(plain, task_b)),
    "ewc": (accuracy(consolidated, task_a), accuracy(consolidated, task_b)),
}
print(f"task A accuracy after training on A: {acc_a_after_a:.3f}; Fisher total {fisher_total:.4f}")
for name, (a, b) in results.items():
    print(f"{name:5s}: task A {a:.3f}, task B {b:.3f}")
