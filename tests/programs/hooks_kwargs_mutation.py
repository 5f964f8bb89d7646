"""Hooks as instrumentation and adapter code writes them: a forward pre-hook with
``with_kwargs=True`` that injects a keyword argument (a temperature), a forward hook with
``with_kwargs=True`` that sees the call's kwargs and rescales the output, an
``always_call=True`` hook that still runs when forward raises, a full backward pre-hook that
clips incoming gradients, ``register_multi_grad_hook(mode="any")`` firing once on the first
gradient of a group, ``register_post_accumulate_grad_hook`` counting accumulations, and
``torch.autograd.graph.allow_mutation_on_saved_tensors`` letting an in-place update of a
saved activation go through (backward uses the value from before the change)."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.autograd.graph import allow_mutation_on_saved_tensors, register_multi_grad_hook

torch.manual_seed(0)


class Scorer(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(6, 4)

    def forward(self, x, temperature=1.0, mask=None):
        logits = self.proj(x) / temperature
        if mask is not None:
            logits = logits.masked_fill(~mask, -1e4)
        return logits


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(5, 6), nn.Tanh())
        self.scorer = Scorer()

    def forward(self, x, mask=None):
        return self.scorer(self.body(x), mask=mask)


net = Net()
log = []


def pre_hook(module, args, kwargs):
    kwargs = dict(kwargs)
    kwargs.setdefault("temperature", 2.0)
    log.append(("pre", sorted(kwargs)))
    return args, kwargs


def post_hook(module, args, kwargs, output):
    log.append(("post", sorted(kwargs), kwargs["temperature"]))
    return output * 1.5


def failure_hook(module, args, output):
    log.append(("always", output is None))


net.scorer.register_forward_pre_hook(pre_hook, with_kwargs=True)
net.scorer.register_forward_hook(post_hook, with_kwargs=True)
net.body.register_forward_hook(failure_hook, always_call=True)
clipped = []


def clip_pre_hook(module, grad_output):
    clipped.append(round(grad_output[0].abs().max().item(), 6))
    return (grad_output[0].clamp(-0.05, 0.05),)


net.body.register_full_backward_pre_hook(clip_pre_hook)
accumulations = {}
for name, p in net.named_parameters():
    p.register_post_accumulate_grad_hook(
        lambda p, name=name: accumulations.__setitem__(name, accumulations.get(name, 0) + 1)
    )
first_ready = []
params = [net.scorer.proj.weight, net.body[0].weight]
register_multi_grad_hook(
    params, lambda grad: first_ready.append(grad is not None and tuple(grad.shape)), mode="any"
)

x = torch.randn(16, 5)
mask = torch.ones(16, 4, dtype=torch.bool)
mask[:, 3] = False
y = torch.randint(0, 3, (16,))
opt = torch.optim.SGD(net.parameters(), lr=0.2)
losses = []
for step in range(8):
    out = net(x, mask=mask)
    loss = F.cross_entropy(out, y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    losses.append(loss.item())
try:
    net(torch.randn(2, 7))
except RuntimeError:
    log.append(("raised",))

w = torch.randn(4, 4, requires_grad=True)
with allow_mutation_on_saved_tensors():
    h = torch.sin(w)
    z = h * h  # h saved for backward
    h.mul_(10.0)  # mutated after saving: allowed in this context
    z.sum().backward()
mutation_grad_gap = (w.grad - 2 * torch.sin(w) * torch.cos(w)).abs().max().item()
h_after = h.detach().abs().max().item() > 1.0
w.grad = None
h2 = torch.sin(w)
z2 = h2 * h2
h2.mul_(10.0)
try:
    z2.sum().backward()
    plain_error = "no error"
except RuntimeError as e:
    plain_error = "modified by an inplace operation" in str(e).replace("in-place", "inplace")
