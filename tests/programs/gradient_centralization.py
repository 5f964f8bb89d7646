"""Gradient centralization (Yong et al. 2020) applied the three ways people write it: the
reference ``SGD_GC``-style optimizer subclass that centralizes inside ``step``
(``grad.add_(-grad.mean(dim=tuple(range(1, len(grad.size()))), keepdim=True))``), a step
pre-hook on a stock ``torch.optim.SGD`` (``register_step_pre_hook``, removed later with its
handle), and a global hook for every optimizer (``torch.optim.optimizer.
register_optimizer_step_pre_hook``) used with AdamW. The first two give identical weights;
with SGD the mean of each output row of a centralized weight never moves (the GC projection
keeps it), while biases and 1-d parameters are left alone."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.optim.optimizer import register_optimizer_step_pre_hook


def centralize_(grad):
    if grad.dim() > 1:
        grad.add_(-grad.mean(dim=tuple(range(1, len(grad.size()))), keepdim=True))
    return grad


class SGD_GC(torch.optim.SGD):
    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    centralize_(p.grad)
        return super().step(closure)


def gc_pre_hook(optimizer, args, kwargs):
    for group in optimizer.param_groups:
        for p in group["params"]:
            if p.grad is not None:
                centralize_(p.grad)


class ConvNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 3)
        self.bn = nn.BatchNorm2d(6)
        self.conv2 = nn.Conv2d(6, 8, 3)
        self.fc = nn.Linear(8, 2)

    def forward(self, x):
        x = F.relu(self.bn(self.conv1(x)))
        x = F.relu(self.conv2(x))
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


torch.manual_seed(0)
images = torch.randn(40, 1, 7, 7)
labels = (images[:, 0, 2:5, 2:5].sum((1, 2)) > 0).long()


def train(make_opt, steps=20):
    torch.manual_seed(1)
    model = ConvNet()
    opt = make_opt(model)
    losses = []
    for step in range(steps):
        idx = torch.arange(step * 8, step * 8 + 8) % 40
        opt.zero_grad()
        loss = F.cross_entropy(model(images[idx]), labels[idx])
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return model, opt, losses


def row_means(model):
    return {n: p.detach().flatten(1).mean(1) for n, p in model.named_parameters() if p.dim() > 1}


torch.manual_seed(1)
init_means = row_means(ConvNet())

m_sub, _, loss_sub = train(lambda m: SGD_GC(m.parameters(), lr=0.1, momentum=0.9))
handles = []


def hooked_sgd(model):
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    handles.append(opt.register_step_pre_hook(gc_pre_hook))
    return opt


m_hook, opt_hook, loss_hook = train(hooked_sgd)
m_plain, _, loss_plain = train(lambda m: torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9))
same_weights = all(
    torch.allclose(a, b, rtol=0, atol=1e-6) for a, b in zip(m_sub.parameters(), m_hook.parameters())
)
mean_drift_gc = max((row_means(m_hook)[n] - v).abs().max().item() for n, v in init_means.items())
mean_drift_plain = max(
    (row_means(m_plain)[n] - v).abs().max().item() for n, v in init_means.items()
)
bias_moved = (m_hook.fc.bias - m_plain.fc.bias).abs().max().item() > 0

handles[0].remove()
opt_hook.zero_grad()
F.cross_entropy(m_hook(images[:8]), labels[:8]).backward()
raw_row_mean = m_hook.fc.weight.grad.mean(1).abs().max().item()
opt_hook.step()
moved_after_remove = (row_means(m_hook)["fc.weight"] - init_means["fc.weight"]).abs().max().item()

# the global hook: every optimizer's step centralizes, until the handle is removed
calls = []


def global_gc(optimizer, args, kwargs):
    calls.append(type(optimizer).__name__)
    gc_pre_hook(optimizer, args, kwargs)


handle = register_optimizer_step_pre_hook(global_gc)
m_adamw, _, loss_adamw = train(lambda m: torch.optim.AdamW(m.parameters(), lr=0.01), steps=10)
handle.remove()
_, _, loss_after = train(lambda m: torch.optim.AdamW(m.parameters(), lr=0.01), steps=2)
calls_total = (len(calls), sorted(set(calls)))
with torch.no_grad():
    accuracy = (m_hook(images).argmax(1) == labels).float().mean().item()
