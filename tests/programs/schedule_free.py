"""Schedule-free learning (Defazio et al. 2024) as the reference ``schedulefree`` package
writes it: ``SGDScheduleFree`` and ``AdamWScheduleFree`` as ``torch.optim.Optimizer``
subclasses keeping the z sequence in ``state['z']`` and the parameters at the gradient point y
(updated in place with ``torch._foreach_lerp_``/``_foreach_add_``/``_foreach_sub_``), the
averaging weight ``ckp1`` from ``lr_max ** weight_lr_power``, a linear warm-up inside the
optimizer, and ``optimizer.train()``/``optimizer.eval()`` switching the parameters between y
and the averaged x with ``lerp_`` (BatchNorm statistics recomputed at x afterwards, as the
README advises); checked against the defining recurrences and a checkpoint round trip."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class SGDScheduleFree(torch.optim.Optimizer):
    def __init__(
        self,
        params,
        lr=1.0,
        momentum=0.9,
        weight_decay=0,
        warmup_steps=0,
        r=0.0,
        weight_lr_power=2,
        foreach=hasattr(torch, "_foreach_mul_"),
    ):
        if lr < 0.0:
            raise ValueError("Invalid learning rate: {}".format(lr))
        if momentum <= 0 or momentum >= 1:
            raise ValueError("Momentum must be between 0 and 1 exclusive: {}".format(momentum))
        defaults = dict(
            lr=lr,
            momentum=momentum,
            r=r,
            k=0,
            warmup_steps=warmup_steps,
            train_mode=True,
            weight_sum=0.0,
            lr_max=-1.0,
            weight_lr_power=weight_lr_power,
            weight_decay=weight_decay,
            foreach=foreach,
        )
        super().__init__(params, defaults)

    @torch.no_grad()
    def eval(self):
        for group in self.param_groups:
            momentum = group["momentum"]
            if group["train_mode"]:
                for p in group["params"]:
                    state = self.state[p]
                    if "z" in state:
                        p.lerp_(end=state["z"], weight=1 - 1 / momentum)  # x from y
                group["train_mode"] = False

    @torch.no_grad()
    def train(self):
        for group in self.param_groups:
            momentum = group["momentum"]
            if not group["train_mode"]:
                for p in group["params"]:
                    state = self.state[p]
                    if "z" in state:
                        p.lerp_(end=state["z"], weight=1 - momentum)  # y from x
                group["train_mode"] = True

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            momentum, lr, weight_decay = group["momentum"], group["lr"], group["weight_decay"]
            k, warmup_steps = group["k"], group["warmup_steps"]
            sched = (k + 1) / warmup_steps if k < warmup_steps else 1.0
            lr = group["lr"] * sched
            lr_max = group["lr_max"] = max(lr, group["lr_max"])
            weight = ((k + 1) ** group["r"]) * (lr_max ** group["weight_lr_power"])
            weight_sum = group["weight_sum"] = group["weight_sum"] + weight
            try:
                ckp1 = weight / weight_sum
            except ZeroDivisionError:
                ckp1 = 0
            if not group["train_mode"]:
                raise Exception("Not in train mode!")
            active_p = [p for p in group["params"] if p.grad is not None]
            for p in active_p:
                if "z" not in self.state[p]:
                    self.state[p]["z"] = torch.clone(p, memory_format=torch.preserve_format)
            if group["foreach"] and len(active_p) > 0:
                y, grad, z = zip(*[(p, p.grad, self.state[p]["z"]) for p in active_p])
                if weight_decay != 0:
                    torch._foreach_add_(grad, y, alpha=weight_decay)
                torch._foreach_lerp_(y, z, weight=ckp1)
                torch._foreach_add_(y, grad, alpha=lr * (momentum * (1 - ckp1) - 1))
                torch._foreach_sub_(z, grad, alpha=lr)
            else:
                for p in active_p:
                    y, grad, z = p, p.grad, self.state[p]["z"]
                    if weight_decay != 0:
                        grad.add_(y, alpha=weight_decay)
                    y.lerp_(end=z, weight=ckp1)
                    y.add_(grad, alpha=lr * (momentum * (1 - ckp1) - 1))
                    z.sub_(grad, alpha=lr)
            group["k"] = k + 1
        return loss


class AdamWScheduleFree(torch.optim.Optimizer):
    def __init__(
        self,
        params,
        lr=0.0025,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0,
        warmup_steps=0,
        r=0.0,
        weight_lr_power=2.0,
        foreach=hasattr(torch, "_foreach_mul_"),
    ):
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            r=r,
            k=0,
            warmup_steps=warmup_steps,
            train_mode=True,
            weight_sum=0.0,
            lr_max=-1.0,
            weight_lr_power=weight_lr_power,
            weight_decay=weight_decay,
            foreach=foreach,
        )
        super().__init__(params, defaults)

    @torch.no_grad()
    def eval(self):
        for group in self.param_groups:
            beta1, _ = group["betas"]
            if group["train_mode"]:
                for p in group["params"]:
                    state = self.state[p]
                    if "z" in state:
                        p.data.lerp_(end=state["z"], weight=1 - 1 / beta1)
                group["train_mode"] = False

    @torch.no_grad()
    def train(self):
        for group in self.param_groups:
            beta1, _ = group["betas"]
            if not group["train_mode"]:
                for p in group["params"]:
                    state = self.state[p]
                    if "z" in state:
                        p.data.lerp_(end=state["z"], weight=1 - beta1)
                group["train_mode"] = True

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            eps, decay, k = group["eps"], group["weight_decay"], group["k"]
            beta1, beta2 = group["betas"]
            sched = (k + 1) / group["warmup_steps"] if k < group["warmup_steps"] else 1.0
            bias_correction2 = 1 - beta2 ** (k + 1)
            lr = group["lr"] * sched * math.sqrt(bias_correction2)
            lr_max = group["lr_max"] = max(lr, group["lr_max"])
            weight = ((k + 1) ** group["r"]) * (lr_max ** group["weight_lr_power"])
            weight_sum = group["weight_sum"] = group["weight_sum"] + weight
            ckp1 = weight / weight_sum if weight_sum else 0
            if not group["train_mode"]:
                raise Exception("Not in train mode!")
            active_p = [p for p in group["params"] if p.grad is not None]
            for p in active_p:
                if "z" not in self.state[p]:
                    self.state[p]["z"] = torch.clone(p.data)
                    self.state[p]["exp_avg_sq"] = torch.zeros_like(p.data)
            y, grad, exp_avg_sq, z = zip(
                *[
                    (p.data, p.grad, self.state[p]["exp_avg_sq"], self.state[p]["z"])
                    for p in active_p
                ]
            )
            torch._foreach_mul_(exp_avg_sq, beta2)
            torch._foreach_addcmul_(exp_avg_sq, grad, grad, value=1 - beta2)
            denom = torch._foreach_sqrt(exp_avg_sq)
            torch._foreach_add_(denom, eps)
            torch._foreach_div_(grad, denom)  # normalize the gradient in place
            if decay != 0:
                torch._foreach_add_(grad, y, alpha=decay)  # weight decay at y
            torch._foreach_lerp_(y, z, weight=ckp1)
            torch._foreach_add_(y, grad, alpha=lr * (beta1 * (1 - ckp1) - 1))
            torch._foreach_sub_(z, grad, alpha=lr)
            group["k"] = k + 1
        return loss


torch.manual_seed(0)
X = torch.randn(96, 6)
w_true = torch.randn(6, 1)
y = (X @ w_true).squeeze(1).tanh() + 0.05 * torch.randn(96)
loader = torch.utils.data.DataLoader(
    torch.utils.data.TensorDataset(X, y),
    batch_size=16,
    shuffle=True,
    generator=torch.Generator().manual_seed(3),
)


def make_model():
    loader.generator.manual_seed(3)  # every run sees the same shuffles
    torch.manual_seed(1)
    return nn.Sequential(nn.Linear(6, 24), nn.BatchNorm1d(24), nn.SiLU(), nn.Linear(24, 1))


def fit(model, opt, epochs):
    history = []
    for epoch in range(epochs):
        model.train()
        opt.train()
        for xb, yb in loader:
            opt.zero_grad()
            loss = F.mse_loss(model(xb).squeeze(1), yb)
            loss.backward()
            opt.step()
        model.eval()
        opt.eval()
        with torch.no_grad():  # BN statistics at x: a few forward passes in train mode
            model.train()
            for m in model.modules():
                if isinstance(m, nn.BatchNorm1d):
                    m.reset_running_stats()
                    m.momentum = None
            for xb, _ in loader:
                model(xb)
            model.eval()
            history.append(F.mse_loss(model(X).squeeze(1), y).item())
    return history


results = {}
for name, factory in (
    ("sgd_foreach", lambda p: SGDScheduleFree(p, lr=0.5, warmup_steps=6)),
    ("sgd_loop", lambda p: SGDScheduleFree(p, lr=0.5, warmup_steps=6, foreach=False)),
    ("adamw", lambda p: AdamWScheduleFree(p, lr=0.02, warmup_steps=6, weight_decay=1e-4)),
):
    model = make_model()
    opt = factory(model.parameters())
    results[name] = fit(model, opt, 5)
foreach_equals_loop = results["sgd_foreach"] == results["sgd_loop"]
k_steps = opt.param_groups[0]["k"]
train_mode_after = opt.param_groups[0]["train_mode"]

# the recurrences by hand for one scalar: x is the weighted average of the z iterates
p = torch.tensor([1.5], requires_grad=True)
opt = SGDScheduleFree([p], lr=0.1, momentum=0.9)
zs, ys = [], []
for t in range(6):
    opt.zero_grad()
    (p - 0.3).pow(2).sum().mul(0.5).backward()
    ys.append(p.item())
    opt.step()
    zs.append(opt.state[p]["z"].item())
opt.eval()
x_eval = p.item()
x_by_hand = sum(zs) / len(zs)  # constant lr and r=0: ckp1 = 1/(k+1), a uniform average
opt.train()
y_back = p.item()
y_by_hand = 0.9 * x_eval + 0.1 * zs[-1]

# a state_dict round trip keeps z, the group's k/weight_sum/lr_max and train_mode
model = make_model()
opt = AdamWScheduleFree(model.parameters(), lr=0.02)
fit(model, opt, 1)
sd = opt.state_dict()
opt2 = AdamWScheduleFree(make_model().parameters(), lr=0.02)
opt2.load_state_dict(sd)
round_trip = {k: opt2.param_groups[0][k] for k in ("k", "weight_sum", "lr_max", "train_mode")}
z_equal = torch.equal(
    opt2.state[opt2.param_groups[0]["params"][0]]["z"],
    opt.state[opt.param_groups[0]["params"][0]]["z"],
)
try:
    opt2.step()
except Exception as e:
    not_train_error = str(e)
