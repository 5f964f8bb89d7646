"""Lion (Chen et al. 2023, lucidrains' ``lion-pytorch``) and SophiaG (Liu et al. 2023, the
authors' ``sophia.py``) written as ``torch.optim.Optimizer`` subclasses and trained on a tiny
character language model: Lion's sign update with ``lerp_``, SophiaG's Gauss-Newton-Bartlett
Hessian estimate every k steps (labels sampled from the model's own softmax with
``torch.multinomial``, a separate backward, ``update_hessian()``), its clipped ratio
``(exp_avg.abs() / (rho * bs * hess + 1e-15)).clamp(None, 1)`` and ``addcmul_`` with
``exp_avg.sign()``; both checkpointed mid-run with ``state_dict()`` through ``torch.save`` and
resumed in a fresh optimizer, whose losses equal the uninterrupted run's, and deep-copied
through SophiaG's ``__setstate__`` (which calls ``super().__setstate__``)."""

import copy
import io
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.optim.optimizer import Optimizer


class Lion(Optimizer):
    def __init__(self, params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
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
                grad, lr, wd, state = p.grad, group["lr"], group["weight_decay"], self.state[p]
                beta1, beta2 = group["betas"]
                if len(state) == 0:
                    state["exp_avg"] = torch.zeros_like(p)
                exp_avg = state["exp_avg"]
                p.data.mul_(1.0 - lr * wd)
                update = exp_avg.clone().lerp_(grad, 1.0 - beta1).sign_()
                p.add_(update, alpha=-lr)
                exp_avg.lerp_(grad, 1.0 - beta2)
        return loss


class SophiaG(Optimizer):
    def __init__(
        self,
        params,
        lr=1e-4,
        betas=(0.965, 0.99),
        rho=0.04,
        weight_decay=1e-1,
        *,
        maximize: bool = False,
        capturable: bool = False,
    ):
        if not 0.0 <= rho:
            raise ValueError("Invalid rho parameter at index 1: {}".format(rho))
        defaults = dict(
            lr=lr,
            betas=betas,
            rho=rho,
            weight_decay=weight_decay,
            maximize=maximize,
            capturable=capturable,
        )
        super(SophiaG, self).__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("maximize", False)
            group.setdefault("capturable", False)
        state_values = list(self.state.values())
        step_is_tensor = (len(state_values) != 0) and torch.is_tensor(state_values[0]["step"])
        if not step_is_tensor:
            for s in state_values:
                s["step"] = torch.tensor(float(s["step"]))

    @torch.no_grad()
    def update_hessian(self):
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = torch.zeros((1,), dtype=torch.float, device=p.device)
                    state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    state["hessian"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                if "hessian" not in state.keys():
                    state["hessian"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                state["hessian"].mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)

    @torch.no_grad()
    def step(self, closure=None, bs=5120):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p.grad.is_sparse:
                    raise RuntimeError("Hero does not support sparse gradients")
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = torch.zeros((1,), dtype=torch.float, device=p.device)
                    state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    state["hessian"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                grad = p.grad if not group["maximize"] else -p.grad
                state["step"] += 1
                p.mul_(1 - group["lr"] * group["weight_decay"])
                state["exp_avg"].mul_(beta1).add_(grad, alpha=1 - beta1)
                step_size_neg = -group["lr"]
                ratio = (
                    state["exp_avg"].abs() / (group["rho"] * bs * state["hessian"] + 1e-15)
                ).clamp(None, 1)
                p.addcmul_(state["exp_avg"].sign(), ratio, value=step_size_neg)
        return loss


VOCAB, CTX = 12, 6
torch.manual_seed(0)
text = torch.tensor([(3 * i + i // 5) % VOCAB for i in range(200)])


class CharLM(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(VOCAB, 16)
        self.pos = nn.Parameter(torch.zeros(CTX, 16))
        self.mix = nn.Linear(CTX * 16, 32)
        self.ln = nn.LayerNorm(32)
        self.head = nn.Linear(32, VOCAB)

    def forward(self, idx):
        h = (self.emb(idx) + self.pos).flatten(1)
        return self.head(self.ln(F.gelu(self.mix(h))))


def batch(step):
    g = torch.Generator().manual_seed(step)
    starts = torch.randint(0, len(text) - CTX - 1, (16,), generator=g)
    x = torch.stack([text[s : s + CTX] for s in starts.tolist()])
    return x, text[starts + CTX]


def make(kind):
    torch.manual_seed(1)
    model = CharLM()
    decay = [p for p in model.parameters() if p.dim() >= 2]
    rest = [p for p in model.parameters() if p.dim() < 2]
    groups = [{"params": decay}, {"params": rest, "weight_decay": 0.0}]
    if kind == "lion":
        return model, Lion(groups, lr=3e-3, weight_decay=0.1)
    return model, SophiaG(groups, lr=3e-3, betas=(0.965, 0.99), rho=0.05, weight_decay=0.1)


def run(kind, model, opt, steps, start=0, k=4):
    losses, bs = [], 16
    for step in range(start, start + steps):
        x, y = batch(step)
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        loss.backward()
        opt.step(bs=bs) if kind == "sophia" else opt.step()
        opt.zero_grad(set_to_none=True)
        if kind == "sophia" and step % k == k - 1:
            logits = model(x)
            samp_y = torch.multinomial(F.softmax(logits, dim=-1), 1).view(-1)
            loss_sampled = F.cross_entropy(logits, samp_y, ignore_index=-1)
            loss_sampled.backward()
            opt.update_hessian()
            opt.zero_grad(set_to_none=True)
        losses.append(loss.item())
    return losses


results, resumed, state_summary = {}, {}, {}
for kind in ("lion", "sophia"):
    model, opt = make(kind)
    first = run(kind, model, opt, 20)
    buffer = io.BytesIO()
    torch.save(
        {"model": model.state_dict(), "opt": opt.state_dict(), "rng": torch.get_rng_state()}, buffer
    )
    rest = run(kind, model, opt, 20, start=20)
    results[kind] = first + rest
    buffer.seek(0)
    ckpt = torch.load(buffer)
    model2, opt2 = make(kind)
    model2.load_state_dict(ckpt["model"])
    opt2.load_state_dict(ckpt["opt"])
    torch.set_rng_state(ckpt["rng"])
    resumed[kind] = run(kind, model2, opt2, 20, start=20)
    sd = opt2.state_dict()
    state_summary[kind] = (
        sorted(sd["state"][0]),
        len(sd["state"]),
        [sorted(g) for g in sd["param_groups"]],
        [g["params"] for g in sd["param_groups"]],
    )

# a deep copy (as trainers keep "best" checkpoints) goes through __getstate__/__setstate__,
# which SophiaG extends with super().__setstate__(state)
opt_copy = copy.deepcopy(opt2)
copy_groups = [{k: v for k, v in g.items() if k != "params"} for g in opt_copy.param_groups]
copy_defaults_keys = sorted(opt_copy.defaults)
copy_state_equal = all(
    torch.equal(opt_copy.state[c]["hessian"], opt2.state[p]["hessian"])
    for c, p in zip(opt_copy.param_groups[0]["params"], opt2.param_groups[0]["params"])
)
sophia_step = opt2.state[model2.mix.weight]["step"].tolist()
hessian_mean = opt2.state[model2.mix.weight]["hessian"].mean().item()
uniform_loss = math.log(VOCAB)
