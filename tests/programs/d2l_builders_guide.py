"""d2l.ai's "Builders' Guide" chapter, run end to end: ``MLP``/``MySequential`` (modules kept
in ``self._modules`` by ``add_module`` with ``str(idx)``), ``FixedHiddenMLP`` (a constant
``torch.rand`` weight, a Python ``while`` loop on ``X.abs().sum()``), ``NestMLP`` chimeras;
parameter access (``net[2].state_dict()``, ``type(net[2].bias)``, ``.data``, ``.grad is None``,
``named_parameters`` of the whole net as ``[(name, param.shape) for ...]``, a ``block2`` built
with ``add_module(f'block {i}', ...)`` and its printout); initialisation with ``net.apply``
(``nn.init.normal_``, ``zeros_``, ``constant_``, ``xavier_uniform_``, ``*=`` on ``.data`` with
a ``>= 5`` mask as ``my_init``); tied layers that share one ``nn.Linear`` and so accumulate
both uses' gradients; custom layers (``CenteredLayer``, ``MyLinear`` with ``nn.Parameter``);
and file I/O with ``torch.save``/``torch.load`` of a tensor, a list, a dict and an
``MLP``'s ``state_dict`` loaded into a ``clone`` whose outputs match."""

import os
import tempfile

import torch
from torch import nn
from torch.nn import functional as F

torch.manual_seed(0)
X = torch.rand(2, 20)


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(20, 256)
        self.output = nn.Linear(256, 10)

    def forward(self, X):
        return self.output(F.relu(self.hidden(X)))


class MySequential(nn.Module):
    def __init__(self, *args):
        super().__init__()
        for idx, module in enumerate(args):
            self.add_module(str(idx), module)

    def forward(self, X):
        for module in self.children():
            X = module(X)
        return X


class FixedHiddenMLP(nn.Module):
    def __init__(self):
        super().__init__()
        # Random weight parameters that will not compute gradients and therefore keep
        # constant during training
        self.rand_weight = torch.rand((20, 20))
        self.linear = nn.Linear(20, 20)

    def forward(self, X):
        X = self.linear(X)
        X = F.relu(X @ self.rand_weight + 1)
        # Reuse the fully connected layer. This is equivalent to sharing parameters with two
        # fully connected layers
        X = self.linear(X)
        # Control flow
        while X.abs().sum() > 1:
            X /= 2
        return X.sum()


class NestMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU())
        self.linear = nn.Linear(32, 16)

    def forward(self, X):
        return self.linear(self.net(X))


my_seq = MySequential(nn.Linear(20, 256), nn.ReLU(), nn.Linear(256, 10))
chimera = nn.Sequential(NestMLP(), nn.Linear(16, 20), FixedHiddenMLP())
outputs = {"mlp": MLP()(X), "my_seq": my_seq(X), "chimera": chimera(X)}
output_shapes = {k: tuple(v.shape) for k, v in outputs.items()}
chimera_value = outputs["chimera"].item()

net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
X4 = torch.rand(size=(2, 4))
state_keys = list(net[2].state_dict().keys())
bias_type = type(net[2].bias).__name__
bias_data = net[2].bias.data.tolist()
grad_is_none = net[2].weight.grad is None
all_params = [(name, tuple(param.shape)) for name, param in net.named_parameters()]


def block1():
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 4), nn.ReLU())


def block2():
    net = nn.Sequential()
    for i in range(4):
        # Nested here
        net.add_module(f"block {i}", block1())
    return net


rgnet = nn.Sequential(block2(), nn.Linear(4, 1))
rgnet_out = rgnet(X4).tolist()
rgnet_repr = str(rgnet)
rgnet_bias = rgnet[0][1][0].bias.data.tolist()


def init_normal(module):
    if type(module) == nn.Linear:  # noqa: E721 - as d2l writes it
        nn.init.normal_(module.weight, mean=0, std=0.01)
        nn.init.zeros_(module.bias)


def init_constant(module):
    if type(module) == nn.Linear:  # noqa: E721
        nn.init.constant_(module.weight, 1)
        nn.init.zeros_(module.bias)


def init_xavier(module):
    if type(module) == nn.Linear:  # noqa: E721
        nn.init.xavier_uniform_(module.weight)


def init_42(module):
    if type(module) == nn.Linear:  # noqa: E721
        nn.init.constant_(module.weight, 42)


def my_init(module):
    if type(module) == nn.Linear:  # noqa: E721
        nn.init.uniform_(module.weight, -10, 10)
        module.weight.data *= module.weight.data.abs() >= 5


net.apply(init_normal)
normal_init = [net[0].weight.data[0].tolist(), net[0].bias.data[0].item()]
net.apply(init_constant)
constant_init = [net[0].weight.data[0].tolist(), net[0].bias.data[0].item()]
net[0].apply(init_xavier)
net[2].apply(init_42)
xavier_row, fortytwo = net[0].weight.data[0].tolist(), net[2].weight.data.tolist()
net.apply(my_init)
my_init_rows = net[0].weight[:2].tolist()
net[0].weight.data[:] += 1
net[0].weight.data[0, 0] = 42
edited_row = net[0].weight.data[0].tolist()

shared = nn.Linear(8, 8)
tied = nn.Sequential(
    nn.Linear(4, 8), nn.ReLU(), shared, nn.ReLU(), shared, nn.ReLU(), nn.Linear(8, 1)
)
tied(X4).sum().backward()
tied_same = tied[2].weight.data[0, 0].item() == tied[4].weight.data[0, 0].item()
tied[2].weight.data[0, 0] = 100
tied_after_edit = tied[2].weight.data[0] == tied[4].weight.data[0]
tied_shares = bool(tied_after_edit.all())
tied_grad = tied[2].weight.grad[:2].tolist()
tied_param_count = len(list(tied.parameters()))


class CenteredLayer(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, X):
        return X - X.mean()


centered = CenteredLayer()(torch.tensor([1.0, 2, 3, 4, 5])).tolist()
centered_net = nn.Sequential(nn.Linear(8, 128), CenteredLayer())
centered_mean = centered_net(torch.rand(4, 8)).mean().item()


class MyLinear(nn.Module):
    def __init__(self, in_units, units):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(in_units, units))
        self.bias = nn.Parameter(torch.randn(units))

    def forward(self, X):
        linear = torch.matmul(X, self.weight.data) + self.bias.data
        return F.relu(linear)


linear = MyLinear(5, 3)
my_linear_weight = linear.weight.tolist()
my_linear_out = linear(torch.rand(2, 5)).tolist()
my_net = nn.Sequential(MyLinear(64, 8), MyLinear(8, 1))
my_net_out = my_net(torch.rand(2, 64)).tolist()

with tempfile.TemporaryDirectory() as tmp:
    x = torch.arange(4)
    torch.save(x, os.path.join(tmp, "x-file"))
    x2 = torch.load(os.path.join(tmp, "x-file"))
    y = torch.zeros(4)
    torch.save([x, y], os.path.join(tmp, "x-files"))
    x2, y2 = torch.load(os.path.join(tmp, "x-files"))
    mydict = {"x": x, "y": y}
    torch.save(mydict, os.path.join(tmp, "mydict"))
    mydict2 = torch.load(os.path.join(tmp, "mydict"))
    loaded = [x2.tolist(), str(x2.dtype), y2.tolist(), sorted(mydict2), mydict2["x"].tolist()]

    mlp = MLP()
    X = torch.randn(size=(2, 20))
    Y = mlp(X)
    torch.save(mlp.state_dict(), os.path.join(tmp, "mlp.params"))
    clone = MLP()
    clone.load_state_dict(torch.load(os.path.join(tmp, "mlp.params")))
    clone_repr = repr(clone.eval())
    Y_clone = clone(X)
    clone_equal = bool((Y_clone == Y).all())
