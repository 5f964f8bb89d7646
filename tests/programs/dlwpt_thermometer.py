"""Deep Learning with PyTorch (Stevens, Antiga, Viehmann), chapters 3, 5 and 6, on the book's
unknown-units thermometer: tensors and their storages (``storage()``, ``storage_offset``,
``stride``, a transposed view sharing memory, ``contiguous``); the linear model trained with
hand-derived gradients (``dloss_fn``, ``dmodel_dw``, ``grad_fn``), then with autograd
(``params.grad.zero_()`` and ``with torch.no_grad(): params -= learning_rate * params.grad``),
then with ``optim.SGD`` and ``optim.Adam`` on unnormalised inputs; a train/validation split by
``torch.randperm`` with ``torch.set_grad_enabled(is_train)``-style validation; and chapter 6's
``nn.Linear`` on ``unsqueeze(1)`` data, ``nn.Sequential`` from an ``OrderedDict`` with named
submodules, ``named_parameters`` and the ``output_linear.bias.grad``."""

from collections import OrderedDict

import torch
import torch.nn as nn
import torch.optim as optim

torch.manual_seed(0)
points = torch.tensor([[4.0, 1.0], [5.0, 3.0], [2.0, 1.0]])
second_point = points[1]
points_t = points.t()
storage_facts = [
    points.storage()[1], second_point.storage_offset(), second_point.size(), second_point.stride(),
    points_t.stride(), points_t.is_contiguous(), points_t.contiguous().stride(),
    points.untyped_storage().data_ptr() == points_t.untyped_storage().data_ptr(),
]  # fmt: skip
points_t[0, 1] = 9.0  # the view writes through to points
storage_facts.append(points[1, 0].item())

t_c = [0.5, 14.0, 15.0, 28.0, 11.0, 8.0, 3.0, -4.0, 6.0, 13.0, 21.0]
t_u = [35.7, 55.9, 58.2, 81.9, 56.3, 48.9, 33.9, 21.8, 48.4, 60.4, 68.4]
t_c = torch.tensor(t_c)
t_u = torch.tensor(t_u)


def model(t_u, w, b):
    return w * t_u + b


def loss_fn(t_p, t_c):
    squared_diffs = (t_p - t_c) ** 2
    return squared_diffs.mean()


def dloss_fn(t_p, t_c):
    dsq_diffs = 2 * (t_p - t_c) / t_p.size(0)
    return dsq_diffs


def dmodel_dw(t_u, w, b):
    return t_u


def dmodel_db(t_u, w, b):
    return 1.0


def grad_fn(t_u, t_c, t_p, w, b):
    dloss_dtp = dloss_fn(t_p, t_c)
    dloss_dw = dloss_dtp * dmodel_dw(t_u, w, b)
    dloss_db = dloss_dtp * dmodel_db(t_u, w, b)
    return torch.stack([dloss_dw.sum(), dloss_db.sum()])


def training_loop(n_epochs, learning_rate, params, t_u, t_c):
    for epoch in range(1, n_epochs + 1):
        w, b = params
        t_p = model(t_u, w, b)
        loss = loss_fn(t_p, t_c)
        grad = grad_fn(t_u, t_c, t_p, w, b)
        params = params - learning_rate * grad
    return params, float(loss)


t_un = 0.1 * t_u
manual_params, manual_loss = training_loop(60, 1e-2, torch.tensor([1.0, 0.0]), t_un, t_c)
diverged = training_loop(5, 1e-2, torch.tensor([1.0, 0.0]), t_u, t_c)[1]


def autograd_loop(n_epochs, learning_rate, params, t_u, t_c):
    for epoch in range(1, n_epochs + 1):
        if params.grad is not None:
            params.grad.zero_()
        t_p = model(t_u, *params)
        loss = loss_fn(t_p, t_c)
        loss.backward()
        with torch.no_grad():
            params -= learning_rate * params.grad
    return params, loss.item()


auto_params, auto_loss = autograd_loop(
    60, 1e-2, torch.tensor([1.0, 0.0], requires_grad=True), t_un, t_c
)
first_grad = None
params = torch.tensor([1.0, 0.0], requires_grad=True)
loss_fn(model(t_u, *params), t_c).backward()
first_grad = params.grad.tolist()


def optim_loop(n_epochs, optimizer, params, t_u, t_c):
    for epoch in range(1, n_epochs + 1):
        t_p = model(t_u, *params)
        loss = loss_fn(t_p, t_c)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return params.detach().tolist(), loss.item()


params = torch.tensor([1.0, 0.0], requires_grad=True)
sgd_result = optim_loop(60, optim.SGD([params], lr=1e-2), params, t_un, t_c)
params = torch.tensor([1.0, 0.0], requires_grad=True)
adam_result = optim_loop(80, optim.Adam([params], lr=1e-1), params, t_u, t_c)  # unnormalised

n_samples = t_u.shape[0]
n_val = int(0.2 * n_samples)
shuffled_indices = torch.randperm(n_samples)
train_indices, val_indices = shuffled_indices[:-n_val], shuffled_indices[-n_val:]
train_t_u, val_t_u = t_un[train_indices], t_un[val_indices]
train_t_c, val_t_c = t_c[train_indices], t_c[val_indices]


def split_loop(n_epochs, optimizer, params, train_t_u, val_t_u, train_t_c, val_t_c):
    history = []
    for epoch in range(1, n_epochs + 1):
        train_loss = loss_fn(model(train_t_u, *params), train_t_c)
        with torch.no_grad():
            val_loss = loss_fn(model(val_t_u, *params), val_t_c)
            assert val_loss.requires_grad == False  # noqa: E712 - as the book checks it
        optimizer.zero_grad()
        train_loss.backward()
        optimizer.step()
        if epoch in (1, 2, 3, 30, 60):
            history.append((train_loss.item(), val_loss.item()))
    return history


params = torch.tensor([1.0, 0.0], requires_grad=True)
split_history = split_loop(
    60, optim.SGD([params], lr=1e-2), params, train_t_u, val_t_u, train_t_c, val_t_c
)
grad_enabled = []
for is_train in (True, False):
    with torch.set_grad_enabled(is_train):
        grad_enabled.append(loss_fn(model(val_t_u, *params), val_t_c).requires_grad)

t_c1, t_un1 = t_c.unsqueeze(1), t_un.unsqueeze(1)
linear_model = nn.Linear(1, 1)
linear_shapes = [tuple(linear_model.weight.shape), tuple(linear_model.bias.shape)]
optimizer = optim.SGD(linear_model.parameters(), lr=1e-2)
for epoch in range(60):
    loss = nn.MSELoss()(linear_model(t_un1[train_indices]), t_c1[train_indices])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
linear_fit = [linear_model.weight.item(), linear_model.bias.item(), loss.item()]

seq_model = nn.Sequential(
    OrderedDict(
        [
            ("hidden_linear", nn.Linear(1, 8)),
            ("hidden_activation", nn.Tanh()),
            ("output_linear", nn.Linear(8, 1)),
        ]
    )
)
named = [(name, tuple(param.shape)) for name, param in seq_model.named_parameters()]
optimizer = optim.SGD(seq_model.parameters(), lr=1e-3)
seq_losses = []
for epoch in range(1, 121):
    loss = nn.MSELoss()(seq_model(t_un1[train_indices]), t_c1[train_indices])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if epoch % 60 == 0:
        seq_losses.append(loss.item())
output_bias_grad = seq_model.output_linear.bias.grad.tolist()
seq_repr = repr(seq_model)
with torch.no_grad():
    seq_val = seq_model(t_un1[val_indices]).squeeze(1).tolist()
