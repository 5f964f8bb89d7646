"""d2l.ai's optimisation chapter (12) as written: each algorithm from scratch as an
``init_*_states(feature_dim)`` plus an update ``f(params, states, hyperparams)`` run under
``torch.no_grad()`` with in-place ``p[:] -= ...`` / ``v[:] = ...`` and ``p.grad.data.zero_()``
(minibatch SGD, momentum, AdaGrad, RMSProp, Adadelta, Adam with ``hyperparams['t']`` and
Yogi's ``torch.sign``), each trained by ``train_ch11`` on a linear-regression "airfoil"
standing in for the book's, next to ``train_concise_ch11`` with the ``torch.optim`` class of
the same name (``nn.init.normal_`` weights, ``nn.MSELoss(reduction='none')``); then the
learning-rate schedulers of 12.11 from scratch (``SquareRootScheduler``, ``FactorScheduler``,
``CosineScheduler`` with warmup) beside ``lr_scheduler.MultiStepLR`` driven per epoch by
``scheduler.step()`` and by assigning ``param_group['lr']`` by hand."""

import math

import torch
from torch import nn
from torch.utils import data

torch.manual_seed(0)
feature_dim = 5
true_w = torch.tensor([[1.5], [-2.0], [0.5], [3.0], [-1.0]])
features = torch.randn(200, feature_dim)
labels = features @ true_w + 0.2 + 0.1 * torch.randn(200, 1)
data_iter = data.DataLoader(data.TensorDataset(features, labels), batch_size=30, shuffle=True)


def linreg(X, w, b):
    return torch.matmul(X, w) + b


def squared_loss(y_hat, y):
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


def sgd(params, states, hyperparams):
    for p in params:
        p.data.sub_(hyperparams["lr"] * p.grad)
        p.grad.data.zero_()


def init_momentum_states(feature_dim):
    v_w = torch.zeros((feature_dim, 1))
    v_b = torch.zeros(1)
    return (v_w, v_b)


def sgd_momentum(params, states, hyperparams):
    for p, v in zip(params, states):
        with torch.no_grad():
            v[:] = hyperparams["momentum"] * v + p.grad
            p[:] -= hyperparams["lr"] * v
        p.grad.data.zero_()


def init_adagrad_states(feature_dim):
    return (torch.zeros((feature_dim, 1)), torch.zeros(1))


def adagrad(params, states, hyperparams):
    eps = 1e-6
    for p, s in zip(params, states):
        with torch.no_grad():
            s[:] += torch.square(p.grad)
            p[:] -= hyperparams["lr"] * p.grad / torch.sqrt(s + eps)
        p.grad.data.zero_()


def init_rmsprop_states(feature_dim):
    return (torch.zeros((feature_dim, 1)), torch.zeros(1))


def rmsprop(params, states, hyperparams):
    gamma, eps = hyperparams["gamma"], 1e-6
    for p, s in zip(params, states):
        with torch.no_grad():
            s[:] = gamma * s + (1 - gamma) * torch.square(p.grad)
            p[:] -= hyperparams["lr"] * p.grad / torch.sqrt(s + eps)
        p.grad.data.zero_()


def init_adadelta_states(feature_dim):
    s_w, s_b = torch.zeros((feature_dim, 1)), torch.zeros(1)
    delta_w, delta_b = torch.zeros((feature_dim, 1)), torch.zeros(1)
    return ((s_w, delta_w), (s_b, delta_b))


def adadelta(params, states, hyperparams):
    rho, eps = hyperparams["rho"], 1e-5
    for p, (s, delta) in zip(params, states):
        with torch.no_grad():
            # In-place updates via [:]
            s[:] = rho * s + (1 - rho) * torch.square(p.grad)
            g = (torch.sqrt(delta + eps) / torch.sqrt(s + eps)) * p.grad
            p[:] -= g
            delta[:] = rho * delta + (1 - rho) * g * g
        p.grad.data.zero_()


def init_adam_states(feature_dim):
    v_w, v_b = torch.zeros((feature_dim, 1)), torch.zeros(1)
    s_w, s_b = torch.zeros((feature_dim, 1)), torch.zeros(1)
    return ((v_w, s_w), (v_b, s_b))


def adam(params, states, hyperparams):
    beta1, beta2, eps = 0.9, 0.999, 1e-6
    for p, (v, s) in zip(params, states):
        with torch.no_grad():
            v[:] = beta1 * v + (1 - beta1) * p.grad
            s[:] = beta2 * s + (1 - beta2) * torch.square(p.grad)
            v_bias_corr = v / (1 - beta1 ** hyperparams["t"])
            s_bias_corr = s / (1 - beta2 ** hyperparams["t"])
            p[:] -= hyperparams["lr"] * v_bias_corr / (torch.sqrt(s_bias_corr) + eps)
        p.grad.data.zero_()
    hyperparams["t"] += 1


def yogi(params, states, hyperparams):
    beta1, beta2, eps = 0.9, 0.999, 1e-3
    for p, (v, s) in zip(params, states):
        with torch.no_grad():
            v[:] = beta1 * v + (1 - beta1) * p.grad
            s[:] = s + (1 - beta2) * torch.sign(torch.square(p.grad) - s) * torch.square(p.grad)
            v_bias_corr = v / (1 - beta1 ** hyperparams["t"])
            s_bias_corr = s / (1 - beta2 ** hyperparams["t"])
            p[:] -= hyperparams["lr"] * v_bias_corr / (torch.sqrt(s_bias_corr) + eps)
        p.grad.data.zero_()
    hyperparams["t"] += 1


def train_ch11(trainer_fn, states, hyperparams, data_iter, feature_dim, num_epochs=2):
    w = torch.normal(mean=0.0, std=0.01, size=(feature_dim, 1), requires_grad=True)
    b = torch.zeros((1), requires_grad=True)
    net, loss = lambda X: linreg(X, w, b), squared_loss
    history = []
    for _ in range(num_epochs):
        for X, y in data_iter:
            l = loss(net(X), y).mean()  # noqa: E741 - as d2l names it
            l.backward()
            trainer_fn([w, b], states, hyperparams)
        history.append(float(loss(net(features), labels).mean()))
    return history, w.detach().reshape(-1).tolist()


def train_concise_ch11(trainer_fn, hyperparams, data_iter, num_epochs=2):
    net = nn.Sequential(nn.Linear(feature_dim, 1))

    def init_weights(module):
        if type(module) == nn.Linear:  # noqa: E721 - as d2l writes it
            torch.nn.init.normal_(module.weight, std=0.01)

    net.apply(init_weights)
    optimizer = trainer_fn(net.parameters(), **hyperparams)
    loss = nn.MSELoss(reduction="none")
    history = []
    for _ in range(num_epochs):
        for X, y in data_iter:
            optimizer.zero_grad()
            out = net(X)
            y = y.reshape(out.shape)
            l = loss(out, y)  # noqa: E741
            l.mean().backward()
            optimizer.step()
        history.append(float(loss(net(features), labels).mean() / 2))
    return history


scratch = {
    "sgd": train_ch11(sgd, None, {"lr": 0.05}, data_iter, feature_dim),
    "momentum": train_ch11(
        sgd_momentum,
        init_momentum_states(feature_dim),
        {"lr": 0.02, "momentum": 0.5},
        data_iter,
        feature_dim,
    ),
    "adagrad": train_ch11(
        adagrad, init_adagrad_states(feature_dim), {"lr": 0.5}, data_iter, feature_dim
    ),
    "rmsprop": train_ch11(
        rmsprop,
        init_rmsprop_states(feature_dim),
        {"lr": 0.05, "gamma": 0.9},
        data_iter,
        feature_dim,
    ),
    "adadelta": train_ch11(
        adadelta, init_adadelta_states(feature_dim), {"rho": 0.9}, data_iter, feature_dim
    ),
    "adam": train_ch11(
        adam, init_adam_states(feature_dim), {"lr": 0.1, "t": 1}, data_iter, feature_dim
    ),
    "yogi": train_ch11(
        yogi, init_adam_states(feature_dim), {"lr": 0.1, "t": 1}, data_iter, feature_dim
    ),
}
concise = {
    "sgd": train_concise_ch11(torch.optim.SGD, {"lr": 0.05}, data_iter),
    "momentum": train_concise_ch11(torch.optim.SGD, {"lr": 0.02, "momentum": 0.5}, data_iter),
    "adagrad": train_concise_ch11(torch.optim.Adagrad, {"lr": 0.5}, data_iter),
    "rmsprop": train_concise_ch11(torch.optim.RMSprop, {"lr": 0.05, "alpha": 0.9}, data_iter),
    "adadelta": train_concise_ch11(torch.optim.Adadelta, {"rho": 0.9}, data_iter),
    "adam": train_concise_ch11(torch.optim.Adam, {"lr": 0.1}, data_iter),
}


class SquareRootScheduler:
    def __init__(self, lr=0.1):
        self.lr = lr

    def __call__(self, num_update):
        return self.lr * pow(num_update + 1.0, -0.5)


class FactorScheduler:
    def __init__(self, factor=1, stop_factor_lr=1e-7, base_lr=0.1):
        self.factor = factor
        self.stop_factor_lr = stop_factor_lr
        self.base_lr = base_lr

    def __call__(self, num_update):
        self.base_lr = max(self.stop_factor_lr, self.base_lr * self.factor)
        return self.base_lr


class CosineScheduler:
    def __init__(self, max_update, base_lr=0.01, final_lr=0, warmup_steps=0, warmup_begin_lr=0):
        self.base_lr_orig = base_lr
        self.max_update = max_update
        self.final_lr = final_lr
        self.warmup_steps = warmup_steps
        self.warmup_begin_lr = warmup_begin_lr
        self.max_steps = self.max_update - self.warmup_steps

    def get_warmup_lr(self, epoch):
        increase = (
            (self.base_lr_orig - self.warmup_begin_lr) * float(epoch) / float(self.warmup_steps)
        )
        return self.warmup_begin_lr + increase

    def __call__(self, epoch):
        if epoch < self.warmup_steps:
            return self.get_warmup_lr(epoch)
        if epoch <= self.max_update:
            self.base_lr = (
                self.final_lr
                + (self.base_lr_orig - self.final_lr)
                * (1 + math.cos(math.pi * (epoch - self.warmup_steps) / self.max_steps))
                / 2
            )
        return self.base_lr


def train(net, trainer, num_epochs=5, scheduler=None):
    loss, lrs, history = nn.MSELoss(), [], []
    for epoch in range(num_epochs):
        for X, y in data_iter:
            trainer.zero_grad()
            l = loss(net(X), y)  # noqa: E741 - as d2l names it
            l.backward()
            trainer.step()
        if scheduler:
            if scheduler.__module__ == torch.optim.lr_scheduler.__name__:
                # Using PyTorch In-Built scheduler
                scheduler.step()
            else:
                # Using custom defined scheduler
                for param_group in trainer.param_groups:
                    param_group["lr"] = scheduler(epoch)
        lrs.append(trainer.param_groups[0]["lr"])
        history.append(float(loss(net(features), labels)))
    return lrs, history


def net_fn():
    return nn.Sequential(nn.Linear(feature_dim, 8), nn.ReLU(), nn.Linear(8, 1))


schedules = {}
for name, scheduler in (
    ("square_root", SquareRootScheduler(lr=0.05)),
    ("factor", FactorScheduler(factor=0.7, stop_factor_lr=1e-2, base_lr=0.05)),
    ("cosine_warmup", CosineScheduler(5, warmup_steps=2, base_lr=0.05, final_lr=0.005)),
):
    net = net_fn()
    schedules[name] = train(net, torch.optim.SGD(net.parameters(), lr=0.05), scheduler=scheduler)
net = net_fn()
trainer = torch.optim.SGD(net.parameters(), lr=0.05)
scheduler = torch.optim.lr_scheduler.MultiStepLR(trainer, milestones=[2, 4], gamma=0.5)
builtin_is_recognised = scheduler.__module__ == torch.optim.lr_scheduler.__name__
schedules["multistep"] = train(net, trainer, scheduler=scheduler)
last_lr = scheduler.get_last_lr()
