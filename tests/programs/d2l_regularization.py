"""d2l.ai's chapter 4 on regularisation and numerical stability: weight decay from scratch
(``l2_penalty`` added to a ``squared_loss`` with ``lambd``) against the concise version where
only the weight's parameter group gets ``weight_decay`` in ``torch.optim.SGD`` (the bias none),
on the book's high-dimensional ``synthetic_data`` with 20 examples; dropout from scratch
(``dropout_layer`` by a ``torch.rand(X.shape) > dropout`` mask scaled by ``1 - dropout``, the
edge cases ``dropout=0`` and ``1``) in a ``Net`` with an ``is_training`` flag, next to the
concise ``nn.Dropout`` net toggled by ``train()``/``eval()``; and the vanishing/exploding
gradient demos: ``torch.sigmoid``'s gradient by ``y.backward(torch.ones_like(x))`` and the
product of 100 Gaussian matrices."""

import torch
from torch import nn
from torch.utils import data

torch.manual_seed(0)


def synthetic_data(w, b, num_examples):
    X = torch.normal(0, 1, (num_examples, len(w)))
    y = torch.matmul(X, w) + b
    y += torch.normal(0, 0.01, y.shape)
    return X, y.reshape((-1, 1))


n_train, n_test, num_inputs, batch_size = 20, 100, 50, 5
true_w, true_b = torch.ones((num_inputs, 1)) * 0.01, 0.05
train_data = synthetic_data(true_w, true_b, n_train)
test_data = synthetic_data(true_w, true_b, n_test)
train_iter = data.DataLoader(data.TensorDataset(*train_data), batch_size, shuffle=True)


def init_params():
    w = torch.normal(0, 1, size=(num_inputs, 1), requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    return [w, b]


def l2_penalty(w):
    return torch.sum(w.pow(2)) / 2


def squared_loss(y_hat, y):
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


def evaluate_loss(net, data):
    X, y = data
    with torch.no_grad():
        return float(squared_loss(net(X), y).mean())


def train(lambd, num_epochs=15, lr=0.005):
    w, b = init_params()

    def net(X):
        return torch.matmul(X, w) + b

    for epoch in range(num_epochs):
        for X, y in train_iter:
            loss = squared_loss(net(X), y) + lambd * l2_penalty(w)
            loss.sum().backward()
            with torch.no_grad():
                for param in (w, b):
                    param -= lr * param.grad / batch_size
                    param.grad.zero_()
    return evaluate_loss(net, train_data), evaluate_loss(net, test_data), torch.norm(w).item()


scratch = {lambd: train(lambd) for lambd in (0, 3)}


def train_concise(wd, num_epochs=15, lr=0.005):
    net = nn.Sequential(nn.Linear(num_inputs, 1))
    for param in net.parameters():
        param.data.normal_()
    loss = nn.MSELoss(reduction="none")
    trainer = torch.optim.SGD(
        [{"params": net[0].weight, "weight_decay": wd}, {"params": net[0].bias}], lr=lr
    )
    for epoch in range(num_epochs):
        for X, y in train_iter:
            trainer.zero_grad()
            l = loss(net(X), y)  # noqa: E741 - as d2l names it
            l.mean().backward()
            trainer.step()
    groups = [g["weight_decay"] for g in trainer.param_groups]
    return (
        evaluate_loss(net, train_data),
        evaluate_loss(net, test_data),
        net[0].weight.norm().item(),
        groups,
    )


concise = {wd: train_concise(wd) for wd in (0, 3)}


def dropout_layer(X, dropout):
    assert 0 <= dropout <= 1
    if dropout == 1:
        return torch.zeros_like(X)
    mask = (torch.rand(X.shape) > dropout).float()
    return mask * X / (1.0 - dropout)


X = torch.arange(16, dtype=torch.float32).reshape((2, 8))
dropout_demo = [dropout_layer(X, p).tolist() for p in (0.0, 0.5, 1.0)]

num_inputs2, num_outputs, num_hiddens1, num_hiddens2 = 16, 3, 32, 32
dropout1, dropout2 = 0.2, 0.5


class Net(nn.Module):
    def __init__(self, num_inputs, num_outputs, num_hiddens1, num_hiddens2, is_training=True):
        super(Net, self).__init__()
        self.num_inputs = num_inputs
        self.training = is_training
        self.lin1 = nn.Linear(num_inputs, num_hiddens1)
        self.lin2 = nn.Linear(num_hiddens1, num_hiddens2)
        self.lin3 = nn.Linear(num_hiddens2, num_outputs)
        self.relu = nn.ReLU()

    def forward(self, X):
        H1 = self.relu(self.lin1(X.reshape((-1, self.num_inputs))))
        if self.training == True:  # noqa: E712 - as d2l writes it
            H1 = dropout_layer(H1, dropout1)
        H2 = self.relu(self.lin2(H1))
        if self.training == True:  # noqa: E712
            H2 = dropout_layer(H2, dropout2)
        return self.lin3(H2)


features = torch.randn(96, num_inputs2)
labels = (features[:, :3] * torch.tensor([1.0, -1.0, 0.5])).argmax(1)
nets = {
    "scratch": Net(num_inputs2, num_outputs, num_hiddens1, num_hiddens2),
    "concise": nn.Sequential(
        nn.Flatten(),
        nn.Linear(num_inputs2, num_hiddens1),
        nn.ReLU(),
        nn.Dropout(dropout1),
        nn.Linear(num_hiddens1, num_hiddens2),
        nn.ReLU(),
        nn.Dropout(dropout2),
        nn.Linear(num_hiddens2, num_outputs),
    ),
}
dropout_losses, dropout_accuracy, eval_repeatable = {}, {}, {}
for name, net in nets.items():
    trainer = torch.optim.SGD(net.parameters(), lr=0.5)
    loss = nn.CrossEntropyLoss()
    dropout_losses[name] = []
    for epoch in range(10):
        for i in range(0, 96, 32):
            trainer.zero_grad()
            l = loss(net(features[i : i + 32]), labels[i : i + 32])  # noqa: E741
            l.backward()
            trainer.step()
        dropout_losses[name].append(l.item())
    net.eval()
    with torch.no_grad():
        out = net(features)
        eval_repeatable[name] = torch.equal(out, net(features))
        dropout_accuracy[name] = (out.argmax(1) == labels).float().mean().item()

x = torch.arange(-8.0, 8.0, 0.1, requires_grad=True)
y = torch.sigmoid(x)
y.backward(torch.ones_like(x))
sigmoid_grad_ends = [x.grad[0].item(), x.grad[80].item(), x.grad[-1].item()]
M = torch.normal(0, 1, size=(4, 4))
for i in range(100):
    M = torch.mm(M, torch.normal(0, 1, size=(4, 4)))
product_magnitude = M.abs().max().log10().item()
xavier = nn.Linear(256, 64)
nn.init.xavier_uniform_(xavier.weight)
xavier_bound = xavier.weight.abs().max().item()
