"""Sharpness-aware minimization (Foret et al.) as the widely copied davda54/sam code writes
it: an ``Optimizer`` subclass wrapping a base optimizer class, sharing its ``param_groups``,
``first_step`` that perturbs each parameter by ``rho * grad / ||grad||`` (the norm over all
parameters with ``torch.norm(torch.stack(...))``) and keeps the perturbation in
``self.state[p]``, ``second_step`` that restores the weights and runs the base step, a
``closure`` wrapped in ``torch.enable_grad()``, adaptive SAM, and a ``state_dict`` round trip;
compared with plain SGD on a small noisy problem."""

import copy

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy, randn


class SAM(torch.optim.Optimizer):
    def __init__(self, params, base_optimizer, rho=0.05, adaptive=False, **kwargs):
        assert rho >= 0.0, f"Invalid rho, should be non-negative: {rho}"
        defaults = dict(rho=rho, adaptive=adaptive, **kwargs)
        super().__init__(params, defaults)
        self.base_optimizer = base_optimizer(self.param_groups, **kwargs)
        self.param_groups = self.base_optimizer.param_groups
        self.defaults.update(self.base_optimizer.defaults)

    @torch.no_grad()
    def first_step(self, zero_grad=False):
        grad_norm = self._grad_norm()
        for group in self.param_groups:
            scale = group["rho"] / (grad_norm + 1e-12)
            for p in group["params"]:
                if p.grad is None:
                    continue
                self.state[p]["old_p"] = p.data.clone()
                e_w = (torch.pow(p, 2) if group["adaptive"] else 1.0) * p.grad * scale.to(p)
                p.add_(e_w)
        if zero_grad:
            self.zero_grad()

    @torch.no_grad()
    def second_step(self, zero_grad=False):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                p.data = self.state[p]["old_p"]
        self.base_optimizer.step()
        if zero_grad:
            self.zero_grad()

    @torch.no_grad()
    def step(self, closure=None):
        assert closure is not None, (
            "Sharpness Aware Minimization requires closure, but it was not provided"
        )
        closure = torch.enable_grad()(closure)
        self.first_step(zero_grad=True)
        closure()
        self.second_step()

    def _grad_norm(self):
        shared_device = self.param_groups[0]["params"][0].device
        norm = torch.norm(
            torch.stack(
                [
                    ((torch.abs(p) if group["adaptive"] else 1.0) * p.grad)
                    .norm(p=2)
                    .to(shared_device)
                    for group in self.param_groups
                    for p in group["params"]
                    if p.grad is not None
                ]
            ),
            p=2,
        )
        return norm

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        self.base_optimizer.param_groups = self.param_groups


rng = np.random.default_rng(111)
x_train = randn(rng, 128, 6)
w_true = randn(rng, 6, 3)
y_train = (x_train @ w_true + randn(rng, 128, 3) * 1.5).argmax(1)
x_test = randn(rng, 256, 6)
y_test = (x_test @ w_true).argmax(1)


def make_model(seed):
    return init_from_numpy(nn.Sequential(nn.Linear(6, 64), nn.ReLU(), nn.Linear(64, 3)), seed=seed)


def train(model, optimizer, use_sam, epochs=8):
    losses = []
    for epoch in range(epochs):
        perm = torch.from_numpy(np.random.default_rng(epoch).permutation(128))
        for i in range(0, 128, 32):
            idx = perm[i : i + 32]
            inputs, targets = x_train[idx], y_train[idx]
            if use_sam:
                loss = F.cross_entropy(model(inputs), targets, label_smoothing=0.1)
                loss.backward()
                optimizer.first_step(zero_grad=True)
                F.cross_entropy(model(inputs), targets, label_smoothing=0.1).backward()
                optimizer.second_step(zero_grad=True)
            else:
                optimizer.zero_grad()
                loss = F.cross_entropy(model(inputs), targets, label_smoothing=0.1)
                loss.backward()
                optimizer.step()
            losses.append(loss.item())
    with torch.no_grad():
        accuracy = (model(x_test).argmax(1) == y_test).float().mean().item()
    return losses, accuracy


sam_model = make_model(111)
sgd_model = copy.deepcopy(sam_model)
sam = SAM(sam_model.parameters(), torch.optim.SGD, rho=0.1, lr=0.1, momentum=0.9)
sam_losses, sam_accuracy = train(sam_model, sam, use_sam=True)
sgd_losses, sgd_accuracy = train(
    sgd_model, torch.optim.SGD(sgd_model.parameters(), lr=0.1, momentum=0.9), use_sam=False
)

asam_model = make_model(112)
asam = SAM(asam_model.parameters(), torch.optim.SGD, rho=0.5, adaptive=True, lr=0.05)


def closure():
    loss = F.cross_entropy(asam_model(x_train), y_train)
    loss.backward()
    return loss


asam_losses = []
for _ in range(6):
    loss = F.cross_entropy(asam_model(x_train), y_train)
    loss.backward()
    asam.step(closure)
    asam.zero_grad()
    asam_losses.append(loss.item())

saved = sam.state_dict()
restored = SAM(make_model(113).parameters(), torch.optim.SGD, rho=0.1, lr=0.1, momentum=0.9)
restored.load_state_dict(saved)
group_keys = sorted(k for k in restored.param_groups[0] if k != "params")
state_keys = sorted(restored.state[restored.param_groups[0]["params"][0]].keys())
shared_groups = restored.base_optimizer.param_groups is restored.param_groups
print(
    f"SAM {sam_losses[-1]:.3f} acc {sam_accuracy:.3f}; SGD {sgd_losses[-1]:.3f} acc {sgd_accuracy:.3f}"
)
