"""Writing optimizers the way PyTorch users (and timm, pytorch-optimizer) do: subclasses of
torch.optim.Optimizer with defaults, a @torch.no_grad() step(closure=None) that reads
self.param_groups and lazily fills self.state[p], a from-scratch Adam checked step by step
against torch.optim.Adam, a Lookahead wrapper around any optimizer (slow weights in its own
state, param_groups shared with the inner optimizer), Lion with torch.sign and lerp_,
add_param_group for a newly unfrozen layer, state_dict/load_state_dict round trips, and
register_step_pre_hook / register_step_post_hook."""

import math
from collections import defaultdict

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.optim import Optimizer

torch.manual_seed(0)


class ScratchAdam(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
        super().__init__(params, defaults)

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
                grad = p.grad
                if group["weight_decay"] != 0:
                    grad = grad.add(p, alpha=group["weight_decay"])
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                state["step"] += 1
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                bias_correction1 = 1 - beta1 ** state["step"]
                bias_correction2 = 1 - beta2 ** state["step"]
                denom = (exp_avg_sq.sqrt() / math.sqrt(bias_correction2)).add_(group["eps"])
                step_size = group["lr"] / bias_correction1
                p.addcdiv_(exp_avg, denom, value=-step_size)
        return loss


class Lion(Optimizer):
    def __init__(self, params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0):
        defaults = dict(lr=lr, betas=betas, weight_decay=weight_decay)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in filter(lambda p: p.grad is not None, group["params"]):
                grad, lr, wd = p.grad, group["lr"], group["weight_decay"]
                beta1, beta2 = group["betas"]
                state = self.state[p]
                if len(state) == 0:
                    state["exp_avg"] = torch.zeros_like(p)
                exp_avg = state["exp_avg"]
                p.data.mul_(1 - lr * wd)  # stepweight decay
                update = exp_avg.clone().mul_(beta1).add(grad, alpha=1 - beta1).sign_()
                p.add_(update, alpha=-lr)
                exp_avg.mul_(beta2).add_(grad, alpha=1 - beta2)
        return loss


class Lookahead(Optimizer):
    def __init__(self, optimizer, k=5, alpha=0.5):
        self.optimizer = optimizer
        self.k, self.alpha = k, alpha
        self.param_groups = self.optimizer.param_groups
        self.state = defaultdict(dict)
        self.fast_state = self.optimizer.state
        for group in self.param_groups:
            group["counter"] = 0
        self.defaults = self.optimizer.defaults

    def update(self, group):
        for fast in group["params"]:
            param_state = self.state[fast]
            if "slow_param" not in param_state:
                param_state["slow_param"] = torch.zeros_like(fast.data)
                param_state["slow_param"].copy_(fast.data)
            slow = param_state["slow_param"]
            slow += (fast.data - slow) * self.alpha
            fast.data.copy_(slow)

    def update_lookahead(self):
        for group in self.param_groups:
            self.update(group)

    def step(self, closure=None):
        loss = self.optimizer.step(closure)
        for group in self.param_groups:
            if group["counter"] == 0:
                self.update(group)
            group["counter"] += 1
            if group["counter"] >= self.k:
                group["counter"] = 0
        return loss

    def zero_grad(self, set_to_none=True):
        self.optimizer.zero_grad(set_to_none=set_to_none)


def make_model():
    torch.manual_seed(1)
    return nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 3))


x = torch.randn(64, 6)
y = (x[:, :3] - x[:, 3:]).argmax(1)

# 1. The scratch Adam equals torch.optim.Adam step by step
ours, ref = make_model(), make_model()
opt_ours = ScratchAdam(ours.parameters(), lr=1e-2, weight_decay=1e-3)
opt_ref = torch.optim.Adam(ref.parameters(), lr=1e-2, weight_decay=1e-3)
adam_gaps = []
for step in range(20):
    for model, opt in ((ours, opt_ours), (ref, opt_ref)):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    adam_gaps.append(
        max((p - q).abs().max().item() for p, q in zip(ours.parameters(), ref.parameters()))
    )
print(f"scratch Adam vs torch.optim.Adam: max gap {max(adam_gaps):.2e}")

# 2. closure, hooks, state_dict round trip
calls = []
pre = opt_ours.register_step_pre_hook(lambda opt, args, kwargs: calls.append("pre"))
post = opt_ours.register_step_post_hook(lambda opt, args, kwargs: calls.append("post"))


def closure():
    opt_ours.zero_grad()
    loss = F.cross_entropy(ours(x), y)
    loss.backward()
    return loss


closure_loss = opt_ours.step(closure)
pre.remove()
post.remove()
opt_ours.step(closure)
state = opt_ours.state_dict()
state_keys = sorted(state["state"][0])
restored = ScratchAdam(ours.parameters(), lr=0.5)
restored.load_state_dict(state)
restored_lr = restored.param_groups[0]["lr"]
restored_step = restored.state[next(iter(ours.parameters()))]["step"]

# 3. Lion and Lookahead(Lion) train the model
results = {}
for name in ("lion", "lookahead"):
    model = make_model()
    inner = Lion(model.parameters(), lr=3e-3, weight_decay=1e-2)
    opt = Lookahead(inner, k=5, alpha=0.5) if name == "lookahead" else inner
    losses = []
    for step in range(40):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    results[name] = losses
    print(f"{name}: loss {losses[0]:.3f} -> {losses[-1]:.3f}")
slow_weights = len(opt.state)

# 4. add_param_group: a frozen layer joins training later with its own lr
model = make_model()
for p in model[2].parameters():
    p.requires_grad_(False)
opt = ScratchAdam(model[0].parameters(), lr=1e-2)
frozen_before = model[2].weight.clone()
for step in range(5):
    opt.zero_grad()
    F.cross_entropy(model(x), y).backward()
    opt.step()
unchanged_while_frozen = torch.equal(frozen_before, model[2].weight)
for p in model[2].parameters():
    p.requires_grad_(True)
opt.add_param_group({"params": model[2].parameters(), "lr": 1e-3})
for step in range(5):
    opt.zero_grad()
    F.cross_entropy(model(x), y).backward()
    opt.step()
group_lrs = [g["lr"] for g in opt.param_groups]
group_defaults = opt.param_groups[1]["betas"]
changed_after = not torch.equal(frozen_before, model[2].weight)
