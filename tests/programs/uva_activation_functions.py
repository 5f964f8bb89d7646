"""The UvA deep learning course's Tutorial 3 ("Activation Functions", Phillip Lippe): the
activation functions written as ``nn.Module`` subclasses of an ``ActivationFunction`` with a
``config`` dict (sigmoid by hand, ``torch.tanh``, ``x * (x > 0).float()``,
``torch.where(x > 0, x, alpha * x)``, ELU with ``torch.exp(x) - 1``, Swish), their gradients by
``x.requires_grad_()`` and ``out.sum().backward()`` on a ``torch.linspace`` grid, the
per-layer weight-gradient spread of a ``BaseNetwork`` for each activation, a short training
run per activation, the dead-neuron count (``torch.logical_and`` over ``(h == 0).all(dim=0)``
per ``nn.Linear``), and the model saved with ``torch.save`` and its config to a JSON file, then
rebuilt from them."""

import json
import os
import tempfile

import torch
import torch.nn as nn
import torch.nn.functional as F


class ActivationFunction(nn.Module):
    def __init__(self):
        super().__init__()
        self.name = self.__class__.__name__
        self.config = {"name": self.name}


class Sigmoid(ActivationFunction):
    def forward(self, x):
        return 1 / (1 + torch.exp(-x))


class Tanh(ActivationFunction):
    def forward(self, x):
        x_exp, neg_x_exp = torch.exp(x), torch.exp(-x)
        return (x_exp - neg_x_exp) / (x_exp + neg_x_exp)


class ReLU(ActivationFunction):
    def forward(self, x):
        return x * (x > 0).float()


class LeakyReLU(ActivationFunction):
    def __init__(self, alpha=0.1):
        super().__init__()
        self.config["alpha"] = alpha

    def forward(self, x):
        return torch.where(x > 0, x, self.config["alpha"] * x)


class ELU(ActivationFunction):
    def forward(self, x):
        return torch.where(x > 0, x, torch.exp(x) - 1)


class Swish(ActivationFunction):
    def forward(self, x):
        return x * torch.sigmoid(x)


act_fn_by_name = {
    "sigmoid": Sigmoid, "tanh": Tanh, "relu": ReLU, "leakyrelu": LeakyReLU, "elu": ELU,
    "swish": Swish,
}  # fmt: skip


def get_grads(act_fn, x):
    x = x.clone().requires_grad_()
    out = act_fn(x)
    out.sum().backward()
    return x.grad


x = torch.linspace(-5, 5, 11)
grad_table = {name: get_grads(cls(), x).tolist() for name, cls in act_fn_by_name.items()}
matches_builtin = [
    torch.allclose(Tanh()(x), torch.tanh(x), atol=1e-6),
    torch.allclose(Swish()(x), F.silu(x)),
    torch.allclose(ELU()(x), F.elu(x), atol=1e-6),
    torch.allclose(LeakyReLU()(x), F.leaky_relu(x, 0.1)),
]


class BaseNetwork(nn.Module):
    def __init__(self, act_fn, input_size=12, num_classes=3, hidden_sizes=[16, 16, 16]):
        super().__init__()
        layers = []
        layer_sizes = [input_size] + hidden_sizes
        for layer_index in range(1, len(layer_sizes)):
            layers += [nn.Linear(layer_sizes[layer_index - 1], layer_sizes[layer_index]), act_fn]
        layers += [nn.Linear(layer_sizes[-1], num_classes)]
        self.layers = nn.Sequential(*layers)
        self.config = {
            "act_fn": act_fn.config, "input_size": input_size, "num_classes": num_classes,
            "hidden_sizes": hidden_sizes,
        }  # fmt: skip

    def forward(self, x):
        x = x.view(x.size(0), -1)
        return self.layers(x)


torch.manual_seed(42)
imgs = torch.randn(60, 3, 2, 2)
labels = (imgs.view(60, -1)[:, :3] + 0.3 * imgs.view(60, -1)[:, 3:6]).argmax(dim=1)


def gradient_stds(net):
    net.zero_grad()
    preds = net(imgs[:32])
    loss = F.cross_entropy(preds, labels[:32])
    loss.backward()
    grads = {
        name: params.grad.data.view(-1).cpu().clone()
        for name, params in net.named_parameters()
        if "weight" in name
    }
    net.zero_grad()
    return [g.std().item() for g in grads.values()]


@torch.no_grad()
def measure_number_dead_neurons(net):
    neurons_dead = [
        torch.ones(layer.weight.shape[0], dtype=torch.bool)
        for layer in net.layers[:-1]
        if isinstance(layer, nn.Linear)
    ]
    net.eval()
    h = imgs.view(imgs.size(0), -1)
    layer_index = 0
    for layer in net.layers[:-1]:
        h = layer(h)
        if isinstance(layer, ActivationFunction):
            neurons_dead[layer_index] = torch.logical_and(
                neurons_dead[layer_index], (h == 0).all(dim=0)
            )
            layer_index += 1
    return [t.sum().item() for t in neurons_dead]


results = {}
for name, cls in act_fn_by_name.items():
    torch.manual_seed(42)
    net = BaseNetwork(act_fn=cls())
    stds = gradient_stds(net)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.5, momentum=0.9)
    losses = []
    for epoch in range(12):
        net.train()
        loss = F.cross_entropy(net(imgs), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    dead = measure_number_dead_neurons(net)
    acc = (net(imgs).argmax(dim=-1) == labels).float().mean().item()
    results[name] = [stds, losses, dead, acc]

with tempfile.TemporaryDirectory() as checkpoint_path:
    config_file = os.path.join(checkpoint_path, "model.config")
    model_file = os.path.join(checkpoint_path, "model.tar")
    with open(config_file, "w") as f:
        json.dump(net.config, f)
    torch.save(net.state_dict(), model_file)
    with open(config_file) as f:
        config_dict = json.load(f)
    act_fn_name = config_dict["act_fn"].pop("name").lower()
    act_fn = act_fn_by_name[act_fn_name](**config_dict.pop("act_fn"))
    reloaded = BaseNetwork(act_fn=act_fn, **config_dict)
    reloaded.load_state_dict(torch.load(model_file))
saved_config = net.config
reload_gap = (reloaded(imgs) - net(imgs)).abs().max().item()
