"""The autograd parts of the "Introduction to PyTorch" video series and of the 60-minute
blitz's "Neural Networks" section, as written for PyTorch: ``grad_fn`` and the
``next_functions`` chain of ``sin -> *2 -> +1 -> sum`` (down to ``AccumulateGrad.variable``),
the blitz LeNet's loss graph walked by ``next_functions`` (``MseLossBackward0 ->
AddmmBackward0 -> ...``), ``net.zero_grad()`` then ``out.backward(torch.randn(1, 10))``, the
manual update ``f.data.sub_(f.grad.data * learning_rate)``, gradients accumulating over
backward calls until ``zero_grad(set_to_none=False)``, switching ``requires_grad`` off on a
leaf, ``detach``, ``no_grad`` as a context and a decorator, the in-place error on a leaf, a
vector-Jacobian product ``y.backward(v)`` after a data-dependent loop, and
``torch.autograd.functional.jacobian`` / ``hvp``."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

torch.manual_seed(0)


def name(node):
    return None if node is None else node.name()


a = torch.linspace(0.0, 2.0 * math.pi, steps=25, requires_grad=True)
b = torch.sin(a)
c = 2 * b
d = c + 1
out = d.sum()
chain = [name(out.grad_fn), name(d.grad_fn)]
chain.append([(name(n), i) for n, i in d.grad_fn.next_functions])
chain.append([(name(n), i) for n, i in d.grad_fn.next_functions[0][0].next_functions])
sin_node = c.grad_fn.next_functions[0][0]
chain.append([(name(n), i) for n, i in sin_node.next_functions])
leaf_is_a = sin_node.next_functions[0][0].variable is a
out.backward()
sin_grad_gap = (a.grad - 2 * torch.cos(a.detach())).abs().max().item()


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, input):
        c1 = F.relu(self.conv1(input))
        s2 = F.max_pool2d(c1, (2, 2))
        c3 = F.relu(self.conv2(s2))
        s4 = F.max_pool2d(c3, 2)
        s4 = torch.flatten(s4, 1)
        f5 = F.relu(self.fc1(s4))
        f6 = F.relu(self.fc2(f5))
        return self.fc3(f6)


net = Net()
params = list(net.parameters())
param_info = [len(params), tuple(params[0].size())]
input = torch.randn(1, 1, 32, 32)
out = net(input)
net.zero_grad()
out.backward(torch.randn(1, 10))
fc3_grad_norm = net.fc3.weight.grad.norm().item()
output = net(input)
target = torch.randn(10).view(1, -1)
criterion = nn.MSELoss()
loss = criterion(output, target)


def walk(fn):
    """The graph's node names, breadth first, each node once (as torchviz draws it)."""
    seen, order, queue = set(), [], [fn]
    while queue:
        node = queue.pop(0)
        if node is None or node in seen:
            continue
        seen.add(node)
        order.append(name(node))
        queue.extend(n for n, _ in node.next_functions)
    return order


loss_graph = walk(loss.grad_fn)
net.zero_grad()
bias_grad_before = net.conv1.bias.grad
loss.backward()
bias_grad_after = net.conv1.bias.grad.tolist()
learning_rate = 0.01
for f in net.parameters():
    f.data.sub_(f.grad.data * learning_rate)
optimizer = optim.SGD(net.parameters(), lr=0.01)
blitz_losses = []
for _ in range(5):
    optimizer.zero_grad()
    loss = criterion(net(input), target)
    loss.backward()
    optimizer.step()
    blitz_losses.append(loss.item())

# gradients accumulate until zeroed
model = nn.Sequential(nn.Linear(20, 8), nn.ReLU(), nn.Linear(8, 4))
some_input, ideal_output = torch.randn(6, 20), torch.randn(6, 4)
grad_before_backward = model[2].weight.grad
accumulated = []
for i in range(0, 3):
    prediction = model(some_input)
    loss = (ideal_output - prediction).pow(2).sum()
    loss.backward()
    accumulated.append(model[2].weight.grad[0][0:3].tolist())
optim.SGD(model.parameters(), lr=0.001).zero_grad(set_to_none=False)
zeroed = model[2].weight.grad[0][0:3].tolist()

# turning autograd off and on
a = torch.ones(2, 3, requires_grad=True)
b1 = 2 * a
a.requires_grad = False
b2 = 2 * a
x = torch.rand(5, requires_grad=True)
y = x.detach()
with torch.no_grad():
    c3 = x + 1


@torch.no_grad()
def add_tensors2(x, y):
    return x + y


switches = [b1.requires_grad, b2.requires_grad, y.requires_grad, c3.requires_grad]
switches.append(add_tensors2(x, x).requires_grad)
a = torch.linspace(0.0, 2.0 * math.pi, steps=25, requires_grad=True)
try:
    torch.sin_(a)
    inplace_error = None
except RuntimeError as error:
    inplace_error = str(error)

# vector-Jacobian products and the functional API
x = torch.randn(3, requires_grad=True)
y = x * 2
doublings = 1
while y.data.norm() < 1000:
    y = y * 2
    doublings += 1
v = torch.tensor([0.1, 1.0, 0.0001], dtype=torch.float)
y.backward(v)
vjp = x.grad.tolist()


def exp_adder(x, y):
    return 2 * x.exp() + 3 * y


inputs = (torch.rand(3), torch.rand(3))
jac = [j.tolist() for j in torch.autograd.functional.jacobian(exp_adder, inputs)]


def pow_reducer(x):
    return x.pow(3).sum()


hvp_inputs, hvp_v = torch.rand(2, 2), torch.ones(2, 2)
value, hvp = torch.autograd.functional.hvp(pow_reducer, hvp_inputs, hvp_v)
hvp_gap = (hvp - 6 * hvp_inputs).abs().max().item()
