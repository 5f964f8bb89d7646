"""Two backward-hook recipes. PyTorch's tutorial "fuse the optimizer step into the backward
pass": one Adam per parameter stepped from ``register_post_accumulate_grad_hook``, compared with
the ordinary loop (same numbers, no gradient left behind). A domain-adversarial network (DANN)
whose gradient reversal is a graph-node hook, ``grad_fn.register_hook`` returning negated
``grad_inputs`` and ``register_prehook`` scaling ``grad_outputs``, checked against an
autograd.Function doing the same; the trained weights are saved to a file and read back with
``torch.load(path, mmap=True, weights_only=True)``."""

import os
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy, randn

rng = np.random.default_rng(19)
x = randn(rng, 64, 8)
y = (x[:, 0] - x[:, 1] > 0).long()


def make_model():
    return init_from_numpy(nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 2)), seed=11)


plain = make_model()
optimizer = torch.optim.Adam(plain.parameters(), lr=0.02)
plain_losses = []
for step in range(25):
    optimizer.zero_grad()
    loss = F.cross_entropy(plain(x), y)
    loss.backward()
    optimizer.step()
    plain_losses.append(loss.item())

fused = make_model()
optimizer_dict = {p: torch.optim.Adam([p], lr=0.02, foreach=False) for p in fused.parameters()}


def optimizer_hook(parameter) -> None:
    optimizer_dict[parameter].step()
    optimizer_dict[parameter].zero_grad()


handles = [p.register_post_accumulate_grad_hook(optimizer_hook) for p in fused.parameters()]
fused_losses = []
for step in range(25):
    loss = F.cross_entropy(fused(x), y)
    loss.backward()
    fused_losses.append(loss.item())
grads_left = [p.grad is not None for p in fused.parameters()]
fused_gap = max((a - b).abs().max().item() for a, b in zip(plain.parameters(), fused.parameters()))
for h in handles:
    h.remove()

source = randn(rng, 64, 8)
target = randn(rng, 64, 8) * 1.5 + 0.7
source_labels = (source[:, 0] > 0).long()
domain_labels = torch.cat([torch.zeros(64), torch.ones(64)]).long()


class GradReverse(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, lambd):
        ctx.lambd = lambd
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output.neg() * ctx.lambd, None


class DANN(nn.Module):
    def __init__(self, hooks):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(8, 16), nn.ReLU())
        self.classifier = nn.Linear(16, 2)
        self.domain = nn.Sequential(nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 2))
        self.hooks, self.lambd = hooks, 0.3
        self.hook_calls = 0

    def forward(self, x):
        features = self.features(x)
        if self.hooks:
            reversed_features = features * 1.0
            node = reversed_features.grad_fn

            def reverse(grad_inputs, grad_outputs):
                self.hook_calls += 1
                return tuple(None if g is None else -g for g in grad_inputs)

            node.register_hook(reverse)
            node.register_prehook(lambda grad_outputs: tuple(g * self.lambd for g in grad_outputs))
        else:
            reversed_features = GradReverse.apply(features, self.lambd)
        return self.classifier(features), self.domain(reversed_features)


results = {}
for hooks in (True, False):
    torch.manual_seed(0)
    model = init_from_numpy(DANN(hooks), seed=12)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    losses = []
    for step in range(30):
        optimizer.zero_grad()
        class_logits, domain_src = model(source)
        _, domain_tgt = model(target)
        loss = F.cross_entropy(class_logits, source_labels) + F.cross_entropy(
            torch.cat([domain_src, domain_tgt]), domain_labels
        )
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    results[hooks] = (losses, model.features[0].weight.detach().clone(), model.hook_calls)
hook_losses, function_losses = results[True][0], results[False][0]
reversal_gap = (results[True][1] - results[False][1]).abs().max().item()
hook_calls = results[True][2]

path = os.path.join(tempfile.mkdtemp(), "dann.pt")
torch.save(model.state_dict(), path)
state = torch.load(path, mmap=True, weights_only=True)
reloaded = DANN(False)
reloaded.load_state_dict(state)
reload_gap = (reloaded.classifier.weight - model.classifier.weight).abs().max().item()
os.remove(path)
