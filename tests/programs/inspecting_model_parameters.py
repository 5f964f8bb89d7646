"""The "Inspecting Model Parameters" recipe, as written for PyTorch (without ``torchinfo``,
whose per-layer table the recipe then rebuilds by hand): ``print(model)`` of an MLP and of a CNN
(``ReLU(inplace=True)``, ``MaxPool2d(kernel_size=(2, 2))``), ``[param.shape for param in
model.parameters()]``, the self-documenting f-strings ``f"{name=}, {param.size()=},
{param.numel()=}"``, total and trainable counts with ``:,`` grouping, a frozen first weight,
``np.prod(param.size())`` against ``numel()``, and per-layer totals gathered in a
``defaultdict`` by ``name.rsplit(".", 1)[0]``; a forward pass checks the CNN's sizes."""

from collections import defaultdict

import numpy as np
import torch
from torch import nn

torch.manual_seed(0)
lines = []


class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(28 * 28, 512),
            nn.ReLU(),
            nn.Linear(512, 512),
            nn.ReLU(),
            nn.Linear(512, 10),
        )

    def forward(self, x):
        x = self.flatten(x)
        logits = self.linear_relu_stack(x)
        return logits


model = NeuralNetwork()
lines.append(str(model))
lines.append(str([param.shape for param in model.parameters()]))
for name, param in model.named_parameters():
    lines.append(f"{name} {param.shape}")
layer = nn.Linear(28 * 28, 512)
for name, param in layer.named_parameters():
    lines.append(f"{name} {param.size()}")
for name, param in model.named_parameters():
    lines.append(f"{name=}, {param.size()=}, {param.numel()=}")
lines.append(f"Total model params: {sum(p.numel() for p in model.parameters()):,}")
lines.append(
    f"Total model trainable params: {sum(p.numel() for p in model.parameters() if p.requires_grad):,}"
)
for name, param in model.named_parameters():
    if name == "linear_relu_stack.0.weight":
        param.requires_grad = False
    lines.append(f"{name=}, {param.size()=}, {param.numel()=}, {param.requires_grad=}")
trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
lines.append(f"Total model trainable params: {trainable:,}")


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels=1, out_channels=32, kernel_size=3),
            nn.ReLU(inplace=True),
            nn.Conv2d(in_channels=32, out_channels=64, kernel_size=3),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=(2, 2)),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(64 * 12 * 12, 128),
            nn.ReLU(inplace=True),
            nn.Linear(128, 10),
        )

    def forward(self, x):
        x = self.features(x)
        x = self.classifier(x)
        return x


cnn_model = CNN()
lines.append(str(cnn_model))
lines.append("-" * 72)
for name, param in cnn_model.named_parameters():
    lines.append(f"{name=}, {param.size()=}, {param.numel()=}, {param.requires_grad=}")
cnn_trainable = sum(p.numel() for p in cnn_model.parameters() if p.requires_grad)
lines.append(f"Total model trainable params: {cnn_trainable:,}")
for name, param in cnn_model.named_parameters():
    lines.append(f"{name=}, {param.size()=}, {np.prod(param.size())=} == {param.numel()=}")

layer_params = defaultdict(int)
for name, param in model.named_parameters():
    layer_params[name.rsplit(".", 1)[0]] += param.numel()
for name, total_params in layer_params.items():
    lines.append(f"{name=} {total_params=:,}")
cnn_layer_params = defaultdict(int)
for name, param in cnn_model.named_parameters():
    cnn_layer_params[name.rsplit(".", 1)[0]] += param.numel()
for name, total_params in cnn_layer_params.items():
    lines.append(f"{name=} {total_params=:,}")
print("\n".join(lines))

with torch.no_grad():
    features = cnn_model.features(torch.rand(2, 1, 28, 28))
    logits = cnn_model.classifier(features)
forward_shapes = (tuple(features.shape), tuple(logits.shape), logits.abs().sum().item())
