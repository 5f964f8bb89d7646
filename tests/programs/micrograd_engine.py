"""Karpathy's micrograd: the scalar ``Value`` engine (``engine.py``) and its tests, which build
the same expressions with ``torch.Tensor([-4.0]).double()`` leaves, ``requires_grad = True``,
``**``, ``relu()``, reversed operators (``3 + b``, ``1 / a``), in-place ``+=`` on non-leaves and
``.backward()``, then compare values and ``.grad`` with the engine's; and the ``demo.ipynb``
moons classifier (the ``nn.py`` ``MLP`` of ``Neuron``s, SVM max-margin loss
``(1 + -y*score).relu()``, L2 regularisation, a decaying learning rate), trained once with the
engine and once as the same MLP in torch (``torch.stack`` of per-sample scores), from the same
weights, to the same losses and accuracy."""

import math
import random

import torch


class Value:
    """stores a single scalar value and its gradient"""

    def __init__(self, data, _children=(), _op=""):
        self.data = data
        self.grad = 0
        self._backward = lambda: None
        self._prev = set(_children)
        self._op = _op

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __pow__(self, other):
        assert isinstance(other, (int, float)), "only supporting int/float powers for now"
        out = Value(self.data**other, (self,), f"**{other}")

        def _backward():
            self.grad += (other * self.data ** (other - 1)) * out.grad

        out._backward = _backward
        return out

    def relu(self):
        out = Value(0 if self.data < 0 else self.data, (self,), "ReLU")

        def _backward():
            self.grad += (out.data > 0) * out.grad

        out._backward = _backward
        return out

    def backward(self):
        topo, visited = [], set()

        def build_topo(v):
            if v not in visited:
                visited.add(v)
                for child in v._prev:
                    build_topo(child)
                topo.append(v)

        build_topo(self)
        self.grad = 1
        for v in reversed(topo):
            v._backward()

    def __neg__(self):
        return self * -1

    def __radd__(self, other):
        return self + other

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return other + (-self)

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        return self * other**-1

    def __rtruediv__(self, other):
        return other * self**-1


# --- test_engine.py
def sanity_check():
    x = Value(-4.0)
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    y.backward()
    xmg, ymg = x, y

    x = torch.Tensor([-4.0]).double()
    x.requires_grad = True
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    y.backward()
    xpt, ypt = x, y
    return [ymg.data, ypt.data.item(), xmg.grad, xpt.grad.item(), str(ypt.dtype)]


def more_ops():
    a, b = Value(-4.0), Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    amg, bmg, gmg = a, b, g

    a = torch.Tensor([-4.0]).double()
    b = torch.Tensor([2.0]).double()
    a.requires_grad = True
    b.requires_grad = True
    c = a + b
    d = a * b + b**3
    c = c + c + 1
    c = c + 1 + c + (-a)
    d = d + d * 2 + (b + a).relu()
    d = d + 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g = g + 10.0 / f
    g.backward()
    apt, bpt, gpt = a, b, g
    return [gmg.data, gpt.data.item(), amg.grad, apt.grad.item(), bmg.grad, bpt.grad.item()]


sanity = sanity_check()
more = more_ops()


# --- nn.py and the demo notebook
class Neuron:
    def __init__(self, nin, nonlin=True):
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(0)
        self.nonlin = nonlin

    def __call__(self, x):
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return act.relu() if self.nonlin else act

    def parameters(self):
        return self.w + [self.b]


class MLP:
    def __init__(self, nin, nouts):
        sz = [nin] + nouts
        self.layers = [
            [Neuron(sz[i], nonlin=i != len(nouts) - 1) for _ in range(sz[i + 1])]
            for i in range(len(nouts))
        ]

    def __call__(self, x):
        for layer in self.layers:
            x = [n(x) for n in layer]
        return x[0] if len(x) == 1 else x

    def parameters(self):
        return [p for layer in self.layers for n in layer for p in n.parameters()]


random.seed(1337)
n = 16  # two interleaving half circles
X, y = [], []
for i in range(n):
    t = math.pi * (i % 8) / 7
    if i < 8:
        X.append([math.cos(t) + 0.1 * random.gauss(0, 1), math.sin(t) + 0.1 * random.gauss(0, 1)])
        y.append(-1)
    else:
        X.append([1 - math.cos(t), 0.5 - math.sin(t) + 0.1 * random.gauss(0, 1)])
        y.append(1)
model = MLP(2, [6, 6, 1])

# the same network in torch, with the engine's initial weights
Ws = [torch.tensor([[w.data for w in n.w] for n in layer]) for layer in model.layers]
bs = [torch.zeros(len(layer)) for layer in model.layers]
for p in Ws + bs:
    p.requires_grad_()
Xt, yt = torch.tensor(X), torch.tensor(y, dtype=torch.float32)


def loss_mg():
    scores = list(map(model, [list(map(Value, xrow)) for xrow in X]))
    losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = 1e-4 * sum((p * p for p in model.parameters()))
    acc = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(y, scores)]
    return data_loss + reg_loss, sum(acc) / len(acc)


def loss_pt():
    h = Xt
    for i, (W, b) in enumerate(zip(Ws, bs)):
        h = h @ W.T + b
        h = h.relu() if i < len(Ws) - 1 else h
    scores = torch.stack([row[0] for row in h])
    data_loss = (1 + -yt * scores).relu().mean()
    reg_loss = 1e-4 * sum((p * p).sum() for p in Ws + bs)
    acc = ((yt > 0) == (scores > 0)).float().mean()
    return data_loss + reg_loss, acc.item()


mg_losses, pt_losses = [], []
for k in range(8):
    total_loss, acc = loss_mg()
    for p in model.parameters():
        p.grad = 0
    total_loss.backward()
    learning_rate = 1.0 - 0.9 * k / 100
    for p in model.parameters():
        p.data -= learning_rate * p.grad
    mg_losses.append(total_loss.data)

    loss, pt_acc = loss_pt()
    for p in Ws + bs:
        p.grad = None
    loss.backward()
    with torch.no_grad():
        for p in Ws + bs:
            p -= learning_rate * p.grad
    pt_losses.append(loss.item())
mg_acc, pt_acc = acc, pt_acc
first_weight_grad = Ws[0].grad[0].tolist()
