"""K-FAC (Martens and Grosse 2015) as the kfac-pytorch and KFAC-Pytorch (alecwangcq)
preconditioners write it: ``register_forward_pre_hook`` records each Linear layer's inputs
(with a column of ones for the bias) and ``register_full_backward_hook`` its output
gradients, running averages of the Kronecker factors ``A = a^T a / n`` and
``G = g^T g / n`` kept in ``torch.optim.Optimizer``-style state, their eigendecompositions by
``torch.linalg.eigh``, the preconditioned gradient ``Q_G ((Q_G^T V Q_A) / (d_G d_A^T +
damping)) Q_A^T`` written back with ``p.grad.data.copy_``, KL clipping of the update, then
SGD with momentum; compared with plain SGD on a small regression."""

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy, randn


class KFACPreconditioner:
    def __init__(self, model, lr, factor_decay=0.95, damping=1e-2, kl_clip=1e-2, inv_every=5):
        self.modules, self.lr, self.decay = [], lr, factor_decay
        self.damping, self.kl_clip, self.inv_every, self.steps = damping, kl_clip, inv_every, 0
        self.a, self.g, self.state = {}, {}, {}
        for module in model.modules():
            if isinstance(module, nn.Linear):
                self.modules.append(module)
                module.register_forward_pre_hook(self._save_input)
                module.register_full_backward_hook(self._save_grad_output)

    def _save_input(self, module, inputs):
        if torch.is_grad_enabled():
            a = inputs[0].detach()
            self.a[module] = torch.cat([a, a.new_ones(a.size(0), 1)], 1)

    def _save_grad_output(self, module, grad_input, grad_output):
        self.g[module] = grad_output[0].detach() * grad_output[0].size(0)

    def _update_factor(self, module, name, x):
        factor = x.t() @ (x / x.size(0))
        state = self.state.setdefault(module, {})
        if name not in state:
            state[name] = torch.diag(factor.new_ones(factor.size(0)))
        state[name].mul_(self.decay).add_(factor, alpha=1 - self.decay)

    def step(self):
        updates = {}
        for module in self.modules:
            self._update_factor(module, "A", self.a[module])
            self._update_factor(module, "G", self.g[module])
            state = self.state[module]
            if self.steps % self.inv_every == 0:
                state["dA"], state["QA"] = torch.linalg.eigh(state["A"])
                state["dG"], state["QG"] = torch.linalg.eigh(state["G"])
                state["dA"].clamp_(min=0)
                state["dG"].clamp_(min=0)
            grad = torch.cat([module.weight.grad, module.bias.grad.view(-1, 1)], 1)
            v1 = state["QG"].t() @ grad @ state["QA"]
            v2 = v1 / (state["dG"].unsqueeze(1) * state["dA"].unsqueeze(0) + self.damping)
            updates[module] = state["QG"] @ v2 @ state["QA"].t()
        vg_sum = (
            sum(
                (v[:, :-1] * m.weight.grad).sum() + (v[:, -1] * m.bias.grad).sum()
                for m, v in updates.items()
            )
            * self.lr**2
        )
        nu = min(1.0, math.sqrt(self.kl_clip / vg_sum.item()))
        for module, v in updates.items():
            module.weight.grad.data.copy_(v[:, :-1]).mul_(nu)
            module.bias.grad.data.copy_(v[:, -1]).mul_(nu)
        self.steps += 1
        return nu


def make_model(seed):
    return init_from_numpy(nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 2)), seed=seed)


rng = np.random.default_rng(0)
x = randn(rng, 128, 4)
w_true = randn(rng, 4, 2)
y = torch.tanh(x @ w_true) + 0.05 * randn(rng, 128, 2)

results = {}
for use_kfac in (False, True):
    model = make_model(1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    preconditioner = KFACPreconditioner(model, lr=0.1) if use_kfac else None
    losses, nus = [], []
    for step in range(40):
        optimizer.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        if preconditioner is not None:
            nus.append(preconditioner.step())
        optimizer.step()
        losses.append(loss.item())
    results[use_kfac] = (losses, nus, model)

sgd_losses, kfac_losses = results[False][0], results[True][0]
kl_scales = results[True][1]
kfac_model = results[True][2]
factor_A = preconditioner.state[kfac_model[0]]["A"]
factor_symmetric = bool((factor_A - factor_A.t()).abs().max() < 1e-6)
eigenvalues_G = preconditioner.state[kfac_model[2]]["dG"].tolist()
saved_shapes = [tuple(preconditioner.a[m].shape) for m in preconditioner.modules]
grad_shapes = [tuple(preconditioner.g[m].shape) for m in preconditioner.modules]
with torch.no_grad():
    model(x[:3])  # a forward under no_grad leaves the saved activations alone
    no_grad_kept = preconditioner.a[kfac_model[0]].size(0) == 128
