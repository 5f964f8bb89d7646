"""The "Introduction to torch.compile" tutorial: compiling a function (torch.compile(foo) and
the @torch.compile decorator), a module (torch.compile(mod) and mod.compile()), a whole
training step with mode="reduce-overhead", results compared with eager, a function with a
data-dependent branch (a graph break in PyTorch) that still gives eager's results, and
recompilation when input shapes change (dynamic=False)."""

import warnings

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


def foo(x, y):
    a = torch.sin(x)
    b = torch.cos(y)
    return a + b


opt_foo1 = torch.compile(foo)
x, y = torch.randn(10, 10), torch.randn(10, 10)
print(opt_foo1(x, y))
foo_gap = (opt_foo1(x, y) - foo(x, y)).abs().max().item()


@torch.compile
def opt_foo2(x, y):
    a = torch.sin(x)
    b = torch.cos(y)
    return a + b


decorator_gap = (opt_foo2(x, y) - foo(x, y)).abs().max().item()


class MyModule(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(100, 10)

    def forward(self, x):
        return torch.nn.functional.relu(self.lin(x))


mod = MyModule()
opt_mod = torch.compile(mod)
t = torch.randn(10, 100)
print(opt_mod(t))
module_gap = (opt_mod(t) - mod(t)).abs().max().item()
mod2 = MyModule()
mod2.load_state_dict(mod.state_dict())
mod2.compile()
in_place_compile_gap = (mod2(t) - mod(t)).abs().max().item()


# Compiling a whole training step
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(20, 64), nn.GELU(), nn.LayerNorm(64), nn.Linear(64, 3))

    def forward(self, x):
        return self.net(x)


data = torch.randn(256, 20)
target = (data[:, :3] * torch.tensor([1.0, -2.0, 0.5])).argmax(1)


def make(seed):
    torch.manual_seed(seed)
    model = Net()
    return model, torch.optim.Adam(model.parameters(), lr=1e-2)


def train_step(model, optimizer, xb, yb):
    optimizer.zero_grad(set_to_none=True)
    loss = F.cross_entropy(model(xb), yb)
    loss.backward()
    optimizer.step()
    return loss.detach()


eager_model, eager_opt = make(1)
comp_model, comp_opt = make(1)
compiled_step = torch.compile(train_step, mode="reduce-overhead")
eager_losses, compiled_losses = [], []
for i in range(30):
    idx = slice((i % 8) * 32, (i % 8) * 32 + 32)
    eager_losses.append(train_step(eager_model, eager_opt, data[idx], target[idx]).item())
    compiled_losses.append(compiled_step(comp_model, comp_opt, data[idx], target[idx]).item())
train_gap = max(abs(a - b) for a, b in zip(eager_losses, compiled_losses))
weight_gap = max(
    (p - q).abs().max().item() for p, q in zip(eager_model.parameters(), comp_model.parameters())
)
print(f"eager vs compiled training: loss gap {train_gap:.2e}, weight gap {weight_gap:.2e}")


# A data-dependent branch: PyTorch breaks the graph there; the results stay eager's
def bar(a, b):
    x = a / (torch.abs(a) + 1)
    if b.sum() < 0:
        b = b * -1
    return x * b


opt_bar = torch.compile(bar)
inps = [(torch.randn(10), torch.randn(10)) for _ in range(6)]
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    branch_gap = max((opt_bar(a, b) - bar(a, b)).abs().max().item() for a, b in inps)

# New input shapes: traced again, still correct
opt_shapes = torch.compile(foo, dynamic=False)
shape_gaps = [
    (opt_shapes(torch.ones(n, 3), torch.ones(n, 3)) - foo(torch.ones(n, 3), torch.ones(n, 3)))
    .abs()
    .max()
    .item()
    for n in (2, 5, 2)
]
