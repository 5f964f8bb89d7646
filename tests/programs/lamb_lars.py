"""Large-batch optimizers written by users as subclasses of ``torch.optim.Optimizer``, in the
style of NVIDIA's and timm's LAMB and the LARS of SimCLR/BYOL codebases: LAMB (Adam moments,
bias correction, the trust ratio ``||w|| / ||update||`` with ``torch.where`` guards for zero
norms), LARS (momentum SGD with a layer-wise trust ratio, biases and norm weights excluded by an
``lars_exclude`` flag in their param group), and Lookahead wrapping LAMB. Each keeps its state
in ``self.state[p]``, so that ``state_dict()`` / ``load_state_dict()`` round trips resume the
run exactly; ``param_groups`` carry extra keys through the round trip, and ``zero_grad``,
``add_param_group`` defaults and ``__repr__`` come from the base class."""

import io
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy, randn


class LAMB(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-6, weight_decay=0.01):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = torch.tensor(0.0)
                    state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                state["step"] += 1
                step = state["step"].item()
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                exp_avg.mul_(beta1).add_(p.grad, alpha=1 - beta1)
                exp_avg_sq.mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)
                m_hat = exp_avg / (1 - beta1**step)
                v_hat = exp_avg_sq / (1 - beta2**step)
                update = m_hat / (v_hat.sqrt() + group["eps"]) + group["weight_decay"] * p
                w_norm, u_norm = p.norm(2), update.norm(2)
                one = torch.ones_like(w_norm)
                trust = torch.where(w_norm > 0, torch.where(u_norm > 0, w_norm / u_norm, one), one)
                state["trust_ratio"] = trust.item()
                p.add_(update * trust, alpha=-group["lr"])
        return loss


class LARS(torch.optim.Optimizer):
    def __init__(self, params, lr=0.1, momentum=0.9, weight_decay=1e-4, eta=0.001):
        defaults = dict(lr=lr, momentum=momentum, weight_decay=weight_decay, eta=eta)
        defaults["lars_exclude"] = False
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                dp = p.grad
                if not group["lars_exclude"]:
                    dp = dp.add(p, alpha=group["weight_decay"])
                    param_norm, update_norm = torch.norm(p), torch.norm(dp)
                    q = torch.where(
                        param_norm > 0.0,
                        torch.where(update_norm > 0, group["eta"] * param_norm / update_norm, 1.0),
                        1.0,
                    )
                    dp = dp.mul(q)
                state = self.state[p]
                if "mu" not in state:
                    state["mu"] = torch.zeros_like(p)
                mu = state["mu"]
                mu.mul_(group["momentum"]).add_(dp)
                p.add_(mu, alpha=-group["lr"])


class Lookahead(torch.optim.Optimizer):
    def __init__(self, base, k=3, alpha=0.5):
        # NOTE super().__init__() not called on purpose (as timm's): the base owns the groups
        self._optimizer_step_pre_hooks = OrderedDict()
        self._optimizer_step_post_hooks = OrderedDict()
        self.base, self.k, self.alpha = base, k, alpha
        self.param_groups, self.defaults = base.param_groups, base.defaults
        self.state = base.state
        self.slow = [[p.detach().clone() for p in g["params"]] for g in self.param_groups]
        self.counter = 0

    def step(self, closure=None):
        loss = self.base.step(closure)
        self.counter += 1
        if self.counter % self.k == 0:
            with torch.no_grad():
                for group, slows in zip(self.param_groups, self.slow):
                    for p, slow in zip(group["params"], slows):
                        slow.add_(p - slow, alpha=self.alpha)
                        p.copy_(slow)
        return loss


def make_model():
    return init_from_numpy(
        nn.Sequential(nn.Linear(8, 32), nn.LayerNorm(32), nn.ReLU(), nn.Linear(32, 3)), seed=1
    )


def split_groups(model):
    decay = [p for n, p in model.named_parameters() if p.dim() > 1]
    no_decay = [p for n, p in model.named_parameters() if p.dim() <= 1]
    return decay, no_decay


rng = np.random.default_rng(0)
X = randn(rng, 256, 8)
y = (X[:, :3] * torch.tensor([1.0, -1.0, 0.5])).argmax(1)


def train(model, optimizer, steps, closure_style=False):
    losses = []
    for i in range(steps):
        idx = torch.arange(i * 64, (i + 1) * 64) % 256

        def closure():
            optimizer.zero_grad()
            loss = F.cross_entropy(model(X[idx]), y[idx])
            loss.backward()
            return loss

        if closure_style:
            losses.append(optimizer.step(closure).item())
        else:
            losses.append(closure().item())
            optimizer.step()
    return losses


model = make_model()
lamb = LAMB(model.parameters(), lr=0.02, weight_decay=0.01)
lamb_losses = train(model, lamb, 12, closure_style=True)
trust_ratios = [round(lamb.state[p]["trust_ratio"], 5) for p in model.parameters()]
buffer = io.BytesIO()
torch.save({"model": model.state_dict(), "optim": lamb.state_dict()}, buffer)
lamb_losses += train(model, lamb, 8, closure_style=True)
buffer.seek(0)
checkpoint = torch.load(buffer, weights_only=True)
resumed = make_model()
resumed.load_state_dict(checkpoint["model"])
lamb2 = LAMB(resumed.parameters(), lr=0.02, weight_decay=0.01)
lamb2.load_state_dict(checkpoint["optim"])
resumed_losses = train(resumed, lamb2, 8, closure_style=True)
resume_gap = max(abs(a - b) for a, b in zip(resumed_losses, lamb_losses[12:]))
saved_state_keys = sorted(checkpoint["optim"]["state"][0].keys())
saved_group_keys = sorted(checkpoint["optim"]["param_groups"][0].keys())
step_is_tensor = isinstance(lamb2.state[resumed[0].weight]["step"], torch.Tensor)

model = make_model()
decay, no_decay = split_groups(model)
lars = LARS([{"params": decay}, {"params": no_decay, "lars_exclude": True}], lr=0.5)
lars_losses = train(model, lars, 20)
lars_groups = [(g["lars_exclude"], len(g["params"]), g["lr"]) for g in lars.param_groups]
lars_state = lars.state_dict()
lars2 = LARS(make_model().parameters(), lr=0.5)
try:
    lars2.load_state_dict(lars_state)
    group_error = None
except ValueError as error:
    group_error = str(error)
lars_repr = repr(lars).splitlines()[:4]

model = make_model()
look = Lookahead(LAMB(model.parameters(), lr=0.02), k=3)
lookahead_losses = train(model, look, 12)
look.zero_grad()
grads_cleared = all(p.grad is None for p in model.parameters())
