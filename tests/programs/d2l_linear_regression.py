"""Linear regression as d2l.ai's chapter 3 writes it, twice: from scratch (``synthetic_data``
with ``torch.normal``, a ``data_iter`` generator over ``random.shuffle``d indices, parameters
made with ``requires_grad=True``, ``squared_loss``, and ``sgd(params, lr, batch_size)`` updating
in place under ``torch.no_grad()`` and zeroing ``param.grad``), then concisely
(``data.TensorDataset`` + ``data.DataLoader(shuffle=True)``, ``nn.Sequential(nn.Linear)`` with
``net[0].weight.data.normal_``, ``nn.MSELoss`` and ``torch.optim.SGD``); the learned ``w`` and
``b`` are compared with the true ones as the book prints them."""

import random

import torch
from torch import nn
from torch.utils import data

random.seed(0)
torch.manual_seed(0)


def synthetic_data(w, b, num_examples):
    """Generate y = Xw + b + noise."""
    X = torch.normal(0, 1, (num_examples, len(w)))
    y = torch.matmul(X, w) + b
    y += torch.normal(0, 0.01, y.shape)
    return X, y.reshape((-1, 1))


true_w = torch.tensor([2, -3.4])
true_b = 4.2
features, labels = synthetic_data(true_w, true_b, 200)
print("features:", features[0], "\nlabel:", labels[0])


def data_iter(batch_size, features, labels):
    num_examples = len(features)
    indices = list(range(num_examples))
    random.shuffle(indices)
    for i in range(0, num_examples, batch_size):
        batch_indices = torch.tensor(indices[i : min(i + batch_size, num_examples)])
        yield features[batch_indices], labels[batch_indices]


def linreg(X, w, b):
    return torch.matmul(X, w) + b


def squared_loss(y_hat, y):
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


def sgd(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()


batch_size = 10
first_batch = next(data_iter(batch_size, features, labels))
first_batch_shapes = [tuple(t.shape) for t in first_batch]

w = torch.normal(0, 0.01, size=(2, 1), requires_grad=True)
b = torch.zeros(1, requires_grad=True)
lr, num_epochs = 0.03, 3
net, loss = linreg, squared_loss
scratch_losses = []
for epoch in range(num_epochs):
    for X, y in data_iter(batch_size, features, labels):
        l = loss(net(X, w, b), y)  # noqa: E741 - as d2l names it
        l.sum().backward()
        sgd([w, b], lr, batch_size)
    with torch.no_grad():
        train_l = loss(net(features, w, b), labels)
        scratch_losses.append(float(train_l.mean()))
        print(f"epoch {epoch + 1}, loss {float(train_l.mean()):f}")
w_error = (true_w - w.reshape(true_w.shape)).tolist()
b_error = true_b - b.item()
print(f"error in estimating w: {true_w - w.reshape(true_w.shape)}")
print(f"error in estimating b: {true_b - b}")
scratch_leaf_grads_zero = bool((w.grad == 0).all()) and bool((b.grad == 0).all())


def load_array(data_arrays, batch_size, is_train=True):
    dataset = data.TensorDataset(*data_arrays)
    return data.DataLoader(dataset, batch_size, shuffle=is_train)


data_iter_concise = load_array((features, labels), batch_size)
first = next(iter(data_iter_concise))
concise_first_shapes = [tuple(t.shape) for t in first]

net = nn.Sequential(nn.Linear(2, 1))
net[0].weight.data.normal_(0, 0.01)
net[0].bias.data.fill_(0)
loss = nn.MSELoss()
trainer = torch.optim.SGD(net.parameters(), lr=0.03)
concise_losses = []
for epoch in range(num_epochs):
    for X, y in data_iter_concise:
        l = loss(net(X), y)  # noqa: E741 - as d2l names it
        trainer.zero_grad()
        l.backward()
        trainer.step()
    l = loss(net(features), labels)  # noqa: E741 - as d2l names it
    concise_losses.append(l.item())
    print(f"epoch {epoch + 1}, loss {l:f}")
w_concise = net[0].weight.data
b_concise = net[0].bias.data
print("error in estimating w:", true_w - w_concise.reshape(true_w.shape))
print("error in estimating b:", true_b - b_concise)
concise_grad_is_none = net[0].weight.grad is None
