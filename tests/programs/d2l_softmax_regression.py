"""Softmax regression as d2l.ai's chapter 3 writes it: from scratch (``softmax`` by
``exp``/``sum(1, keepdim=True)``, ``cross_entropy`` by fancy indexing
``y_hat[range(len(y_hat)), y]``, an ``Accumulator`` class, ``accuracy`` by
``argmax(axis=1)`` and ``type(y.dtype)``, ``evaluate_accuracy`` switching ``net.eval()`` when
the net is a module, ``train_epoch_ch3`` taking either a ``torch.optim`` optimizer or the
book's own ``updater``), and concisely (``nn.Flatten`` + ``nn.Linear`` initialised by
``net.apply(init_weights)``, ``nn.CrossEntropyLoss(reduction='none')``, ``l.mean().backward()``).
The data are small 1x8x8 "images" of 4 classes drawn around class templates, loaded by a
``DataLoader`` over a ``TensorDataset`` as the book's ``load_data_fashion_mnist`` returns."""

import torch
from torch import nn
from torch.utils import data

torch.manual_seed(0)
num_classes, side = 4, 8
templates = torch.randn(num_classes, 1, side, side)


def make_split(n):
    y = torch.randint(0, num_classes, (n,))
    X = templates[y] + 3.0 * torch.randn(n, 1, side, side)
    return data.TensorDataset(X, y)


batch_size = 32
train_iter = data.DataLoader(make_split(256), batch_size, shuffle=True)
test_iter = data.DataLoader(make_split(128), batch_size, shuffle=False)

X = torch.normal(0, 1, (2, 5))


def softmax(X):
    X_exp = torch.exp(X)
    partition = X_exp.sum(1, keepdim=True)
    return X_exp / partition  # the broadcasting mechanism is applied here


X_prob = softmax(X)
row_sums = X_prob.sum(1).tolist()

num_inputs, num_outputs = side * side, num_classes
W = torch.normal(0, 0.01, size=(num_inputs, num_outputs), requires_grad=True)
b = torch.zeros(num_outputs, requires_grad=True)


def net(X):
    return softmax(torch.matmul(X.reshape((-1, W.shape[0])), W) + b)


y = torch.tensor([0, 2])
y_hat = torch.tensor([[0.1, 0.3, 0.6], [0.3, 0.2, 0.5]])
picked = y_hat[[0, 1], y].tolist()


def cross_entropy(y_hat, y):
    return -torch.log(y_hat[range(len(y_hat)), y])


demo_ce = cross_entropy(y_hat, y).tolist()


def accuracy(y_hat, y):
    """Compute the number of correct predictions."""
    if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(axis=1)
    cmp = y_hat.type(y.dtype) == y
    return float(cmp.type(y.dtype).sum())


demo_accuracy = accuracy(y_hat, y) / len(y)


class Accumulator:
    """For accumulating sums over `n` variables."""

    def __init__(self, n):
        self.data = [0.0] * n

    def add(self, *args):
        self.data = [a + float(b) for a, b in zip(self.data, args)]

    def __getitem__(self, idx):
        return self.data[idx]


def evaluate_accuracy(net, data_iter):
    if isinstance(net, torch.nn.Module):
        net.eval()  # Set the model to evaluation mode
    metric = Accumulator(2)  # No. of correct predictions, no. of predictions
    with torch.no_grad():
        for X, y in data_iter:
            metric.add(accuracy(net(X), y), y.numel())
    return metric[0] / metric[1]


initial_accuracy = evaluate_accuracy(net, test_iter)


def train_epoch_ch3(net, train_iter, loss, updater):
    if isinstance(net, torch.nn.Module):
        net.train()
    metric = Accumulator(3)
    for X, y in train_iter:
        y_hat = net(X)
        l = loss(y_hat, y)  # noqa: E741 - as d2l names it
        if isinstance(updater, torch.optim.Optimizer):
            updater.zero_grad()
            l.mean().backward()
            updater.step()
        else:
            l.sum().backward()
            updater(X.shape[0])
        metric.add(float(l.sum()), accuracy(y_hat, y), y.numel())
    return metric[0] / metric[2], metric[1] / metric[2]


def sgd(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()


lr = 0.1


def updater(batch_size):
    return sgd([W, b], lr, batch_size)


def train_ch3(net, train_iter, test_iter, loss, num_epochs, updater):
    history = []
    for epoch in range(num_epochs):
        train_metrics = train_epoch_ch3(net, train_iter, loss, updater)
        test_acc = evaluate_accuracy(net, test_iter)
        history.append((*train_metrics, test_acc))
    return history


scratch_history = train_ch3(net, train_iter, test_iter, cross_entropy, 4, updater)
predictions = net(next(iter(test_iter))[0][:6]).argmax(axis=1).tolist()

net = nn.Sequential(nn.Flatten(), nn.Linear(num_inputs, num_outputs))


def init_weights(m):
    if type(m) == nn.Linear:  # noqa: E721 - as d2l writes it
        nn.init.normal_(m.weight, std=0.01)


net.apply(init_weights)
loss = nn.CrossEntropyLoss(reduction="none")
trainer = torch.optim.SGD(net.parameters(), lr=0.1)
concise_history = train_ch3(net, train_iter, test_iter, loss, 4, trainer)
net_was_eval = not net.training
