"""The UvA deep learning course's Tutorial 4 ("Optimization and Initialization", Phillip Lippe):
a ``BaseNetwork`` of ``nn.Linear`` layers in an ``nn.ModuleList``, the tutorial's initialisers
written on ``param.data`` (constant ``fill_``, constant variance ``normal_(std=...)``, Xavier by
``uniform_(-bound, bound)``, Kaiming by ``normal_(0, ...)``) with the activation and gradient
variances per layer they print, its optimizers written from scratch on an
``OptimizerTemplate`` (``p.grad.detach_(); p.grad.zero_()``, parameters as dict keys, SGD,
SGD with momentum, Adam with bias correction) checked against ``torch.optim.Adam``, the
pathological-curvature and bumpy surfaces minimised from ``torch.FloatTensor([5, 5])``, and a
short training run of each optimizer."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(42)


class BaseNetwork(nn.Module):
    def __init__(self, act_fn, input_size=16, num_classes=4, hidden_sizes=[32, 32, 32]):
        super().__init__()
        layers = []
        layer_sizes = [input_size] + hidden_sizes
        for layer_index in range(1, len(layer_sizes)):
            layers += [nn.Linear(layer_sizes[layer_index - 1], layer_sizes[layer_index]), act_fn]
        layers += [nn.Linear(layer_sizes[-1], num_classes)]
        self.layers = nn.ModuleList(layers)
        self.config = {"act_fn": act_fn.__class__.__name__, "input_size": input_size}

    def forward(self, x):
        x = x.view(x.size(0), -1)
        for layer in self.layers:
            x = layer(x)
        return x


def const_init(model, fill=0.0):
    for name, param in model.named_parameters():
        param.data.fill_(fill)


def const_variance_init(model, std=0.01):
    for name, param in model.named_parameters():
        param.data.normal_(std=std)


def xavier_init(model):
    for name, param in model.named_parameters():
        if name.endswith(".bias"):
            param.data.fill_(0)
        else:
            bound = math.sqrt(6) / math.sqrt(param.shape[0] + param.shape[1])
            param.data.uniform_(-bound, bound)


def kaiming_init(model):
    for name, param in model.named_parameters():
        if name.endswith(".bias"):
            param.data.fill_(0)
        elif name.startswith("layers.0"):
            param.data.normal_(0, 1 / math.sqrt(param.shape[1]))
        else:
            param.data.normal_(0, math.sqrt(2) / math.sqrt(param.shape[1]))


X = torch.randn(64, 4, 4)
W_true = torch.randn(16, 4)
y = (X.view(64, -1) @ W_true).argmax(dim=-1)


def activation_variances(model):
    feats = X.view(X.shape[0], -1)
    variances = []
    with torch.no_grad():
        for layer_index, layer in enumerate(model.layers[:-1]):
            feats = layer(feats)
            if isinstance(layer, nn.Linear):
                variances.append(feats.view(-1).var().item())
    return variances


def gradient_variances(model):
    model.zero_grad()
    loss = F.cross_entropy(model(X), y)
    loss.backward()
    grads = {n: p.grad.view(-1).clone() for n, p in model.named_parameters() if "weight" in n}
    model.zero_grad()
    return [g.var().item() for g in grads.values()]


init_stats = {}
for init_name, init_fn in [
    ("const", lambda m: const_init(m, 0.005)),
    ("const_variance", lambda m: const_variance_init(m, 0.1)),
    ("xavier", xavier_init),
    ("kaiming", kaiming_init),
]:
    act = nn.Identity() if init_name != "kaiming" else nn.ReLU()
    model = BaseNetwork(act_fn=act)
    init_fn(model)
    init_stats[init_name] = (activation_variances(model), gradient_variances(model))


class OptimizerTemplate:
    def __init__(self, params, lr):
        self.params = list(params)
        self.lr = lr

    def zero_grad(self):
        for p in self.params:
            if p.grad is not None:
                p.grad.detach_()
                p.grad.zero_()

    @torch.no_grad()
    def step(self):
        for p in self.params:
            if p.grad is None:
                continue
            self.update_param(p)

    def update_param(self, p):
        raise NotImplementedError


class SGD(OptimizerTemplate):
    def update_param(self, p):
        p_update = -self.lr * p.grad
        p.add_(p_update)


class SGDMomentum(OptimizerTemplate):
    def __init__(self, params, lr, momentum=0.0):
        super().__init__(params, lr)
        self.momentum = momentum
        self.param_momentum = {p: torch.zeros_like(p.data) for p in self.params}

    def update_param(self, p):
        self.param_momentum[p] = (1 - self.momentum) * p.grad + self.momentum * (
            self.param_momentum[p]
        )
        p_update = -self.lr * self.param_momentum[p]
        p.add_(p_update)


class Adam(OptimizerTemplate):
    def __init__(self, params, lr, beta1=0.9, beta2=0.999, eps=1e-8):
        super().__init__(params, lr)
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.param_step = {p: 0 for p in self.params}
        self.param_momentum = {p: torch.zeros_like(p.data) for p in self.params}
        self.param_2nd_momentum = {p: torch.zeros_like(p.data) for p in self.params}

    def update_param(self, p):
        self.param_step[p] += 1
        self.param_momentum[p] = (1 - self.beta1) * p.grad + self.beta1 * self.param_momentum[p]
        self.param_2nd_momentum[p] = (1 - self.beta2) * (p.grad) ** 2 + self.beta2 * (
            self.param_2nd_momentum[p]
        )
        bias_correction_1 = 1 - self.beta1 ** self.param_step[p]
        bias_correction_2 = 1 - self.beta2 ** self.param_step[p]
        p_2nd_mom = self.param_2nd_momentum[p] / bias_correction_2
        p_mom = self.param_momentum[p] / bias_correction_1
        p_lr = self.lr / (torch.sqrt(p_2nd_mom) + self.eps)
        p_update = -p_lr * p_mom
        p.add_(p_update)


def pathological_curve_loss(w1, w2):
    x1_loss = torch.tanh(w1) ** 2 + 0.01 * torch.abs(w1)
    x2_loss = torch.sigmoid(w2)
    return x1_loss + x2_loss


def bivar_gaussian(w1, w2, x_mean=0.0, y_mean=0.0, x_sig=1.0, y_sig=1.0):
    norm = 1 / (2 * math.pi * x_sig * y_sig)
    x_exp = (-1 * (w1 - x_mean) ** 2) / (2 * x_sig**2)
    y_exp = (-1 * (w2 - y_mean) ** 2) / (2 * y_sig**2)
    return norm * torch.exp(x_exp + y_exp)


def comb_func(w1, w2):
    z = -bivar_gaussian(w1, w2, x_mean=1.0, y_mean=-0.5, x_sig=0.2, y_sig=0.2)
    z -= bivar_gaussian(w1, w2, x_mean=-1.0, y_mean=0.5, x_sig=0.2, y_sig=0.2)
    z -= bivar_gaussian(w1, w2, x_mean=-0.5, y_mean=-0.8, x_sig=0.2, y_sig=0.2)
    return z


def train_curve(optimizer_func, curve_func=pathological_curve_loss, num_updates=30, init=[5, 5]):
    init = torch.FloatTensor(init)
    init.requires_grad_(True)
    optimizer = optimizer_func([init])
    list_points = []
    for _ in range(num_updates):
        loss = curve_func(init[0], init[1])
        list_points.append(torch.cat([init.data.detach(), loss.unsqueeze(dim=0).detach()], dim=0))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    points = torch.stack(list_points, dim=0)
    return points


makers = {
    "SGD": lambda params: SGD(params, lr=1),
    "SGDMom": lambda params: SGDMomentum(params, lr=1, momentum=0.9),
    "Adam": lambda params: Adam(params, lr=1),
}
curve_ends = {name: train_curve(make)[-1].tolist() for name, make in makers.items()}
bumpy_ends = {
    name: train_curve(make, comb_func, init=[0, 0])[-1].tolist()
    for name, make in [
        ("SGD", lambda params: SGD(params, lr=0.5)),
        ("SGDMom", lambda params: SGDMomentum(params, lr=0.5, momentum=0.9)),
        ("Adam", lambda params: Adam(params, lr=0.2)),
    ]
}
points_shape = tuple(train_curve(makers["SGD"], num_updates=3).shape)

# ours and torch.optim.Adam take the same steps from the same start
mine = torch.FloatTensor([5, 5]).requires_grad_(True)
ref = mine.detach().clone().requires_grad_(True)
ours_opt, ref_opt = Adam([mine], lr=0.3), torch.optim.Adam([ref], lr=0.3)
adam_gap = 0.0
for _ in range(20):
    for w, opt in ((mine, ours_opt), (ref, ref_opt)):
        opt.zero_grad()
        pathological_curve_loss(w[0], w[1]).backward()
        opt.step()
    adam_gap = max(adam_gap, (mine - ref).abs().max().item())

train_losses = {}
for name, make in [
    ("SGD", lambda p: SGD(p, lr=0.1)),
    ("SGDMom", lambda p: SGDMomentum(p, lr=0.1, momentum=0.9)),
    ("Adam", lambda p: Adam(p, lr=0.01)),
]:
    torch.manual_seed(0)
    model = BaseNetwork(act_fn=nn.ReLU())
    kaiming_init(model)
    opt = make(model.parameters())
    losses = []
    for step in range(15):
        loss = F.cross_entropy(model(X), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    train_losses[name] = losses
